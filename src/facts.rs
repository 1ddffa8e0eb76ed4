//! The facts of `MLSD` and `MLST` (RFC 3659 §7), as the engine writes them
//! and as each real server with a personality writes its own: which facts,
//! in what order, under what names, and what `OPTS MLST` does to them.
//!
//! The servers' formats were read from their sources (ProFTPD 1.3.8's
//! `mod_facts.c`, Pure-FTPd 1.0.50's `modernformat()`) and checked against
//! their recordings in `fixtures/personalities/`.

use crate::perm::Rights;
use crate::storage::{FileKind, Metadata};
use crate::timeval;

/// One fact a server can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fact {
    /// `dir`, `file`, `OS.unix=symlink`; `cdir`/`pdir` where the style says.
    Type,
    /// The size of a file (of a directory too, as `sizd`, in Pure-FTPd's).
    Size,
    /// The modification time, `YYYYMMDDHHMMSS` in UTC.
    Modify,
    /// What the user may do with it (RFC 3659 §7.5.5).
    Perm,
    /// An identifier the same for every name of one file.
    Unique,
    /// The permission bits in octal.
    UnixMode,
    /// The owner's and group's names (the engine's `unix.owner`/`unix.group`).
    OwnerName,
    GroupName,
    /// The owner's and group's numbers (ProFTPD's `UNIX.owner`/`UNIX.group`,
    /// Pure-FTPd's `UNIX.uid`/`UNIX.gid`).
    Uid,
    Gid,
    /// The logged-in user's name and group (ProFTPD's `UNIX.ownername` and
    /// `UNIX.groupname`, which name the session's user whoever owns the file).
    SessionUser,
    SessionGroup,
}

/// Whose format the facts follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FactStyle {
    /// The engine's: `type;size;modify;perm;unix.mode;unix.owner;unix.group;`.
    Engine,
    /// ProFTPD's `mod_facts`: `modify;perm;size;type;unique;UNIX.group;
    /// UNIX.groupname;UNIX.mode;UNIX.owner;UNIX.ownername;`, `perm` from
    /// `access(2)` on the entry alone, `.` and `..` of MLSD as `cdir` and
    /// `pdir`, MLST naming the absolute path; `OPTS MLST` selects.
    ProFtpd,
    /// Pure-FTPd's `modernformat()`: `type;size|sizd;modify;UNIX.mode;
    /// UNIX.uid;UNIX.gid;unique;`, no `perm`, `.` as `cdir` and `..` or `/`
    /// as `pdir` (in MLST too), MLST naming the path as the client gave it;
    /// `OPTS MLST` changes nothing and says so.
    PureFtpd,
}

impl FactStyle {
    /// The facts in the order the server writes them, with their names.
    fn facts(self) -> &'static [(Fact, &'static str)] {
        match self {
            FactStyle::Engine => &[
                (Fact::Type, "type"),
                (Fact::Size, "size"),
                (Fact::Modify, "modify"),
                (Fact::Perm, "perm"),
                (Fact::UnixMode, "unix.mode"),
                (Fact::OwnerName, "unix.owner"),
                (Fact::GroupName, "unix.group"),
            ],
            FactStyle::ProFtpd => &[
                (Fact::Modify, "modify"),
                (Fact::Perm, "perm"),
                (Fact::Size, "size"),
                (Fact::Type, "type"),
                (Fact::Unique, "unique"),
                (Fact::Gid, "UNIX.group"),
                (Fact::SessionGroup, "UNIX.groupname"),
                (Fact::UnixMode, "UNIX.mode"),
                (Fact::Uid, "UNIX.owner"),
                (Fact::SessionUser, "UNIX.ownername"),
            ],
            FactStyle::PureFtpd => &[
                (Fact::Type, "type"),
                (Fact::Size, "size"),
                (Fact::Modify, "modify"),
                (Fact::UnixMode, "UNIX.mode"),
                (Fact::Uid, "UNIX.uid"),
                (Fact::Gid, "UNIX.gid"),
                (Fact::Unique, "unique"),
            ],
        }
    }

    /// MLSD lists the directory's `.` and `..` (as `cdir` and `pdir`).
    pub(crate) fn lists_dots(self) -> bool {
        self != FactStyle::Engine
    }

    /// The first and last lines of MLST's 250 (`{path}`: the path, as the
    /// server names it there).
    pub(crate) fn mlst_frame(self) -> (&'static str, &'static str) {
        match self {
            FactStyle::Engine => ("Listing {path}", "End"),
            FactStyle::ProFtpd => ("Start of list for {path}", "End of list"),
            FactStyle::PureFtpd => ("Begin", "End."),
        }
    }

    /// The type of a directory entry named `name` (as the fact line names
    /// it): `cdir`/`pdir` where the server says so. `in_mlsd`: the entry
    /// is one of an MLSD listing, not MLST's one path.
    fn dir_type(self, name: &str, in_mlsd: bool) -> &'static str {
        match (self, name) {
            (FactStyle::Engine, _) => "dir",
            // ProFTPD marks them only in a listing (its Bug#4198).
            (FactStyle::ProFtpd, _) if !in_mlsd => "dir",
            (_, ".") => "cdir",
            (_, "..") => "pdir",
            // Pure-FTPd looks at the name it prints, and takes `/` for
            // the parent.
            (FactStyle::PureFtpd, "/") => "pdir",
            _ => "dir",
        }
    }
}

/// The facts in force for a session: the server's style and the ones
/// `OPTS MLST` left selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Facts {
    style: FactStyle,
    /// Bit `i`: the style's fact `i` is shown.
    shown: u16,
}

impl Default for Facts {
    fn default() -> Self {
        Facts::new(FactStyle::Engine)
    }
}

/// What one fact line is about.
pub(crate) struct Entry<'a> {
    /// The name the line ends with.
    pub name: &'a str,
    pub meta: &'a Metadata,
    /// What the user may do with it.
    pub rights: Rights,
    /// The logged-in user (ProFTPD's `UNIX.ownername`/`UNIX.groupname`).
    pub user: &'a str,
    /// The entry's path in the tree, which its `unique` fact is made from.
    pub path: &'a str,
    /// The line is one of an MLSD listing (not MLST's).
    pub in_mlsd: bool,
}

impl Facts {
    /// Every fact of `style` shown, as a session starts.
    pub(crate) fn new(style: FactStyle) -> Facts {
        Facts {
            style,
            shown: (1u16 << style.facts().len()) - 1,
        }
    }

    pub(crate) fn style(&self) -> FactStyle {
        self.style
    }

    fn on(&self, i: usize) -> bool {
        self.shown & (1 << i) != 0
    }

    /// The `FEAT` line: every fact the server knows, `*` marking the
    /// shown ones.
    pub(crate) fn feat_line(&self) -> String {
        let mut line = String::from("MLST ");
        for (i, (_, name)) in self.style.facts().iter().enumerate() {
            line.push_str(name);
            if self.on(i) {
                line.push('*');
            }
            line.push(';');
        }
        line
    }

    /// `OPTS MLST a;b;`: selects the named facts (unknown names are
    /// ignored, as RFC 3659 asks) and returns the 200's text.
    pub(crate) fn select(&mut self, list: &str) -> String {
        let known = self.style.facts();
        let index = |name: &str| known.iter().position(|(_, n)| n.eq_ignore_ascii_case(name));
        match self.style {
            FactStyle::Engine => {
                let wanted: Vec<&str> = list.split(';').map(str::trim).collect();
                self.shown = 0;
                for i in wanted.iter().filter_map(|w| index(w)) {
                    self.shown |= 1 << i;
                }
                let mut out = String::from("MLST OPTS ");
                for (i, (_, name)) in known.iter().enumerate() {
                    if self.on(i) {
                        out.push_str(name);
                        out.push(';');
                    }
                }
                out
            }
            // Only names ended by `;` count, and the reply names them in
            // the order asked, as the server spells them.
            FactStyle::ProFtpd => {
                self.shown = 0;
                if list.is_empty() {
                    return "MLST OPTS".to_string();
                }
                let mut out = String::from("MLST OPTS ");
                let mut rest = list;
                while let Some((name, after)) = rest.split_once(';') {
                    if let Some(i) = index(name) {
                        self.shown |= 1 << i;
                        out.push_str(known[i].1);
                        out.push(';');
                    }
                    rest = after;
                }
                out
            }
            // Pure-FTPd ignores the list and names every fact it writes.
            FactStyle::PureFtpd => {
                " MLST OPTS type;size;sizd;modify;UNIX.mode;UNIX.uid;UNIX.gid;unique;".to_string()
            }
        }
    }

    /// `fact=value;…; name` for one entry (without CRLF or leading space).
    pub(crate) fn line(&self, entry: &Entry<'_>) -> String {
        let m = entry.meta;
        let style = self.style;
        let mut s = String::new();
        for (i, &(fact, name)) in style.facts().iter().enumerate() {
            if !self.on(i) {
                continue;
            }
            let value = match fact {
                Fact::Type => match m.kind() {
                    FileKind::Dir => style.dir_type(entry.name, entry.in_mlsd).to_string(),
                    FileKind::File => "file".to_string(),
                    FileKind::Symlink => "OS.unix=symlink".to_string(),
                },
                Fact::Size => match (m.kind(), style) {
                    (FileKind::Dir, FactStyle::PureFtpd) => {
                        s.push_str(&format!("sizd={};", m.size()));
                        continue;
                    }
                    (FileKind::Dir, _) => continue,
                    _ => m.size().to_string(),
                },
                Fact::Modify => match m.modified() {
                    Some(t) => timeval::format(t),
                    None => continue,
                },
                Fact::Perm => perm(style, m.kind(), entry.rights).to_string(),
                Fact::Unique => unique(style, entry.path),
                Fact::UnixMode => match style {
                    FactStyle::Engine => format!("{:04o}", m.mode()),
                    _ => format!("0{:o}", m.mode() & 0o7777),
                },
                Fact::OwnerName => m.owner().unwrap_or("ftp").to_string(),
                Fact::GroupName => m.group().unwrap_or("ftp").to_string(),
                Fact::Uid => id(m.owner()).to_string(),
                Fact::Gid => id(m.group()).to_string(),
                // RFC 3659 §7.4 has no spaces in a fact's value.
                Fact::SessionUser | Fact::SessionGroup => entry.user.replace(' ', "_"),
            };
            s.push_str(name);
            s.push('=');
            s.push_str(&value);
            s.push(';');
        }
        s.push(' ');
        s.push_str(entry.name);
        s
    }
}

/// The `perm` fact.
fn perm(style: FactStyle, kind: FileKind, rights: Rights) -> &'static str {
    let dir = kind == FileKind::Dir;
    match style {
        // ProFTPD asks access(2) of the entry alone: a file it may read
        // is "adfr" (else "dfr"), "w" if it may write it; a directory "fl"
        // to read, "cdmp" to write, "e" to enter (read, here).
        FactStyle::ProFtpd => match (dir, rights.read, rights.write) {
            (true, true, true) => "flcdmpe",
            (true, true, false) => "fle",
            (true, false, true) => "cdmp",
            (true, false, false) => "",
            (false, true, true) => "adfrw",
            (false, true, false) => "adfr",
            (false, false, true) => "dfrw",
            (false, false, false) => "dfr",
        },
        // RFC 3659 7.5.5: e (enter), l (list), c (create), m (make
        // directory), p (purge), d (delete), f (rename) for a directory;
        // r (retrieve), w (store), a (append), d, f for a file.
        _ => match (dir, rights.read, rights.write) {
            (true, true, true) => "elcmpdf",
            (true, true, false) => "el",
            (true, false, true) => "ecmpdf",
            (true, false, false) => "e",
            (false, true, true) => "rwadf",
            (false, true, false) => "r",
            (false, false, true) => "wadf",
            (false, false, false) => "",
        },
    }
}

/// The number a Unix server shows for an owner or group: root's 0, any
/// other the account's (1000, as the recordings' user had).
fn id(name: Option<&str>) -> u32 {
    match name {
        Some("root") => 0,
        _ => 1000,
    }
}

/// A `unique` value: the servers print the device and inode; a storage
/// has neither, so the path stands in for the inode (FNV-1a), which keeps
/// it the same for a file across listings.
fn unique(style: FactStyle, path: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let inode = hash & 0xff_ffff;
    match style {
        FactStyle::PureFtpd => format!("801g{inode:x}"),
        _ => format!("801U{inode:X}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(kind: FileKind, size: u64, mode: u32) -> Metadata {
        let t = timeval::parse("20261124120000").unwrap();
        let m = match kind {
            FileKind::Dir => Metadata::dir(),
            _ => Metadata::file(size),
        };
        m.with_size(size).with_modified(t).with_mode(mode)
    }

    const ALL: Rights = Rights {
        visible: true,
        read: true,
        write: true,
    };
    const READ: Rights = Rights {
        visible: true,
        read: true,
        write: false,
    };

    fn entry<'a>(name: &'a str, meta: &'a Metadata, rights: Rights) -> Entry<'a> {
        Entry {
            name,
            meta,
            rights,
            user: "alice",
            path: name,
            in_mlsd: true,
        }
    }

    #[test]
    fn engine_facts() {
        let mut f = Facts::default();
        let drop_box = Rights {
            visible: true,
            read: false,
            write: true,
        };
        let file = meta(FileKind::File, 3, 0o644);
        assert_eq!(
            f.line(&entry("a", &file, ALL)),
            "type=file;size=3;modify=20261124120000;perm=rwadf;unix.mode=0644;\
             unix.owner=ftp;unix.group=ftp; a"
        );
        let dir = meta(FileKind::Dir, 0, 0o755).with_owner("bob", "staff");
        assert_eq!(
            f.line(&entry("in", &dir, drop_box)),
            "type=dir;modify=20261124120000;perm=ecmpdf;unix.mode=0755;\
             unix.owner=bob;unix.group=staff; in"
        );
        assert_eq!(f.select("size;TYPE;bogus;"), "MLST OPTS type;size;");
        assert_eq!(f.line(&entry("d", &dir, ALL)), "type=dir; d");
        assert_eq!(
            f.feat_line(),
            "MLST type*;size*;modify;perm;unix.mode;unix.owner;unix.group;"
        );
    }

    #[test]
    fn proftpd_facts() {
        let mut f = Facts::new(FactStyle::ProFtpd);
        let ro = meta(FileKind::Dir, 4096, 0o755).with_owner("root", "root");
        let line = f.line(&entry(".", &ro, READ));
        assert!(
            line.starts_with("modify=20261124120000;perm=fle;type=cdir;unique=801U"),
            "{line}"
        );
        assert!(
            line.ends_with(
                ";UNIX.group=0;UNIX.groupname=alice;UNIX.mode=0755;UNIX.owner=0;\
                 UNIX.ownername=alice; ."
            ),
            "{line}"
        );
        let file = meta(FileKind::File, 7, 0o644).with_owner("root", "root");
        let mlst = Entry {
            in_mlsd: false,
            ..entry("/ro/locked.txt", &file, READ)
        };
        assert!(f
            .line(&mlst)
            .starts_with("modify=20261124120000;perm=adfr;size=7;type=file;"));
        // Only names ended by ';' count; the reply keeps the order asked.
        assert_eq!(f.select("size;Type;bogus;perm"), "MLST OPTS size;type;");
        assert_eq!(f.line(&mlst), "size=7;type=file; /ro/locked.txt");
        assert!(f.feat_line().starts_with("MLST modify;perm;size*;type*;"));
        assert_eq!(f.select(""), "MLST OPTS");
        assert_eq!(f.line(&mlst), " /ro/locked.txt");
    }

    #[test]
    fn pure_ftpd_facts() {
        let mut f = Facts::new(FactStyle::PureFtpd);
        let dir = meta(FileKind::Dir, 4096, 0o755).with_owner("alice", "alice");
        let line = f.line(&Entry {
            in_mlsd: false,
            ..entry("/", &dir, ALL)
        });
        assert!(
            line.starts_with(
                "type=pdir;sizd=4096;modify=20261124120000;UNIX.mode=0755;\
                 UNIX.uid=1000;UNIX.gid=1000;unique=801g"
            ),
            "{line}"
        );
        assert_eq!(
            f.select("type;"),
            " MLST OPTS type;size;sizd;modify;UNIX.mode;UNIX.uid;UNIX.gid;unique;"
        );
        let file = meta(FileKind::File, 12, 0o644);
        assert!(f
            .line(&entry("a b", &file, ALL))
            .starts_with("type=file;size=12;"));
    }
}
