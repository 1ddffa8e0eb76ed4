//! `--personality-option KEY=VALUE`: the real server's settings that
//! change what a client sees, named as that server names them.
//!
//! | personality | option | values | what changes |
//! |---|---|---|---|
//! | vsftpd | `utf8_filesystem` | `YES`, `NO` (default) | `UTF8` first in FEAT |
//! | vsftpd | `ssl_enable` | `YES` with `--tls explicit`, `NO` without | FEAT lists `AUTH TLS`, `PBSZ`, `PROT`; vsftpd's AUTH/PBSZ/PROT texts |
//! | vsftpd | `hide_ids` | `YES`, `NO` (default) | listings show `ftp ftp` as owner and group, not numeric ids |
//! | ProFTPD | `TLSEngine` | `on` with `--tls explicit`, `off` without | FEAT, AUTH/PBSZ/PROT/CCC as mod_tls answers them |
//! | Pure-FTPd | `TLS` | `1` with `--tls explicit`, `0` without | FEAT, AUTH/PBSZ/PROT as `pure-ftpd -Y 1` answers them |
//!
//! The TLS options follow `--tls` by themselves; giving one that
//! contradicts it is an error, as is an option the personality does not
//! have (the error names the ones it has).

use super::Personality;

/// What the options a test gave turn on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Settings {
    /// vsftpd's `utf8_filesystem=YES`.
    pub utf8_filesystem: bool,
    /// vsftpd's `hide_ids=YES`.
    pub hide_ids: bool,
}

/// The options each personality has, with their values.
fn known(personality: Personality) -> &'static [(&'static str, &'static [&'static str])] {
    match personality {
        Personality::Vsftpd => &[
            ("utf8_filesystem", &["YES", "NO"]),
            ("ssl_enable", &["YES", "NO"]),
            ("hide_ids", &["YES", "NO"]),
        ],
        Personality::Proftpd => &[("TLSEngine", &["on", "off"])],
        Personality::PureFtpd => &[("TLS", &["1", "0"])],
        _ => &[],
    }
}

/// Checks `options` (KEY, VALUE) against `personality` and what `--tls`
/// says; the error is a sentence for the user.
pub(crate) fn settle(
    personality: Personality,
    options: &[(String, String)],
    tls: bool,
) -> Result<Settings, String> {
    let mut settings = Settings::default();
    for (key, value) in options {
        let table = known(personality);
        let Some((name, values)) = table.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) else {
            let names: Vec<&str> = table.iter().map(|(k, _)| *k).collect();
            return Err(if names.is_empty() {
                format!("personality option {key}: {personality} has no options")
            } else {
                format!(
                    "personality option {key} is not one of {personality}'s: {}",
                    names.join(", ")
                )
            });
        };
        let Some(value) = values.iter().find(|v| v.eq_ignore_ascii_case(value)) else {
            return Err(format!(
                "personality option {name}={value}: {personality} takes {}",
                values.join(" or ")
            ));
        };
        let on = matches!(*value, "YES" | "on" | "1");
        match *name {
            "utf8_filesystem" => settings.utf8_filesystem = on,
            "hide_ids" => settings.hide_ids = on,
            "ssl_enable" | "TLSEngine" | "TLS" if on != tls => {
                return Err(format!(
                    "personality option {name}={value} {}: the option follows --tls by itself",
                    if tls {
                        "contradicts --tls"
                    } else {
                        "needs --tls explicit"
                    }
                ));
            }
            _ => {}
        }
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt(k: &str, v: &str) -> Vec<(String, String)> {
        vec![(k.to_string(), v.to_string())]
    }

    #[test]
    fn options_are_checked_by_name_value_and_tls() {
        let s = settle(Personality::Vsftpd, &opt("utf8_filesystem", "yes"), false).unwrap();
        assert!(s.utf8_filesystem);
        let e = settle(Personality::Vsftpd, &opt("anon_enable", "YES"), false).unwrap_err();
        assert!(e.contains("utf8_filesystem, ssl_enable, hide_ids"), "{e}");
        let e = settle(Personality::Vsftpd, &opt("ssl_enable", "YES"), false).unwrap_err();
        assert!(e.contains("needs --tls"), "{e}");
        assert!(settle(Personality::Proftpd, &opt("TLSEngine", "on"), true).is_ok());
        let e = settle(Personality::PureFtpd, &opt("TLS", "7"), true).unwrap_err();
        assert!(e.contains("takes 1 or 0"), "{e}");
        let e = settle(Personality::Iis, &opt("x", "1"), false).unwrap_err();
        assert!(e.contains("has no options"), "{e}");
    }
}
