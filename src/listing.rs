//! How `LIST`, `NLST`, `MLSD`, `MLST` and `STAT path` show entries.

use std::time::{Duration, SystemTime};

use crate::storage::{FileKind, Metadata};
use crate::timeval::{Civil, MONTHS};

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
    use crate::timeval;

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
}
