//! The played servers' SITE commands beyond the engine's, in their words
//! and their order of checks (read from their sources and compared with
//! the Debian packages on loopback):
//!
//! - ProFTPD 1.3.8: mod_site's CHMOD and CHGRP, mod_site_misc's UTIME,
//!   MKDIR and RMDIR, mod_copy's CPFR, CPTO and COPY, mod_quotatab's
//!   QUOTA and mod_ratio's RATIO;
//! - Pure-FTPd 1.0.50: its parser's IDLE, TIME, CHMOD, UTIME and ALIAS.
//!
//! They answer only under a personality whose habits name the dialect;
//! the engine's own SITE (CHMOD, UMASK, HELP) is in `files`.
//!
//! Two things differ from the server on purpose: SITE SYMLINK is not
//! here (a storage has no symbolic links), and a group is never changed
//! (a storage has no groups): CHGRP fails as it does for a user who owns
//! nothing in the group asked for.

use crate::personality::SiteDialect;
use crate::protocol::Reply;
use crate::session::{Answer, Need, Session};
use crate::storage::{StorageError, VirtualPath, WriteMode};

/// `strerror(3)` of what a storage said, as the server's replies quote it.
fn strerror(e: &StorageError) -> &'static str {
    match e {
        StorageError::NotFound => "No such file or directory",
        StorageError::PermissionDenied => "Permission denied",
        StorageError::NotADirectory => "Not a directory",
        StorageError::IsADirectory => "Is a directory",
        StorageError::AlreadyExists => "File exists",
        StorageError::NotEmpty => "Directory not empty",
        StorageError::InvalidName => "File name too long",
        StorageError::Unsupported => "Operation not supported",
        _ => "Input/output error",
    }
}

impl Session {
    /// The reply to `SITE args` under ProFTPD, or `None` when the line is
    /// the engine's to answer (what mod_site itself refuses, HELP).
    pub(crate) async fn site_misc(&mut self, args: &str) -> Option<Answer> {
        match self.habits().site {
            SiteDialect::Engine => None,
            SiteDialect::ProFtpd => self.site_proftpd(args).await,
            SiteDialect::PureFtpd => self.site_pure_ftpd(args).await,
        }
    }

    /// ProFTPD's SITE.
    async fn site_proftpd(&mut self, args: &str) -> Option<Answer> {
        // ProFTPD splits a SITE line at every space: two in a row make an
        // empty word (`SITE CHMOD  644 x` reads the mode "" and the path
        // "644 x").
        let words: Vec<&str> = args.split(' ').collect();
        let (sub, rest) = words.split_first()?;
        let sub_upper = sub.to_ascii_uppercase();
        // The words after the sub-command, one space apart: how the
        // server rebuilds a path from its argument vector.
        let joined = rest.join(" ");
        // `cmd->arg`: the line after `SITE `, as sent.
        let line = args;
        let answer = match sub_upper.as_str() {
            "CHMOD" if rest.len() >= 2 => {
                self.site_chmod(rest[0], &rest[1..].join(" "), line).await
            }
            "CHGRP" if rest.len() >= 2 => self.site_chgrp(rest[0], &rest[1..].join(" ")).await,
            "SYMLINK" if rest.len() >= 2 => self.site_symlink(rest[0], rest[1], line).await,
            "UTIME" if rest.len() >= 2 => self.site_utime(sub, rest, line).await,
            "MKDIR" if !rest.is_empty() => self.site_mkdir(sub, &joined, line).await,
            "RMDIR" if !rest.is_empty() => self.site_rmdir(sub, &joined, line).await,
            "CPFR" if !rest.is_empty() => self.site_cpfr(&joined).await,
            "CPTO" if !rest.is_empty() => self.site_cpto(&joined).await,
            "COPY" if rest.len() == 2 => self.site_copy(sub, rest[0], rest[1]).await,
            // A bare CPTO is mod_site's to refuse, and with no CPFR
            // waiting, mod_copy's error path adds a reply of its own: two
            // replies to one line.
            "CPTO" if self.options.copy_from.is_none() => Err(Reply::raw(
                500,
                vec![
                    format!("500 'SITE {sub_upper}' not understood"),
                    "503 Bad sequence of commands".to_string(),
                ],
            )),
            // mod_site's own refusal, and its error path's second line.
            "CHMOD" | "CHGRP" => {
                let shown = std::iter::once(sub_upper.as_str())
                    .chain(rest.iter().copied())
                    .collect::<Vec<_>>()
                    .join(" ");
                Err(Reply::raw(
                    500,
                    vec![
                        format!("500-'SITE {shown}' not understood"),
                        "500 SITE not understood".to_string(),
                    ],
                ))
            }
            "HELP" if !rest.is_empty() => self.site_help_topic(rest[0], line),
            "QUOTA" => Ok(Reply::new(202, "No quotas in effect")),
            "RATIO" => Ok(Reply::new(
                214,
                "Current Ratio: ( -0/0 +0/0 (0 0 0 0) = 0/0 )",
            )),
            _ => return None,
        };
        Some(answer)
    }

    /// `SITE HELP topic`: every module's lines, with mod_site's syntax of
    /// its own command where its list would be; a topic mod_site does
    /// not have is refused whole.
    fn site_help_topic(&self, topic: &str, line: &str) -> Answer {
        let topic = topic.to_ascii_uppercase();
        let syntax = match topic.as_str() {
            "HELP" => "[<sp> site-command]",
            "CHGRP" => "<sp> group <sp> pathname",
            "CHMOD" => "<sp> mode <sp> pathname",
            _ => return Err(Reply::new(502, format!("Unknown command 'SITE {line}'"))),
        };
        let Some(help) = self.shared.profile.map(|p| &p.site_help) else {
            return Err(Reply::new(502, format!("Unknown command 'SITE {line}'")));
        };
        // The other modules' lines; mod_site's list (its last three) gives
        // way to the syntax asked for.
        let keep = help.lines.len().saturating_sub(3);
        let mut lines: Vec<String> = help.lines[..keep].iter().map(|l| l.to_string()).collect();
        lines.push(format!("Syntax: SITE {topic} {syntax}"));
        Ok(Reply::multi(214, help.first, lines, help.last))
    }

    /// mod_site's CHMOD: the path must resolve before the mode is read.
    async fn site_chmod(&mut self, mode: &str, arg: &str, line: &str) -> Answer {
        let path = self.resolve(arg)?;
        self.metadata(&path)
            .await
            .map_err(|_| Reply::new(550, format!("{arg}: No such file or directory")))?;
        let mode = u32::from_str_radix(mode, 8)
            .ok()
            .filter(|m| *m <= 0o7777)
            .ok_or_else(|| Reply::new(550, format!("'{mode}': invalid mode")))?;
        // chmod(2) of a file another user owns: EPERM.
        self.allow(&path, Need::Write)
            .map_err(|_| Reply::new(550, format!("{line}: Operation not permitted")))?;
        self.login
            .storage
            .set_mode(&self.info(), &path, mode)
            .await
            .map_err(|e| Reply::new(550, format!("{line}: {}", strerror(&e))))?;
        Ok(Reply::new(200, "SITE CHMOD command successful"))
    }

    /// mod_site_misc's SYMLINK: the source must exist (stat(2), which the
    /// module does itself), then symlink(2) makes the link; errors name
    /// the whole line. The link names the source as an absolute path.
    async fn site_symlink(&mut self, src: &str, dst: &str, line: &str) -> Answer {
        let fail = |e: &StorageError| Reply::new(550, format!("{line}: {}", strerror(e)));
        let source = self.resolve(src)?;
        let link = self.resolve(dst)?;
        if self.allow(&source, Need::Enter).is_err() {
            return Err(fail(&StorageError::NotFound));
        }
        self.settle(&source).await;
        self.login
            .storage
            .metadata(&self.info(), &source)
            .await
            .map_err(|e| fail(&e))?;
        // symlink(2) writes an entry in the link's directory.
        if self.allow(&link.parent(), Need::Write).is_err() {
            return Err(fail(&StorageError::PermissionDenied));
        }
        self.login
            .storage
            .symlink(&self.info(), &source, &link)
            .await
            .map_err(|e| fail(&e))?;
        Ok(Reply::new(200, "SITE SYMLINK command successful"))
    }

    /// mod_site's CHGRP: a group that names no group is EINVAL; any other
    /// is chown(2)'s EPERM, the fixture's accounts owning no group.
    async fn site_chgrp(&mut self, group: &str, arg: &str) -> Answer {
        let path = self.resolve(arg)?;
        self.metadata(&path)
            .await
            .map_err(|_| Reply::new(550, format!("{arg}: No such file or directory")))?;
        let known = group.bytes().all(|b| b.is_ascii_digit()) || group == "root";
        let why = if known {
            "Operation not permitted"
        } else {
            "Invalid argument"
        };
        Err(Reply::new(550, format!("{arg}: {why}")))
    }

    /// mod_site_misc's UTIME: `UTIME YYYYMMDDhhmm[ss] path`, or `UTIME
    /// path atime mtime ctime UTC`. Errors name the whole line.
    async fn site_utime(&mut self, sub: &str, rest: &[&str], line: &str) -> Answer {
        let invalid = || Reply::new(500, format!("{line}: Invalid argument"));
        let three = rest.len() >= 5 && rest[rest.len() - 1].eq_ignore_ascii_case("UTC");
        let (stamps, arg) = if three {
            let n = rest.len();
            (rest[n - 4..n - 1].to_vec(), rest[..n - 4].join(" "))
        } else {
            (vec![rest[0]], rest[1..].join(" "))
        };
        if stamps.iter().any(|s| s.len() != 12 && s.len() != 14) {
            return Err(invalid());
        }
        let path = self.resolve(&arg)?;
        let mut times = Vec::new();
        for stamp in &stamps {
            let full = if stamp.len() == 12 {
                format!("{stamp}00")
            } else {
                stamp.to_string()
            };
            times.push(crate::timeval::parse(&full).ok_or_else(invalid)?);
        }
        // The modification time: the one stamp, or the second of three.
        let when = times[times.len() / 2];
        let fail = |why: &str| Reply::new(550, format!("{line}: {why}"));
        self.metadata(&path)
            .await
            .map_err(|_| fail("No such file or directory"))?;
        // utimes(2) with times, of a file another user owns: EPERM.
        self.allow(&path, Need::Write)
            .map_err(|_| fail("Operation not permitted"))?;
        self.login
            .storage
            .set_modified(&self.info(), &path, when)
            .await
            .map_err(|e| fail(strerror(&e)))?;
        Ok(Reply::new(200, format!("SITE {sub} command successful")))
    }

    /// mod_site_misc's MKDIR: every missing directory on the way.
    async fn site_mkdir(&mut self, sub: &str, arg: &str, line: &str) -> Answer {
        let path = self.resolve(arg)?;
        let fail = |why: &str| Reply::new(550, format!("{line}: {why}"));
        let mut parts: Vec<VirtualPath> = Vec::new();
        let mut at = path.clone();
        while !at.is_root() {
            parts.push(at.clone());
            at = at.parent();
        }
        for dir in parts.into_iter().rev() {
            match self.login.storage.metadata(&self.info(), &dir).await {
                Ok(_) => continue,
                Err(StorageError::NotFound) => {}
                Err(e) => return Err(fail(strerror(&e))),
            }
            self.allow(&dir.parent(), Need::Write)
                .map_err(|_| fail("Permission denied"))?;
            self.login
                .storage
                .mkdir(&self.info(), &dir)
                .await
                .map_err(|e| fail(strerror(&e)))?;
        }
        Ok(Reply::new(200, format!("SITE {sub} command successful")))
    }

    /// mod_site_misc's RMDIR: the directory and all it holds.
    async fn site_rmdir(&mut self, sub: &str, arg: &str, line: &str) -> Answer {
        let path = self.resolve(arg)?;
        let fail = |why: &str| Reply::new(550, format!("{line}: {why}"));
        let meta = self
            .metadata(&path)
            .await
            .map_err(|_| fail("No such file or directory"))?;
        if !meta.is_dir() {
            return Err(fail("Invalid argument"));
        }
        self.allow(&path, Need::Write)
            .map_err(|_| fail("Permission denied"))?;
        // Depth first, without recursion: directories are removed once
        // what they hold is gone.
        let mut pending = vec![(path.clone(), false)];
        while let Some((dir, emptied)) = pending.pop() {
            if emptied {
                self.login
                    .storage
                    .rmdir(&self.info(), &dir)
                    .await
                    .map_err(|e| fail(strerror(&e)))?;
                continue;
            }
            pending.push((dir.clone(), true));
            let entries = self
                .login
                .storage
                .list(&self.info(), &dir)
                .await
                .map_err(|e| fail(strerror(&e)))?;
            for entry in entries {
                if matches!(entry.name(), "." | "..") {
                    continue;
                }
                let Ok(child) = dir.join(entry.name()) else {
                    continue;
                };
                if entry.metadata().is_dir() {
                    pending.push((child, false));
                } else {
                    self.login
                        .storage
                        .delete(&self.info(), &child)
                        .await
                        .map_err(|e| fail(strerror(&e)))?;
                }
            }
        }
        Ok(Reply::new(200, format!("SITE {sub} command successful")))
    }

    /// mod_copy's CPFR: the source, named as an absolute path in errors,
    /// is kept for the CPTO to come (a later CPFR replaces it).
    async fn site_cpfr(&mut self, arg: &str) -> Answer {
        let path = self.resolve(arg)?;
        self.allow(&path, Need::Read)?;
        self.metadata(&path)
            .await
            .map_err(|_| Reply::new(550, format!("{path}: No such file or directory")))?;
        self.options.copy_from = Some(path);
        Ok(Reply::new(
            350,
            "File or directory exists, ready for destination name",
        ))
    }

    /// mod_copy's CPTO: copies what CPFR named.
    async fn site_cpto(&mut self, arg: &str) -> Answer {
        // The source is forgotten whatever the copy does; without one,
        // the refusal and the error path's second line.
        let Some(from) = self.options.copy_from.take() else {
            let line = "Bad sequence of commands";
            return Err(Reply::raw(
                503,
                vec![format!("503-{line}"), format!("503 {line}")],
            ));
        };
        let to = self.resolve(arg)?;
        self.copy_file(&from, &to)
            .await
            .map_err(|e| Reply::new(550, format!("CPTO: {}", strerror(&e))))?;
        Ok(Reply::new(250, "Copy successful"))
    }

    /// mod_copy's COPY: `COPY from to` in one line.
    async fn site_copy(&mut self, sub: &str, from: &str, to: &str) -> Answer {
        let from_path = self.resolve(from)?;
        let to_path = self.resolve(to)?;
        self.copy_file(&from_path, &to_path)
            .await
            .map_err(|e| Reply::new(550, format!("{sub}: {}", strerror(&e))))?;
        Ok(Reply::new(200, format!("SITE {sub} command successful")))
    }

    /// Copies a file, or a directory and all it holds, through the
    /// storage (mod_copy's copy_paths).
    async fn copy_file(&self, from: &VirtualPath, to: &VirtualPath) -> Result<(), StorageError> {
        let mut pending = vec![(from.clone(), to.clone())];
        while let Some((from, to)) = pending.pop() {
            if self.allow(&from, Need::Read).is_err() || self.allow(&to, Need::Write).is_err() {
                return Err(StorageError::PermissionDenied);
            }
            let meta = self.login.storage.metadata(&self.info(), &from).await?;
            if !meta.is_dir() {
                self.copy_bytes(&from, &to).await?;
                continue;
            }
            match self.login.storage.mkdir(&self.info(), &to).await {
                Ok(()) | Err(StorageError::AlreadyExists) => {}
                Err(e) => return Err(e),
            }
            for entry in self.login.storage.list(&self.info(), &from).await? {
                if matches!(entry.name(), "." | "..") {
                    continue;
                }
                if let (Ok(a), Ok(b)) = (from.join(entry.name()), to.join(entry.name())) {
                    pending.push((a, b));
                }
            }
        }
        Ok(())
    }

    /// Copies one file's bytes, read and written whole: the copy is
    /// complete only when every byte landed.
    async fn copy_bytes(&self, from: &VirtualPath, to: &VirtualPath) -> Result<(), StorageError> {
        let mut source = self.login.storage.read(&self.info(), from, 0).await?;
        let mut sink = self
            .login
            .storage
            .write(&self.info(), to, WriteMode::Truncate)
            .await?;
        tokio::io::copy(&mut source, &mut sink)
            .await
            .map_err(StorageError::from_io)?;
        tokio::io::AsyncWriteExt::shutdown(&mut sink)
            .await
            .map_err(StorageError::from_io)?;
        Ok(())
    }

    /// Pure-FTPd's SITE (ftp_parser.c): the word up to the first white
    /// space, and what follows that one character.
    async fn site_pure_ftpd(&mut self, args: &str) -> Option<Answer> {
        let (sub, rest) = match args.find(|c: char| c.is_ascii_whitespace()) {
            Some(at) => (&args[..at], &args[at + 1..]),
            None => (args, ""),
        };
        let answer = match sub.to_ascii_uppercase().as_str() {
            // An argument that starts with white space has no first word.
            "" => Err(Reply::new(500, "SITE: Missing argument")),
            "IDLE" => Self::pure_idle(rest),
            "TIME" => {
                let now = crate::timeval::Civil::from_system_time(std::time::SystemTime::now());
                Ok(Reply::new(
                    211,
                    format!(
                        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                        now.year, now.month, now.day, now.hour, now.minute, now.second
                    ),
                ))
            }
            "CHMOD" => self.pure_chmod(rest).await,
            "UTIME" => self.pure_utime(rest).await,
            // No aliases configured: the list's heading and its end.
            "ALIAS" if rest.is_empty() => Err(Reply::raw(
                214,
                vec![
                    "214-The following aliases are available :".to_string(),
                    "214  ".to_string(),
                ],
            )),
            _ => return None,
        };
        Some(answer)
    }

    /// `SITE IDLE n`: the idle time, at most 2520 s (MAX_SITE_IDLE), read
    /// as strtoul(3) reads it.
    fn pure_idle(rest: &str) -> Answer {
        if rest.is_empty() {
            return Err(Reply::new(501, "SITE IDLE: Missing argument"));
        }
        let trimmed = rest.trim_start();
        let digits = trimmed.strip_prefix('+').unwrap_or(trimmed);
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        let (number, garbage) = if end == 0 {
            ("0", rest)
        } else {
            (&digits[..end], &digits[end..])
        };
        if !garbage.is_empty() {
            return Err(Reply::new(
                501,
                format!("Garbage found after value : {garbage}"),
            ));
        }
        match number.parse::<u64>() {
            Ok(secs) if secs <= 2520 => {
                Ok(Reply::new(200, format!("Idle time set to {secs} seconds")))
            }
            _ => Err(Reply::new(501, "Value too large")),
        }
    }

    /// `SITE CHMOD mode name`: the mode's leading octal digits (none is
    /// 0); the file opened for reading first, so one whose owner may not
    /// read it fails as EACCES; someone else's, as EPERM.
    async fn pure_chmod(&mut self, rest: &str) -> Answer {
        if rest.is_empty() {
            return Err(Reply::new(501, "Missing argument"));
        }
        let (mode, name) = match rest.find(|c: char| c.is_ascii_whitespace()) {
            Some(at) => (&rest[..at], rest[at..].trim_start()),
            None => (rest, ""),
        };
        if name.is_empty() {
            return Err(Reply::new(550, "No file name"));
        }
        let octal: String = mode
            .chars()
            .take_while(|c| ('0'..='7').contains(c))
            .collect();
        let mode = u32::from_str_radix(&octal, 8).unwrap_or(0);
        if mode > 0o7777 {
            return Err(Reply::new(501, "Invalid permissions"));
        }
        let fail = |why: &str| Reply::new(550, format!("Could not change perms on {name}: {why}"));
        let path = self.resolve(name)?;
        self.settle(&path).await;
        // stat(2)'s own error: a directory on the way the owner may not
        // search is EACCES.
        let meta = self
            .login
            .storage
            .metadata(&self.info(), &path)
            .await
            .map_err(|e| fail(strerror(&e)))?;
        if self.allow(&path, Need::Write).is_err() {
            return Err(fail("Operation not permitted"));
        }
        if meta.mode() & 0o400 == 0 {
            return Err(fail("Permission denied"));
        }
        // The chroot's root keeps its owner's rights.
        let mode = if path.is_root() { mode | 0o700 } else { mode };
        self.login
            .storage
            .set_mode(&self.info(), &path, mode)
            .await
            .map_err(|e| fail(strerror(&e)))?;
        Ok(Reply::new(200, format!("Permissions changed on {name}")))
    }

    /// `SITE UTIME time name` or `SITE UTIME name atime mtime ctime UTC`
    /// (the first time taken): sscanf(3)'s fields of 4 and 2 digits. MFMT
    /// is read the same way (`parse_file_time_change`).
    pub(crate) async fn pure_utime(&mut self, rest: &str) -> Answer {
        if rest.is_empty() {
            return Err(Reply::new(501, "No file name"));
        }
        let missing = || Reply::new(501, "Missing argument");
        let last_space = rest.rfind(' ').filter(|&at| at > 0).ok_or_else(missing)?;
        let (name, time) =
            if &rest[last_space..] == " UTC" || rest[last_space..].eq_ignore_ascii_case(" UTC") {
                // name atime mtime ctime UTC: cut three words from the end.
                let mut head = &rest[..last_space];
                for _ in 0..2 {
                    let at = head.rfind(' ').filter(|&at| at > 0).ok_or_else(missing)?;
                    head = &head[..at];
                }
                let at = head.rfind(' ').filter(|&at| at > 0).ok_or_else(missing)?;
                let (name, time) = (&head[..at], &head[at + 1..]);
                if time.is_empty() {
                    return Err(missing());
                }
                (name.to_string(), time.to_string())
            } else {
                let at = rest.find(' ').ok_or_else(missing)?;
                let name = rest[at..].trim_start_matches(' ');
                if name.is_empty() {
                    return Err(missing());
                }
                (name.to_string(), rest[..at].to_string())
            };
        let stamp = || Reply::new(501, "Can't get a time stamp");
        let mut fields = [0u32; 6];
        let mut left = time.as_str();
        for (i, width) in [4usize, 2, 2, 2, 2, 2].into_iter().enumerate() {
            let n = left
                .bytes()
                .take(width)
                .take_while(u8::is_ascii_digit)
                .count();
            if n == 0 {
                break;
            }
            fields[i] = left[..n].parse().unwrap_or(0);
            left = &left[n..];
        }
        // Only a year before 1901 is refused; timegm(3) makes a date of
        // the rest (`2020` alone is 2019-11-30).
        if fields[0] <= 1900 {
            return Err(stamp());
        }
        let [year, month, day, hour, minute, second] = fields;
        let when = crate::timeval::normalized(
            i64::from(year),
            i64::from(month),
            day,
            hour,
            minute,
            second,
        )
        .ok_or_else(stamp)?;
        let fail = |why: &str| Reply::new(550, format!("utime({name}): {why}"));
        let path = self.resolve(&name)?;
        self.metadata(&path)
            .await
            .map_err(|_| fail("No such file or directory"))?;
        if self.allow(&path, Need::Write).is_err() {
            return Err(fail("Operation not permitted"));
        }
        self.login
            .storage
            .set_modified(&self.info(), &path, when)
            .await
            .map_err(|e| fail(strerror(&e)))?;
        Ok(Reply::new(213, "UTIME OK"))
    }
}
