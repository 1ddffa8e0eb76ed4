//! Quirks of real servers: rewrites of replies and listings that break
//! naive client parsers.

use std::net::IpAddr;

use super::{Fired, Quirk};
use crate::protocol::ListFormat;
use crate::protocol::Reply;
use crate::storage::Metadata;

/// Rewrites a reply as the quirks of the current command say. `local` is
/// the server's address on the control connection (for EPSV as 227).
pub(crate) fn rewrite_reply(fired: &Fired, reply: Reply, local: IpAddr) -> Reply {
    let mut reply = reply;
    if fired.has(Quirk::EpsvAs227) && reply.code == 229 {
        if let Some(port) = epsv_port(&reply.lines[0]) {
            let octets = match local.to_canonical() {
                IpAddr::V4(v4) => v4.octets(),
                IpAddr::V6(_) => [127, 0, 0, 1],
            };
            let [p1, p2] = port.to_be_bytes();
            reply = Reply::new(
                227,
                format!(
                    "Entering Passive Mode ({},{},{},{},{p1},{p2})",
                    octets[0], octets[1], octets[2], octets[3]
                ),
            );
        }
    }
    if fired.has(Quirk::EpsvTrailingPeriod) && reply.code == 229 {
        reply.lines[0].push('.');
    }
    if fired.has(Quirk::PasvOutOfRange) && reply.code == 227 {
        let text = &reply.lines[0];
        if let (Some(open), Some(close)) = (text.find('('), text.rfind(')')) {
            let nums: Vec<u32> = text[open + 1..close]
                .split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect();
            if nums.len() == 6 {
                // Each address octet pushed past 255, as some broken
                // servers (and NAT boxes) have sent.
                let shown: Vec<String> = nums
                    .iter()
                    .enumerate()
                    .map(|(i, n)| if i < 4 { n + 256 } else { *n }.to_string())
                    .collect();
                reply.lines[0] = format!(
                    "{}({}){}",
                    &text[..open],
                    shown.join(","),
                    &text[close + 1..]
                );
            }
        }
    }
    if fired.has(Quirk::MultilineMismatch) && reply.code >= 200 {
        let other = if reply.code % 10 == 9 {
            reply.code - 1
        } else {
            reply.code + 1
        };
        let mut lines = reply.wire_lines();
        if lines.len() == 1 {
            lines[0].replace_range(3..4, "-");
            lines.push(format!("{other} End"));
        } else if let Some(last) = lines.last_mut() {
            last.replace_range(..3, &other.to_string());
        }
        return Reply::raw(reply.code, lines);
    }
    reply
}

fn epsv_port(text: &str) -> Option<u16> {
    let start = text.find("(|||")? + 4;
    let end = text[start..].find('|')? + start;
    text[start..end].parse().ok()
}

/// Rewrites a listing as the quirks of the current command say.
pub(crate) fn rewrite_listing(
    fired: &Fired,
    format: ListFormat,
    entries: &[(String, Metadata)],
    listing: Vec<u8>,
) -> Vec<u8> {
    let mut out = listing;
    if format == ListFormat::Long && fired.has(Quirk::DosListing) {
        out = Vec::new();
        for (name, m) in entries {
            out.extend(crate::listing::dos_line(name, m).as_bytes());
            out.extend(b"\r\n");
        }
    }
    if format == ListFormat::Long && fired.has(Quirk::GarbageListing) {
        out = Vec::new();
        for (name, _) in entries {
            out.extend(format!("?? {name} ??? no listing format at all\r\n").as_bytes());
        }
        out.extend(b"total: who knows\r\n");
    }
    if fired.has(Quirk::NonUtf8Names) {
        // "café.txt" in Latin-1: the byte E9 alone is not UTF-8.
        let name: &[u8] = b"caf\xe9.txt";
        match format {
            ListFormat::Long => {
                out.extend(b"-rw-r--r--   1 ftp      ftp             4 Jan 01  2020 ");
            }
            ListFormat::Machine => out.extend(b"type=file;size=4;modify=20200101000000; "),
            ListFormat::Names => {}
        }
        out.extend(name);
        out.extend(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fired(q: Quirk) -> Fired {
        Fired {
            quirks: vec![q],
            ..Fired::default()
        }
    }

    #[test]
    fn reply_quirks() {
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let epsv = Reply::new(229, "Entering Extended Passive Mode (|||50000|)");
        let r = rewrite_reply(&fired(Quirk::EpsvAs227), epsv.clone(), local);
        assert_eq!(
            r.wire_lines(),
            ["227 Entering Passive Mode (127,0,0,1,195,80)"]
        );
        let r = rewrite_reply(&fired(Quirk::EpsvTrailingPeriod), epsv, local);
        assert_eq!(
            r.wire_lines(),
            ["229 Entering Extended Passive Mode (|||50000|)."]
        );
        let pasv = Reply::new(227, "Entering Passive Mode (127,0,0,1,195,80).");
        let r = rewrite_reply(&fired(Quirk::PasvOutOfRange), pasv, local);
        assert_eq!(
            r.wire_lines(),
            ["227 Entering Passive Mode (383,256,256,257,195,80)."]
        );
        let feat = Reply::multi(211, "Features:", vec![" SIZE".into()], "End");
        let r = rewrite_reply(&fired(Quirk::MultilineMismatch), feat, local);
        assert_eq!(r.wire_lines(), ["211-Features:", "  SIZE", "212 End"]);
        let one = Reply::new(250, "OK");
        let r = rewrite_reply(&fired(Quirk::MultilineMismatch), one, local);
        assert_eq!(r.wire_lines(), ["250-OK", "251 End"]);
    }
}
