//! The examples in docs/ that are whole programs run here: the control
//! API's shell session (docs/control-api.md) against the CLI, and the
//! scenario file of docs/cli.md parsed as a scenario. (docs/ci.md's are run
//! by tools/test-action; the Node one by the npm package's suite.)

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ftpfixture");

/// The fenced blocks of `lang` in `doc`.
fn blocks(doc: &str, lang: &str) -> Vec<String> {
    let text = std::fs::read_to_string(doc).unwrap();
    let fence = format!("```{lang}\n");
    text.split(&fence)
        .skip(1)
        .filter_map(|rest| rest.split("```").next().map(str::to_string))
        .collect()
}

#[test]
fn the_control_api_shell_session_runs() {
    let scripts = blocks("docs/control-api.md", "sh");
    assert_eq!(scripts.len(), 1, "one shell session in docs/control-api.md");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("report.csv"), "a,b\n1,2\n").unwrap();
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // The session as written, then the server is stopped (the docs leave
    // it running for the next test).
    let script = format!("set -e\n{}\nkill %1\nwait %1 || true\n", scripts[0]);
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The fault was added, the file uploaded (the text transcript of no
    // session is empty), and reset answered.
    assert!(stdout.contains(r#""id""#), "{stdout}");
    assert!(
        stdout.contains("reset") || stdout.contains("ok"),
        "{stdout}"
    );
}

#[test]
fn the_scenario_file_of_the_cli_docs_parses() {
    let files = blocks("docs/cli.md", "toml");
    assert!(!files.is_empty(), "docs/cli.md shows a scenario file");
    for text in files {
        let parsed: Result<ftpfixture::Scenario, _> = text.parse();
        assert!(parsed.is_ok(), "{:?}\n{text}", parsed.err());
    }
}
