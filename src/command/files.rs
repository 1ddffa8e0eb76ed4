//! MKD, RMD, DELE, RNFR/RNTO, SIZE, MDTM, MFMT, SITE: changing and
//! inspecting single files and directories.

use tokio::io::AsyncReadExt;

use crate::data::ToWire;
use crate::protocol::TransferType;
use crate::session::{quote_path, storage_reply, Answer, Need, Reply, Session};
use crate::storage::{FileKind, VirtualPath};
use crate::timeval;

impl Session {
    pub(crate) async fn mkd(&mut self, arg: &str) -> Answer {
        let path = self.resolve(arg)?;
        // mkdir(2) finds a missing parent before a permission it lacks.
        if self.habits().missing_before_denied && !path.is_root() {
            self.parent_must_exist(&path).await?;
            // And a name that is taken before it too (EEXIST).
            if self.exists(&path).await {
                let e = crate::storage::StorageError::AlreadyExists;
                return Err(storage_reply(&path, &e));
            }
        }
        self.allow(&path, Need::Write)?;
        self.login
            .storage
            .mkdir(&self.info(), &path)
            .await
            .map_err(|e| storage_reply(&path, &e))?;
        self.apply_umask(&path, 0o777).await;
        Ok(Reply::new(257, format!("{} created", quote_path(&path))))
    }

    pub(crate) async fn rmd(&mut self, arg: &str) -> Answer {
        let path = self.resolve(arg)?;
        self.missing_first(&path).await?;
        if self.habits().rmdir_reads_dots {
            // rmdir(2) of a path as given: its last part `.` is EINVAL and
            // `..` ENOTEMPTY, whatever the directory holds.
            match arg.trim_end_matches('/').rsplit('/').next() {
                // (The directory `x/.` names must be there first.)
                Some(".") if !self.exists(&path).await => {
                    let e = crate::storage::StorageError::NotFound;
                    return Err(storage_reply(&path, &e));
                }
                Some(".") => return Err(Reply::new(550, format!("{arg}: Invalid argument"))),
                Some("..") => return Err(Reply::new(550, format!("{arg}: Directory not empty"))),
                _ => {}
            }
        }
        if path.is_root() && self.habits().root_rmdir_busy {
            return Err(Reply::new(550, format!("{arg}: Device or resource busy")));
        }
        // rmdir(2) needs the parent's write permission, not the
        // directory's: one that holds anything is "not empty" first.
        if self.habits().missing_before_denied
            && !path.is_root()
            && self.allow(&path.parent(), Need::Write).is_ok()
        {
            let listed = self.login.storage.list(&self.info(), &path).await;
            if listed.is_ok_and(|l| l.iter().any(|e| !matches!(e.name(), "." | ".."))) {
                let e = crate::storage::StorageError::NotEmpty;
                return Err(storage_reply(&path, &e));
            }
        }
        self.allow(&path, Need::Write)?;
        self.login
            .storage
            .rmdir(&self.info(), &path)
            .await
            .map_err(|e| storage_reply(&path, &e))?;
        Ok(Reply::new(250, format!("{path}: Directory removed")))
    }

    pub(crate) async fn dele(&mut self, arg: &str) -> Answer {
        let path = self.resolve(arg)?;
        self.missing_first(&path).await?;
        // Pure-FTPd's dodele() lstat()s first: a directory is EINVAL
        // before the rename that would meet the permission.
        if self.habits().dele_kind_first && self.rights(&self.info(), &path).visible {
            let found = self.login.storage.metadata(&self.info(), &path).await;
            if found.is_ok_and(|m| m.is_dir()) {
                return Err(Reply::new(550, format!("{path}: Is a directory")));
            }
        }
        self.allow(&path, Need::Write)?;
        self.settle(&path).await;
        self.login
            .storage
            .delete(&self.info(), &path)
            .await
            .map_err(|e| storage_reply(&path, &e))?;
        Ok(Reply::new(250, format!("{path}: File deleted")))
    }

    /// `waiting`: the path of an RNFR still waiting for its RNTO.
    pub(crate) async fn rnfr(&mut self, waiting: Option<VirtualPath>, arg: &str) -> Answer {
        let notice = self.habits().rnfr_abort_notice;
        if notice.is_some() {
            // This server forgets the waiting rename only for a new one.
            self.options.rename_from.clone_from(&waiting);
        }
        let path = self.resolve(arg)?;
        // The played server may leave the permission to RNTO; a hidden
        // path still does not exist.
        let exists_only = self.habits().rnfr_exists_only;
        self.allow(
            &path,
            if exists_only {
                Need::Enter
            } else {
                Need::Write
            },
        )?;
        self.metadata(&path).await?;
        if let (Some(line), Some(_)) = (notice, waiting) {
            self.voice.preface = Some(line.to_string());
        }
        self.options.rename_from = Some(path);
        Ok(Reply::new(350, "Ready for RNTO"))
    }

    pub(crate) async fn rnto(&mut self, from: Option<VirtualPath>, arg: &str) -> Answer {
        let from = from.ok_or_else(|| Reply::new(503, "Bad sequence of commands: RNFR first"))?;
        let to = self.resolve(arg)?;
        if (from.is_root() || to.is_root()) && self.habits().root_rename_busy {
            // rename(2) walks the new name's directory before it finds
            // either name busy (the root is no name in a directory).
            self.parent_must_exist(&to).await?;
            return Err(Reply::new(550, format!("{arg}: Device or resource busy")));
        }
        if to.starts_with(&from) && to != from {
            // rename(2)'s EINVAL, the same from every storage, once the
            // new name's directory is found, before any permission.
            self.parent_must_exist(&to).await?;
            return Err(Reply::new(550, format!("{to}: Invalid argument")));
        }
        if self.habits().rnfr_exists_only {
            // RNFR left the source's permission to the rename itself, and
            // as on a Unix filesystem it is its directory's; so is the
            // target's (a read-only directory can be replaced where its
            // parent is writable, and the rename then says why not).
            self.allow(&from.parent(), Need::Write)?;
            self.allow(&to.parent(), Need::Write)?;
        } else {
            self.allow(&to, Need::Write)?;
        }
        self.login
            .storage
            .rename(&self.info(), &from, &to)
            .await
            .map_err(|e| storage_reply(&from, &e))?;
        // Rules by path follow what they named, as owners and modes do.
        if let Some(rules) = &self.shared.permissions {
            rules.renamed(&self.info(), &self.tree_path(&from), &self.tree_path(&to));
        }
        Ok(Reply::new(250, format!("Renamed {from} to {to}")))
    }

    /// SIZE (RFC 3659 §4): in TYPE A the size is that of the converted
    /// stream, so the file is read through the converter.
    pub(crate) async fn size(&mut self, arg: &str) -> Answer {
        let path = self.resolve(arg)?;
        self.allow(&path, Need::Read)?;
        let meta = self.metadata(&path).await?;
        if meta.kind() != FileKind::File {
            return Err(Reply::new(550, format!("{path}: Not a plain file")));
        }
        if self.options.transfer_type == TransferType::Ascii {
            if let Some((code, text)) = self.shared.profile.and_then(|p| p.size_ascii) {
                return Err(Reply::new(code, text));
            }
        }
        let converted = self.shared.profile.is_none_or(|p| p.converted_size);
        if !self.ascii_data() || !converted {
            return Ok(Reply::new(213, meta.size().to_string()));
        }
        let mut reader = self
            .login
            .storage
            .read(&self.info(), &path, 0)
            .await
            .map_err(|e| storage_reply(&path, &e))?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut enc = ToWire::default();
        let mut size = 0u64;
        loop {
            let n = reader
                .read(&mut buf)
                .await
                .map_err(|e| storage_reply(&path, &crate::storage::StorageError::Io(e)))?;
            if n == 0 {
                break;
            }
            size += n as u64 + enc.extra(&buf[..n]);
        }
        Ok(Reply::new(213, size.to_string()))
    }

    pub(crate) async fn mdtm(&mut self, arg: &str) -> Answer {
        let path = self.resolve(arg)?;
        self.allow(&path, Need::Read)?;
        let meta = self.metadata(&path).await?;
        if meta.kind() != FileKind::File {
            return Err(Reply::new(550, format!("{path}: Not a plain file")));
        }
        let modified = meta
            .modified()
            .ok_or_else(|| Reply::new(550, format!("{path}: Time unknown")))?;
        Ok(Reply::new(213, timeval::format(modified)))
    }

    /// MFMT (draft-somers-ftp-mfxx): set the modification time.
    pub(crate) async fn mfmt(&mut self, time: &str, arg: &str) -> Answer {
        let when = timeval::parse(time).ok_or_else(|| bad_time(time))?;
        let path = self.resolve(arg)?;
        // utimes(2) finds the path missing before it checks permission.
        self.missing_first(&path).await?;
        self.allow(&path, Need::Write)?;
        self.login
            .storage
            .set_modified(&self.info(), &path, when)
            .await
            .map_err(|e| storage_reply(&path, &e))?;
        Ok(Reply::new(
            213,
            format!("Modify={}; {arg}", timeval::format(when)),
        ))
    }

    /// MFF: sets the facts named (RFC 3659's successor draft, "Modify
    /// Fact"), each `name=value;`, in order: `modify` (a time-val) and
    /// `UNIX.mode` (octal). The reply names the facts as sent and the
    /// path. A fact without its `;` is not read (as ProFTPD's mod_facts).
    pub(crate) async fn mff(&mut self, facts: &str, arg: &str) -> Answer {
        if !facts.contains(';') {
            return Err(Reply::new(501, format!("{facts}: each fact ends with ';'")));
        }
        let path = self.resolve(arg)?;
        let mut end = 0;
        // Each fact up to its `;`; what follows the last `;` is not read.
        while let Some(len) = facts[end..].find(';') {
            let fact = &facts[end..end + len];
            // The facts so far, up to this one's end, name a fact that
            // cannot be read (as mod_facts, which cuts its copy there).
            let so_far = &facts[..end + len];
            end += len + 1;
            // The name is read by its start, and only then its `=`.
            let starts = |name: &str| {
                fact.get(..name.len())
                    .is_some_and(|s| s.eq_ignore_ascii_case(name))
            };
            let modify = starts("modify");
            if !modify && !starts("UNIX.mode") {
                return Err(Reply::new(504, format!("Cannot modify fact '{fact}'")));
            }
            let (_, value) = fact
                .split_once('=')
                .ok_or_else(|| Reply::new(501, format!("{so_far}: Invalid argument")))?;
            if modify {
                let when = timeval::parse(value).ok_or_else(|| {
                    if timeval::is_shaped(value) {
                        Reply::new(501, format!("{arg}: Invalid argument"))
                    } else {
                        Reply::new(501, format!("{value}: Invalid argument"))
                    }
                })?;
                self.allow(&path, Need::Write)?;
                self.login
                    .storage
                    .set_modified(&self.info(), &path, when)
                    .await
                    .map_err(|e| storage_reply(&path, &e))?;
            } else {
                let mode = octal_mode(value)
                    .ok_or_else(|| Reply::new(501, format!("{arg}: Invalid argument")))?;
                self.change_mode(&path, mode).await?;
            }
        }
        Ok(Reply::new(213, format!("{facts} {arg}")))
    }

    /// Sets a mode the session may set (SITE CHMOD, MFF's `UNIX.mode`).
    async fn change_mode(&self, path: &VirtualPath, mode: u32) -> Result<(), Reply> {
        self.allow(path, Need::Write)?;
        self.login
            .storage
            .set_mode(&self.info(), path, mode)
            .await
            .map_err(|e| storage_reply(path, &e))
    }

    pub(crate) async fn site(&mut self, args: &str) -> Answer {
        let (sub, rest) = crate::protocol::split(args);
        match &*sub {
            // IIS: toggles MS-DOS and Unix style listings for the session.
            "DIRSTYLE"
                if self
                    .shared
                    .profile
                    .is_some_and(|p| p.list == crate::personality::ListStyle::Dos) =>
            {
                self.voice.unix_dirstyle = !self.voice.unix_dirstyle;
                let state = if self.voice.unix_dirstyle {
                    "off"
                } else {
                    "on"
                };
                Ok(Reply::new(
                    200,
                    format!("MSDOS-like directory output is {state}"),
                ))
            }
            "HELP" if rest.is_none() && self.shared.profile.is_some() => Ok(self
                .shared
                .profile
                .map(|p| p.site_help.reply(214))
                .unwrap_or_else(|| Reply::new(214, "Help OK."))),
            "HELP" => match rest {
                None => {
                    let mut names = vec!["CHMOD", "UMASK", "HELP"];
                    names.extend(self.shared.commands.new_site());
                    Ok(Reply::multi(
                        214,
                        "The following SITE commands are recognized.",
                        vec![names.join(" ")],
                        "Help OK.",
                    ))
                }
                Some(topic) => {
                    let topic = topic.trim().to_ascii_uppercase();
                    match self.shared.commands.help(crate::custom::Kind::Site, &topic) {
                        Some(text) => Ok(Reply::new(214, text)),
                        None if topic == "CHMOD" => {
                            Ok(Reply::new(214, "Syntax: SITE CHMOD mode path"))
                        }
                        None if topic == "UMASK" => {
                            Ok(Reply::new(214, "Syntax: SITE UMASK [octal mask]"))
                        }
                        None if topic == "HELP" => {
                            Ok(Reply::new(214, "Syntax: SITE HELP [command]"))
                        }
                        None => Err(Reply::new(502, format!("Unknown SITE command {topic}"))),
                    }
                }
            },
            // vsftpd's: the umask for what this session creates.
            "UMASK" if self.site_knows("UMASK") => match rest {
                None => Ok(Reply::new(
                    200,
                    format!("Your current UMASK is {}", octal(self.options.umask)),
                )),
                Some(value) => {
                    self.options.umask = leading_octal(value) & 0o777;
                    Ok(Reply::new(
                        200,
                        format!("UMASK set to {}", octal(self.options.umask)),
                    ))
                }
            },
            "CHMOD" => {
                let (mode, path) = rest
                    .and_then(|r| r.split_once(' '))
                    .ok_or_else(|| Reply::new(501, "Syntax: SITE CHMOD mode path"))?;
                let mode = octal_mode(mode)
                    .ok_or_else(|| Reply::new(501, "Invalid mode, use octal such as 644"))?;
                let path = self.resolve(path)?;
                self.change_mode(&path, mode).await?;
                Ok(Reply::new(200, format!("SITE CHMOD {mode:o} {path} ok")))
            }
            _ => Err(Reply::new(500, format!("Unknown SITE command {sub}"))),
        }
    }
}

impl Session {
    /// A server that looks the path up before it checks the permission
    /// (ProFTPD, Pure-FTPd: the syscall says ENOENT first) refuses a
    /// missing path as missing, even where it could not write.
    /// The kernel's first refusal of a path whose directory is missing:
    /// `path: No such file or directory`, before any permission.
    async fn parent_must_exist(&self, path: &VirtualPath) -> Result<(), Reply> {
        let parent = self
            .login
            .storage
            .metadata(&self.info(), &path.parent())
            .await;
        match parent {
            Err(e @ crate::storage::StorageError::NotFound) => Err(storage_reply(path, &e)),
            _ => Ok(()),
        }
    }

    async fn missing_first(&self, path: &VirtualPath) -> Result<(), Reply> {
        if self.habits().missing_before_denied {
            let found = self.login.storage.metadata(&self.info(), path).await;
            if let Err(e @ crate::storage::StorageError::NotFound) = found {
                return Err(storage_reply(path, &e));
            }
        }
        Ok(())
    }

    /// Whether the SITE subcommand `name` is one this server has: all of
    /// the engine's, and under a personality only those its SITE HELP
    /// names (ProFTPD and Pure-FTPd have no UMASK).
    fn site_knows(&self, name: &str) -> bool {
        self.shared.profile.is_none_or(|p| {
            let help = &p.site_help;
            std::iter::once(help.first)
                .chain(help.lines.iter().copied())
                .any(|line| {
                    line.split_whitespace()
                        .any(|w| w.eq_ignore_ascii_case(name))
                })
        })
    }

    /// Gives what this session just created at `path` the mode `full`
    /// less its SITE UMASK, when that is not the default the storage
    /// already used. A storage without modes keeps its own.
    pub(crate) async fn apply_umask(&self, path: &VirtualPath, full: u32) {
        let umask = self.options.umask;
        if umask == crate::session::DEFAULT_UMASK {
            return;
        }
        let info = self.info();
        let set = self.login.storage.set_mode(&info, path, full & !umask);
        if let Err(e) = set.await {
            tracing::debug!(%path, error = %e, "umask not applied");
        }
    }
}

/// An umask as vsftpd prints it: `0` and the octal digits (`022`), or `0`.
fn octal(n: u32) -> String {
    if n == 0 {
        "0".to_string()
    } else {
        format!("0{n:o}")
    }
}

/// The number the leading octal digits of `text` spell, 0 if none: how
/// vsftpd reads `SITE UMASK 077` (and `999` as 0).
fn leading_octal(text: &str) -> u32 {
    text.trim()
        .bytes()
        .take_while(|b| (b'0'..=b'7').contains(b))
        .take(6)
        .fold(0, |n, b| n * 8 + u32::from(b - b'0'))
}

/// A file mode written in octal, at most 07777.
fn octal_mode(text: &str) -> Option<u32> {
    u32::from_str_radix(text, 8).ok().filter(|m| *m <= 0o7777)
}

/// MFMT's refusal of a time it cannot take: one that is not a time-val's
/// shape, or one that is but names no date (month 13).
fn bad_time(time: &str) -> Reply {
    if timeval::is_shaped(time) {
        Reply::new(501, format!("Invalid time-val {time}: not a date"))
    } else {
        Reply::new(501, "Invalid time-val, use YYYYMMDDHHMMSS")
    }
}
