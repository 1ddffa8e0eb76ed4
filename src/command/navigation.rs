//! PWD, CWD, CDUP: the working directory.

use crate::session::{quote_path, storage_reply, Answer, Reply, Session};

impl Session {
    pub(crate) fn pwd(&self) -> Reply {
        Reply::new(
            257,
            format!("{} is the current directory", quote_path(&self.cwd)),
        )
    }

    pub(crate) async fn cwd(&mut self, arg: &str) -> Answer {
        let path = self.resolve(arg)?;
        let meta = self
            .shared
            .storage
            .metadata(&path)
            .await
            .map_err(|e| storage_reply(&path, &e))?;
        if !meta.is_dir() {
            return Err(Reply::new(550, format!("{path}: Not a directory")));
        }
        self.cwd = path;
        Ok(Reply::new(
            250,
            format!("Directory changed to {}", self.cwd),
        ))
    }
}
