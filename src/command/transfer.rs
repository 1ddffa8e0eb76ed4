//! TYPE, PASV/EPSV/PORT/EPRT, RETR/STOR/STOU/APPE, LIST/NLST/MLSD, ABOR:
//! everything that moves bytes over a data connection.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::SystemTime;

use crate::data::{same_host, DataSetup};
use crate::facts::{Entry, FactStyle};
use crate::listing;
use crate::perm::Rights;
use crate::personality::{Habits, StouNames};
use crate::protocol::{has_list_flag, strip_list_flags, EpsvArg, ListFormat, TransferType};
use crate::session::{storage_reply, Answer, Job, Need, Reply, Session, Source};
use crate::storage::{DirEntry, Metadata, ReadStream, StorageError, VirtualPath, WriteMode};

/// True when a listing argument holds a wildcard as the played server
/// reads them: `*`, `?`, `{a,b}` (unless its braces are literal), `[…]`
/// where its glob has classes.
fn is_wildcard(arg: &str, habits: &Habits) -> bool {
    arg.contains(['*', '?'])
        || (!habits.braces_literal && crate::glob::has_braces(arg))
        || (habits.glob_brackets && crate::glob::has_class(arg))
}

/// `name` matches `pattern` as the played server's glob reads it.
fn glob_matches(pattern: &str, name: &str, habits: &Habits) -> bool {
    if habits.braces_literal {
        crate::glob::matches_as(pattern, name, habits.glob_brackets)
    } else {
        crate::glob::matches_with_braces(pattern, name, habits.glob_brackets)
    }
}

/// A listing argument split as Pure-FTPd splits it: at each space not
/// escaped with a backslash (the backslash dropped); empty pieces left
/// out.
fn split_unescaped(arg: &str) -> Vec<String> {
    let mut pieces = vec![String::new()];
    let mut escaped = false;
    for c in arg.chars() {
        match c {
            '\\' if !escaped => escaped = true,
            ' ' if !escaped => pieces.push(String::new()),
            c => {
                escaped = false;
                if let Some(last) = pieces.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    pieces.retain(|p| !p.is_empty());
    pieces
}

fn family(ip: IpAddr) -> u8 {
    match ip.to_canonical() {
        IpAddr::V4(_) => 1,
        IpAddr::V6(_) => 2,
    }
}

impl Session {
    pub(crate) fn set_type(&mut self, t: TransferType) -> Reply {
        self.options.transfer_type = t;
        match t {
            TransferType::Ascii => Reply::new(200, "Type set to A"),
            TransferType::Binary => Reply::new(200, "Type set to I"),
        }
    }

    fn open_passive(&mut self) -> Result<u16, Reply> {
        let listener = self.shared.passive.bind(self.local.ip()).map_err(|e| {
            tracing::warn!(error = %e, "cannot open a passive listener");
            Reply::new(425, format!("Cannot open passive connection: {e}"))
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| Reply::new(425, e.to_string()))?
            .port();
        // Replaces (and so closes) any listener from an earlier PASV/EPSV.
        self.options.data = DataSetup::Passive(listener);
        Ok(port)
    }

    pub(crate) fn pasv(&mut self) -> Answer {
        self.voice.active_port = None;
        if self.options.epsv_all {
            return Err(Reply::new(503, "Only EPSV is allowed after EPSV ALL"));
        }
        let announced = self
            .shared
            .config
            .public_ip
            .unwrap_or(self.local.ip())
            .to_canonical();
        let IpAddr::V4(v4) = announced else {
            return Err(Reply::new(425, "PASV needs IPv4; use EPSV"));
        };
        let port = self.open_passive()?;
        let [a, b, c, d] = v4.octets();
        let [p1, p2] = port.to_be_bytes();
        Ok(Reply::new(
            227,
            format!("Entering Passive Mode ({a},{b},{c},{d},{p1},{p2})"),
        ))
    }

    pub(crate) fn epsv(&mut self, arg: EpsvArg) -> Answer {
        self.voice.active_port = None;
        let ours = family(self.local.ip());
        match arg {
            EpsvArg::All => {
                self.options.epsv_all = true;
                return Ok(Reply::new(200, "EPSV ALL ok"));
            }
            EpsvArg::Protocol(p) if p != ours => {
                return Err(Reply::new(
                    522,
                    format!("Network protocol not supported, use ({ours})"),
                ));
            }
            _ => {}
        }
        let port = self.open_passive()?;
        Ok(Reply::new(
            229,
            format!("Entering Extended Passive Mode (|||{port}|)"),
        ))
    }

    /// PORT and EPRT, with RFC 2577 bounce protection: only to the client's
    /// own address and to unprivileged ports.
    pub(crate) fn port(&mut self, addr: SocketAddr, verb: &str) -> Answer {
        self.voice.active_port = Some(addr.port());
        if self.options.epsv_all {
            return Err(Reply::new(503, "Only EPSV is allowed after EPSV ALL"));
        }
        // lftp sends `EPRT |2|::|port|` (the address its wildcard-bound
        // socket reports) for IPv6 active mode: the unspecified address
        // means "me", so it names the control peer, never a third party.
        let addr = if addr.ip().is_unspecified() {
            tracing::debug!(%addr, "unspecified address: the client's own");
            SocketAddr::new(self.peer.ip(), addr.port())
        } else {
            addr
        };
        if !same_host(addr.ip(), self.peer.ip()) {
            tracing::warn!(%addr, "refused a data connection to a third party");
            let (theirs, ours) = (addr.ip().to_canonical(), self.peer.ip().to_canonical());
            return Err(Reply::new(
                504,
                format!("{verb} to a third-party address refused: {theirs} (only to {ours})"),
            ));
        }
        if addr.port() < 1024 {
            return Err(Reply::new(
                504,
                format!("{verb} to a privileged port refused"),
            ));
        }
        self.options.data = DataSetup::Active(addr);
        Ok(Reply::new(200, format!("{verb} command successful")))
    }

    pub(crate) async fn retr(&mut self, arg: &str) -> io::Result<()> {
        let offset = self.options.rest.take().unwrap_or(0);
        let prepared: Result<(Source, Reply, &str), Reply> = async {
            let path = self.resolve(arg)?;
            self.allow(&path, Need::Read)?;
            let meta = self.metadata(&path).await?;
            if !meta.is_file() {
                return Err(Reply::new(550, format!("{path}: Not a plain file")));
            }
            let offset = match self.shared.profile {
                Some(p) if p.habits.rest_is_lseek => offset.min(meta.size()),
                _ => offset,
            };
            // Pure-FTPd's doretr(): an offset past the end is refused in
            // two lines, and forgotten.
            if offset > meta.size() && self.habits().bad_rest_resets {
                let size = meta.size();
                return Err(Reply::raw(
                    554,
                    vec![
                        format!("554-Restart offset {offset} is too large for file size {size}."),
                        "554 Restart offset reset to 0".to_string(),
                    ],
                ));
            }
            let local = if self.zero_copy_possible() {
                self.login
                    .storage
                    .read_local(&self.info(), &path, offset)
                    .await
                    .map_err(|e| storage_reply(&path, &e))?
            } else {
                None
            };
            let source = match local {
                Some(file) => Source::File(file),
                None => Source::Stream(
                    self.login
                        .storage
                        .read(&self.info(), &path, offset)
                        .await
                        .map_err(|e| storage_reply(&path, &e))?,
                ),
            };
            let mode = self.mode_name();
            let name = path.file_name().unwrap_or_default();
            let size = if self.habits().retr_counts_left {
                meta.size().saturating_sub(offset)
            } else {
                meta.size()
            };
            // A REST at the very end leaves nothing to send.
            let success = if offset > 0 && offset == meta.size() {
                "Transfer complete: nothing left to download"
            } else {
                "Transfer complete"
            };
            Ok((
                source,
                Reply::new(
                    150,
                    format!("Opening {mode} mode data connection for {name} ({size} bytes)"),
                ),
                success,
            ))
        }
        .await;
        match prepared {
            Ok((source, opening, success)) => {
                let ascii = self.ascii_data();
                self.start_transfer(opening, Job::Send(source, ascii), success.into())
                    .await
            }
            Err(reply) => self.send(reply).await,
        }
    }

    pub(crate) async fn stor(&mut self, arg: &str, mode: WriteMode) -> io::Result<()> {
        let rest = self.options.rest.take();
        // ProFTPD opens the file, creating it, then finds a REST past its
        // end (a new file's 0): STOR and APPE alike.
        if let (Some(offset @ 1..), true) = (rest, self.habits().rest_past_new_file_fails) {
            if let Ok(path) = self.resolve(arg) {
                let missing = !self.exists(&path).await;
                if missing && self.allow(&path, Need::Upload).is_ok() {
                    let created = self.open_upload_target(&path, WriteMode::Truncate).await;
                    if created.is_ok() {
                        tracing::debug!(offset, "REST past the end of a new file");
                        let text = format!("REST: invalid {arg} argument");
                        return self.send(Reply::new(554, text)).await;
                    }
                }
            }
        }
        let mode = match (rest, mode) {
            (Some(offset), WriteMode::Truncate) if offset > 0 && self.habits().rest_is_lseek => {
                WriteMode::Over(offset)
            }
            (Some(offset), WriteMode::Truncate) if offset > 0 => WriteMode::At(offset),
            (_, mode) => mode,
        };
        let atomic =
            self.voice.uploads_atomic && matches!(mode, WriteMode::Truncate | WriteMode::Append);
        if atomic {
            if let Some(refused) = self.atomic_rename_refusal(arg).await {
                return match refused {
                    Ok(why) => {
                        // The data goes to the new file, which the failed
                        // rename then leaves to be deleted.
                        let opening = Reply::new(150, "Ok to send data");
                        let dropped: crate::storage::WriteStream = Box::new(tokio::io::sink());
                        let text = format!("Rename/move failure: {why}");
                        self.start_transfer(opening, Job::Upload(dropped), text)
                            .await
                    }
                    Err(reply) => self.send(reply).await,
                };
            }
        }
        // A new file renamed over the target: APPE appends to nothing.
        let mode = if atomic { WriteMode::Truncate } else { mode };
        let prepared: Result<(VirtualPath, WriteMode), Reply> = async {
            let path = self.resolve(arg)?;
            let habits = self.habits();
            // ProFTPD and Pure-FTPd look at what the target is before they
            // look at the permission.
            // Pure-FTPd's dostor(): with a REST offset it first moves the
            // file aside, to the temporary name it then writes under; a
            // name rename(2) refuses (`..`, busy) or a file it may not
            // move (a read-only directory) stops there.
            if habits.resume_moves_aside && rest.is_some_and(|offset| offset > 0) {
                if arg.trim_end_matches('/').rsplit('/').next() == Some("..") {
                    return Err(Reply::new(
                        553,
                        "Rename/move failure: Device or resource busy",
                    ));
                }
                if self.exists(&path).await && self.allow(&path.parent(), Need::Write).is_err() {
                    return Err(Reply::new(553, "Rename/move failure: Permission denied"));
                }
            }
            if habits.directory_upload_first {
                self.check_upload_target(&path).await?;
            }
            let mode = match mode {
                // Pure-FTPd's dostor(): a REST past the end is the end.
                WriteMode::At(offset) if habits.upload_rest_clamps => {
                    let size = self
                        .login
                        .storage
                        .metadata(&self.info(), &path)
                        .await
                        .map_or(0, |m| m.size());
                    match offset.min(size) {
                        0 => WriteMode::Truncate,
                        end => WriteMode::At(end),
                    }
                }
                mode => mode,
            };
            // ProFTPD (AllowStoreRestart off) appends or restarts on no
            // file that exists, before it looks at permissions; APPE of
            // a new name is a STOR.
            let resuming = matches!(mode, WriteMode::Append | WriteMode::At(_));
            if let (true, Some(profile)) = (resuming, self.shared.profile) {
                if let Some((code, text)) = profile.appe {
                    if self.exists(&path).await {
                        return Err(Reply::new(code, text.replace("{arg}", arg)));
                    }
                }
            }
            self.allow(&path, Need::Upload)?;
            if path.is_root() {
                return Err(Reply::new(553, "File name not allowed"));
            }
            if !habits.directory_upload_first {
                self.check_upload_target(&path).await?;
            }
            Ok((path, mode))
        }
        .await;
        match prepared {
            Ok((path, mode)) => {
                // (Not a STOU's new name: that one is made by the transfer.)
                let plain = matches!(mode, WriteMode::Truncate | WriteMode::Append);
                if plain && self.habits().upload_opens_first {
                    // ProFTPD opens (creates, truncates) the file before
                    // it makes the data connection: a failed connection
                    // leaves it so.
                    if let Err(e) = self.open_upload_target(&path, mode).await {
                        return self.send(storage_reply(&path, &e)).await;
                    }
                }
                let opening = Reply::new(150, "Ok to send data");
                self.start_transfer(
                    opening,
                    Job::Receive(path, mode),
                    "Transfer complete".into(),
                )
                .await
            }
            Err(reply) => self.send(reply).await,
        }
    }

    /// For an upload written to a new file and renamed over its target
    /// (`Session::uploads_atomic`): why rename(2) will refuse the target,
    /// if it will (`..` or `.` is busy, a directory is one), or the reply
    /// when the new file cannot be made in the target's directory as
    /// written. `None`: the upload goes ahead as any other.
    async fn atomic_rename_refusal(&self, arg: &str) -> Option<Result<&'static str, Reply>> {
        let path = self.resolve(arg).ok()?;
        if path.is_root() && arg.contains('/') {
            // get_atomic_file() has no name to put beside `/`.
            return Some(Err(Reply::new(553, "Prohibited file name: /")));
        }
        let last = arg.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        let why = if matches!(last, "." | "..") {
            "Device or resource busy"
        } else if !path.is_root() && self.metadata(&path).await.is_ok_and(|m| m.is_dir()) {
            "Is a directory"
        } else {
            return None;
        };
        let dir = match arg.rfind('/') {
            Some(0) => VirtualPath::root(),
            Some(at) => match self.resolve(&arg[..at]) {
                Ok(dir) => dir,
                Err(reply) => return Some(Err(reply)),
            },
            None => self.login.cwd.clone(),
        };
        Some(self.allow(&dir, Need::Upload).map(|()| why))
    }

    /// Opens `path` for writing as `mode` and closes it at once: what a
    /// server that opens the file before its data connection leaves when
    /// that connection never comes (created, or emptied).
    async fn open_upload_target(
        &self,
        path: &VirtualPath,
        mode: WriteMode,
    ) -> Result<(), StorageError> {
        let mut sink = self.login.storage.write(&self.info(), path, mode).await?;
        tokio::io::AsyncWriteExt::shutdown(&mut sink)
            .await
            .map_err(StorageError::from_io)
    }

    /// STOU: store under a name that does not exist yet (RFC 959, with the
    /// RFC 1123 `150 FILE: name` reply).
    pub(crate) async fn stou(&mut self, arg: Option<&str>) -> io::Result<()> {
        let naming = self.habits().stou;
        match naming {
            StouNames::Mkstemp => return self.stou_mkstemp(arg).await,
            StouNames::PureFtpd => return self.stou_pure_ftpd().await,
            StouNames::Engine | StouNames::WuFtpd => {}
        }
        self.options.rest = None;
        let wu_ftpd = naming == StouNames::WuFtpd;
        let given = arg.unwrap_or(if wu_ftpd { "STOU" } else { "ftpfixture.stou" });
        // wu-ftpd tries the bare name only when the client gave one.
        let first = if wu_ftpd && arg.is_none() { 1 } else { 0 };
        let prepared: Result<(VirtualPath, u32), Reply> = async {
            let base = self.resolve(given)?;
            if wu_ftpd {
                // An existing name, a directory (`dir.1`) or even `..`
                // (`...1`), is one more name taken; where the file goes
                // is checked on the name it gets.
                let taken = self
                    .login
                    .storage
                    .metadata(&self.info(), &base)
                    .await
                    .is_ok();
                let first_path = match (arg, taken) {
                    (Some(_), false) => base.clone(),
                    _ => self.resolve(&format!("{given}.1"))?,
                };
                self.allow(&first_path, Need::Upload)?;
                let parent = first_path.parent();
                if !self.metadata(&parent).await?.is_dir() {
                    return Err(Reply::new(550, format!("{parent}: Not a directory")));
                }
            } else {
                self.allow(&base, Need::Upload)?;
                if base.is_root() {
                    return Err(Reply::new(553, "File name not allowed"));
                }
                self.check_upload_target(&base).await?;
            }
            for n in first..10_000u32 {
                let candidate = if n == 0 {
                    base.clone()
                } else if wu_ftpd {
                    // The suffix goes on the name as written: `..` gives
                    // `...1` in the working directory.
                    self.resolve(&format!("{given}.{n}"))?
                } else {
                    base.parent()
                        .join(&format!("{}.{n}", base.file_name().unwrap_or("file")))
                        .map_err(|_| Reply::new(553, "File name not allowed"))?
                };
                if self
                    .login
                    .storage
                    .metadata(&self.info(), &candidate)
                    .await
                    .is_err()
                {
                    return Ok((candidate, n));
                }
            }
            Err(Reply::new(553, "No unique file name available"))
        }
        .await;
        match prepared {
            Ok((path, n)) => {
                let name = match n {
                    _ if !wu_ftpd => path.file_name().unwrap_or_default().to_string(),
                    0 => given.to_string(),
                    n => format!("{given}.{n}"),
                };
                let opening = Reply::new(150, format!("FILE: {name}"));
                let success = format!("Transfer complete (unique file name: {name})");
                self.start_transfer(opening, Job::Receive(path, WriteMode::CreateNew), success)
                    .await
            }
            Err(reply) => self.send(reply).await,
        }
    }

    /// ProFTPD's STOU ([`StouNames::Mkstemp`]).
    async fn stou_mkstemp(&mut self, arg: Option<&str>) -> io::Result<()> {
        let rest = self.options.rest.take();
        if let Some(words) = arg.filter(|a| a.split_whitespace().count() > 1) {
            let refused = Reply::new(500, format!("'STOU {words}' not understood"));
            return self.send(refused).await;
        }
        if rest.is_some_and(|offset| offset > 0) {
            return self
                .send(Reply::new(550, "STOU incompatible with REST"))
                .await;
        }
        let name = format!("ftp{}", random_alphanumerics(6));
        let path = match self.resolve(&name) {
            Ok(path) if self.allow(&path, Need::Upload).is_ok() => path,
            // mkstemp(3) in a directory the user may not write to.
            _ => {
                let refused = Reply::new(450, "STOU: unable to generate unique filename");
                return self.send(refused).await;
            }
        };
        let opening = Reply::new(150, format!("FILE: {name}"));
        self.start_transfer(
            opening,
            Job::Receive(path, WriteMode::CreateNew),
            "Transfer complete".into(),
        )
        .await
    }

    /// Pure-FTPd's STOU ([`StouNames::PureFtpd`]): a name, its `FILE:`
    /// line queued, then the STOR of that name.
    async fn stou_pure_ftpd(&mut self) -> io::Result<()> {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let seq = self.voice.stou_count;
        self.voice.stou_count = seq.wrapping_add(1);
        let name = format!(
            "pureftpd.{:08x}.{:02x}.{seq:04x}",
            now.as_secs(),
            now.subsec_micros() & 0xff
        );
        self.voice.preface = Some(format!("FILE: {name}"));
        let in_ascii = self.options.transfer_type == TransferType::Ascii;
        let rest = self.options.rest.unwrap_or(0);
        let refusal = self
            .shared
            .profile
            .and_then(|p| p.gate.as_ref())
            .filter(|_| in_ascii)
            .and_then(|gate| gate.resume_refusal("STOR", rest));
        if let Some(refused) = refusal {
            // dostor()'s end: the offset is forgotten, refused or not.
            self.options.rest = None;
            return self.send(refused).await;
        }
        self.voice.uploads_atomic = self.habits().stou_makes_uploads_atomic;
        self.stor(&name, WriteMode::CreateNew).await
    }

    /// The parent of an upload must be a directory, and the target no directory.
    async fn check_upload_target(&self, path: &VirtualPath) -> Result<(), Reply> {
        let parent = path.parent();
        let m = self.metadata(&parent).await?;
        if !m.is_dir() {
            return Err(Reply::new(550, format!("{parent}: Not a directory")));
        }
        if let Ok(m) = self.login.storage.metadata(&self.info(), path).await {
            if m.is_dir() {
                return Err(Reply::new(550, format!("{path}: Is a directory")));
            }
        }
        Ok(())
    }

    pub(crate) async fn list(&mut self, arg: Option<&str>, format: ListFormat) -> io::Result<()> {
        let long = format == ListFormat::Names
            && arg.is_some_and(|a| a.starts_with('-') && has_list_flag(a, 'l'))
            && self.habits().nlst_reads_l;
        let format = if long { ListFormat::Long } else { format };
        self.voice.glob_refused = false;
        let prepared: Result<Vec<u8>, Reply> = async {
            // The servers with their own facts read MLSD's argument as a
            // path, flags and all (`MLSD -a dir` names nothing), and
            // Pure-FTPd its NLST's (a directory to list).
            let literal = match format {
                ListFormat::Machine => self.options.facts.style() != FactStyle::Engine,
                ListFormat::Names => self
                    .shared
                    .profile
                    .is_some_and(|p| p.nlst_needs_dir.is_some()),
                ListFormat::Long => false,
            };
            let shown = match arg {
                Some(a) if literal => a,
                Some(a) => self.list_path(a),
                None => "",
            };
            let path = if shown.is_empty() {
                self.login.cwd.clone()
            } else {
                self.resolve(shown)?
            };
            self.allow(&path, Need::Read)?;
            if format == ListFormat::Machine {
                // RFC 3659: MLSD lists a directory, and takes no wildcards.
                let meta = self.metadata(&path).await?;
                if !meta.is_dir() {
                    return Err(Reply::new(501, format!("{path}: Not a directory")));
                }
            }
            if format == ListFormat::Long
                && self.habits().lists_dir_flags.is_some()
                && !is_wildcard(shown, self.habits())
            {
                if let Some(listing) = self
                    .dir_flags_listing(arg.unwrap_or(""), shown, &path)
                    .await
                {
                    return Ok(listing);
                }
            }
            // Pure-FTPd's glob gives up on a pattern with more stars than
            // GLOB_MAX_STARS (GLOB_NOSPACE): nothing listed, and the 226
            // says so.
            let stars = shown.bytes().filter(|&b| b == b'*').count();
            if format == ListFormat::Long
                && self.habits().glob_max_stars.is_some_and(|max| stars > max)
                && !shown.contains(' ')
            {
                self.voice.glob_refused = true;
                self.voice.listed = 0;
                return Ok(Vec::new());
            }
            if format == ListFormat::Long && self.habits().lists_several {
                let all = arg.is_some_and(|a| has_list_flag(a, 'a'));
                if let Some(listing) = self.several_targets(shown, all).await {
                    return Ok(listing);
                }
            }
            let unopened = match self.shared.profile {
                Some(p) if p.habits.paths_as_kernel => !self.opens_dir_part(shown).await,
                _ => false,
            };
            if unopened {
                self.voice.missing = true;
                return Ok(Vec::new());
            }
            // ProFTPD's NLST of one path cleans it (`./x`, `d/../x` are
            // `x`) and names a file by what is left.
            let cleaned;
            let shown = if format == ListFormat::Names
                && self.habits().nlst_cleans_path
                && !is_wildcard(shown, self.habits())
            {
                cleaned = crate::personality::clean_path(shown);
                cleaned.as_str()
            } else {
                shown
            };
            let entries = match self.entries(&path, shown).await {
                // vsftpd and Pure-FTPd list nothing, successfully, for a
                // path or pattern that names nothing; ProFTPD's LIST does,
                // then ends with its error instead of 226.
                // 553: a name longer than the filesystem takes, which
                // names nothing either.
                Err(refused)
                    if refused.code == 550
                        && is_wildcard(shown, self.habits())
                        && self.habits().unmatched_glob_lists_empty =>
                {
                    match format {
                        ListFormat::Long => Vec::new(),
                        ListFormat::Names => return Err(Reply::new(450, "No files found")),
                        ListFormat::Machine => return Err(refused),
                    }
                }
                // Pure-FTPd's NLST must open the directory it lists: one
                // whose owner may not read it is refused as one missing.
                Err(refused)
                    if format == ListFormat::Names
                        && refused
                            .lines
                            .iter()
                            .any(|l| l.ends_with("Permission denied")) =>
                {
                    let needs_dir = self.shared.profile.and_then(|p| p.nlst_needs_dir);
                    return Err(needs_dir.map_or(refused, |(code, text)| Reply::new(code, text)));
                }
                Err(refused) if matches!(refused.code, 550 | 553) => {
                    match self.shared.profile.and_then(|p| p.lists_nothing(format)) {
                        Some(late) => {
                            self.voice.missing = late;
                            Vec::new()
                        }
                        None => return Err(refused),
                    }
                }
                other => other?,
            };
            let now = SystemTime::now();
            let info = self.info();
            let profile = self.shared.profile;
            let mut entries = entries;
            // Only a personality needs to know (no extra storage call per
            // listing otherwise).
            let is_dir = match profile {
                Some(_) => self
                    .login
                    .storage
                    .metadata(&info, &path)
                    .await
                    .is_ok_and(|m| m.is_dir()),
                None => false,
            };
            // Pure-FTPd's NLST lists directories only.
            if let Some((code, text)) = profile.and_then(|p| p.nlst_needs_dir) {
                if format == ListFormat::Names && !shown.is_empty() && !is_dir {
                    return Err(Reply::new(code, text));
                }
            }
            // `LIST -a` on the real servers lists `.` and `..` too.
            let all = arg.is_some_and(|a| has_list_flag(a, 'a'));
            let dots = match format {
                ListFormat::Long => all && profile.is_some_and(|p| p.list_a),
                ListFormat::Machine => self.options.facts.style().lists_dots(),
                ListFormat::Names => profile.is_some_and(|p| p.dot_entries || (all && p.list_a)),
            };
            let hides = format != ListFormat::Machine && self.habits().hides_dot_files;
            if is_dir && !all && hides {
                entries.retain(|(name, _)| !name.starts_with('.'));
            }
            if format == ListFormat::Long && profile.is_some() {
                self.count_dir_links(&path, is_dir, &mut entries).await;
            }
            if is_dir && dots {
                // Pure-FTPd lists `.` and `..` in NLST and MLSD.
                let dots = self.dot_entries(&path, &entries).await;
                entries.splice(0..0, dots);
                if self.habits().sorts_dots_with_names {
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                }
            }
            // NLST of a directory named by the client: `dir/file` (vsftpd,
            // ProFTPD, Pure-FTPd) or `file`.
            let prefix = match profile {
                Some(p) if p.nlst_paths && is_dir && !shown.is_empty() => {
                    format!("{}/", shown.trim_end_matches('/'))
                }
                _ => String::new(),
            };
            let user = self.account().map_or("", |a| a.name());
            // Pure-FTPd's `LIST -1`: ls without -l, names alone.
            let names_only = format == ListFormat::Long
                && self.habits().lists_several
                && arg.is_some_and(crate::personality::pure_names_only);
            let mut out = String::new();
            for (name, m) in &entries {
                match format {
                    ListFormat::Long if names_only => out.push_str(name),
                    ListFormat::Long => out.push_str(&self.long_line(name, m, now, is_dir)),
                    ListFormat::Names => {
                        out.push_str(&prefix);
                        out.push_str(name);
                    }
                    ListFormat::Machine => {
                        let entry_path = path.join(name).unwrap_or_else(|_| path.clone());
                        out.push_str(&self.options.facts.line(&Entry {
                            name,
                            meta: m,
                            rights: self.perm_fact(&info, &entry_path),
                            user,
                            path: entry_path.as_str(),
                            in_mlsd: true,
                        }))
                    }
                }
                out.push_str("\r\n");
            }
            self.voice.listed = entries.len();
            Ok(crate::fault::rewrite_listing(
                self.fault.fired(),
                format,
                &entries,
                out.into_bytes(),
            ))
        }
        .await;
        match prepared {
            Ok(listing) => {
                let opening = Reply::new(150, "Here comes the directory listing");
                let source: ReadStream = Box::new(io::Cursor::new(listing));
                let done = if self.voice.glob_refused {
                    "Directory send OK (pattern not expanded: too many stars)"
                } else {
                    "Directory send OK"
                };
                self.start_transfer(
                    opening,
                    Job::Send(Source::Stream(source), false),
                    done.into(),
                )
                .await
            }
            Err(reply) => self.send(reply).await,
        }
    }

    /// Pure-FTPd's LIST of several targets (its argument split at spaces
    /// not escaped with `\\`, each a pattern), or of a pattern that
    /// matches more than one: the files each names, then each directory
    /// under a `\r\n\r\nname:\r\n\r\n` heading with what it holds
    /// (ls.c's dolist). `None` for one target that names at most one
    /// thing that is not a pattern: the ordinary listing.
    pub(super) async fn several_targets(&mut self, shown: &str, all: bool) -> Option<Vec<u8>> {
        let targets = split_unescaped(shown);
        // One target that is no pattern: the ordinary listing.
        if targets.is_empty() || (targets.len() == 1 && !is_wildcard(&targets[0], self.habits())) {
            return None;
        }
        let mut justone = targets.len() == 1;
        let mut groups = Vec::new();
        for target in &targets {
            let found = if is_wildcard(target, self.habits()) {
                self.glob_paths(target).await
            } else {
                match self.resolve(target) {
                    Ok(path) => match self.login.storage.metadata(&self.info(), &path).await {
                        Ok(meta) => vec![(
                            target.clone(),
                            self.shown_metadata(&self.info(), &path, meta),
                        )],
                        Err(_) => Vec::new(),
                    },
                    Err(_) => Vec::new(),
                }
            };
            justone &= found.len() <= 1;
            groups.push(found);
        }
        let now = SystemTime::now();
        let mut out = String::new();
        let mut count = 0;
        for group in groups {
            for (name, meta) in group.iter().filter(|(_, m)| !m.is_dir()) {
                out.push_str(&self.long_line(name, meta, now, false));
                out.push_str("\r\n");
                count += 1;
            }
            for (name, _) in group.iter().filter(|(_, m)| m.is_dir()) {
                let Ok(dir) = self.resolve(name) else {
                    continue;
                };
                // One pattern naming one directory lists it without a
                // heading, as `LIST dir` would.
                if !justone {
                    out.push_str(&format!("\r\n\r\n{name}:\r\n\r\n"));
                }
                let entries = self.long_entries(&dir, all, all).await;
                for (entry, meta) in &entries {
                    out.push_str(&self.long_line(entry, meta, now, true));
                    out.push_str("\r\n");
                }
                count += entries.len();
            }
        }
        self.voice.listed = count;
        Some(out.into_bytes())
    }

    /// What glob(3) makes of `pattern`, a wildcard in any of its parts
    /// (`*/a.txt`): the paths it names, as written from the pattern, in
    /// order; names starting with `.` only where the part does too.
    async fn glob_paths(&self, pattern: &str) -> Vec<(String, Metadata)> {
        let absolute = pattern.starts_with('/');
        let start = if absolute {
            VirtualPath::root()
        } else {
            self.login.cwd.clone()
        };
        let mut found: Vec<(String, VirtualPath)> = vec![(
            if absolute {
                "/".to_string()
            } else {
                String::new()
            },
            start,
        )];
        for part in pattern.split('/').filter(|p| !p.is_empty()) {
            let mut next = Vec::new();
            for (shown, dir) in &found {
                let join = |name: &str| {
                    if shown.is_empty() || shown.ends_with('/') {
                        format!("{shown}{name}")
                    } else {
                        format!("{shown}/{name}")
                    }
                };
                if !is_wildcard(part, self.habits()) {
                    if let Ok(path) = dir.join(part) {
                        next.push((join(part), path));
                    }
                    continue;
                }
                if self.allow(dir, Need::Read).is_err() {
                    continue;
                }
                let Ok(listed) = self.login.storage.list(&self.info(), dir).await else {
                    continue;
                };
                let mut names: Vec<String> = self
                    .visible(dir, listed)
                    .into_iter()
                    .map(|(name, _)| name)
                    .filter(|name| !name.starts_with('.') || part.starts_with('.'))
                    .filter(|name| glob_matches(part, name, self.habits()))
                    .collect();
                names.sort();
                for name in names {
                    if let Ok(path) = dir.join(&name) {
                        next.push((join(&name), path));
                    }
                }
            }
            found = next;
        }
        // A pattern ending in `/` names directories only (and keeps it).
        let dirs_only = pattern.ends_with('/') && pattern.len() > 1;
        let mut out = Vec::new();
        for (shown, path) in found {
            if let Ok(meta) = self.login.storage.metadata(&self.info(), &path).await {
                if dirs_only && !meta.is_dir() {
                    continue;
                }
                let shown = if dirs_only {
                    format!("{shown}/")
                } else {
                    shown
                };
                out.push((shown, self.shown_metadata(&self.info(), &path, meta)));
            }
        }
        out
    }

    /// `shown` without its `./` when its directory part is just `.` and
    /// the played server names entries of `.` by their names alone
    /// (vsftpd's listing of `./x` says `x`).
    fn in_dot<'a>(&self, shown: &'a str) -> Option<&'a str> {
        let kernel = self.habits().paths_as_kernel;
        let rest = shown.strip_prefix("./")?;
        (kernel && !rest.contains('/')).then_some(rest)
    }

    /// The path a listing's argument names, after any `ls` flags. A server
    /// that hands paths to the kernel as given (vsftpd) reads flags only
    /// when the argument starts with `-`, and the path verbatim otherwise
    /// (a leading space is part of the name).
    pub(crate) fn list_path<'a>(&self, arg: &'a str) -> &'a str {
        let verbatim = self.habits().paths_as_kernel;
        if verbatim && !arg.starts_with('-') {
            arg
        } else if self.habits().list_space_kept {
            crate::protocol::strip_list_flags_only(arg)
        } else {
            strip_list_flags(arg)
        }
    }

    /// Whether a server that opens the directory part of a listing's
    /// argument as given (vsftpd) can open it: an argument that is a
    /// directory, or has no `/`, always can; otherwise each component
    /// before the last `/` must be an existing directory, walked from the
    /// working directory (or the root) the way the kernel resolves a
    /// path, so a `..` after a missing name fails.
    pub(crate) async fn opens_dir_part(&self, shown: &str) -> bool {
        let Some((dir, _)) = shown.rsplit_once('/') else {
            return true;
        };
        if let Ok(path) = self.resolve(shown) {
            if self.metadata(&path).await.is_ok_and(|m| m.is_dir()) {
                return true;
            }
        }
        let info = self.info();
        let mut at = if shown.starts_with('/') {
            VirtualPath::root()
        } else {
            self.login.cwd.clone()
        };
        for part in dir.split('/') {
            match part {
                "" | "." => continue,
                ".." => at = at.parent(),
                name => {
                    let Ok(next) = at.join(name) else {
                        return false;
                    };
                    let is_dir = self.login.storage.metadata(&info, &next).await;
                    if !is_dir.is_ok_and(|m| m.is_dir()) {
                        return false;
                    }
                    at = next;
                }
            }
        }
        true
    }

    /// Gives each directory among `entries` its link count as `ls -l`
    /// shows it on a Unix filesystem: 2 plus its subdirectories (a
    /// personality's listing; one more storage call per directory).
    /// `in_dir`: the entries are `path`'s children, else paths as given.
    pub(crate) async fn count_dir_links(
        &self,
        path: &VirtualPath,
        in_dir: bool,
        entries: &mut [(String, Metadata)],
    ) {
        let info = self.info();
        for (name, meta) in entries.iter_mut() {
            if !meta.is_dir() || meta.links().is_some() {
                continue;
            }
            let child = if in_dir {
                path.join(name).ok()
            } else {
                self.resolve(name).ok()
            };
            let Some(child) = child else { continue };
            if let Ok(listed) = self.login.storage.list(&info, &child).await {
                let subdirs = listed.iter().filter(|e| e.metadata().is_dir()).count();
                *meta = meta.clone().with_links(2 + subdirs as u32);
            }
        }
    }

    /// `.` and `..` of the directory `path` whose `entries` were just
    /// read, as `ls -a` shows them: each directory's own owner, mode and
    /// time, and its link count (2 plus its subdirectories).
    pub(crate) async fn dot_entries(
        &self,
        path: &VirtualPath,
        entries: &[(String, Metadata)],
    ) -> [(String, Metadata); 2] {
        let info = self.info();
        let subdirs = |dirs: usize| 2 + dirs as u32;
        let storage = &self.login.storage;
        let this = match storage.metadata(&info, path).await {
            Ok(m) => self.shown_metadata(&info, path, m),
            Err(_) => Metadata::dir(),
        };
        let this = this.with_links(subdirs(entries.iter().filter(|(_, m)| m.is_dir()).count()));
        let parent_path = path.parent();
        let parent = match storage.metadata(&info, &parent_path).await {
            Ok(m) => self.shown_metadata(&info, &parent_path, m),
            Err(_) => Metadata::dir(),
        };
        let parent = match storage.list(&info, &parent_path).await {
            Ok(listed) => parent.with_links(subdirs(
                listed.iter().filter(|e| e.metadata().is_dir()).count(),
            )),
            Err(_) => parent,
        };
        [(".".to_string(), this), ("..".to_string(), parent)]
    }

    /// One `LIST` line, in the personality's style: its columns, how it
    /// names owners, a file named by its last part where the server does
    /// so (`is_dir`: the listing is of a directory).
    pub(crate) fn long_line(
        &self,
        name: &str,
        m: &Metadata,
        now: SystemTime,
        is_dir: bool,
    ) -> String {
        use crate::personality::ListStyle;
        let Some(profile) = self.shared.profile else {
            return listing::list_line(name, m, now);
        };
        match profile.list {
            ListStyle::Dos if self.voice.unix_dirstyle => listing::list_line(name, m, now),
            ListStyle::Dos => listing::dos_line(name, m),
            ListStyle::Unix {
                links,
                size,
                owner: width,
            } => {
                let settings = self.shared.profile_settings;
                let owner = profile.owners.show(m.owner().unwrap_or("ftp"), settings);
                let group = profile.owners.show(m.group().unwrap_or("ftp"), settings);
                let shown_as = m.clone().with_owner(owner, group);
                let name = match name.rsplit_once('/') {
                    Some((_, last)) if profile.list_file_name_only && !is_dir => last,
                    _ => name,
                };
                listing::list_line_with(name, &shown_as, now, links, size, width)
            }
        }
    }

    /// The entries of a directory, sorted by name; for a file, the file
    /// itself under the name the client gave; for a wildcard in the last
    /// part of a path that names nothing (`*.csv`, `in/report-??.txt`), the
    /// matching entries, named as the client wrote their directory.
    pub(crate) async fn entries(
        &self,
        path: &VirtualPath,
        shown: &str,
    ) -> Result<Vec<(String, Metadata)>, Reply> {
        let meta = match self.login.storage.metadata(&self.info(), path).await {
            Ok(meta) => meta,
            Err(StorageError::NotFound) if is_wildcard(shown, self.habits()) => {
                return self.matching_entries(shown).await;
            }
            Err(e) => return Err(storage_reply(path, &e)),
        };
        if !meta.is_dir() {
            let name = if shown.is_empty() {
                path.file_name().unwrap_or_default()
            } else {
                self.in_dot(shown).unwrap_or(shown)
            };
            let meta = self.shown_metadata(&self.info(), path, meta);
            return Ok(vec![(name.to_string(), meta)]);
        }
        let entries = self
            .login
            .storage
            .list(&self.info(), path)
            .await
            .map_err(|e| storage_reply(path, &e))?;
        let mut entries = self.visible(path, entries);
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(entries)
    }

    /// `NLST *.txt`, `LIST data/*.csv`: what the classic `mget` and many
    /// ingest scripts send. Only the last part may hold wildcards, and, as
    /// in a shell, they do not match names starting with a dot unless the
    /// pattern does.
    async fn matching_entries(&self, shown: &str) -> Result<Vec<(String, Metadata)>, Reply> {
        let (dir_shown, pattern) = match shown.rsplit_once('/') {
            Some((dir, pattern)) => (Some(dir), pattern),
            None => (None, shown),
        };
        let none = || Reply::new(550, format!("{shown}: No files found"));
        if !is_wildcard(pattern, self.habits()) {
            return Err(none());
        }
        let dir = match dir_shown {
            None => self.login.cwd.clone(),
            Some("") => VirtualPath::root(),
            Some(d) => self.resolve(d)?,
        };
        self.allow(&dir, Need::Read)?;
        let listed = match self.login.storage.list(&self.info(), &dir).await {
            Ok(listed) => self.visible(&dir, listed),
            Err(StorageError::NotFound | StorageError::NotADirectory) => return Err(none()),
            Err(e) => return Err(storage_reply(&dir, &e)),
        };
        let mut matched: Vec<(String, Metadata)> = listed
            .into_iter()
            .filter(|(name, _)| !name.starts_with('.') || pattern.starts_with('.'))
            .filter(|(name, _)| glob_matches(pattern, name, self.habits()))
            .map(|(name, metadata)| {
                let name = match dir_shown {
                    Some(".") if self.in_dot("./").is_some() => name,
                    Some(d) => format!("{d}/{name}"),
                    None => name,
                };
                (name, metadata)
            })
            .collect();
        if matched.is_empty() {
            return Err(none());
        }
        matched.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(matched)
    }

    /// The entries of directory `dir` a listing shows: hidden ones left
    /// out, owner, group and mode as the permission provider says.
    pub(super) fn visible(
        &self,
        dir: &VirtualPath,
        entries: Vec<DirEntry>,
    ) -> Vec<(String, Metadata)> {
        let info = self.info();
        entries
            .into_iter()
            .filter_map(|e| {
                let (name, meta) = e.into_parts();
                let Ok(child) = dir.join(&name) else {
                    return Some((name, meta));
                };
                if !self.rights(&info, &child).visible {
                    return None;
                }
                let meta = self.shown_metadata(&info, &child, meta);
                Some((name, meta))
            })
            .collect()
    }

    /// `meta` with the owner, group and mode the permission provider shows.
    pub(crate) fn shown_metadata(
        &self,
        info: &crate::SessionInfo,
        path: &VirtualPath,
        meta: Metadata,
    ) -> Metadata {
        let Some(perms) = &self.shared.permissions else {
            return meta;
        };
        let tree = self.tree_path(path);
        let mode = perms.mode(info, &tree, &meta);
        let meta = match perms.ownership(info, &tree, &meta) {
            Some(o) => meta.with_owner(o.owner(), o.group()),
            None => meta,
        };
        meta.with_mode(mode)
    }

    /// The `perm` fact of MLSD/MLST (RFC 3659 §7.5.5): what this user may
    /// really do with `path`.
    pub(crate) fn perm_fact(&self, info: &crate::SessionInfo, path: &VirtualPath) -> Rights {
        self.rights(info, path)
    }

    fn mode_name(&self) -> &'static str {
        if self.ascii_data() {
            "ASCII"
        } else {
            "BINARY"
        }
    }
}

/// `n` random ASCII letters and digits (mkstemp(3)'s alphabet), from the
/// standard library's per-process random hash keys: names need to differ,
/// not to be secret.
fn random_alphanumerics(n: usize) -> String {
    use std::hash::{BuildHasher, Hasher};
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    let mut bits = hasher.finish();
    (0..n)
        .map(|_| {
            let c = ALPHABET[(bits % ALPHABET.len() as u64) as usize];
            bits /= ALPHABET.len() as u64;
            char::from(c)
        })
        .collect()
}
