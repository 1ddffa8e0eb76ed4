//! The differential tester's recordings of the real servers
//! (`fixtures/personalities/<server>/seed-N.txt`, made by `tools/difftest`
//! from vsftpd, ProFTPD and Pure-FTPd) replayed against ftpfixture playing
//! each server: every sequence runs again against the CLI, and the replies
//! that differ are counted against `fixtures/personalities/differences.txt`.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ftpfixture");

/// `Set::seeds` for every recording in the set's directory.
const ALL: &str = "all";

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

/// Every seed recorded in `dir` (`seed-N.txt`), as `--seeds` takes them:
/// a held-out set grows by a directory's worth of files, and all of them
/// replay.
fn recorded_seeds(dir: &Path) -> String {
    let mut seeds: Vec<u64> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_prefix("seed-")?
                .strip_suffix(".txt")?
                .parse()
                .ok()
        })
        .collect();
    seeds.sort_unstable();
    assert!(!seeds.is_empty(), "no recordings in {}", dir.display());
    seeds
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// One set of recordings: which personality plays it, where it lies,
/// its seeds (`ALL`: every recording in the directory), and how
/// ftpfixture runs (`--tls` grammar, CLI flags).
struct Set {
    name: &'static str,
    personality: &'static str,
    dir: &'static str,
    seeds: &'static str,
    tls: bool,
    flags: &'static [&'static str],
}

impl Set {
    fn plain(server: &'static str) -> Set {
        Set {
            name: server,
            personality: server,
            dir: server,
            seeds: "1-30",
            tls: false,
            flags: &[],
        }
    }
}

/// Replays a set and returns (differences, replies compared) as
/// `tools/difftest diff` counts them: a difference is a reply or a
/// data block (a listing, a download) that differs.
fn replay(set: &Set) -> (usize, usize) {
    let out = tempfile::tempdir().unwrap();
    let dir = Path::new("fixtures/personalities").join(set.dir);
    let seeds = match set.seeds {
        ALL => recorded_seeds(&dir),
        given => given.to_string(),
    };
    let mut cmd = Command::new("python3");
    cmd.args([
        "tools/difftest",
        "record-many",
        "--jobs",
        "6",
        "--settle",
        "0.01",
    ])
    .args(["--seeds", &seeds, "--personality", set.personality])
    .args(["--ftpfixture", BIN])
    .arg("--out-dir")
    .arg(out.path());
    if set.tls {
        cmd.args(["--tls", "--prefix", "tls-"]);
    }
    for flag in set.flags {
        cmd.arg(format!("--ftpfixture-arg={flag}"));
    }
    let server = set.name;
    let record = cmd.output().expect("python3 runs tools/difftest");
    assert!(
        record.status.success(),
        "difftest record-many failed for {server}:\n{}\n{}",
        String::from_utf8_lossy(&record.stdout),
        String::from_utf8_lossy(&record.stderr)
    );
    let diff = Command::new("python3")
        .args(["tools/difftest", "diff", "--quiet"])
        .arg(&dir)
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
    // Differing replies and data blocks, replies compared.
    (numbers[0], numbers[2])
}

/// Replays `set` and compares the count with the budget: `Err` says
/// what is wrong.
fn verdict(set: &Set, at_least: usize) -> Result<(), String> {
    let server = set.name;
    let (differ, compared) = replay(set);
    if compared < at_least {
        return Err(format!("{server}: only {compared} replies compared"));
    }
    let allowed = budget(server);
    if differ > allowed {
        return Err(format!(
            "{server}: {differ} replies and data blocks now differ from the real server, \
             more than the {allowed} of fixtures/personalities/differences.txt: a change made \
             the personality less like the server (tools/difftest diff shows which)"
        ));
    }
    if differ < allowed {
        return Err(format!(
            "{server}: {differ} differ, fewer than the {allowed} recorded: \
             lower fixtures/personalities/differences.txt to {differ}"
        ));
    }
    Ok(())
}

fn check(set: Set, at_least: usize) {
    if let Err(e) = verdict(&set, at_least) {
        panic!("{e}");
    }
}

#[test]
fn vsftpd_replays_its_recordings() {
    check(Set::plain("vsftpd"), 2000);
}

/// The seeds recorded from vsftpd after the model was fitted, each set
/// counted before it was looked at (docs/personalities.md has the
/// counts): kept so that what they showed stays true.
#[test]
fn vsftpd_replays_its_held_out_recordings() {
    check(
        Set {
            name: "vsftpd:held-out",
            personality: "vsftpd",
            dir: "vsftpd/held-out",
            seeds: ALL,
            tls: false,
            flags: &[],
        },
        5500,
    );
}

#[test]
fn proftpd_replays_its_recordings() {
    check(Set::plain("proftpd"), 2000);
}

/// ProFTPD's seeds recorded after the model was fitted (see the
/// directory's README).
#[test]
fn proftpd_replays_its_held_out_recordings() {
    check(
        Set {
            name: "proftpd:held-out",
            personality: "proftpd",
            dir: "proftpd/held-out",
            seeds: ALL,
            tls: false,
            flags: &[],
        },
        7000,
    );
}

/// Pure-FTPd's seeds recorded after the model was fitted (see the
/// directory's README; 2007 was not deterministic).
#[test]
fn pure_ftpd_replays_its_held_out_recordings() {
    check(
        Set {
            name: "pure-ftpd:held-out",
            personality: "pure-ftpd",
            dir: "pure-ftpd/held-out",
            seeds: ALL,
            tls: false,
            flags: &[],
        },
        13000,
    );
}

#[test]
fn pure_ftpd_replays_its_recordings() {
    check(Set::plain("pure-ftpd"), 2000);
}

/// The real servers' options, each from its own recordings.
#[test]
fn server_options_replay_their_recordings() {
    let sets = [
        Set {
            name: "vsftpd:utf8_filesystem=YES",
            personality: "vsftpd",
            dir: "vsftpd/options/utf8_filesystem=YES",
            seeds: "1-3",
            tls: false,
            flags: &["--personality-option", "utf8_filesystem=YES"],
        },
        Set {
            name: "vsftpd:hide_ids=YES",
            personality: "vsftpd",
            dir: "vsftpd/options/hide_ids=YES",
            seeds: "1-3",
            tls: false,
            flags: &["--personality-option", "hide_ids=YES"],
        },
        Set {
            name: "vsftpd:ssl_enable=YES",
            personality: "vsftpd",
            dir: "vsftpd/options/ssl_enable=YES",
            seeds: "1-3",
            tls: true,
            flags: &[
                "--tls",
                "explicit",
                "--require-tls",
                "--require-tls-resumption",
            ],
        },
        Set {
            name: "proftpd:TLSEngine=on",
            personality: "proftpd",
            dir: "proftpd/options/TLSEngine=on",
            seeds: "1-3",
            tls: true,
            flags: &[
                "--tls",
                "explicit",
                "--require-tls-resumption",
                "--allow-ccc",
            ],
        },
        Set {
            name: "pure-ftpd:TLS=1",
            personality: "pure-ftpd",
            dir: "pure-ftpd/options/TLS=1",
            seeds: "1-3",
            tls: true,
            flags: &["--tls", "explicit", "--allow-ccc"],
        },
    ];
    let problems: Vec<String> = sets
        .iter()
        .filter_map(|set| verdict(set, 200).err())
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
