//! Who may do what where (the Go seed's `Perm`): per-path access rules, and
//! the owner, group and mode that listings show.
//!
//! The engine asks a [`Permissions`] provider before every command that
//! touches a path, so a rule holds for every client and every command alike:
//! a read-only subtree refuses `STOR`, `DELE`, `MKD`, `RNFR`…; a write-only
//! drop box takes uploads and refuses `LIST` and `RETR`; a hidden path is
//! missing from listings and answers `550` as if it did not exist. The
//! built-in provider is a list of [`PathPerm`] rules (the builder's
//! [`perm`](crate::ServerBuilder::perm), `--perm`, `[[perm]]` in scenario
//! files); a framework can put its own in place with
//! [`ServerBuilder::permissions`](crate::ServerBuilder::permissions).

use std::fmt;
use std::str::FromStr;
use std::sync::RwLock;

use crate::session_info::SessionInfo;
use crate::storage::{Metadata, VirtualPath};

/// What a user may do at a path.
///
/// ```
/// use ftpfixture::Access;
/// let a: Access = "write-only".parse().unwrap();
/// assert_eq!(a, Access::WriteOnly);
/// assert!(a.can_write() && !a.can_read());
/// assert_eq!(Access::ReadOnly.to_string(), "read-only");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Access {
    /// Everything the account may do (the default).
    Full,
    /// List and download; every change is refused (`550`, `553` for uploads).
    ReadOnly,
    /// Upload, make directories, delete and rename; listing and downloading
    /// are refused (`550`): the drop box of a B2B inbox.
    WriteOnly,
    /// Hidden: absent from listings, `550` on every access.
    None,
}

impl Access {
    /// True when listing, downloading, `SIZE` and `MDTM` are allowed.
    pub fn can_read(self) -> bool {
        matches!(self, Access::Full | Access::ReadOnly)
    }

    /// True when uploading, deleting, renaming and making directories are
    /// allowed.
    pub fn can_write(self) -> bool {
        matches!(self, Access::Full | Access::WriteOnly)
    }

    /// True unless the path is hidden.
    pub fn is_visible(self) -> bool {
        self != Access::None
    }
}

/// What one user may do at one path once every rule is applied: the
/// permission provider's [`Access`] narrowed by the account's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rights {
    /// The path is not hidden.
    pub visible: bool,
    /// List a directory, read a file.
    pub read: bool,
    /// Change it: store, append, delete, rename, make directories in it.
    pub write: bool,
}

impl Rights {
    /// `access` for an account that may write (`account_writes`) or not.
    pub(crate) fn new(access: Access, account_writes: bool) -> Self {
        Rights {
            visible: access.is_visible(),
            read: access.can_read(),
            write: access.can_write() && account_writes,
        }
    }

    /// As an [`Access`]: a path that may be neither read nor written is
    /// `None`, as a hidden one is.
    pub(crate) fn as_access(self) -> Access {
        match (self.visible, self.read, self.write) {
            (false, _, _) | (true, false, false) => Access::None,
            (true, true, true) => Access::Full,
            (true, true, false) => Access::ReadOnly,
            (true, false, true) => Access::WriteOnly,
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Full => "full",
            Access::ReadOnly => "read-only",
            Access::WriteOnly => "write-only",
            Access::None => "none",
        })
    }
}

impl FromStr for Access {
    type Err = PermError;

    fn from_str(s: &str) -> Result<Self, PermError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "full" => Ok(Access::Full),
            "read-only" | "readonly" | "ro" => Ok(Access::ReadOnly),
            "write-only" | "writeonly" | "wo" => Ok(Access::WriteOnly),
            "none" | "hidden" => Ok(Access::None),
            _ => Err(PermError::Access(s.to_string())),
        }
    }
}

/// Why a permission rule is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PermError {
    /// The text form is not `[USER:]PATH=MODE`.
    #[error("{0:?}: expected [USER:]PATH=MODE, e.g. /inbox=write-only or bob:/private=none")]
    Syntax(String),
    /// MODE is none of `full`, `read-only`, `write-only`, `none`.
    #[error("{0:?}: access must be full, read-only, write-only or none")]
    Access(String),
    /// PATH is not an absolute path the server can use.
    #[error("{path:?}: {reason}")]
    Path {
        /// The path as given.
        path: String,
        /// Why it is not usable.
        reason: String,
    },
}

/// One per-path rule: the access a user (or every user) has at a path and
/// below it, like pyftpdlib's `override_perm`.
///
/// Where several rules match a path, the one for the longest path wins; for
/// the same path, a user's rule beats an all-users rule. Paths name the
/// account's storage as the server sees it (for a chrooted account, its
/// home is part of the path).
///
/// ```
/// use ftpfixture::{Access, PathPerm};
/// let inbox = PathPerm::new("/inbox", Access::WriteOnly);
/// let private: PathPerm = "bob:/private=none".parse().unwrap();
/// assert_eq!(private.user(), Some("bob"));
/// assert_eq!(private.path().as_str(), "/private");
/// assert_eq!(private.to_string(), "bob:/private=none");
/// assert_eq!(inbox.to_string(), "/inbox=write-only");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPerm {
    user: Option<String>,
    path: VirtualPath,
    access: Access,
    /// The path as given, when it climbs above the root: the server
    /// refuses to start with such a rule rather than apply it to `/`.
    outside: Option<String>,
}

impl PathPerm {
    /// A rule for every user. A relative path is taken from the root; a
    /// path that climbs above the root (`/a/../..`) makes
    /// [`ServerBuilder::start`](crate::ServerBuilder::start) fail with
    /// [`StartError::Config`](crate::StartError::Config) naming the rule.
    /// Use [`str::parse`] to have the path checked at once.
    pub fn new(path: &str, access: Access) -> Self {
        PathPerm {
            user: None,
            path: VirtualPath::root()
                .join(path)
                .unwrap_or_else(|_| VirtualPath::root()),
            access,
            outside: crate::storage::leaves_root(path).then(|| path.to_string()),
        }
    }

    /// The path as given, when it leaves the root.
    pub(crate) fn outside_root(&self) -> Option<&str> {
        self.outside.as_deref()
    }

    /// Limits the rule to one user.
    pub fn for_user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// The user the rule is for; `None` for every user.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The path the rule covers, with everything below it.
    pub fn path(&self) -> &VirtualPath {
        &self.path
    }

    /// The access it grants.
    pub fn access(&self) -> Access {
        self.access
    }
}

impl fmt::Display for PathPerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(user) = &self.user {
            write!(f, "{user}:")?;
        }
        write!(f, "{}={}", self.path, self.access)
    }
}

impl FromStr for PathPerm {
    type Err = PermError;

    /// `[USER:]PATH=MODE`, as `--perm` takes it.
    fn from_str(s: &str) -> Result<Self, PermError> {
        let (target, access) = s
            .rsplit_once('=')
            .ok_or_else(|| PermError::Syntax(s.to_string()))?;
        let access: Access = access.parse()?;
        let (user, path) = match target.split_once(':') {
            Some((user, path)) if !target.starts_with('/') => (Some(user), path),
            _ => (None, target),
        };
        if user.is_some_and(str::is_empty) || !path.starts_with('/') {
            return Err(PermError::Syntax(s.to_string()));
        }
        if crate::storage::leaves_root(path) {
            return Err(PermError::Path {
                path: path.to_string(),
                reason: "it leaves the root".to_string(),
            });
        }
        let path = VirtualPath::new(path).map_err(|e| PermError::Path {
            path: path.to_string(),
            reason: e.to_string(),
        })?;
        Ok(PathPerm {
            user: user.map(str::to_string),
            path,
            access,
            outside: None,
        })
    }
}

/// The owner and group a listing shows for an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership {
    owner: String,
    group: String,
}

impl Ownership {
    /// Owner and group names, as `ls -l` and `unix.owner`/`unix.group` show them.
    pub fn new(owner: impl Into<String>, group: impl Into<String>) -> Self {
        Ownership {
            owner: owner.into(),
            group: group.into(),
        }
    }

    /// The owner's name.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The group's name.
    pub fn group(&self) -> &str {
        &self.group
    }
}

impl Default for Ownership {
    /// `ftp ftp`, what listings show unless told otherwise.
    fn default() -> Self {
        Ownership::new("ftp", "ftp")
    }
}

/// The permission provider: the role of the Go seed's `Perm`
/// (`GetOwner`, `GetGroup`, `GetMode`) plus per-path access.
///
/// Every method has a default, so a provider implements only what it
/// changes. The methods are called for each command and for each entry of
/// a listing: keep them quick (look up a table, do no I/O). `path` is the
/// path in the account's storage (for a chrooted account, below its home).
///
/// ```
/// use ftpfixture::{Access, Metadata, Ownership, Permissions, SessionInfo, VirtualPath};
///
/// /// Everyone may read; only "admin" may change anything.
/// struct AdminWrites;
///
/// impl Permissions for AdminWrites {
///     fn access(&self, session: &SessionInfo, _path: &VirtualPath) -> Access {
///         match session.user() {
///             Some("admin") => Access::Full,
///             _ => Access::ReadOnly,
///         }
///     }
///
///     fn ownership(&self, _s: &SessionInfo, _p: &VirtualPath, _m: &Metadata) -> Option<Ownership> {
///         Some(Ownership::new("admin", "staff"))
///     }
/// }
///
/// let builder = ftpfixture::Server::builder().permissions(AdminWrites);
/// # let _ = builder;
/// ```
pub trait Permissions: Send + Sync + 'static {
    /// What the session's user may do at `path` (and, unless a deeper path
    /// says otherwise, below it).
    fn access(&self, session: &SessionInfo, path: &VirtualPath) -> Access {
        let _ = (session, path);
        Access::Full
    }

    /// The owner and group shown for `path`; `None` keeps what the
    /// storage says ([`Metadata::with_owner`]), or `ftp ftp`.
    fn ownership(
        &self,
        session: &SessionInfo,
        path: &VirtualPath,
        meta: &Metadata,
    ) -> Option<Ownership> {
        let _ = (session, path, meta);
        None
    }

    /// The mode shown for `path`; the storage's by default.
    fn mode(&self, session: &SessionInfo, path: &VirtualPath, meta: &Metadata) -> u32 {
        let _ = (session, path);
        meta.mode()
    }

    /// A client renamed `from` to `to` (paths as [`access`](Self::access)
    /// sees them). A provider whose rules name paths may move them along,
    /// as a filesystem's owners and modes move with the file; the default
    /// does nothing.
    fn renamed(&self, session: &SessionInfo, from: &VirtualPath, to: &VirtualPath) {
        let _ = (session, from, to);
    }
}

/// The built-in provider: [`PathPerm`] rules and per-path owners. A rename
/// takes the rules at and below its source along to the new name, as a
/// filesystem's owner and mode go with the inode (a read-only directory
/// renamed stays read-only; a new one made under the old name is not).
#[derive(Debug, Default)]
pub(crate) struct PathRules {
    rules: RwLock<Vec<PathPerm>>,
    owners: RwLock<Vec<(VirtualPath, Ownership)>>,
}

impl PathRules {
    pub(crate) fn new(rules: Vec<PathPerm>, owners: Vec<(VirtualPath, Ownership)>) -> Self {
        PathRules {
            rules: RwLock::new(rules),
            owners: RwLock::new(owners),
        }
    }

    /// The rule that decides for `user` at `path`: the longest matching
    /// path, a user's rule before an all-users one (and, between two for
    /// the same path, the one a rename brought there last).
    pub(crate) fn rule(&self, user: Option<&str>, path: &VirtualPath) -> Option<PathPerm> {
        let rules = self.rules.read().unwrap_or_else(|e| e.into_inner());
        rules
            .iter()
            .filter(|r| path.starts_with(&r.path))
            .filter(|r| r.user.is_none() || r.user.as_deref() == user)
            .max_by_key(|r| (r.path.components().count(), r.user.is_some()))
            .cloned()
    }
}

/// `path` after `from` was renamed to `to`, if it lay at or below `from`.
fn moved(path: &VirtualPath, from: &VirtualPath, to: &VirtualPath) -> Option<VirtualPath> {
    if from.is_root() || !path.starts_with(from) {
        return None;
    }
    let rest = path.as_str()[from.as_str().len()..].trim_start_matches('/');
    if rest.is_empty() {
        Some(to.clone())
    } else {
        to.join(rest).ok()
    }
}

/// Moves the entries whose path lies at or below `from` to the end of
/// `list`, renamed (the end: they win a tie with a rule already there).
fn carry<T>(
    list: &mut Vec<T>,
    path: impl Fn(&mut T) -> &mut VirtualPath,
    from: &VirtualPath,
    to: &VirtualPath,
) {
    let mut kept = Vec::with_capacity(list.len());
    let mut carried = Vec::new();
    for mut entry in list.drain(..) {
        match moved(path(&mut entry), from, to) {
            Some(new) => {
                *path(&mut entry) = new;
                carried.push(entry);
            }
            None => kept.push(entry),
        }
    }
    kept.extend(carried);
    *list = kept;
}

impl Permissions for PathRules {
    fn access(&self, session: &SessionInfo, path: &VirtualPath) -> Access {
        self.rule(session.user(), path)
            .map_or(Access::Full, |r| r.access())
    }

    fn renamed(&self, _session: &SessionInfo, from: &VirtualPath, to: &VirtualPath) {
        let mut rules = self.rules.write().unwrap_or_else(|e| e.into_inner());
        carry(&mut rules, |r| &mut r.path, from, to);
        let mut owners = self.owners.write().unwrap_or_else(|e| e.into_inner());
        carry(&mut owners, |(p, _)| p, from, to);
    }

    fn ownership(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
        _meta: &Metadata,
    ) -> Option<Ownership> {
        let owners = self.owners.read().unwrap_or_else(|e| e.into_inner());
        owners
            .iter()
            .filter(|(p, _)| path.starts_with(p))
            .max_by_key(|(p, _)| p.components().count())
            .map(|(_, o)| o.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> VirtualPath {
        VirtualPath::new(s).unwrap()
    }

    #[test]
    fn longest_path_wins_and_user_beats_everyone() {
        let rules = PathRules::new(
            vec![
                "/archive=read-only".parse().unwrap(),
                "/archive/open=full".parse().unwrap(),
                "/private=none".parse().unwrap(),
                "bob:/private=full".parse().unwrap(),
                "bob:/=read-only".parse().unwrap(),
            ],
            vec![],
        );
        let at = |user, path| rules.rule(user, &p(path)).map(|r| r.access);
        assert_eq!(at(None, "/archive/x/y"), Some(Access::ReadOnly));
        assert_eq!(at(None, "/archive/open/z"), Some(Access::Full));
        assert_eq!(at(None, "/archived"), None);
        assert_eq!(at(Some("alice"), "/private/a"), Some(Access::None));
        assert_eq!(at(Some("bob"), "/private/a"), Some(Access::Full));
        // A longer all-users path beats bob's rule for the root.
        assert_eq!(at(Some("bob"), "/archive"), Some(Access::ReadOnly));
        assert_eq!(at(Some("bob"), "/other"), Some(Access::ReadOnly));
    }

    #[test]
    fn rules_and_owners_follow_a_rename() {
        let rules = PathRules::new(
            vec![
                "/ro=read-only".parse().unwrap(),
                "/ro/open=full".parse().unwrap(),
                "/dest=none".parse().unwrap(),
            ],
            vec![(p("/ro"), Ownership::new("root", "root"))],
        );
        let info = SessionInfo::server();
        rules.renamed(&info, &p("/ro"), &p("/dest"));
        let at = |path| rules.rule(None, &p(path)).map(|r| r.access);
        // The directory took its rules along, and beats the rule that
        // named its new path; its old name is free of them.
        assert_eq!(at("/dest/x"), Some(Access::ReadOnly));
        assert_eq!(at("/dest/open/y"), Some(Access::Full));
        assert_eq!(at("/ro/x"), None);
        let owner = |path| rules.ownership(&info, &p(path), &Metadata::dir());
        assert_eq!(
            owner("/dest/locked.txt"),
            Some(Ownership::new("root", "root"))
        );
        assert_eq!(owner("/ro"), None);
        // A sibling whose name starts the same is not below it.
        rules.renamed(&info, &p("/de"), &p("/elsewhere"));
        assert_eq!(at("/dest/x"), Some(Access::ReadOnly));
    }

    #[test]
    fn text_form() {
        for bad in ["/x", "x=full", "/x=maybe", ":/x=full", "bob:x=full"] {
            assert!(bad.parse::<PathPerm>().is_err(), "{bad}");
        }
        let r: PathPerm = "/a:b/c=ro".parse().unwrap();
        assert_eq!((r.user(), r.path().as_str()), (None, "/a:b/c"));
        assert_eq!(r.access(), Access::ReadOnly);
    }
}
