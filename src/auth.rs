//! Who may log in, where they start, and what they may change.

use std::collections::HashMap;

use async_trait::async_trait;

use crate::storage::VirtualPath;

/// The user name anonymous clients log in with (`ftp` is accepted too).
pub const ANONYMOUS: &str = "anonymous";

/// A logged-in user: the outcome of a successful [`Authenticator::authenticate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The name the client logged in with.
    pub name: String,
    /// The directory the session starts in.
    pub home: VirtualPath,
    /// When true every command that changes the tree gets `550`.
    pub read_only: bool,
}

/// Checks credentials: the role of the Go seed's `Auth` (and, through
/// [`Account::read_only`], its `Perm`).
///
/// ```
/// use ftpfixture::{Account, Authenticator, VirtualPath};
///
/// struct Everyone;
///
/// #[ftpfixture::async_trait]
/// impl Authenticator for Everyone {
///     async fn authenticate(&self, user: &str, _password: &str) -> Option<Account> {
///         Some(Account { name: user.to_string(), home: VirtualPath::root(), read_only: true })
///     }
/// }
/// ```
#[async_trait]
pub trait Authenticator: Send + Sync + 'static {
    /// The account for `user` if `password` is right, else `None` (530).
    async fn authenticate(&self, user: &str, password: &str) -> Option<Account>;

    /// True when `user` is the anonymous account, so that `USER` answers with
    /// an invitation to send an e-mail address as password.
    fn is_anonymous(&self, user: &str) -> bool {
        let _ = user;
        false
    }
}

/// One entry of a [`UserTable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Password, compared exactly.
    pub password: String,
    /// Starting directory (created at start when missing).
    pub home: VirtualPath,
    /// Refuse every change to the tree.
    pub read_only: bool,
}

impl User {
    /// A read-write user whose home is `/`.
    pub fn new(name: impl Into<String>, password: impl Into<String>) -> Self {
        User {
            name: name.into(),
            password: password.into(),
            home: VirtualPath::root(),
            read_only: false,
        }
    }

    /// Sets the home directory.
    ///
    /// # Panics
    /// If `home` holds a control character (a programming error in a test).
    pub fn home(mut self, home: &str) -> Self {
        self.home = VirtualPath::new(home).expect("a home directory without control characters");
        self
    }

    /// Makes the user read-only.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }
}

/// The built-in [`Authenticator`]: a table of users, plus optional anonymous
/// access (user `anonymous` or `ftp`, any password, read-only, home `/`).
#[derive(Debug, Clone, Default)]
pub struct UserTable {
    users: HashMap<String, User>,
    anonymous: bool,
}

impl UserTable {
    /// An empty table (nobody can log in).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a user.
    pub fn insert(&mut self, user: User) {
        self.users.insert(user.name.clone(), user);
    }

    /// Allows anonymous login.
    pub fn set_anonymous(&mut self, allowed: bool) {
        self.anonymous = allowed;
    }

    /// The users in the table.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }
}

#[async_trait]
impl Authenticator for UserTable {
    async fn authenticate(&self, user: &str, password: &str) -> Option<Account> {
        if self.is_anonymous(user) {
            return Some(Account {
                name: user.to_string(),
                home: VirtualPath::root(),
                read_only: true,
            });
        }
        let u = self.users.get(user)?;
        (u.password == password).then(|| Account {
            name: u.name.clone(),
            home: u.home.clone(),
            read_only: u.read_only,
        })
    }

    fn is_anonymous(&self, user: &str) -> bool {
        self.anonymous
            && (user.eq_ignore_ascii_case(ANONYMOUS) || user.eq_ignore_ascii_case("ftp"))
            && !self.users.contains_key(user)
    }
}
