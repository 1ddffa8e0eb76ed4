//! What the server makes of an account before the table holds it, at start
//! and at run time alike: the server-wide flags applied, an own root made,
//! the home checked and named for creation.

use std::sync::Arc;

use crate::auth::{User, UserStorage};
use crate::storage::{FsStorage, Storage};

/// What `ServerBuilder::read_only` and `ServerBuilder::chroot` say for
/// every account of the built-in table, including those added later.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AccountPolicy {
    pub read_only: bool,
    pub chroot: bool,
}

/// An account ready for the table.
pub(crate) struct Prepared {
    pub user: User,
    /// Its own root, removed with the server.
    pub temp: Option<tempfile::TempDir>,
    /// Its own storage, where its home is made; `None`: the server's.
    pub storage: Option<Arc<dyn Storage>>,
    /// Its home, to be made when it is not the root.
    pub home: Option<String>,
}

/// Why an account cannot be used.
#[derive(Debug)]
pub(crate) enum PrepareError {
    /// The home is no usable path (the message says why).
    Home(String),
    /// The own root could not be made.
    OwnRoot(std::io::Error),
}

/// Applies the policy, makes an own root (`User::own_root`), and checks
/// the home: a home that climbs above the root is refused rather than
/// quietly taken as `/`.
pub(crate) fn prepare(user: User, policy: AccountPolicy) -> Result<Prepared, PrepareError> {
    let mut user = user.with_chroot(policy.chroot);
    if policy.read_only {
        user = user.read_only();
    }
    let name = user.name().to_string();
    if crate::storage::leaves_root(user.home_dir()) {
        return Err(PrepareError::Home(format!(
            "user {name:?}: home {:?} leaves the root",
            user.home_dir()
        )));
    }
    let home = user.home_path().map_err(|e| {
        PrepareError::Home(format!("user {name:?}: home {:?}: {e}", user.home_dir()))
    })?;
    let mut temp = None;
    if matches!(user.storage_kind(), UserStorage::OwnRoot) {
        let dir = tempfile::Builder::new()
            .prefix(&format!("ftpfixture-{}-", sanitized(&name)))
            .tempdir()
            .map_err(PrepareError::OwnRoot)?;
        let fs: Arc<dyn Storage> =
            Arc::new(FsStorage::new(dir.path()).map_err(PrepareError::OwnRoot)?);
        temp = Some(dir);
        user = user.with_made_storage(fs);
    }
    let storage = match user.storage_kind() {
        UserStorage::Given(s) => Some(s.clone()),
        UserStorage::Shared | UserStorage::OwnRoot => None,
    };
    Ok(Prepared {
        home: (!home.is_root()).then(|| home.to_string()),
        user,
        temp,
        storage,
    })
}

/// A user name as part of a temp dir's name.
fn sanitized(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(32)
        .collect()
}
