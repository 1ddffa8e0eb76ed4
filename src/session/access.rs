//! Who is asking, and what they may do at a path: the session's side of
//! the storage, the permission provider and the account's flags, in one
//! place that every path-taking command calls.

use std::sync::Arc;

use super::{uploads, Login, Reply, Session};
use crate::auth::Account;
use crate::perm::{Access, Rights};
use crate::session_info::SessionInfo;
use crate::storage::{Metadata, Storage, StorageError, VirtualPath};

/// What a command needs to be allowed to do at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// CWD: allowed unless the path is hidden.
    Enter,
    /// List, download, SIZE, MDTM.
    Read,
    /// Delete, rename, make or remove a directory, set times and modes.
    Write,
    /// STOR, APPE, STOU: refused with 553 (as vsftpd), not 550.
    Upload,
}

/// The address of a storage, to tell storages apart.
pub(crate) fn storage_id_of(storage: &Arc<dyn Storage>) -> usize {
    Arc::as_ptr(storage) as *const () as usize
}

impl Session {
    /// The storage's metadata of `path`, or the reply for its error. An
    /// upload of another session to `path` ends first (see `uploads`).
    pub(crate) async fn metadata(&self, path: &VirtualPath) -> Result<Metadata, Reply> {
        self.settle(path).await;
        self.login
            .storage
            .metadata(&self.info(), path)
            .await
            .map_err(|e| storage_reply(path, &e))
    }

    /// Who is asking, for the storage and the authenticator.
    /// Whether the storage has something at `path` (no settling, no
    /// reply: for the checks whose order a played server fixes).
    pub(crate) async fn exists(&self, path: &VirtualPath) -> bool {
        self.login
            .storage
            .metadata(&self.info(), path)
            .await
            .is_ok()
    }

    pub(crate) fn info(&self) -> SessionInfo {
        let account = match &self.login.state {
            Login::Done(a) => Some(a.clone()),
            _ => None,
        };
        SessionInfo::new(
            self.log.id,
            self.peer,
            self.local,
            account,
            self.control.is_tls(),
        )
    }

    /// The played server's habits ([`Habits::NONE`] without a
    /// personality: the engine's own behaviour).
    ///
    /// [`Habits::NONE`]: crate::personality::Habits::NONE
    pub(crate) fn habits(&self) -> &'static crate::personality::Habits {
        const NONE: &crate::personality::Habits = &crate::personality::Habits::NONE;
        self.shared.profile.map_or(NONE, |p| &p.habits)
    }

    pub(crate) fn logged_in(&self) -> bool {
        matches!(self.login.state, Login::Done(_))
    }

    pub(crate) fn account(&self) -> Option<&Account> {
        match &self.login.state {
            Login::Done(a) => Some(a.as_ref()),
            _ => None,
        }
    }

    /// A client path, resolved against the working directory.
    pub(crate) fn resolve(&self, arg: &str) -> Result<VirtualPath, Reply> {
        if self.voice.unreachable {
            return Err(Reply::new(550, format!("{arg}: No such file or directory")));
        }
        self.login
            .cwd
            .join(arg)
            .map_err(|e| Reply::new(501, format!("Invalid path: {e}")))
    }

    /// Waits for another session's upload to `path` to end (see `uploads`).
    pub(crate) async fn settle(&self, path: &VirtualPath) {
        self.shared
            .uploads
            .settle(&self.upload_key(path), self.log.id)
            .await;
    }

    /// The file `path` names, across storages and chroots.
    pub(crate) fn upload_key(&self, path: &VirtualPath) -> uploads::Key {
        (self.login.storage_id, self.tree_path(path))
    }

    /// `path` as the account's storage names it: below the home for a
    /// chrooted account, as it is otherwise.
    pub(crate) fn tree_path(&self, path: &VirtualPath) -> VirtualPath {
        match &self.login.chroot {
            Some(home) => crate::storage::chroot::below(home, path),
            None => path.clone(),
        }
    }

    /// What this session's user may do at `path`: the permission
    /// provider's rule for it, narrowed by the account's read-only flag
    /// (and, before login, by having no account). The one function behind
    /// the built-in commands' checks, MLSD's `perm` fact and
    /// `CommandContext::access`.
    pub(crate) fn rights(&self, info: &SessionInfo, path: &VirtualPath) -> Rights {
        let access = match &self.shared.permissions {
            Some(p) => p.access(info, &self.tree_path(path)),
            None => Access::Full,
        };
        Rights::new(access, !self.account_read_only())
    }

    /// True when the account may change nothing (read-only, anonymous, or
    /// nobody logged in yet).
    pub(crate) fn account_read_only(&self) -> bool {
        self.account().is_none_or(|a| a.is_read_only())
    }

    /// The reply refusing `need` at `path`, if it is refused: a hidden
    /// path does not exist (550); a read-only account or path refuses
    /// changes (550, 553 for uploads); a write-only path refuses reads.
    pub(crate) fn allow(&self, path: &VirtualPath, need: Need) -> Result<(), Reply> {
        let rights = self.rights(&self.info(), path);
        if !rights.visible {
            tracing::info!(%path, "hidden path");
            return Err(storage_reply(path, &StorageError::NotFound));
        }
        let writes = matches!(need, Need::Write | Need::Upload);
        if writes && self.account_read_only() {
            // As vsftpd with write_enable=NO: 550 for every change.
            return Err(Reply::new(550, "Permission denied"));
        }
        let allowed = match need {
            Need::Enter => true,
            Need::Read => rights.read,
            Need::Write | Need::Upload => rights.write,
        };
        if allowed {
            return Ok(());
        }
        tracing::info!(%path, ?need, ?rights, "permission denied");
        // As vsftpd in a directory it may not write: 553 for an upload.
        let code = if need == Need::Upload { 553 } else { 550 };
        Err(Reply::new(code, "Permission denied"))
    }
}

/// The reply for a storage error on `path`.
pub(crate) fn storage_reply(path: &VirtualPath, e: &StorageError) -> Reply {
    if let StorageError::Io(io) = e {
        tracing::warn!(path = %path, error = %io, "storage error");
    }
    Reply::new(e.reply_code(), format!("{path}: {e}"))
}
