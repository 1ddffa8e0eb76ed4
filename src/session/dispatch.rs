//! From a line to its handler: the transcript first, then the faults
//! (which may answer instead), a transfer in progress (which makes the
//! command wait), custom commands, the personality's verbs, and the
//! built-in table.

use std::io;

use super::{Login, Session};
use crate::fault::{Action, Fired, Quirk};
use crate::protocol::{self, Command, Reply};
use crate::transcript::EventKind;

impl Session {
    /// Asks the fault set what fires for this command, and records it.
    pub(super) fn fire_faults(&mut self, verb: &str, arg: Option<&str>) -> Fired {
        let user = match &self.login.state {
            Login::Done(a) => Some(a.name()),
            Login::NeedPassword(name) => Some(name.as_str()),
            Login::None if verb == "USER" => arg,
            Login::None => None,
        };
        let cx = crate::fault::Context {
            verb,
            arg,
            session: self.log.id,
            user,
            logged_in: self.logged_in(),
        };
        // Expectations count the command as it arrives, at the same point
        // and with the same matcher as faults.
        self.shared.expectations.observe(&cx);
        let fired = self.shared.faults.fire(&cx);
        for rule in &fired.rules {
            tracing::info!(%rule, "fault fired");
            self.log.record(EventKind::Fault { rule: rule.clone() });
        }
        fired
    }

    pub(super) async fn on_line(&mut self, line: String, wire: Option<String>) -> io::Result<()> {
        self.log.record(EventKind::Command {
            line: line.clone(),
            wire,
        });
        let (verb, arg) = protocol::split(&line);
        if verb == "PASS" {
            tracing::debug!(command = "PASS ******");
        } else {
            tracing::debug!(command = %line);
        }
        if !self.take_turn(&verb, arg).await? {
            return Ok(());
        }
        if self.shared.profile.is_some() {
            self.voice.verb.clear();
            self.voice.verb.push_str(&verb);
            self.voice.arg = arg.unwrap_or_default().to_string();
            self.voice.missing = false;
            self.voice.unreachable = false;
            self.voice.preface = None;
        }
        if let Some(instead) = self.fault.fired_mut().and_then(|f| f.instead.take()) {
            return Box::pin(self.fault_instead(instead)).await;
        }
        if !self.shared.commands.is_empty() {
            if let Some((custom, arg)) = self.shared.commands.find(&verb, arg) {
                let arg = arg.map(str::to_string);
                return Box::pin(self.run_custom(custom, arg)).await;
            }
        }
        // A recording proxy relays, a replay answers from its recording;
        // the client's TLS commands are the engine's in both.
        let scripted = self.shared.upstream.is_some() || self.shared.replay.is_some();
        if scripted && !matches!(verb.as_ref(), "AUTH" | "PBSZ" | "PROT" | "CCC") {
            if self.shared.upstream.is_some() {
                return Box::pin(self.relay(&line)).await;
            }
            return Box::pin(self.replay_command(&line)).await;
        }
        if let Some(profile) = self.shared.profile {
            if verb == "RNTO" {
                // Any RNTO ends the rename, one that lost its path too.
                self.options.rename_forgotten = false;
            }
            if let Some(gate) = &profile.gate {
                let known = profile.knows(&verb);
                let unknown = || profile.unknown(&verb);
                if let Some(reply) = gate.check(&verb, arg, known, unknown, self.standing()) {
                    tracing::info!(verb = %verb, code = reply.code, "answered by the personality's checks");
                    if verb == "PASS" && self.logged_in() {
                        self.login.pass_refused = true;
                    }
                    // A transfer takes the REST offset first thing, even
                    // one its checks then refuse (vsftpd), unless the
                    // parser refused it before (Pure-FTPd's RETR alone).
                    if matches!(verb.as_ref(), "RETR" | "STOR" | "APPE" | "STOU")
                        && !gate.miscounts(&verb, arg)
                    {
                        self.options.rest = None;
                    }
                    let transfer = matches!(
                        verb.as_ref(),
                        "RETR" | "STOR" | "APPE" | "STOU" | "LIST" | "NLST" | "MLSD"
                    );
                    if transfer
                        && profile.habits.refused_transfer_forgets_rename
                        && self.options.rename_from.take().is_some()
                    {
                        self.options.rename_forgotten = true;
                    }
                    // An RNFR or RNTO without a path ends the rename even
                    // when refused here (ProFTPD's cleanup after the error).
                    if matches!(verb.as_ref(), "RNFR" | "RNTO")
                        && arg.is_none()
                        && profile.habits.rnto_ends_rename
                    {
                        self.options.rename_from = None;
                    }
                    return self.send_as_given(reply).await;
                }
            }
            if !profile.knows(&verb) {
                tracing::info!(verb = %verb, "not a command of this personality");
                return self.send(profile.unknown(&verb)).await;
            }
            if self.logged_in() {
                let renaming = self.options.rename_from.is_some();
                if let Some(reply) = profile.prohibited(&verb, arg, renaming) {
                    tracing::info!(verb = %verb, "a name the personality prohibits");
                    return self.send_as_given(reply).await;
                }
            }
            // (`ftp` and `anonymous` are names like any other there.)
            if profile.habits.bare_user_closes
                && verb == "USER"
                && arg.is_none_or(str::is_empty)
                && !self.logged_in()
            {
                self.closing = Some("anonymous login refused");
                let refused = Reply::new(530, "This is a private system - No anonymous login");
                return self.send_as_given(refused).await;
            }
            if profile.habits.pure_data_verbs {
                match verb.as_ref() {
                    "ESTP" => return self.estp().await,
                    "PRET" => return self.pret(arg).await,
                    _ => {}
                }
            }
            if let (Some(reader), "TYPE") = (profile.habits.reads_type, verb.as_ref()) {
                let (now, reply) = profile.read_type(reader, arg, self.options.transfer_type);
                self.options.transfer_type = now;
                if reply.code == 200 && !self.logged_in() {
                    self.login.typed_before_login = true;
                }
                return self.send_as_given(reply).await;
            }
        }
        // vsftpd's and ProFTPD's RNFR and RNTO handlers run, and end the
        // rename, even without a path, once the checks above let them
        // (ProFTPD refuses all but RNTO while a rename waits); without a
        // pending RNFR, vsftpd's RNTO says so first.
        let mut no_rename_pending = false;
        if matches!(verb.as_ref(), "RNFR" | "RNTO")
            && arg.is_none()
            && self.habits().rnto_ends_rename
        {
            no_rename_pending = self.options.rename_from.take().is_none() && verb == "RNTO";
        }
        // A personality's server may answer more before login than the
        // engine would (Pure-FTPd's MODE and TYPE, ProFTPD's TYPE).
        let early = self
            .shared
            .profile
            .and_then(|p| p.gate.as_ref())
            .is_some_and(|g| g.lets_in_early(&verb, arg, self.shared.tls.is_some()));
        // The line as the played server reads it (vsftpd's REST offset,
        // an argument it ignores); its replies speak of what it read.
        let reread = self.shared.profile.and_then(|p| p.reread(&verb, arg));
        if let Some((_, read_arg)) = &reread {
            self.voice.arg.clone_from(read_arg);
        }
        let line = reread.as_ref().map_or(line.as_str(), |(l, _)| l.as_str());
        if let (Some(p), Some(path)) = (self.shared.profile, protocol::split(line).1) {
            // Listings have their own reading of an unreachable path.
            let listing = matches!(verb.as_ref(), "LIST" | "NLST" | "STAT");
            // (Pure-FTPd's STOU makes its own name; its argument is no path.)
            let walks = p.habits.paths_as_kernel || (p.habits.walks_dir_parts && verb != "STOU");
            if walks && !listing && crate::personality::PATH_VERBS.contains(&verb.as_ref()) {
                // The kernel reads `dir/` as `dir`, so only the parts
                // before the last name must be there.
                self.voice.unreachable = !self.opens_dir_part(path.trim_end_matches('/')).await;
            }
            // A home outside the chroot (what `~` still names after the
            // reading above); listings find it missing on their own, as
            // nothing in the tree can be named so.
            // (MKD and RMD take `~user` as the name it is: ProFTPD makes
            // and removes `/~root`.)
            let literal_user = matches!(verb.as_ref(), "MKD" | "XMKD" | "RMD" | "XRMD")
                && path.len() > 1
                && !path.starts_with("~/");
            if p.habits.tilde_outside_chroot
                && !listing
                && !literal_user
                && path.starts_with('~')
                && crate::personality::PATH_VERBS.contains(&verb.as_ref())
            {
                self.voice.unreachable = true;
            }
        }
        match Command::parse(line) {
            Ok(cmd) => self.dispatch(cmd, early).await,
            Err(protocol::ParseError::Unknown) if self.shared.profile.is_some() => {
                let unknown = self.shared.profile.map(|p| p.unknown(&verb));
                self.send(unknown.unwrap_or_else(|| Reply::new(500, "Unknown command")))
                    .await
            }
            Err(_) if no_rename_pending => {
                self.reply(503, "Bad sequence of commands: RNFR first")
                    .await
            }
            Err(e) => {
                tracing::info!(verb = %verb, error = %e, "refused command");
                if verb == "REST" && self.habits().bad_rest_resets {
                    self.options.rest = None;
                }
                self.reply(e.code(), e.to_string()).await
            }
        }
    }

    /// Fires the faults for a command and, while a transfer runs, answers
    /// ABOR and STAT at once and makes anything else wait for its end.
    /// `false`: the command has had its answer here. A function of its
    /// own, so that the faults (large) are not kept in `on_line`'s state
    /// beside the command's future.
    async fn take_turn(&mut self, verb: &str, arg: Option<&str>) -> io::Result<bool> {
        let fired = self.fire_faults(verb, arg);
        if self.running.is_some() {
            match verb {
                "ABOR" => {
                    self.abort().await?;
                    return Ok(false);
                }
                "STAT" if arg.is_none() => {
                    self.transfer_status().await?;
                    return Ok(false);
                }
                _ if fired.has(Quirk::BusyData) => {
                    self.reply(425, "Data connection already open; transfer in progress")
                        .await?;
                    return Ok(false);
                }
                // Anything else waits for the transfer, as on a server that
                // handles one command at a time.
                _ => self.wait_for_transfer().await?,
            }
        }
        self.fault.set(fired);
        Ok(true)
    }

    /// Where the session stands, for a personality's checks.
    fn standing(&self) -> crate::personality::Standing<'_> {
        crate::personality::Standing {
            user: match &self.login.state {
                Login::Done(a) => Some(a.name()),
                _ => None,
            },
            tls: self.shared.tls.is_some(),
            data_ready: !matches!(self.options.data, crate::data::DataSetup::None),
            passive: self.options.data.is_passive(),
            ascii: self.options.transfer_type == crate::protocol::TransferType::Ascii,
            rest: self.options.rest.unwrap_or(0),
            renaming: self.options.rename_from.is_some() || self.options.rename_forgotten,
            pass_refused: self.login.pass_refused,
        }
    }

    /// `early`: the command may run before login whatever the engine's
    /// own list says.
    async fn dispatch(&mut self, cmd: Command, early: bool) -> io::Result<()> {
        if !self.logged_in() && !early && !cmd.allowed_before_login() {
            return self.reply(530, "Please login with USER and PASS").await;
        }
        // RNTO must come right after RNFR: any other command forgets it.
        let keep_rename = self.shared.profile.is_some_and(|p| p.rename_survives)
            && !matches!(cmd, Command::Rnto(_) | Command::Rnfr(_));
        let rename_from = if keep_rename {
            None
        } else {
            self.options.rename_from.take()
        };
        let answer = match cmd {
            Command::User(name) => match self.login_policy() {
                Ok(()) => self.user(name).await,
                Err(refused) => {
                    if self.habits().tls_checked_late {
                        // vsftpd writes the refusal and exits.
                        self.closing = Some("login without TLS");
                    }
                    Err(refused)
                }
            },
            Command::Pass(password) => match self.login_policy() {
                Ok(()) => self.pass(password).await,
                Err(refused) => Err(refused),
            },
            Command::Acct => Ok(Reply::new(202, "ACCT not needed")),
            Command::Rein => Ok(self.rein()),
            Command::Quit => {
                self.closing = Some("QUIT");
                Ok(Reply::new(221, "Goodbye"))
            }
            Command::Host(host) => self.host(host),
            Command::Syst => Ok(Reply::new(
                215,
                self.shared.profile.map_or("UNIX Type: L8", |p| p.syst),
            )),
            Command::Feat => Ok(self.feat()),
            Command::Opts(opts) => self.opts(&opts),
            Command::Help(topic) => self.help(topic.as_deref()),
            Command::Stat(None) => Ok(self.status()),
            Command::Stat(Some(path)) => return Box::pin(self.stat_path(&path)).await,
            Command::Noop => Ok(Reply::new(200, "NOOP ok")),
            Command::Pwd => Ok(self.pwd()),
            Command::Cwd(path) => self.cwd(&path).await,
            Command::Cdup => self.cwd("..").await,
            Command::Mkd(path) => self.mkd(&path).await,
            Command::Rmd(path) => self.rmd(&path).await,
            Command::Dele(path) => self.dele(&path).await,
            Command::Rnfr(path) => self.rnfr(rename_from, &path).await,
            Command::Rnto(path) => self.rnto(rename_from, &path).await,
            Command::Size(path) => self.size(&path).await,
            Command::Mdtm(path) => self.mdtm(&path).await,
            Command::Mfmt { time, path }
                if self.habits().site == crate::personality::SiteDialect::PureFtpd =>
            {
                match self.pure_utime(&format!("{time} {path}")).await {
                    Ok(reply) | Err(reply) => return self.send_as_given(reply).await,
                }
            }
            Command::Mfmt { time, path } => self.mfmt(&time, &path).await,
            Command::Mff { facts, path } => self.mff(&facts, &path).await,
            Command::Site(args)
                if self.habits().site != crate::personality::SiteDialect::Engine =>
            {
                match self.site_misc(&args).await {
                    Some(Ok(reply) | Err(reply)) => return self.send_as_given(reply).await,
                    None => self.site(&args).await,
                }
            }
            Command::Site(args) => self.site(&args).await,
            Command::Mlst(path) => self.mlst(path.as_deref()).await,
            Command::Type(_)
                if self.habits().types.is_some_and(|types| {
                    !types
                        .iter()
                        .any(|t| t.eq_ignore_ascii_case(&self.voice.arg))
                }) =>
            {
                Err(Reply::new(501, "Unrecognised TYPE command"))
            }
            Command::Type(t) => Ok(self.set_type(t)),
            Command::Mode => Ok(Reply::new(200, "Mode set to S")),
            Command::Stru => Ok(Reply::new(200, "Structure set to F")),
            Command::Allo => Ok(Reply::new(202, "ALLO not needed")),
            Command::Rest(offset) => {
                self.options.rest = Some(offset);
                Ok(Reply::new(
                    350,
                    format!("Restarting at {offset}. Send STOR or RETR"),
                ))
            }
            Command::Pasv => self.pasv(),
            Command::Epsv(arg) => self.epsv(arg),
            Command::Port(addr) => self.port(addr, "PORT"),
            // RFC 2428 lets the client pick the delimiter; vsftpd takes `|`.
            Command::Eprt(_)
                if self.habits().eprt_pipe_only && !self.voice.arg.starts_with('|') =>
            {
                Err(Reply::new(501, "Syntax: EPRT |proto|address|port|"))
            }
            Command::Eprt(addr) => self.port(addr, "EPRT"),
            // Boxed, here and below: the largest futures (a TLS
            // handshake's, a transfer's, a listing's) get an allocation of
            // their own, so the common commands' box stays small.
            Command::Auth(mechanism) => {
                if !Box::pin(self.auth(&mechanism)).await? {
                    self.closing = Some("TLS handshake failed");
                }
                return Ok(());
            }
            Command::Pbsz(size) => self.pbsz(&size),
            Command::Prot(level) => self.prot(&level),
            Command::Ccc => {
                if !Box::pin(self.ccc()).await? {
                    self.closing = Some("CCC failed");
                }
                return Ok(());
            }
            Command::Abor => return self.abort().await,
            Command::Retr(path) => return Box::pin(self.retr(&path)).await,
            Command::Stor(path) => {
                return Box::pin(self.stor(&path, crate::storage::WriteMode::Truncate)).await
            }
            Command::Appe(path) => {
                return Box::pin(self.stor(&path, crate::storage::WriteMode::Append)).await
            }
            Command::Stou(path) => return Box::pin(self.stou(path.as_deref())).await,
            Command::List(arg) => {
                return Box::pin(self.list(arg.as_deref(), protocol::ListFormat::Long)).await
            }
            Command::Nlst(arg) => {
                return Box::pin(self.list(arg.as_deref(), protocol::ListFormat::Names)).await
            }
            Command::Mlsd(arg) => {
                return Box::pin(self.list(arg.as_deref(), protocol::ListFormat::Machine)).await
            }
        };
        match answer {
            Ok(reply) | Err(reply) => self.send(reply).await,
        }
    }

    /// Runs a fault that replaces the command.
    pub(super) async fn fault_instead(&mut self, action: Action) -> io::Result<()> {
        self.voice.as_given = true;
        let result = self.fault_instead_inner(action).await;
        self.voice.as_given = false;
        result
    }

    /// Sends a reply the test gave word for word (a fault's, an explicit
    /// option's): no personality rewords it.
    pub(crate) async fn send_as_given(&mut self, reply: Reply) -> io::Result<()> {
        self.voice.as_given = true;
        let result = self.send(reply).await;
        self.voice.as_given = false;
        result
    }

    async fn fault_instead_inner(&mut self, action: Action) -> io::Result<()> {
        match action {
            Action::Reply { code, lines } => self.send(Reply::from_lines(code, lines)).await,
            Action::Close => {
                self.closing = Some("fault: close");
                Ok(())
            }
            Action::Shutdown => {
                self.reply(421, "Service not available, closing control connection")
                    .await?;
                self.closing = Some("fault: 421");
                Ok(())
            }
            Action::Stall => {
                // Read nothing more and answer nothing, until the server
                // stops or the idle timeout ends the session.
                let mut stop = self.shared.shutdown.clone();
                let idle = self.shared.config.idle_timeout;
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => {}
                    _ = tokio::time::sleep(idle) => {}
                }
                self.closing = Some("fault: stall");
                Ok(())
            }
            // Only the variants above are collected as `instead`.
            _ => Ok(()),
        }
    }
}
