//! How `LIST`, `NLST`, `MLSD`, `MLST` and `STAT path` show entries.

use std::time::{Duration, SystemTime};

use crate::perm::Rights;
use crate::storage::{FileKind, Metadata};
use crate::timeval::{self, Civil, MONTHS};

/// Half a year: `ls -l` shows the time of day for files younger than this and
/// the year for older ones (and for files dated in the future).
const SIX_MONTHS: Duration = Duration::from_secs(183 * 24 * 3600);

/// One `ls -l` style line (without CRLF), in UTC.
pub(crate) fn list_line(name: &str, m: &Metadata, now: SystemTime) -> String {
    list_line_with(name, m, now, 3, 12, 8)
}

/// [`list_line`] with the widths of the link count, the size, and the
/// owner and group columns (servers differ: vsftpd `%4d %-8s %-8s %8lu`,
/// Pure-FTPd `%4u %-10s %-10s %10llu`).
pub(crate) fn list_line_with(
    name: &str,
    m: &Metadata,
    now: SystemTime,
    links_width: usize,
    size_width: usize,
    owner_width: usize,
) -> String {
    let type_char = match m.kind() {
        FileKind::Dir => 'd',
        FileKind::Symlink => 'l',
        FileKind::File => '-',
    };
    let mut perms = String::with_capacity(9);
    for shift in [6u32, 3, 0] {
        let bits = (m.mode() >> shift) & 7;
        perms.push(if bits & 4 != 0 { 'r' } else { '-' });
        perms.push(if bits & 2 != 0 { 'w' } else { '-' });
        perms.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    let links = m
        .links()
        .unwrap_or(if m.kind() == FileKind::Dir { 2 } else { 1 });
    let modified = m.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let c = Civil::from_system_time(modified);
    let recent = modified <= now
        && now
            .duration_since(modified)
            .is_ok_and(|age| age < SIX_MONTHS);
    let when = if recent {
        format!(
            "{} {:>2} {:02}:{:02}",
            MONTHS[c.month as usize - 1],
            c.day,
            c.hour,
            c.minute
        )
    } else {
        format!(
            "{} {:>2}  {:>4}",
            MONTHS[c.month as usize - 1],
            c.day,
            c.year
        )
    };
    let owner = m.owner().unwrap_or("ftp");
    let group = m.group().unwrap_or("ftp");
    format!(
        "{type_char}{perms} {links:>lw$} {owner:<ow$} {group:<ow$} {:>sw$} {when} {name}",
        m.size(),
        lw = links_width,
        sw = size_width,
        ow = owner_width,
    )
}

/// The MLST facts a client can select with `OPTS MLST` (RFC 3659 §7.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Facts {
    pub kind: bool,
    pub size: bool,
    pub modify: bool,
    pub perm: bool,
    pub unix_mode: bool,
    pub unix_owner: bool,
    pub unix_group: bool,
}

impl Default for Facts {
    fn default() -> Self {
        Facts {
            kind: true,
            size: true,
            modify: true,
            perm: true,
            unix_mode: true,
            unix_owner: true,
            unix_group: true,
        }
    }
}

impl Facts {
    /// The `FEAT` line body: every fact we know, `*` marking the selected ones.
    pub fn feat_line(&self) -> String {
        let mark = |on: bool| if on { "*" } else { "" };
        format!(
            "MLST type{};size{};modify{};perm{};unix.mode{};unix.owner{};unix.group{};",
            mark(self.kind),
            mark(self.size),
            mark(self.modify),
            mark(self.perm),
            mark(self.unix_mode),
            mark(self.unix_owner),
            mark(self.unix_group)
        )
    }

    /// Selects the facts named in `OPTS MLST a;b;` (unknown names are ignored,
    /// as RFC 3659 asks) and returns the list that is now in force.
    pub fn select(&mut self, list: &str) -> String {
        let wanted: Vec<String> = list
            .split(';')
            .map(|f| f.trim().to_ascii_lowercase())
            .filter(|f| !f.is_empty())
            .collect();
        let has = |name: &str| wanted.iter().any(|w| w == name);
        *self = Facts {
            kind: has("type"),
            size: has("size"),
            modify: has("modify"),
            perm: has("perm"),
            unix_mode: has("unix.mode"),
            unix_owner: has("unix.owner"),
            unix_group: has("unix.group"),
        };
        let mut out = String::new();
        for (on, name) in [
            (self.kind, "type"),
            (self.size, "size"),
            (self.modify, "modify"),
            (self.perm, "perm"),
            (self.unix_mode, "unix.mode"),
            (self.unix_owner, "unix.owner"),
            (self.unix_group, "unix.group"),
        ] {
            if on {
                out.push_str(name);
                out.push(';');
            }
        }
        out
    }

    /// `fact=value;…; name` for one entry (without CRLF or leading space).
    pub fn line(&self, name: &str, m: &Metadata, allowed: Rights) -> String {
        let mut s = String::new();
        if self.kind {
            let kind = match m.kind() {
                FileKind::Dir => "dir",
                FileKind::File => "file",
                FileKind::Symlink => "OS.unix=symlink",
            };
            s.push_str(&format!("type={kind};"));
        }
        if self.size && m.kind() != FileKind::Dir {
            s.push_str(&format!("size={};", m.size()));
        }
        if self.modify {
            if let Some(t) = m.modified() {
                s.push_str(&format!("modify={};", timeval::format(t)));
            }
        }
        if self.perm {
            // RFC 3659 7.5.5: e (enter), l (list), c (create), m (make
            // directory), p (purge), d (delete), f (rename) for a
            // directory; r (retrieve), w (store), a (append), d, f for a file.
            let perm = match (m.kind(), allowed.read, allowed.write) {
                (FileKind::Dir, true, true) => "elcmpdf",
                (FileKind::Dir, true, false) => "el",
                (FileKind::Dir, false, true) => "ecmpdf",
                (FileKind::Dir, false, false) => "e",
                (_, true, true) => "rwadf",
                (_, true, false) => "r",
                (_, false, true) => "wadf",
                (_, false, false) => "",
            };
            s.push_str(&format!("perm={perm};"));
        }
        if self.unix_mode {
            s.push_str(&format!("unix.mode={:04o};", m.mode()));
        }
        if self.unix_owner {
            s.push_str(&format!("unix.owner={};", m.owner().unwrap_or("ftp")));
        }
        if self.unix_group {
            s.push_str(&format!("unix.group={};", m.group().unwrap_or("ftp")));
        }
        s.push(' ');
        s.push_str(name);
        s
    }
}

/// `MM-DD-YY  HH:MMAM  <DIR>|size name`, as IIS writes it.
pub(crate) fn dos_line(name: &str, m: &Metadata) -> String {
    let (date, time) = dos_time(m.modified());
    if m.is_dir() {
        format!("{date}  {time}       <DIR>          {name}")
    } else {
        format!("{date}  {time}  {:>19} {name}", m.size())
    }
}

fn dos_time(t: Option<SystemTime>) -> (String, String) {
    let stamp = crate::timeval::format(t.unwrap_or(SystemTime::UNIX_EPOCH));
    // stamp is YYYYMMDDHHMMSS
    let (y, mo, d, h, mi) = (
        &stamp[2..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[8..10],
        &stamp[10..12],
    );
    let hour: u32 = h.parse().unwrap_or(0);
    let (h12, ampm) = match hour {
        0 => (12, "AM"),
        1..=11 => (hour, "AM"),
        12 => (12, "PM"),
        _ => (hour - 12, "PM"),
    };
    (format!("{mo}-{d}-{y}"), format!("{h12:02}:{mi}{ampm}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(kind: FileKind, size: u64, modified: SystemTime, mode: u32) -> Metadata {
        let m = match kind {
            FileKind::Dir => Metadata::dir(),
            _ => Metadata::file(size),
        };
        m.with_size(size).with_modified(modified).with_mode(mode)
    }

    #[test]
    fn list_uses_time_or_year_by_age() {
        let now = timeval::parse("20261124120000").unwrap();
        let recent = meta(
            FileKind::File,
            12,
            timeval::parse("20261001083000").unwrap(),
            0o644,
        );
        let old = meta(
            FileKind::Dir,
            0,
            timeval::parse("20250301000000").unwrap(),
            0o755,
        );
        assert_eq!(
            list_line("a.txt", &recent, now),
            "-rw-r--r--   1 ftp      ftp                12 Oct  1 08:30 a.txt"
        );
        assert_eq!(
            list_line("d", &old, now),
            "drwxr-xr-x   2 ftp      ftp                 0 Mar  1  2025 d"
        );
    }

    #[test]
    fn mlst_facts() {
        let t = timeval::parse("20261124120000").unwrap();
        let mut f = Facts::default();
        let all = Rights {
            visible: true,
            read: true,
            write: true,
        };
        let drop_box = Rights {
            visible: true,
            read: false,
            write: true,
        };
        assert_eq!(
            f.line("a", &meta(FileKind::File, 3, t, 0o644), all),
            "type=file;size=3;modify=20261124120000;perm=rwadf;unix.mode=0644;\
             unix.owner=ftp;unix.group=ftp; a"
        );
        assert_eq!(
            f.line(
                "in",
                &meta(FileKind::Dir, 0, t, 0o755).with_owner("bob", "staff"),
                drop_box
            ),
            "type=dir;modify=20261124120000;perm=ecmpdf;unix.mode=0755;\
             unix.owner=bob;unix.group=staff; in"
        );
        assert_eq!(f.select("size;TYPE;bogus;"), "type;size;");
        assert_eq!(
            f.line("d", &meta(FileKind::Dir, 0, t, 0o755), all),
            "type=dir; d"
        );
        assert_eq!(
            f.feat_line(),
            "MLST type*;size*;modify;perm;unix.mode;unix.owner;unix.group;"
        );
    }
}
