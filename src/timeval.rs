//! UTC calendar arithmetic for `MDTM`, `MFMT`, `LIST` and `MLSD` (RFC 3659
//! "time-val"), without a date library: the two conversions below are all the
//! protocol needs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A UTC date and time broken into fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

pub(crate) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs_f64().ceil() as i64),
    }
}

impl Civil {
    pub(crate) fn from_system_time(t: SystemTime) -> Civil {
        let secs = unix_secs(t);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400) as u32;
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem / 60 % 60,
            second: rem % 60,
        }
    }

    fn to_system_time(self) -> Option<SystemTime> {
        // Howard Hinnant's days_from_civil.
        let y = self.year - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        let secs = days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        let secs = u64::try_from(secs).ok()?;
        UNIX_EPOCH.checked_add(Duration::from_secs(secs))
    }
}

/// `YYYYMMDDHHMMSS`, UTC.
pub(crate) fn format(t: SystemTime) -> String {
    let c = Civil::from_system_time(t);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// A UTC time from fields as timegm(3) takes them: a month out of 1-12
/// (0, 13) moves the year, a day 0 is the month before's last; `None`
/// before 1970.
pub(crate) fn normalized(
    year: i64,
    month: i64,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
) -> Option<SystemTime> {
    let m0 = month - 1;
    Civil {
        year: year + m0.div_euclid(12),
        month: u32::try_from(m0.rem_euclid(12) + 1).ok()?,
        day,
        hour,
        minute,
        second,
    }
    .to_system_time()
}

/// True when `s` has a time-val's shape (fourteen digits, an optional
/// `.fraction`), whether or not it names a real date: tells "not a
/// time-val" from "no such date" (month 13) for the error reply.
pub(crate) fn is_shaped(s: &str) -> bool {
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    whole.len() == 14
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac
            .is_none_or(|f| !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()))
}

/// Parses `YYYYMMDDHHMMSS` with optional `.fraction` (RFC 3659 time-val).
/// Returns `None` for anything malformed or out of range.
pub(crate) fn parse(s: &str) -> Option<SystemTime> {
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some(f) = frac {
        if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let n = |a: usize, b: usize| whole[a..b].parse::<u32>().ok();
    let c = Civil {
        year: i64::from(n(0, 4)?),
        month: n(4, 6)?,
        day: n(6, 8)?,
        hour: n(8, 10)?,
        minute: n(10, 12)?,
        second: n(12, 14)?,
    };
    let leap = (c.year % 4 == 0 && c.year % 100 != 0) || c.year % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&c.month)
        || c.day == 0
        || c.day > month_days[c.month as usize - 1]
        || c.hour > 23
        || c.minute > 59
        || c.second > 60
    {
        return None;
    }
    let mut t = c.to_system_time()?;
    if let Some(f) = frac {
        let nanos: u32 = format!("{f:0<9}").parse().ok()?;
        t += Duration::from_nanos(u64::from(nanos));
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in [
            "19700101000000",
            "20000229123456",
            "20261124235959",
            "21000301000000",
        ] {
            assert_eq!(format(parse(s).unwrap()), s);
        }
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "2026112412345",
            "20261324000000",
            "20260230000000",
            "2026112425000x",
            "20261124250000",
            "20261124000000.",
        ] {
            assert_eq!(parse(s), None, "{s}");
        }
        assert!(parse("20261124000000.123").is_some());
    }
}
