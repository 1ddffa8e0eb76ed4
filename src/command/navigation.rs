//! PWD, CWD, CDUP: the working directory.

use crate::session::{quote_path, Answer, Need, Reply, Session};

impl Session {
    pub(crate) fn pwd(&self) -> Reply {
        Reply::new(
            257,
            format!("{} is the current directory", quote_path(&self.login.cwd)),
        )
    }

    pub(crate) async fn cwd(&mut self, arg: &str) -> Answer {
        let path = self.resolve(arg)?;
        self.allow(&path, Need::Enter)?;
        let meta = self.metadata(&path).await?;
        if !meta.is_dir() {
            return Err(Reply::new(550, format!("{path}: Not a directory")));
        }
        // chdir(2) as the owner needs the directory's search bit.
        if self.habits().owner_modes_apply && meta.mode() & 0o100 == 0 {
            return Err(Reply::new(550, format!("{path}: Permission denied")));
        }
        self.login.cwd = path;
        Ok(Reply::new(
            250,
            format!("Directory changed to {}", self.login.cwd),
        ))
    }
}
