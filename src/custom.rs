//! Commands of your own (the Go seed's `Command` and `Conn`): a new verb
//! (`HASH`, `XCRC`, `AVBL`, `CLNT`…), a `SITE` subcommand (`SITE QUOTA`),
//! or a replacement for a built-in verb.
//!
//! A [`CustomCommand`] names the command, says whether it needs an argument
//! and a login (the engine answers `501` / `530` before the handler runs),
//! and how `FEAT` and `HELP` announce it. Its [`CommandHandler`] gets a
//! [`CommandContext`]: who is logged in, the working directory, the
//! session's storage, the TLS state; it replies (one line or several),
//! may close the connection, and may send data over the data connection
//! the client prepared (a listing command of your own). A custom command is
//! recorded in the transcript and matched by fault rules like any other.
//!
//! A handler that panics is contained: the client gets `451` and the
//! server goes on.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;

use crate::perm::Access;
use crate::protocol::Reply;
use crate::session_info::SessionInfo;
use crate::storage::{PathError, Storage, StorageError, VirtualPath};

/// What a command does: implement it for your type and register it with
/// [`CustomCommand::verb`] or [`CustomCommand::site`].
///
/// The handler must answer: with [`CommandContext::reply`] (or
/// [`reply_lines`](CommandContext::reply_lines)), with
/// [`send_data`](CommandContext::send_data), or by returning an error,
/// which becomes the reply. A handler that returns without answering gets
/// `451` sent for it, and a line in the log.
#[async_trait]
pub trait CommandHandler: Send + Sync + 'static {
    /// Runs the command.
    async fn handle(&self, cx: &mut CommandContext<'_>) -> Result<(), CommandError>;
}

/// A reply a handler fails with: `?` on a [`StorageError`] gives the reply
/// the engine would give (`550 No such file or directory`…), on a
/// [`PathError`] `501`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} {text}")]
pub struct CommandError {
    code: u16,
    text: String,
}

impl CommandError {
    /// Fails with this reply. A code outside 400..=599 is sent as 451.
    pub fn new(code: u16, text: impl Into<String>) -> Self {
        let code = if (400..600).contains(&code) {
            code
        } else {
            451
        };
        CommandError {
            code,
            text: text.into(),
        }
    }

    /// The reply code.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The reply text.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl From<StorageError> for CommandError {
    fn from(e: StorageError) -> Self {
        CommandError::new(e.reply_code(), e.to_string())
    }
}

impl From<PathError> for CommandError {
    fn from(e: PathError) -> Self {
        CommandError::new(501, format!("Invalid path: {e}"))
    }
}

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> Self {
        CommandError::new(451, format!("Local error in processing: {e}"))
    }
}

/// Whether a custom command is a verb of its own or a `SITE` subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Verb,
    Site,
}

/// A command of your own, registered with
/// [`ServerBuilder::command`](crate::ServerBuilder::command).
///
/// By default it needs a login and no argument, is listed by `HELP` (or
/// `SITE HELP`), and is not announced in `FEAT`.
///
/// ```
/// use ftpfixture::{CommandContext, CommandError, CommandHandler, CustomCommand};
///
/// struct Avbl;
///
/// #[ftpfixture::async_trait]
/// impl CommandHandler for Avbl {
///     async fn handle(&self, cx: &mut CommandContext<'_>) -> Result<(), CommandError> {
///         cx.reply(213, "1073741824").await
///     }
/// }
///
/// let avbl = CustomCommand::verb("AVBL", Avbl).feature("AVBL").help("AVBL [path]");
/// let builder = ftpfixture::Server::builder().command(avbl);
/// # let _ = builder;
/// ```
#[derive(Clone)]
pub struct CustomCommand {
    pub(crate) kind: Kind,
    pub(crate) name: String,
    pub(crate) handler: Arc<dyn CommandHandler>,
    pub(crate) needs_arg: bool,
    pub(crate) needs_login: bool,
    pub(crate) feature: Option<String>,
    pub(crate) help: Option<String>,
    pub(crate) replaces_builtin: bool,
}

impl fmt::Debug for CustomCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomCommand")
            .field("name", &self.display_name())
            .field("needs_arg", &self.needs_arg)
            .field("needs_login", &self.needs_login)
            .field("feature", &self.feature)
            .finish_non_exhaustive()
    }
}

impl CustomCommand {
    /// A verb of its own, such as `HASH` (case does not matter).
    pub fn verb(name: &str, handler: impl CommandHandler) -> Self {
        Self::new(Kind::Verb, name, handler)
    }

    /// A `SITE` subcommand, such as `QUOTA` for `SITE QUOTA`; the handler's
    /// argument is what follows the subcommand.
    pub fn site(name: &str, handler: impl CommandHandler) -> Self {
        Self::new(Kind::Site, name, handler)
    }

    fn new(kind: Kind, name: &str, handler: impl CommandHandler) -> Self {
        CustomCommand {
            kind,
            name: name.trim().to_ascii_uppercase(),
            handler: Arc::new(handler),
            needs_arg: false,
            needs_login: true,
            feature: None,
            help: None,
            replaces_builtin: false,
        }
    }

    /// Requires an argument (`true`): without one the client gets `501`
    /// and the handler does not run (the seed's `RequireParam`).
    pub fn needs_arg(mut self, required: bool) -> Self {
        self.needs_arg = required;
        self
    }

    /// Requires a login (`true`, the default): before one the client gets
    /// `530` and the handler does not run (the seed's `RequireAuth`).
    pub fn needs_login(mut self, required: bool) -> Self {
        self.needs_login = required;
        self
    }

    /// The line `FEAT` announces it with, such as `HASH SHA-256*;MD5`.
    pub fn feature(mut self, line: impl Into<String>) -> Self {
        self.feature = Some(line.into());
        self
    }

    /// What `HELP <verb>` (or `SITE HELP <sub>`) answers for it.
    pub fn help(mut self, text: impl Into<String>) -> Self {
        self.help = Some(text.into());
        self
    }

    /// Lets it take the place of the built-in command of the same name
    /// (registering a built-in name without this is an error at start, so
    /// that a typo cannot silently replace `LIST`).
    pub fn replace_builtin(mut self) -> Self {
        self.replaces_builtin = true;
        self
    }

    fn display_name(&self) -> String {
        match self.kind {
            Kind::Verb => self.name.clone(),
            Kind::Site => format!("SITE {}", self.name),
        }
    }
}

/// The custom commands of one server, checked at start.
#[derive(Default)]
pub(crate) struct Commands {
    verbs: HashMap<String, Arc<CustomCommand>>,
    site: HashMap<String, Arc<CustomCommand>>,
}

/// `SITE` subcommands the engine answers itself.
const BUILTIN_SITE: &[&str] = &["CHMOD", "HELP"];

impl Commands {
    /// Checks the registrations: names, clashes, built-ins.
    pub(crate) fn new(list: Vec<CustomCommand>) -> Result<Self, String> {
        let mut commands = Commands::default();
        for c in list {
            let name = c.display_name();
            if c.name.is_empty()
                || c.name.len() > 32
                || !c
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err(format!(
                    "custom command {name:?}: a name is 1 to 32 letters, digits or '-'"
                ));
            }
            let builtin = match c.kind {
                Kind::Verb => crate::protocol::IMPLEMENTED.contains(&c.name.as_str()),
                Kind::Site => BUILTIN_SITE.contains(&c.name.as_str()),
            };
            if builtin && !c.replaces_builtin {
                return Err(format!(
                    "custom command {name} would replace the built-in one: \
                     call .replace_builtin() to mean it"
                ));
            }
            let map = match c.kind {
                Kind::Verb => &mut commands.verbs,
                Kind::Site => &mut commands.site,
            };
            if map.contains_key(&c.name) {
                return Err(format!("custom command {name} is registered twice"));
            }
            map.insert(c.name.clone(), Arc::new(c));
        }
        if commands.verbs.contains_key("SITE") && !commands.site.is_empty() {
            return Err("a custom SITE verb replaces every SITE subcommand: \
                 it cannot be combined with custom SITE subcommands"
                .into());
        }
        Ok(commands)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.verbs.is_empty() && self.site.is_empty()
    }

    /// The custom command a line names, with its argument.
    pub(crate) fn find<'a>(
        &self,
        verb: &str,
        arg: Option<&'a str>,
    ) -> Option<(Arc<CustomCommand>, Option<&'a str>)> {
        if let Some(c) = self.verbs.get(verb) {
            return Some((c.clone(), arg));
        }
        if verb == "SITE" && !self.site.is_empty() {
            let arg = arg?;
            let (sub, rest) = match arg.split_once(' ') {
                Some((sub, rest)) => (sub, Some(rest).filter(|r| !r.is_empty())),
                None => (arg, None),
            };
            return self
                .site
                .get(&sub.to_ascii_uppercase())
                .map(|c| (c.clone(), rest));
        }
        None
    }

    /// The `FEAT` lines of the custom commands, sorted.
    pub(crate) fn features(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .verbs
            .values()
            .chain(self.site.values())
            .filter_map(|c| c.feature.clone())
            .collect();
        lines.sort();
        lines
    }

    /// The custom verbs (not SITE subcommands) that are new, sorted.
    pub(crate) fn new_verbs(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .verbs
            .values()
            .filter(|c| !c.replaces_builtin)
            .map(|c| c.name.as_str())
            .collect();
        v.sort_unstable();
        v
    }

    /// The custom SITE subcommands that are new, sorted.
    pub(crate) fn new_site(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .site
            .values()
            .filter(|c| !c.replaces_builtin)
            .map(|c| c.name.as_str())
            .collect();
        v.sort_unstable();
        v
    }

    /// `HELP` text of a custom verb or SITE subcommand.
    pub(crate) fn help(&self, kind: Kind, name: &str) -> Option<String> {
        let map = match kind {
            Kind::Verb => &self.verbs,
            Kind::Site => &self.site,
        };
        map.get(&name.to_ascii_uppercase()).map(|c| {
            c.help
                .clone()
                .unwrap_or_else(|| format!("{} is supported", c.display_name()))
        })
    }
}

/// What a [`CommandHandler`] sees of its session, and how it answers (the
/// Go seed's `Conn`).
///
/// It holds the session only as a `Conn`: what a handler may ask and do,
/// which the session implements (`session/custom.rs`). So this public type
/// changes only when that list does, never with the session's own fields.
pub struct CommandContext<'a> {
    conn: &'a mut dyn Conn,
    verb: String,
    arg: Option<String>,
    answered: bool,
}

/// A boxed future of the session's, borrowed from it.
pub(crate) type ConnFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send + 'a>>;

/// What a custom command may ask of its session and do with it.
pub(crate) trait Conn: Send {
    /// The logged-in user's name.
    fn user(&self) -> Option<&str>;
    /// Who is asking, as the storage is told.
    fn info(&self) -> SessionInfo;
    /// The working directory.
    fn cwd(&self) -> &VirtualPath;
    /// The storage the session works on.
    fn storage(&self) -> Arc<dyn Storage>;
    /// What the user may do at `path`, all rules together.
    fn access(&self, path: &VirtualPath) -> Access;
    /// Whether the control connection is under TLS.
    fn control_tls(&self) -> bool;
    /// The port of the passive listener waiting for the client.
    fn passive_port(&self) -> Option<u16>;
    /// The address PASV announces.
    fn public_ip(&self) -> IpAddr;
    /// Sends a reply through the session's one reply path.
    fn send(&mut self, reply: Reply) -> ConnFuture<'_>;
    /// Closes the control connection after the current reply.
    fn close(&mut self);
    /// Sends bytes over the prepared data connection, as a listing does.
    fn send_data(&mut self, bytes: Vec<u8>) -> ConnFuture<'_>;
}

impl<'a> CommandContext<'a> {
    pub(crate) fn new(conn: &'a mut dyn Conn, verb: String, arg: Option<String>) -> Self {
        CommandContext {
            conn,
            verb,
            arg,
            answered: false,
        }
    }

    /// Whether the handler has sent its final reply.
    pub(crate) fn answered(&self) -> bool {
        self.answered
    }

    /// The command's name as registered (`HASH`; `QUOTA` for `SITE QUOTA`).
    pub fn name(&self) -> &str {
        &self.verb
    }

    /// The argument, as sent (for a SITE subcommand: what follows it).
    pub fn arg(&self) -> Option<&str> {
        self.arg.as_deref()
    }

    /// The logged-in user's name, if any.
    pub fn user(&self) -> Option<&str> {
        self.conn.user()
    }

    /// Who is asking, as the storage and the authenticator are told.
    pub fn session(&self) -> SessionInfo {
        self.conn.info()
    }

    /// The working directory (as the client sees it).
    pub fn cwd(&self) -> &VirtualPath {
        self.conn.cwd()
    }

    /// A client path, resolved against the working directory.
    pub fn resolve(&self, path: &str) -> Result<VirtualPath, CommandError> {
        Ok(self.conn.cwd().join(path)?)
    }

    /// The storage this session works on (the account's own, or the
    /// server's; for a chrooted account, its view from the home).
    pub fn storage(&self) -> Arc<dyn Storage> {
        self.conn.storage()
    }

    /// What the user may do at `path`: per-path permissions and the
    /// account's read-only flag together, as the built-in commands and
    /// MLSD's `perm` fact see it.
    pub fn access(&self, path: &VirtualPath) -> Access {
        self.conn.access(path)
    }

    /// True while the control connection is protected by TLS.
    pub fn control_tls(&self) -> bool {
        self.conn.control_tls()
    }

    /// The port of the passive listener the client asked for with PASV or
    /// EPSV, while it waits for the data connection.
    pub fn passive_port(&self) -> Option<u16> {
        self.conn.passive_port()
    }

    /// The address that PASV announces: the configured public IP, else the
    /// address the client reached us on.
    pub fn public_ip(&self) -> IpAddr {
        self.conn.public_ip()
    }

    /// Sends a one-line reply. A final reply (code 200 and up) answers the
    /// command; a preliminary one (1xx) may come before it.
    pub async fn reply(&mut self, code: u16, text: impl Into<String>) -> Result<(), CommandError> {
        self.send(Reply::new(code, text)).await
    }

    /// Sends a multi-line reply: the first line, the lines between, the
    /// last line (`211-Features:` … `211 End`). Fewer than two lines are
    /// sent as one.
    pub async fn reply_lines<I, S>(&mut self, code: u16, lines: I) -> Result<(), CommandError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let lines = lines.into_iter().map(Into::into).collect();
        self.send(Reply::from_lines(code, lines)).await
    }

    async fn send(&mut self, reply: Reply) -> Result<(), CommandError> {
        if reply.code >= 200 {
            self.answered = true;
        }
        self.conn.send(reply).await.map_err(connection_failed)
    }

    /// Closes the control connection once the current reply is out (the
    /// seed's `Conn.Close`).
    pub fn close(&mut self) {
        self.conn.close();
    }

    /// Sends `bytes` over the data connection the client prepared (PASV,
    /// EPSV, PORT or EPRT), as `LIST` does: `150`, the transfer, then `226`
    /// from the engine when every byte is out (or `425`/`426`, and faults
    /// on the data connection apply). This answers the command.
    pub async fn send_data(&mut self, bytes: impl Into<Vec<u8>>) -> Result<(), CommandError> {
        self.answered = true;
        self.conn
            .send_data(bytes.into())
            .await
            .map_err(connection_failed)
    }
}

/// The connection is gone; the session ends on its next read.
fn connection_failed(e: std::io::Error) -> CommandError {
    CommandError::new(421, format!("control connection failed: {e}"))
}
