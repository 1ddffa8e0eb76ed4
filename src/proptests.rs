//! Property tests of every parser that takes outside input: they run in
//! `cargo test` in seconds (a few thousand cases each) and check that no
//! input panics, that no path escapes the root, and that what prints
//! parses back. The fuzz targets in `fuzz/` push the same functions harder.

use proptest::prelude::*;

use crate::fault::Fault;
use crate::protocol::Command;
use crate::storage::VirtualPath;

/// Bytes that look like FTP: verbs, arguments, separators, and some noise.
fn ftpish() -> impl Strategy<Value = String> {
    let verbs = prop::sample::select(vec![
        "USER", "PASS", "PORT", "EPRT", "EPSV", "PASV", "REST", "RETR", "STOR", "MFMT", "SITE",
        "CHMOD", "TYPE", "MODE", "STRU", "OPTS", "HOST", "AUTH", "PBSZ", "PROT", "MLST", "LIST",
        "HELP", "STAT", "ALLO", "XYZ", "",
    ]);
    let arg = prop::collection::vec(
        prop::sample::select(vec![
            "1",
            "0",
            "255",
            "256",
            "65535",
            "65536",
            "-1",
            "|",
            "||",
            ",",
            "1,2,3,4,5,6",
            "::1",
            "127.0.0.1",
            "/",
            "..",
            "a b",
            "\u{0}",
            "\u{7f}",
            "é",
            "*",
            "?",
            "20261125120000",
            "99999999999999",
            " ",
            "A",
            "I",
            "L 8",
            "E",
            "C",
            "P",
        ]),
        0..8,
    );
    (verbs, arg, any::<String>()).prop_map(|(v, a, noise)| {
        let mut s = format!("{v} {}", a.concat());
        if noise.len() % 3 == 0 {
            s.push_str(&noise);
        }
        s
    })
}

/// Text that looks like a fault rule.
fn ruleish() -> impl Strategy<Value = String> {
    let parts = prop::collection::vec(
        prop::sample::select(vec![
            "RETR",
            "*",
            "CONNECT",
            "STOR#2",
            "#",
            "#0",
            "first=2",
            "first=",
            "nth=1",
            "arg=*.csv",
            "session=1",
            "user=bob",
            "login=before",
            "login=sideways",
            "reply=450",
            "reply=999",
            "text=\"a b\"",
            "text=\"",
            "lines=\"a|b\"",
            "reply-after=226",
            "delay=200ms",
            "delay=1x",
            "jitter=5ms",
            "split=3",
            "pause=1ms",
            "close",
            "close-after-reply",
            "shutdown",
            "stall",
            "no-data",
            "drop-data",
            "after=1024",
            "after=64k",
            "after=-1",
            "reset-data",
            "stall-data",
            "throttle=64k",
            "throttle=0",
            "corrupt",
            "at=3",
            "truncate",
            "extra=9",
            "slow-close=1ms",
            "slice-data=16",
            "delay-data=1ms",
            "disk-full",
            "fail-after-data",
            "tls-fail",
            "quirk=dos-list",
            "quirk=nope",
            "=",
            "\"",
            "times=2",
            "é",
            "  ",
        ]),
        0..7,
    );
    (parts, any::<u8>()).prop_map(|(p, sep)| p.join(if sep % 5 == 0 { "  " } else { " " }))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn command_lines_never_panic(line in ftpish()) {
        let _ = Command::parse(&line);
    }

    #[test]
    fn arbitrary_command_text_never_panics(line in any::<String>()) {
        let _ = Command::parse(&line);
        let _ = crate::protocol::split(&line);
    }

    #[test]
    fn fault_rules_parse_or_point_inside_and_print_back(rule in ruleish()) {
        match rule.parse::<Fault>() {
            Ok(fault) => {
                // What prints parses back to the same fault.
                let shown = fault.to_string();
                let again: Fault = shown.parse().map_err(|e| TestCaseError::fail(format!("{shown:?}: {e}")))?;
                prop_assert_eq!(again, fault);
            }
            Err(e) => {
                // The caret points inside the rule, and the message renders.
                prop_assert!(e.at <= rule.len());
                let _ = e.to_string();
            }
        }
    }

    #[test]
    fn arbitrary_rule_text_never_panics(rule in any::<String>()) {
        if let Err(e) = rule.parse::<Fault>() {
            let _ = e.to_string();
        }
    }

    #[test]
    fn scenario_text_never_panics(text in any::<String>(), key in prop::sample::select(vec![
        "tls", "idle_timeout", "passive_ports", "faults", "users", "port", "login_failure_delay",
    ])) {
        let _ = text.parse::<crate::Scenario>();
        let _ = format!("{key} = {text:?}").parse::<crate::Scenario>();
        let _ = format!("{key} = [{text:?}]").parse::<crate::Scenario>();
    }

    #[test]
    fn virtual_paths_never_leave_the_root(
        start in prop::collection::vec("[a-z.]{0,3}", 0..4),
        input in prop::collection::vec(prop::sample::select(vec!["..", ".", "", "a", "b c", "..."]), 0..10),
        absolute in any::<bool>(),
    ) {
        let cwd = VirtualPath::new(&start.join("/")).unwrap();
        let text = format!("{}{}", if absolute { "/" } else { "" }, input.join("/"));
        let p = cwd.join(&text).unwrap();
        prop_assert!(p.as_str().starts_with('/'));
        prop_assert!(p.components().all(|c| c != ".." && c != "." && !c.is_empty()));
        // Normal form: parsing it again changes nothing.
        prop_assert_eq!(VirtualPath::new(p.as_str()).unwrap(), p.clone());
        // Strict paths from outside (the control API) never climb either.
        if let Ok(strict) = crate::server::strict_path(&text) {
            prop_assert!(strict.as_str().starts_with('/'));
        }
    }

    #[test]
    fn arbitrary_path_text_is_refused_or_normal(text in any::<String>()) {
        match VirtualPath::new(&text) {
            Ok(p) => {
                prop_assert!(p.as_str().starts_with('/'));
                prop_assert!(!p.as_str().chars().any(char::is_control));
                prop_assert!(p.components().all(|c| c != ".."));
            }
            Err(_) => prop_assert!(text.chars().any(char::is_control)),
        }
    }

    #[test]
    fn mfmt_times_round_trip(
        y in 1970u32..2200, mo in 1u32..13, d in 1u32..29, h in 0u32..24, mi in 0u32..60, s in 0u32..60,
    ) {
        let text = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}");
        let t = crate::timeval::parse(&text).expect("a valid time-val");
        prop_assert_eq!(crate::timeval::format(t), text);
    }

    #[test]
    fn arbitrary_time_text_never_panics(text in "[0-9.]{0,20}|.{0,20}") {
        let _ = crate::timeval::parse(&text);
    }
}
