//! The differential tester's recordings of the real servers
//! (`fixtures/personalities/<server>/seed-N.txt`, made by `tools/difftest`
//! from vsftpd, ProFTPD and Pure-FTPd) replayed against ftpfixture playing
//! each server: every sequence runs again against the CLI, and the replies
//! that differ are counted against `fixtures/personalities/differences.txt`.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ftpfixture");

/// The budget file's count for `server`.
fn budget(server: &str) -> usize {
    let text = std::fs::read_to_string("fixtures/personalities/differences.txt").unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            Some((words.next()?, words.next()?.parse().ok()?))
        })
        .find(|(name, _)| *name == server)
        .map(|(_, n)| n)
        .unwrap_or_else(|| panic!("no budget for {server} in differences.txt"))
}

/// Replays seeds 1-30 of `server` and returns (differing, compared)
/// replies as `tools/difftest diff` counts them.
fn replay(server: &str) -> (usize, usize) {
    let out = tempfile::tempdir().unwrap();
    let record = Command::new("python3")
        .args([
            "tools/difftest",
            "record-many",
            "--jobs",
            "6",
            "--settle",
            "0.01",
        ])
        .args([
            "--seeds",
            "1-30",
            "--personality",
            server,
            "--ftpfixture",
            BIN,
        ])
        .arg("--out-dir")
        .arg(out.path())
        .output()
        .expect("python3 runs tools/difftest");
    assert!(
        record.status.success(),
        "difftest record-many failed for {server}:\n{}\n{}",
        String::from_utf8_lossy(&record.stdout),
        String::from_utf8_lossy(&record.stderr)
    );
    let diff = Command::new("python3")
        .args(["tools/difftest", "diff", "--quiet"])
        .arg(Path::new("fixtures/personalities").join(server))
        .arg(out.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&diff.stdout);
    // "N differences: D of R replies differ, ..."
    let last = text.lines().last().unwrap_or_default();
    let numbers: Vec<usize> = last
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    assert!(numbers.len() >= 3, "unexpected difftest output: {last}");
    (numbers[1], numbers[2])
}

fn check(server: &str) {
    let (differ, compared) = replay(server);
    assert!(
        compared >= 2000,
        "{server}: only {compared} replies compared"
    );
    let allowed = budget(server);
    assert!(
        differ <= allowed,
        "{server}: {differ} of {compared} replies now differ from the real server, \
         more than the {allowed} of fixtures/personalities/differences.txt: a change made \
         the personality less like the server (tools/difftest diff shows which)"
    );
    assert_eq!(
        differ, allowed,
        "{server}: {differ} replies differ, fewer than the {allowed} recorded: \
         lower fixtures/personalities/differences.txt to {differ}"
    );
}

#[test]
fn vsftpd_replays_its_recordings() {
    check("vsftpd");
}

#[test]
fn proftpd_replays_its_recordings() {
    check("proftpd");
}

#[test]
fn pure_ftpd_replays_its_recordings() {
    check("pure-ftpd");
}
