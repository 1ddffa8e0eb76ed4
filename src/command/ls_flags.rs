//! The `ls` flags of LIST that change what a listing holds, under a
//! personality whose server reads them (`Habits::lists_dir_flags`:
//! ProFTPD 1.3.8's mod_ls and Pure-FTPd 1.0.50's ls.c, compared with the
//! Debian packages on loopback):
//!
//! - `-d`: a directory is one line, itself, not what it holds;
//! - `-R`: after a directory's lines come each subdirectory's (in the
//!   listing's order, depth first), each under a heading that names it
//!   from the argument, in the server's layout ([`DirFlags::heading`]);
//!   `.` and `..` are never followed.
//!
//! The engine lists every entry whatever the flags.

use std::time::SystemTime;

use crate::personality::DirFlags;
use crate::protocol::has_list_flag;
use crate::session::{Need, Session};
use crate::storage::{Metadata, VirtualPath};

/// Directories a recursive listing visits at most: a bound on the work
/// one LIST can ask of the server (mod_ls has ListOptions maxdirs).
const MAX_DIRECTORIES: usize = 10_000;

impl Session {
    /// The listing `LIST {arg}` sends when its flags change what it holds
    /// (`shown`: its path after the flags, naming `path`, a single path),
    /// or `None` when they do not: no `-d` or `-R`, or a path that is no
    /// directory.
    pub(crate) async fn dir_flags_listing(
        &mut self,
        arg: &str,
        shown: &str,
        path: &VirtualPath,
    ) -> Option<Vec<u8>> {
        let style = self.habits().lists_dir_flags?;
        let itself = has_list_flag(arg, 'd');
        let recursive = has_list_flag(arg, 'R');
        // A bare `LIST -d` ends ProFTPD's session; nothing to copy there.
        let bare_d_played = style == DirFlags::PureFtpd || !shown.is_empty();
        if !(recursive || itself && bare_d_played) {
            return None;
        }
        let info = self.info();
        let meta = self.login.storage.metadata(&info, path).await.ok()?;
        if !meta.is_dir() {
            return None;
        }
        let now = SystemTime::now();
        let mut out = String::new();
        if itself {
            let meta = self.shown_metadata(&info, path, meta);
            let name = if shown.is_empty() { "." } else { shown };
            let mut line = [(name.to_string(), meta)];
            self.count_dir_links(path, false, &mut line).await;
            let (name, meta) = &line[0];
            out.push_str(&self.long_line(name, meta, now, false));
            out.push_str("\r\n");
            self.voice.listed = 1;
            return Some(out.into_bytes());
        }
        let all = has_list_flag(arg, 'a');
        let mut listed = 0;
        let mut visited = 0;
        // Depth first, each directory's subdirectories pushed in reverse
        // so that they come off in the listing's order.
        let mut pending = vec![(path.clone(), None::<(String, String)>)];
        while let Some((dir, heading)) = pending.pop() {
            visited += 1;
            if visited > MAX_DIRECTORIES {
                tracing::warn!(%dir, "LIST -R stopped after {MAX_DIRECTORIES} directories");
                break;
            }
            let entries = self.long_entries(&dir, all, all).await;
            if let Some((heading, _)) = &heading {
                out.push_str(heading);
            }
            for (name, meta) in &entries {
                out.push_str(&self.long_line(name, meta, now, true));
                out.push_str("\r\n");
            }
            listed += entries.len();
            let named = heading.as_ref().map_or(shown, |(_, named)| named.as_str());
            for (name, _) in entries
                .iter()
                .rev()
                .filter(|(n, m)| m.is_dir() && n != "." && n != "..")
            {
                let Ok(child) = dir.join(name) else { continue };
                // mod_ls follows only into what it may enter.
                if self.allow(&child, Need::Read).is_err() {
                    continue;
                }
                pending.push((child, Some(style.heading(named, name))));
            }
        }
        self.voice.listed = listed;
        Some(out.into_bytes())
    }

    /// What a long listing of the directory `dir` shows, in order: its
    /// entries (dot files only with `all`), each directory with its link
    /// count, and `.` and `..` where `dots` asks and the server lists them
    /// for `-a`.
    pub(crate) async fn long_entries(
        &self,
        dir: &VirtualPath,
        all: bool,
        dots: bool,
    ) -> Vec<(String, Metadata)> {
        let Ok(listed) = self.login.storage.list(&self.info(), dir).await else {
            return Vec::new();
        };
        let mut entries = self.visible(dir, listed);
        if !all {
            entries.retain(|(n, _)| !n.starts_with('.'));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        self.count_dir_links(dir, true, &mut entries).await;
        if dots && self.shared.profile.is_some_and(|p| p.list_a) {
            let dots = self.dot_entries(dir, &entries).await;
            entries.splice(0..0, dots);
            if self.habits().sorts_dots_with_names {
                entries.sort_by(|a, b| a.0.cmp(&b.0));
            }
        }
        entries
    }
}
