"""The repository README's pytest example ("## A pytest test") runs as
written, with the plugin as pip installs it."""

import os
import pathlib
import subprocess
import sys

import pytest

README = pathlib.Path(__file__).resolve().parents[3] / "README.md"


@pytest.mark.skipif(not README.exists(), reason="no repository README")
def test_the_root_readme_example_passes(tmp_path):
    section = README.read_text(encoding="utf-8").split("## A pytest test", 1)[1]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert "ftp_server" in block
    example = tmp_path / "test_readme_example.py"
    example.write_text(block, encoding="utf-8")
    env = dict(os.environ)
    env.pop("PYTEST_XDIST_WORKER", None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(example)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout, run.stdout


CLIENT_README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_the_package_readme_example_passes(tmp_path):
    """The package's own README (its PyPI page) has a complete example
    under "## Example": it runs as written."""
    section = CLIENT_README.read_text(encoding="utf-8").split("## Example", 1)[1]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    example = tmp_path / "test_uploader.py"
    example.write_text(block, encoding="utf-8")
    env = dict(os.environ)
    env.pop("PYTEST_XDIST_WORKER", None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(example)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert " passed" in run.stdout and "failed" not in run.stdout, run.stdout
