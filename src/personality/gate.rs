//! The checks a real server makes before a command reaches its handler,
//! in the server's own order: whether it knows the verb, whether the
//! client has logged in, the verbs it names but does not implement, a
//! second login, and the TLS verbs of a server built without TLS.
//!
//! The engine's own order (parse the argument, then ask for a login) is
//! an RFC reading; each real server has its own, and a client's error
//! handling sees the difference: vsftpd answers `TYPE nonsense` before
//! login with `530`, ftpfixture with `501`. Each rule here was read off
//! the recordings in `fixtures/personalities/<server>/` (tools/difftest)
//! and holds for every verb, not for one script's commands.

use crate::protocol::Reply;

/// Where a session stands, as far as the gate cares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Standing<'a> {
    /// Logged in as this name.
    pub user: Option<&'a str>,
    /// The server offers TLS (`--tls explicit`/`implicit`).
    pub tls: bool,
    /// PASV, EPSV, PORT or EPRT has set up the next data connection.
    pub data_ready: bool,
    /// PASV or EPSV has: a listener waits.
    pub passive: bool,
    /// The session is in TYPE A.
    pub ascii: bool,
    /// The offset REST set for the next transfer (0: none).
    pub rest: u64,
    /// RNFR named a path that waits for its RNTO.
    pub renaming: bool,
    /// A PASS was refused since the login (ProFTPD then refuses a USER of
    /// the same name too).
    pub pass_refused: bool,
}

/// A server's answer to a second `USER`/`PASS` once logged in.
#[derive(Debug)]
pub(crate) struct Relogin {
    /// `USER` naming the user already logged in (`None`: as `other`).
    pub same: Option<(u16, &'static str)>,
    /// `USER` naming anyone else.
    pub other: (u16, &'static str),
    /// `PASS` while logged in.
    pub pass: (u16, &'static str),
    /// Once such a PASS was refused, `USER` of the same name is answered
    /// as `other` (ProFTPD: seven recordings agree).
    pub pass_ends_same: bool,
}

/// What a server checks before a command runs, in its order.
#[derive(Debug)]
pub(crate) struct Gate {
    /// Before login, a verb the server does not know gets the login
    /// reply (vsftpd, Pure-FTPd) rather than "unknown" (ProFTPD).
    pub login_before_unknown: bool,
    /// Verbs answered before login; every other gets `login_needed`.
    pub before_login: &'static [&'static str],
    /// The same when TLS is on (vsftpd takes AUTH, PBSZ and PROT then).
    pub before_login_tls: &'static [&'static str],
    /// The SITE lines (its argument) answered before login as after it:
    /// ProFTPD's modules whose handlers do not ask for a login.
    pub site_before_login: Option<fn(&str) -> bool>,
    /// The reply to a command that needs a login.
    pub login_needed: (u16, &'static str),
    /// Verbs refused before login with that reply twice (ProFTPD's RNTO:
    /// its error handler writes it again). `SITE X` names a SITE command
    /// (ProFTPD's mod_site sends its own 530 for CHMOD and CHGRP, and the
    /// error path another).
    pub login_needed_twice: &'static [&'static str],
    /// Verbs the server names but does not implement, with its answer
    /// (`{verb}` is the verb). Checked before the login when the verb is
    /// also in `before_login`.
    pub not_implemented: &'static [(&'static str, u16, &'static str)],
    /// The TLS verbs' answers when the server runs without TLS.
    pub without_tls: &'static [(&'static str, u16, &'static str)],
    pub relogin: Relogin,
    /// A transfer command with no data connection set up gets this
    /// before its path is looked at (vsftpd); `None`: the path first.
    pub data_first: Option<(u16, &'static str)>,
    /// Verbs that take no argument and refuse one, verbs that need one,
    /// and the reply to either mistake (ProFTPD counts parameters
    /// before anything else).
    pub arg_count: Option<ArgCount>,
    /// REST in TYPE A is refused with this (ProFTPD).
    pub rest_in_ascii: Option<(u16, &'static str)>,
    /// These transfers after a REST past this offset in TYPE A are
    /// refused with this, once the data connection is there (vsftpd's
    /// RETR, past 0; Pure-FTPd's RETR, STOR and APPE, and the STOR its
    /// STOU makes, past 1: `restartat > 1`).
    pub resume_in_ascii: Option<(&'static [&'static str], u64, (u16, &'static str))>,
    /// A transfer without its path is refused for that before its REST
    /// in TYPE A is (Pure-FTPd's parser: `501 No file name`).
    pub resume_needs_path: bool,
    /// Verbs whose handler counts the words of its argument first and
    /// refuses a count outside `min..=max` with this reply (`{line}`: the
    /// verb in capitals and the argument as sent): ProFTPD's `'REST 5 6'
    /// not understood`. A verb here is one the server knows.
    pub words: &'static [Words],
    /// An argument with a `*` somewhere before a `/` is refused before
    /// anything else, the login and the verb included: `550 {arg}:
    /// Forbidden command argument` (the `DenyFilter \*.*/` of Debian's
    /// proftpd.conf).
    pub glob_slash_denied: bool,
    /// The SITE commands the server has. When not empty, SITE is sorted
    /// out before the login is looked at (ProFTPD's mod_site dispatches
    /// first): SITE alone is `500 'SITE' requires parameters`, SITE of
    /// anything else `500 'SITE X' not understood` (X its first word in
    /// capitals).
    pub site_commands: &'static [&'static str],
    /// Verbs that refuse an argument with this character in it, once the
    /// login allows them (ProFTPD's MKD with `*`), and the reply (`{arg}`).
    pub refused_chars: &'static [(&'static str, char, u16, &'static str)],
    /// Verbs answered with a fixed reply once the login allows them
    /// (ProFTPD's `CLNT`; `{arg}` is the argument).
    pub fixed: &'static [(&'static str, u16, &'static str)],
    /// Replies to verbs before login that differ from `fixed`'s (ProFTPD's
    /// LANG: `504 Language x not supported` before login, `500 Unable to
    /// handle command` after, once its chroot hides the locales).
    pub fixed_before_login: &'static [(&'static str, u16, &'static str)],
    /// Verbs answered so, once logged in, while no passive listener waits
    /// (Pure-FTPd's ESTP without PASV); with one, they are unknown.
    pub fixed_without_passive: &'static [(&'static str, u16, &'static str)],
    /// The same, in TYPE A only (ProFTPD's SIZE).
    pub fixed_in_ascii: &'static [(&'static str, u16, &'static str)],
    /// While an RNFR waits for its RNTO, every verb but these gets this
    /// reply, known or not, and the rename keeps waiting (ProFTPD).
    pub rename_pending: Option<(&'static [&'static str], (u16, &'static str))>,
}

/// One verb's count of its argument's words ([`Gate::words`]).
#[derive(Debug)]
pub(crate) struct Words {
    pub verb: &'static str,
    pub min: usize,
    pub max: usize,
    pub reply: (u16, &'static str),
}

/// A server's check of how many arguments a command has.
#[derive(Debug)]
pub(crate) struct ArgCount {
    pub none: &'static [&'static str],
    pub some: &'static [&'static str],
    pub reply: (u16, &'static str),
}

/// The commands that open a data connection.
const TRANSFERS: &[&str] = &["RETR", "STOR", "APPE", "STOU", "LIST", "NLST", "MLSD"];

impl Gate {
    /// The reply to `verb` after a REST in TYPE A, if the server refuses it.
    pub(crate) fn resume_refusal(&self, verb: &str, rest: u64) -> Option<Reply> {
        let (verbs, above, (code, text)) = self.resume_in_ascii?;
        (rest > above && verbs.contains(&verb)).then(|| Reply::new(code, text))
    }

    /// `verb`'s argument fails the server's count of its words: its
    /// parser refuses it before the handler runs (and takes no REST
    /// offset: Pure-FTPd's `RETR` with no name).
    pub(crate) fn miscounts(&self, verb: &str, arg: Option<&str>) -> bool {
        self.words.iter().find(|w| w.verb == verb).is_some_and(|w| {
            let n = arg.map_or(0, |a| a.split_whitespace().count());
            n < w.min || n > w.max
        })
    }

    /// The server answers `verb` before login (the engine's own list
    /// gives way to it).
    pub(crate) fn lets_in_early(&self, verb: &str, arg: Option<&str>, tls: bool) -> bool {
        self.before_login.contains(&verb)
            || (tls && self.before_login_tls.contains(&verb))
            || (verb == "SITE"
                && self
                    .site_before_login
                    .is_some_and(|early| early(arg.unwrap_or(""))))
    }

    /// The reply that stops `verb` before its handler, if any.
    /// `known`: the server has the verb.
    pub(crate) fn check(
        &self,
        verb: &str,
        arg: Option<&str>,
        known: bool,
        unknown: impl Fn() -> Reply,
        standing: Standing<'_>,
    ) -> Option<Reply> {
        let fixed = |(code, text): (u16, &str)| {
            Reply::new(
                code,
                text.replace("{verb}", verb)
                    .replace("{arg}", arg.unwrap_or("")),
            )
        };
        if self.glob_slash_denied {
            let arg = arg.unwrap_or("");
            if arg.find('*').is_some_and(|star| arg[star..].contains('/')) {
                return Some(Reply::new(
                    550,
                    format!("{arg}: Forbidden command argument"),
                ));
            }
        }
        if verb == "SITE" && !self.site_commands.is_empty() {
            // ProFTPD keeps a SITE line's white space: each space ends a
            // word, so `SITE  x` names the empty command.
            let first = arg.and_then(|a| a.split(' ').next());
            match first {
                None => return Some(Reply::new(500, "'SITE' requires parameters")),
                Some(word)
                    if !self
                        .site_commands
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(word)) =>
                {
                    let word = word.to_ascii_uppercase();
                    return Some(Reply::new(500, format!("'SITE {word}' not understood")));
                }
                Some(word) if standing.user.is_none() => {
                    let site = format!("SITE {}", word.to_ascii_uppercase());
                    if self.login_needed_twice.contains(&site.as_str()) {
                        let (code, text) = self.login_needed;
                        let line = format!("{code} {text}");
                        return Some(Reply::raw(code, vec![line.clone(), line]));
                    }
                }
                Some(_) => {}
            }
        }
        let counted = self.words.iter().find(|w| w.verb == verb);
        // A text that names the argument answers only a command that has
        // one; the bare command finds the entry after it.
        let find = |table: &[(&str, u16, &'static str)]| {
            table
                .iter()
                .find(|(v, _, text)| *v == verb && (arg.is_some() || !text.contains("{arg}")))
                .map(|&(_, code, text)| fixed((code, text)))
        };
        // A verb the server names, if only to refuse it, is one it knows.
        let known = known
            || counted.is_some()
            || self.not_implemented.iter().any(|(v, _, _)| *v == verb)
            || self.fixed.iter().any(|(v, _, _)| *v == verb)
            || (!standing.passive
                && self
                    .fixed_without_passive
                    .iter()
                    .any(|(v, _, _)| *v == verb));
        let allowed_early = self.lets_in_early(verb, arg, standing.tls);
        let args_wrong = self.arg_count.as_ref().and_then(|c| {
            let wrong = (c.none.contains(&verb) && arg.is_some())
                || (c.some.contains(&verb) && arg.is_none());
            wrong.then(|| fixed(c.reply))
        });
        let args_wrong = args_wrong.or_else(|| {
            let w = counted?;
            let n = arg.map_or(0, |a| a.split_whitespace().count());
            // The server shows the words it split, one space apart.
            let line = match arg {
                Some(a) => format!(
                    "{verb} {}",
                    a.split_whitespace().collect::<Vec<_>>().join(" ")
                ),
                None => verb.to_string(),
            };
            (n < w.min || n > w.max)
                .then(|| Reply::new(w.reply.0, w.reply.1.replace("{line}", &line)))
        });
        let Some(user) = standing.user else {
            if !known && !self.login_before_unknown {
                return Some(unknown());
            }
            if !allowed_early {
                let (code, text) = self.login_needed;
                if self.login_needed_twice.contains(&verb) {
                    let line = format!("{code} {text}");
                    return Some(Reply::raw(code, vec![line.clone(), line]));
                }
                return Some(fixed(self.login_needed));
            }
            if args_wrong.is_some() {
                return args_wrong;
            }
            if !standing.tls {
                if let Some(reply) = find(self.without_tls) {
                    return Some(reply);
                }
            }
            return find(self.not_implemented)
                .or_else(|| find(self.fixed_before_login))
                .or_else(|| find(self.fixed))
                .or_else(|| (!known).then(&unknown));
        };
        if let Some((exempt, reply)) = self.rename_pending {
            if standing.renaming && !exempt.contains(&verb) {
                return Some(fixed(reply));
            }
        }
        if !known {
            return Some(unknown());
        }
        if !standing.tls {
            if let Some(reply) = find(self.without_tls) {
                return Some(reply);
            }
        }
        if let Some(reply) = find(self.not_implemented) {
            return Some(reply);
        }
        if args_wrong.is_some() {
            return args_wrong;
        }
        if let Some(reply) = find(self.fixed) {
            return Some(reply);
        }
        if !standing.passive {
            if let Some(reply) = find(self.fixed_without_passive) {
                return Some(reply);
            }
        }
        if let Some(&(_, _, code, text)) = self
            .refused_chars
            .iter()
            .find(|(v, c, _, _)| *v == verb && arg.is_some_and(|a| a.contains(*c)))
        {
            return Some(fixed((code, text)));
        }
        if standing.ascii {
            if let Some(reply) = find(self.fixed_in_ascii) {
                return Some(reply);
            }
        }
        match verb {
            "USER" => {
                let same = arg.is_some_and(|a| a == user);
                let (code, text) = match (same, self.relogin.same) {
                    (true, Some(reply))
                        if !(standing.pass_refused && self.relogin.pass_ends_same) =>
                    {
                        reply
                    }
                    _ => self.relogin.other,
                };
                Some(Reply::new(code, text.replace("{user}", user)))
            }
            "PASS" => Some(fixed(self.relogin.pass)),
            _ if !standing.data_ready && TRANSFERS.contains(&verb) && self.data_first.is_some() => {
                self.data_first.map(fixed)
            }
            // An offset that is a number and not 0: ProFTPD checks the
            // argument first.
            "REST"
                if standing.ascii
                    && arg.is_some_and(|a| {
                        // Any run of digits but zeros, however long: the
                        // server reads past 2^64 too.
                        !a.is_empty()
                            && a.bytes().all(|b| b.is_ascii_digit())
                            && a.bytes().any(|b| b != b'0')
                    }) =>
            {
                self.rest_in_ascii.map(fixed)
            }
            // Pure-FTPd's parser refuses a transfer without its path
            // first; vsftpd's handler looks at the offset first.
            _ if standing.ascii && (arg.is_some() || !self.resume_needs_path) => {
                self.resume_refusal(verb, standing.rest)
            }
            _ => None,
        }
    }
}
