//! FEAT, OPTS, HELP, STAT, MLST: what the server and a path look like.

use std::io;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use crate::facts::{Entry, FactStyle};
use crate::listing;
use crate::personality::DirFlags;
use crate::personality::StatList;
use crate::protocol::TransferType;
use crate::session::{Answer, Need, Reply, Session};

use crate::protocol::IMPLEMENTED as VERBS;

impl Session {
    /// FEAT (RFC 2389): only what is really supported.
    pub(crate) fn feat(&self) -> Reply {
        if let Some(profile) = self.shared.profile {
            return profile.feat(
                self.shared.tls.is_some(),
                self.shared.profile_settings,
                &self.options.facts,
            );
        }
        let mut features = Vec::new();
        if let Some(tls) = &self.shared.tls {
            if tls.mode == crate::tls::Tls::Explicit {
                features.push("AUTH TLS".to_string());
                features.push("AUTH SSL".to_string());
            }
            if tls.allow_ccc && tls.mode == crate::tls::Tls::Explicit {
                features.push("CCC".to_string());
            }
            features.push("PBSZ".to_string());
            features.push("PROT".to_string());
        }
        features.extend([
            "EPRT".to_string(),
            "EPSV".to_string(),
            "HOST".to_string(),
            "MDTM".to_string(),
            "MFF modify;UNIX.mode;".to_string(),
            "MFMT".to_string(),
            self.options.facts.feat_line(),
            "REST STREAM".to_string(),
            "SIZE".to_string(),
            "TVFS".to_string(),
            "UTF8".to_string(),
        ]);
        features.extend(self.shared.commands.features());
        Reply::multi(211, "Features:", features, "End")
    }

    pub(crate) fn opts(&mut self, args: &str) -> Answer {
        let (option, value) = crate::protocol::split(args);
        match (&*option, value.map(str::to_ascii_uppercase).as_deref()) {
            // Names are UTF-8 either way; OFF is accepted for old clients.
            ("UTF8" | "UTF-8", Some("ON") | Some("OFF") | None) => {
                Ok(Reply::new(200, "Always in UTF8 mode"))
            }
            // ProFTPD reads at most one word after MLST.
            ("MLST", Some(v))
                if v.contains(' ') && self.options.facts.style() == FactStyle::ProFtpd =>
            {
                Err(Reply::new(501, "'OPTS MLST' not understood"))
            }
            ("MLST", _) => {
                let facts = value.map(str::trim).unwrap_or_default();
                Ok(Reply::new(200, self.options.facts.select(facts)))
            }
            _ => Err(Reply::new(501, format!("Option not understood: {args}"))),
        }
    }

    pub(crate) fn help(&self, topic: Option<&str>) -> Answer {
        if let (Some(profile), None) = (self.shared.profile, topic) {
            return Ok(profile.help.reply(214));
        }
        if let Some(text) =
            topic.and_then(|t| self.shared.commands.help(crate::custom::Kind::Verb, t))
        {
            return Ok(Reply::new(214, text));
        }
        match topic {
            None => {
                let custom = self.shared.commands.new_verbs();
                let all: Vec<&str> = VERBS.iter().copied().chain(custom).collect();
                let lines = all.chunks(12).map(|c| c.join(" ")).collect();
                Ok(Reply::multi(
                    214,
                    "The following commands are recognized.",
                    lines,
                    "Help OK.",
                ))
            }
            Some(t)
                if self
                    .shared
                    .profile
                    .is_some_and(|p| !p.help_topics.is_empty()) =>
            {
                let topics = self.shared.profile.map_or(&[][..], |p| p.help_topics);
                match topics.iter().find(|(verb, _)| verb.eq_ignore_ascii_case(t)) {
                    Some((verb, syntax)) => Ok(Reply::new(214, format!("Syntax: {verb} {syntax}"))),
                    None => Err(Reply::new(502, format!("Unknown command {t}"))),
                }
            }
            Some(t) if VERBS.contains(&t.to_ascii_uppercase().as_str()) => Ok(Reply::new(
                214,
                format!("{} is supported", t.to_ascii_uppercase()),
            )),
            Some(t) => Err(Reply::new(502, format!("Unknown command {t}"))),
        }
    }

    /// STAT without argument and no transfer: the session's state.
    pub(crate) fn status(&self) -> Reply {
        if let Some(block) = self.shared.profile.and_then(|p| p.status.as_ref()) {
            return self.profile_status(block);
        }
        let mut lines = vec![format!("Connected from {}", self.peer.ip())];
        lines.push(match self.account() {
            Some(a) => format!("Logged in as {}", a.name()),
            None => "Not logged in".to_string(),
        });
        let ty = match self.options.transfer_type {
            TransferType::Ascii => "ASCII",
            TransferType::Binary => "BINARY",
        };
        lines.push(format!("TYPE: {ty}, STRUcture: File, MODE: Stream"));
        lines.push(self.options.data.describe().to_string());
        let first = self.shared.profile.map_or("ftpfixture status:", |p| p.stat);
        Reply::multi(211, first, lines, "End of status")
    }

    /// STAT without argument in a personality's own layout.
    fn profile_status(&self, block: &crate::personality::Block) -> Reply {
        let ty = match self.options.transfer_type {
            TransferType::Ascii => "ASCII",
            TransferType::Binary => "BINARY",
        };
        let secure = |on: bool| if on { "encrypted" } else { "plain text" };
        let data_setup = self.options.data.describe();
        let fill = |line: &str| {
            line.replace("{peer}", &self.peer.ip().to_string())
                .replace("{user}", self.account().map_or("(none)", |a| a.name()))
                .replace("{type}", ty)
                .replace(
                    "{idle}",
                    &self.shared.config.idle_timeout.as_secs().to_string(),
                )
                .replace("{control}", secure(self.control.is_tls()))
                .replace(
                    "{data}",
                    secure(self.tls.protection == crate::protocol::Protection::Private),
                )
                .replace("{clients}", &self.shared.counts.open().to_string())
                .replace("{data_setup}", data_setup)
        };
        let first = fill(block.first);
        if block.lines.is_empty() && block.last.is_empty() {
            return Reply::new(211, first);
        }
        // A line about the session's bytes shows once there are some.
        let bytes = self.voice.bytes_data;
        let lines = block
            .lines
            .iter()
            .filter(|l| bytes > 0 || !l.contains("{session_bytes}"))
            .map(|l| fill(l).replace("{session_bytes}", &bytes.to_string()))
            .collect();
        Reply::multi(211, first, lines, fill(block.last))
    }

    /// STAT during a transfer: how far it got (RFC 959 4.1.3).
    pub(crate) async fn transfer_status(&mut self) -> std::io::Result<()> {
        let bytes = self
            .running
            .as_ref()
            .map(|r| r.progress.load(Ordering::Relaxed))
            .unwrap_or_default();
        self.reply(213, format!("Status: {bytes} bytes transferred"))
            .await
    }

    /// STAT path: a LIST over the control connection.
    pub(crate) async fn stat_path(&mut self, arg: &str) -> io::Result<()> {
        if let Some(style) = self.shared.profile.and_then(|p| p.stat_list.as_ref()) {
            // The played server's own listing, word for word: the rules
            // have nothing left to reword.
            return match self.stat_as(style, arg).await {
                Ok(listing) => self.send_as_given(listing).await,
                Err(refused) => self.send(refused).await,
            };
        }
        let answer = async {
            let path = self.resolve(crate::protocol::strip_list_flags(arg))?;
            self.allow(&path, Need::Read)?;
            let entries = self.entries(&path, arg).await?;
            let now = SystemTime::now();
            let lines = entries
                .iter()
                .map(|(name, m)| listing::list_line(name, m, now))
                .collect();
            Ok(Reply::multi(
                213,
                format!("Status of {path}:"),
                lines,
                "End of status",
            ))
        }
        .await;
        match answer {
            Ok(reply) | Err(reply) => self.send(reply).await,
        }
    }

    /// STAT path as a personality's server answers it ([`StatList`]).
    async fn stat_as(&mut self, style: &StatList, arg: &str) -> Answer {
        // ProFTPD's STAT skips white space that its LIST keeps.
        let shown = if self.habits().list_space_kept {
            crate::protocol::strip_list_flags(arg)
        } else {
            self.list_path(arg)
        };
        let path = self.resolve(shown)?;
        self.allow(&path, Need::Read)?;
        let code_of = |is_dir: bool| if is_dir { style.dir_code } else { 213 };
        if self.habits().lists_several {
            // Pure-FTPd's STAT lists as its LIST: several targets, each
            // directory under its heading, and `-R` and `-d`.
            let all = crate::protocol::has_list_flag(arg, 'a');
            let mut listing = self.several_targets(shown, all).await;
            if listing.is_none() && self.habits().lists_dir_flags == Some(DirFlags::PureFtpd) {
                listing = self.dir_flags_listing(arg, shown, &path).await;
            }
            if let Some(listing) = listing {
                let listing = String::from_utf8_lossy(&listing).into_owned();
                let code = code_of(false);
                let mut wire = vec![format!("{code}-{}", style.first.replace("{arg}", shown))];
                wire.extend(
                    listing
                        .strip_suffix("\r\n")
                        .unwrap_or(&listing)
                        .split("\r\n")
                        .filter(|_| !listing.is_empty())
                        .map(|line| format!("{}{line}", style.indent)),
                );
                wire.push(format!("{code} {}", style.last));
                return Ok(Reply::raw(code, wire));
            }
        }
        // The path after any flags; none is `.` (ProFTPD's `Status of .:`).
        let first = style
            .first
            .replace("{arg}", if shown.is_empty() { "." } else { shown });
        let mut entries = match self.entries(&path, shown).await {
            Ok(entries) => entries,
            Err(refused) if refused.code == 550 => match style.missing {
                Some(code) => {
                    return Err(Reply::new(
                        code,
                        format!("{arg}: No such file or directory"),
                    ))
                }
                None => Vec::new(),
            },
            Err(refused) => return Err(refused),
        };
        let info = self.info();
        let is_dir = self
            .login
            .storage
            .metadata(&info, &path)
            .await
            .is_ok_and(|m| m.is_dir());
        self.count_dir_links(&path, is_dir, &mut entries).await;
        // A server that hides dot files from its listings (Pure-FTPd's
        // ls) shows them, `.` and `..` too, when `-a` asks.
        let all = crate::protocol::has_list_flag(arg, 'a');
        let hides = self.habits().hides_dot_files && !style.dots;
        if is_dir && hides && !all {
            entries.retain(|(name, _)| !name.starts_with('.'));
        }
        if is_dir && (style.dots || (hides && all)) {
            let dots = self.dot_entries(&path, &entries).await;
            entries.splice(0..0, dots);
            if self.habits().sorts_dots_with_names {
                entries.sort_by(|a, b| a.0.cmp(&b.0));
            }
        }
        let now = SystemTime::now();
        let code = code_of(is_dir);
        // The listing lines go as the server sends them, without the space
        // the engine puts before a multi-line reply's middle lines.
        let mut wire = vec![format!("{code}-{first}")];
        wire.extend(
            entries.iter().map(|(name, m)| {
                format!("{}{}", style.indent, self.long_line(name, m, now, is_dir))
            }),
        );
        wire.push(format!("{code} {}", style.last));
        Ok(Reply::raw(code, wire))
    }

    /// MLST (RFC 3659 §7): the facts of one path over the control channel.
    pub(crate) async fn mlst(&mut self, arg: Option<&str>) -> Answer {
        let path = match arg {
            Some(a) => self.resolve(a)?,
            None => self.login.cwd.clone(),
        };
        self.allow(&path, Need::Read)?;
        let meta = self.metadata(&path).await?;
        let info = self.info();
        let meta = self.shown_metadata(&info, &path, meta);
        let style = self.options.facts.style();
        // The fact line names the absolute path (RFC 3659 §7.3.1 with
        // TVFS), but Pure-FTPd names it as given (`.` for none); ProFTPD's
        // first line names it as given (the working directory for none).
        let absolute = path.to_string();
        let given = arg.map_or_else(|| self.login.cwd.to_string(), str::to_string);
        let (name, heading) = match style {
            FactStyle::PureFtpd => (arg.unwrap_or(".").to_string(), given),
            FactStyle::ProFtpd => (absolute, given),
            FactStyle::Engine => (absolute.clone(), absolute),
        };
        let user = self.account().map_or("", |a| a.name());
        let line = self.options.facts.line(&Entry {
            name: &name,
            meta: &meta,
            rights: self.perm_fact(&info, &path),
            user,
            path: path.as_str(),
            in_mlsd: false,
        });
        let (first, last) = style.mlst_frame();
        Ok(Reply::multi(
            250,
            first.replace("{path}", &heading),
            vec![line],
            last,
        ))
    }
}
