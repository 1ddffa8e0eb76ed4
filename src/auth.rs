//! Who may log in, where they start, and what they may change.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::session_info::SessionInfo;
use crate::storage::{Storage, VirtualPath};

/// The user name anonymous clients log in with (`ftp` is accepted too).
pub const ANONYMOUS: &str = "anonymous";

/// A logged-in user: the outcome of a successful [`Authenticator::authenticate`].
///
/// Built with [`Account::new`] and its setters, read through its getters, so
/// that what an account carries can grow without breaking an authenticator.
///
/// Which storage the account works on is not the account's business: the
/// server's [`StorageFactory`](crate::StorageFactory) decides, so that no
/// storage is reachable through the [`SessionInfo`] another one is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    name: String,
    home: VirtualPath,
    read_only: bool,
    chroot: bool,
}

/// Storages are the same when they are the same `Arc` (or both absent).
fn same_storage(a: Option<&Arc<dyn Storage>>, b: Option<&Arc<dyn Storage>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}

impl Account {
    /// A read-write account whose home is `/`, on the server's storage.
    pub fn new(name: impl Into<String>) -> Self {
        Account {
            name: name.into(),
            home: VirtualPath::root(),
            read_only: false,
            chroot: false,
        }
    }

    /// Sets the directory the session starts in.
    pub fn with_home(mut self, home: VirtualPath) -> Self {
        self.home = home;
        self
    }

    /// Makes the account read-only (`true`): every command that changes
    /// the tree gets `550`.
    pub fn with_read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Confines the account to its home (`true`), as vsftpd's
    /// `chroot_local_user`: its `/` is the home, `PWD` after login answers
    /// `/`, and nothing outside the home can be named.
    pub fn with_chroot(mut self, chroot: bool) -> Self {
        self.chroot = chroot;
        self
    }

    /// The name the client logged in with.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The directory the session starts in.
    pub fn home(&self) -> &VirtualPath {
        &self.home
    }

    /// True when every change to the tree is refused.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// True when the account is confined to its home.
    pub fn is_chroot(&self) -> bool {
        self.chroot
    }
}

/// Why a login was refused: the backend chooses what the client sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// Wrong name or password: `530` with this text; the client may try
    /// again on the same connection.
    #[error("{0}")]
    Rejected(String),
    /// The backend cannot serve logins now (a directory down, a quota of
    /// sessions): `421` with this text, and the connection closes.
    #[error("{0}")]
    Unavailable(String),
}

impl LoginError {
    /// `530 Login incorrect`, the usual refusal.
    pub fn incorrect() -> Self {
        LoginError::Rejected("Login incorrect".into())
    }

    /// The reply code the client gets.
    pub fn reply_code(&self) -> u16 {
        match self {
            LoginError::Rejected(_) => 530,
            LoginError::Unavailable(_) => 421,
        }
    }
}

/// Checks credentials: the role of the Go seed's `Auth`. The account it
/// returns says where the user starts, whether it is confined there, and
/// (optionally) which storage it uses.
///
/// ```
/// use ftpfixture::{Account, Authenticator, LoginError, SessionInfo};
///
/// struct Everyone;
///
/// #[ftpfixture::async_trait]
/// impl Authenticator for Everyone {
///     async fn authenticate(
///         &self,
///         _session: &SessionInfo,
///         user: &str,
///         password: &str,
///     ) -> Result<Account, LoginError> {
///         if password.is_empty() {
///             return Err(LoginError::incorrect());
///         }
///         Ok(Account::new(user).with_read_only(true))
///     }
/// }
/// ```
#[async_trait]
pub trait Authenticator: Send + Sync + 'static {
    /// The account for `user` if `password` is right; else why not
    /// ([`LoginError::Rejected`]: 530, [`LoginError::Unavailable`]: 421).
    async fn authenticate(
        &self,
        session: &SessionInfo,
        user: &str,
        password: &str,
    ) -> Result<Account, LoginError>;

    /// True when `user` is the anonymous account, so that `USER` answers with
    /// an invitation to send an e-mail address as password.
    fn is_anonymous(&self, user: &str) -> bool {
        let _ = user;
        false
    }
}

/// One entry of a [`UserTable`]: a name, a password, and where and how the
/// user works.
///
/// ```
/// let bob = ftpfixture::User::new("bob", "secret").home("/bob").read_only();
/// assert_eq!((bob.name(), bob.home_dir(), bob.is_read_only()), ("bob", "/bob", true));
/// let carol = ftpfixture::User::new("carol", "pw").home("/carol").chroot();
/// assert!(carol.is_chroot());
/// ```
#[derive(Clone)]
pub struct User {
    name: String,
    password: String,
    /// As given; validated when the server starts.
    home: String,
    read_only: bool,
    chroot: bool,
    storage: UserStorage,
}

/// Where a [`User`]'s files live.
#[derive(Clone, Default)]
pub(crate) enum UserStorage {
    /// The server's storage.
    #[default]
    Shared,
    /// A fresh temp directory of the user's own, made at start.
    OwnRoot,
    /// A storage the test gave.
    Given(Arc<dyn Storage>),
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("password", &"******")
            .field("home", &self.home)
            .field("read_only", &self.read_only)
            .field("chroot", &self.chroot)
            .field(
                "storage",
                &match self.storage {
                    UserStorage::Shared => "shared",
                    UserStorage::OwnRoot => "own root",
                    UserStorage::Given(_) => "given",
                },
            )
            .finish()
    }
}

impl PartialEq for User {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.password == other.password
            && self.home == other.home
            && self.read_only == other.read_only
            && self.chroot == other.chroot
            && match (&self.storage, &other.storage) {
                (UserStorage::Given(a), UserStorage::Given(b)) => same_storage(Some(a), Some(b)),
                (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
            }
    }
}

impl Eq for User {}

impl User {
    /// A read-write user whose home is `/`, on the server's storage.
    pub fn new(name: impl Into<String>, password: impl Into<String>) -> Self {
        User {
            name: name.into(),
            password: password.into(),
            home: "/".into(),
            read_only: false,
            chroot: false,
            storage: UserStorage::Shared,
        }
    }

    /// Sets the home directory (created at start when missing). A path the
    /// server cannot use (a control character in it) makes
    /// [`ServerBuilder::start`](crate::ServerBuilder::start) fail with
    /// [`StartError::Config`](crate::StartError::Config).
    pub fn home(mut self, home: impl Into<String>) -> Self {
        self.home = home.into();
        self
    }

    /// Makes the user read-only.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Confines the user to the home: see [`Account::with_chroot`].
    pub fn chroot(mut self) -> Self {
        self.chroot = true;
        self
    }

    /// Gives the user a fresh temp directory of its own, made at start and
    /// removed with the server; the user sees nothing of the server's root
    /// (seeded files included), and nobody else sees the user's files.
    pub fn own_root(mut self) -> Self {
        self.storage = UserStorage::OwnRoot;
        self
    }

    /// Gives the user a storage of its own (a [`MemoryStorage`] of its own,
    /// your backend…) instead of the server's.
    ///
    /// [`MemoryStorage`]: crate::MemoryStorage
    pub fn storage(mut self, storage: impl Storage) -> Self {
        self.storage = UserStorage::Given(Arc::new(storage));
        self
    }

    /// The login name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The password, compared exactly.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The home directory, as given.
    pub fn home_dir(&self) -> &str {
        &self.home
    }

    /// True when every change to the tree is refused.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// True when the user is confined to the home.
    pub fn is_chroot(&self) -> bool {
        self.chroot
    }

    /// True when the user's files live apart from the server's root.
    pub fn has_own_storage(&self) -> bool {
        !matches!(self.storage, UserStorage::Shared)
    }

    /// The home as a virtual path, or why it is not one.
    pub(crate) fn home_path(&self) -> Result<VirtualPath, crate::storage::PathError> {
        VirtualPath::new(&self.home)
    }

    pub(crate) fn storage_kind(&self) -> &UserStorage {
        &self.storage
    }

    /// Replaces an own root by the storage made for it at start.
    pub(crate) fn with_made_storage(mut self, storage: Arc<dyn Storage>) -> Self {
        self.storage = UserStorage::Given(storage);
        self
    }

    /// For `ServerBuilder::chroot`: every account confined.
    pub(crate) fn with_chroot(mut self, chroot: bool) -> Self {
        self.chroot = self.chroot || chroot;
        self
    }
}

/// The built-in [`Authenticator`]: a table of users, plus optional anonymous
/// access (user `anonymous` or `ftp`, any password, read-only, home `/`).
#[derive(Debug, Clone, Default)]
pub struct UserTable {
    users: HashMap<String, Entry>,
    anonymous: bool,
}

/// A user with the home already checked.
#[derive(Debug, Clone)]
struct Entry {
    user: User,
    home: VirtualPath,
}

impl UserTable {
    /// An empty table (nobody can log in).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a user; fails when its home is no usable path.
    pub fn insert(&mut self, user: User) -> Result<(), crate::storage::PathError> {
        let home = user.home_path()?;
        self.users.insert(user.name.clone(), Entry { user, home });
        Ok(())
    }

    /// Removes a user; true when it was there.
    pub fn remove(&mut self, name: &str) -> bool {
        self.users.remove(name).is_some()
    }

    /// Allows anonymous login.
    pub fn set_anonymous(&mut self, allowed: bool) {
        self.anonymous = allowed;
    }

    /// The users in the table.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values().map(|e| &e.user)
    }
}

impl UserTable {
    fn check(&self, user: &str, password: &str) -> Result<Account, LoginError> {
        if self.anonymous_name(user) {
            return Ok(Account::new(user).with_read_only(true));
        }
        let entry = self.users.get(user).ok_or_else(LoginError::incorrect)?;
        if entry.user.password != password {
            return Err(LoginError::incorrect());
        }
        Ok(Account::new(&entry.user.name)
            .with_home(entry.home.clone())
            .with_read_only(entry.user.read_only)
            .with_chroot(entry.user.chroot))
    }

    fn anonymous_name(&self, user: &str) -> bool {
        self.anonymous
            && (user.eq_ignore_ascii_case(ANONYMOUS) || user.eq_ignore_ascii_case("ftp"))
            && !self.users.contains_key(user)
    }
}

#[async_trait]
impl Authenticator for UserTable {
    async fn authenticate(
        &self,
        _session: &SessionInfo,
        user: &str,
        password: &str,
    ) -> Result<Account, LoginError> {
        self.check(user, password)
    }

    fn is_anonymous(&self, user: &str) -> bool {
        self.anonymous_name(user)
    }
}

/// The built-in table as a running server holds it: accounts can be added
/// and removed while it runs (the control API, `Server::add_user`).
#[derive(Debug, Default)]
pub(crate) struct SharedUsers {
    table: std::sync::RwLock<UserTable>,
}

impl SharedUsers {
    pub(crate) fn new(table: UserTable) -> Self {
        SharedUsers {
            table: std::sync::RwLock::new(table),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, UserTable> {
        self.table.read().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn write(&self) -> std::sync::RwLockWriteGuard<'_, UserTable> {
        self.table.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The storage of the user's own, if the table gave it one.
    fn storage_of(&self, name: &str) -> Option<Arc<dyn Storage>> {
        match &self.read().users.get(name)?.user.storage {
            UserStorage::Given(storage) => Some(storage.clone()),
            UserStorage::Shared | UserStorage::OwnRoot => None,
        }
    }
}

/// The server's storage factory when the test gave none: an account of the
/// built-in table with a storage of its own (`User::own_root`,
/// `User::storage`) works on that, everyone else on the server's storage.
/// One mechanism for both, so the session asks one factory at every login.
pub(crate) struct AccountStorage {
    pub users: Option<Arc<SharedUsers>>,
    pub server: Arc<dyn Storage>,
}

#[async_trait]
impl crate::StorageFactory for AccountStorage {
    async fn storage(
        &self,
        session: &SessionInfo,
    ) -> Result<Arc<dyn Storage>, crate::StorageError> {
        let own = self
            .users
            .as_ref()
            .zip(session.user())
            .and_then(|(users, name)| users.storage_of(name));
        Ok(own.unwrap_or_else(|| self.server.clone()))
    }
}

#[async_trait]
impl Authenticator for SharedUsers {
    async fn authenticate(
        &self,
        _session: &SessionInfo,
        user: &str,
        password: &str,
    ) -> Result<Account, LoginError> {
        self.read().check(user, password)
    }

    fn is_anonymous(&self, user: &str) -> bool {
        self.read().anonymous_name(user)
    }
}
