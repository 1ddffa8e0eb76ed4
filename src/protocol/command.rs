//! From a line of text to a typed [`Command`].
//!
//! Parsing checks syntax only (is there an argument, is `PORT` six numbers);
//! whether a command is allowed now is the session's business. The handlers
//! live in `command/`, one module per family, as methods on the session.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Every verb the engine implements, as HELP lists them (a custom command
/// replaces one of these only when it says so).
pub(crate) const IMPLEMENTED: &[&str] = &[
    "ABOR", "ACCT", "ALLO", "APPE", "AUTH", "CCC", "CDUP", "CWD", "DELE", "EPRT", "EPSV", "FEAT",
    "HELP", "HOST", "LIST", "MDTM", "MFF", "MFMT", "MKD", "MLSD", "MLST", "MODE", "NLST", "NOOP",
    "OPTS", "PASS", "PASV", "PBSZ", "PORT", "PROT", "PWD", "QUIT", "REIN", "REST", "RETR", "RMD",
    "RNFR", "RNTO", "SITE", "SIZE", "STAT", "STOR", "STOU", "STRU", "SYST", "TYPE", "USER", "XCUP",
    "XCWD", "XMKD", "XPWD", "XRMD",
];

/// Representation type set by `TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferType {
    /// `TYPE A`: line endings are converted (LF on disk, CRLF on the wire).
    Ascii,
    /// `TYPE I` (or `L 8`): bytes as they are.
    Binary,
}

/// The data-channel protection level set by `PROT`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Protection {
    /// `PROT C`: data connections in the clear.
    #[default]
    Clear,
    /// `PROT P`: every data connection is TLS.
    Private,
}

/// Which listing a data command asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListFormat {
    /// LIST: `ls -l` lines.
    Long,
    /// NLST: names only.
    Names,
    /// MLSD: RFC 3659 facts.
    Machine,
}

/// LIST and STAT accept `ls` flags (`-a`, `-la`…) before the path; they are
/// ignored (every entry is always listed).
pub(crate) fn strip_list_flags(arg: &str) -> &str {
    let mut rest = arg.trim_start();
    while rest.starts_with('-') {
        rest = rest
            .split_once(' ')
            .map(|(_, r)| r.trim_start())
            .unwrap_or("");
    }
    rest
}

/// A LIST or NLST argument's path as ProFTPD's mod_ls reads it: white
/// space before flags is skipped, but without flags the argument is the
/// path as sent (`LIST  x` names ` x`).
pub(crate) fn strip_list_flags_only(arg: &str) -> &str {
    if arg.trim_start().starts_with('-') {
        strip_list_flags(arg)
    } else {
        arg
    }
}

/// Whether the `ls` flags before a LIST path include `flag` (`-la` has
/// `a`): the engine ignores them, a personality's server may not.
pub(crate) fn has_list_flag(arg: &str, flag: char) -> bool {
    arg.split_whitespace()
        .take_while(|w| w.starts_with('-'))
        .any(|w| w.contains(flag))
}

/// One command from the client, with its arguments parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // each variant is the FTP verb of the same name
pub enum Command {
    User(String),
    Pass(String),
    Acct,
    Rein,
    Quit,
    Syst,
    Feat,
    Opts(String),
    Help(Option<String>),
    Stat(Option<String>),
    Noop,
    Host(String),
    Pwd,
    Cwd(String),
    Cdup,
    Mkd(String),
    Rmd(String),
    Dele(String),
    Rnfr(String),
    Rnto(String),
    Size(String),
    Mdtm(String),
    Mfmt {
        time: String,
        path: String,
    },
    /// `MFF facts path`: modify the facts of a file.
    Mff {
        facts: String,
        path: String,
    },
    Site(String),
    Type(TransferType),
    Mode,
    Stru,
    Allo,
    Rest(u64),
    Retr(String),
    Stor(String),
    Stou(Option<String>),
    Appe(String),
    Abor,
    Pasv,
    /// `EPSV`, `EPSV 1|2` (a protocol), or `EPSV ALL`.
    Epsv(EpsvArg),
    Port(SocketAddr),
    Eprt(SocketAddr),
    List(Option<String>),
    Nlst(Option<String>),
    Mlsd(Option<String>),
    Mlst(Option<String>),
    /// `AUTH TLS` / `AUTH SSL` (RFC 4217); the mechanism as sent.
    Auth(String),
    /// `PBSZ n`; the argument as sent.
    Pbsz(String),
    /// `PROT C|S|E|P`; the level as sent.
    Prot(String),
    /// `CCC`: clear the control channel.
    Ccc,
}

/// The argument of `EPSV`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpsvArg {
    /// No argument: the protocol of the control connection.
    Any,
    /// `EPSV 1` (IPv4) or `EPSV 2` (IPv6).
    Protocol(u8),
    /// `EPSV ALL`: from now on only EPSV may set up data connections.
    All,
}

/// Why a line is not a command we can run; each maps onto a reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Empty line or unknown verb (500).
    #[error("Unknown command")]
    Unknown,
    /// A verb from the RFCs that this server does not implement (502).
    #[error("Command not implemented")]
    NotImplemented,
    /// The argument is missing or malformed (501).
    #[error("{0}")]
    Syntax(&'static str),
    /// The argument is well formed but not supported (504).
    #[error("{0}")]
    Unsupported(&'static str),
    /// EPRT named a network protocol we do not speak (522).
    #[error("Network protocol not supported, use (1,2)")]
    Protocol,
}

impl ParseError {
    /// The reply code for this error.
    pub fn code(&self) -> u16 {
        match self {
            ParseError::Unknown => 500,
            ParseError::NotImplemented => 502,
            ParseError::Syntax(_) => 501,
            ParseError::Unsupported(_) => 504,
            ParseError::Protocol => 522,
        }
    }
}

/// Splits a line into its upper-cased verb and its argument (everything after
/// the first space, kept as sent so file names may hold spaces).
///
/// The verb is borrowed when it arrived upper-cased, as it nearly always
/// does: every command line goes through here, twice.
pub fn split(line: &str) -> (Cow<'_, str>, Option<&str>) {
    let (verb, arg) = match line.split_once(' ') {
        Some((verb, arg)) => (verb, Some(arg).filter(|a| !a.is_empty())),
        None => (line, None),
    };
    let verb = if verb.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Owned(verb.to_ascii_uppercase())
    } else {
        Cow::Borrowed(verb)
    };
    (verb, arg)
}

impl Command {
    /// Parses one line (CRLF already removed).
    pub fn parse(line: &str) -> Result<Command, ParseError> {
        let (verb, arg) = split(line);
        let need = |arg: Option<&str>| {
            arg.map(str::to_string)
                .ok_or(ParseError::Syntax("Syntax error: argument required"))
        };
        let none = |arg: Option<&str>| match arg {
            None => Ok(()),
            Some(_) => Err(ParseError::Syntax("Syntax error: no argument expected")),
        };
        let opt = |arg: Option<&str>| arg.map(str::to_string);
        Ok(match &*verb {
            "USER" => Command::User(need(arg)?),
            "PASS" => Command::Pass(arg.unwrap_or_default().to_string()),
            "ACCT" => Command::Acct,
            "REIN" => none(arg).map(|_| Command::Rein)?,
            "QUIT" => Command::Quit,
            "SYST" => Command::Syst,
            "FEAT" => Command::Feat,
            "OPTS" => Command::Opts(need(arg)?),
            "HELP" => Command::Help(opt(arg)),
            "STAT" => Command::Stat(opt(arg)),
            "NOOP" => Command::Noop,
            "HOST" => Command::Host(need(arg)?),
            "PWD" | "XPWD" => Command::Pwd,
            "CWD" | "XCWD" => Command::Cwd(need(arg)?),
            "CDUP" | "XCUP" => Command::Cdup,
            "MKD" | "XMKD" => Command::Mkd(need(arg)?),
            "RMD" | "XRMD" => Command::Rmd(need(arg)?),
            "DELE" => Command::Dele(need(arg)?),
            "RNFR" => Command::Rnfr(need(arg)?),
            "RNTO" => Command::Rnto(need(arg)?),
            "SIZE" => Command::Size(need(arg)?),
            "MDTM" => Command::Mdtm(need(arg)?),
            "MFMT" => {
                let (time, path) = need(arg)?
                    .split_once(' ')
                    .map(|(t, p)| (t.to_string(), p.to_string()))
                    .ok_or(ParseError::Syntax("Syntax: MFMT YYYYMMDDHHMMSS path"))?;
                Command::Mfmt { time, path }
            }
            "MFF" => {
                let (facts, path) = need(arg)?
                    .split_once(' ')
                    .map(|(f, p)| (f.to_string(), p.to_string()))
                    .ok_or(ParseError::Syntax("Syntax: MFF fact=value;... path"))?;
                Command::Mff { facts, path }
            }
            "SITE" => Command::Site(need(arg)?),
            "TYPE" => Command::Type(parse_type(&need(arg)?)?),
            "MODE" => match need(arg)?.to_ascii_uppercase().as_str() {
                "S" => Command::Mode,
                "B" | "C" | "Z" => return Err(ParseError::Unsupported("Only MODE S is supported")),
                _ => return Err(ParseError::Syntax("Unknown transfer mode")),
            },
            "STRU" => match need(arg)?.to_ascii_uppercase().as_str() {
                "F" => Command::Stru,
                "R" | "P" => return Err(ParseError::Unsupported("Only STRU F is supported")),
                _ => return Err(ParseError::Syntax("Unknown file structure")),
            },
            "ALLO" => Command::Allo,
            "REST" => Command::Rest(
                need(arg)?
                    .trim()
                    .parse()
                    .map_err(|_| ParseError::Syntax("REST needs a byte offset"))?,
            ),
            "RETR" => Command::Retr(need(arg)?),
            "STOR" => Command::Stor(need(arg)?),
            "STOU" => Command::Stou(opt(arg)),
            "APPE" => Command::Appe(need(arg)?),
            "ABOR" => Command::Abor,
            "PASV" => none(arg).map(|_| Command::Pasv)?,
            "EPSV" => Command::Epsv(match arg.map(str::trim) {
                None => EpsvArg::Any,
                Some(a) if a.eq_ignore_ascii_case("ALL") => EpsvArg::All,
                Some("1") => EpsvArg::Protocol(1),
                Some("2") => EpsvArg::Protocol(2),
                Some(a) if a.parse::<u8>().is_ok() => return Err(ParseError::Protocol),
                Some(_) => return Err(ParseError::Syntax("Syntax: EPSV [1|2|ALL]")),
            }),
            "PORT" => Command::Port(parse_port(&need(arg)?)?),
            "EPRT" => Command::Eprt(parse_eprt(&need(arg)?)?),
            "LIST" => Command::List(opt(arg)),
            "NLST" => Command::Nlst(opt(arg)),
            "MLSD" => Command::Mlsd(opt(arg)),
            "MLST" => Command::Mlst(opt(arg)),
            "AUTH" => Command::Auth(need(arg)?),
            "PBSZ" => Command::Pbsz(need(arg)?),
            "PROT" => Command::Prot(need(arg)?),
            "CCC" => none(arg).map(|_| Command::Ccc)?,
            "SMNT" | "MIC" | "CONF" | "ENC" | "LANG" | "LPRT" | "LPSV" | "SPSV" => {
                return Err(ParseError::NotImplemented)
            }
            _ => return Err(ParseError::Unknown),
        })
    }

    /// True for the commands a client may send before logging in.
    pub fn allowed_before_login(&self) -> bool {
        matches!(
            self,
            Command::User(_)
                | Command::Pass(_)
                | Command::Quit
                | Command::Noop
                | Command::Syst
                | Command::Feat
                | Command::Help(_)
                | Command::Opts(_)
                | Command::Host(_)
                | Command::Acct
                | Command::Rein
                | Command::Auth(_)
                | Command::Pbsz(_)
                | Command::Prot(_)
                | Command::Ccc
        )
    }
}

fn parse_type(arg: &str) -> Result<TransferType, ParseError> {
    let mut parts = arg.split_whitespace().map(|p| p.to_ascii_uppercase());
    let kind = parts.next().ok_or(ParseError::Syntax("Syntax: TYPE A|I"))?;
    let param = parts.next();
    match (kind.as_str(), param.as_deref()) {
        ("A", None | Some("N")) => Ok(TransferType::Ascii),
        ("A", Some("T" | "C")) => Err(ParseError::Unsupported(
            "Only non-print format is supported",
        )),
        ("I", None) | ("L", Some("8")) => Ok(TransferType::Binary),
        ("L", Some(_)) => Err(ParseError::Unsupported("Only byte size 8 is supported")),
        ("E", _) => Err(ParseError::Unsupported("EBCDIC is not supported")),
        _ => Err(ParseError::Syntax("Syntax: TYPE A|I")),
    }
}

/// `h1,h2,h3,h4,p1,p2` (RFC 959).
fn parse_port(arg: &str) -> Result<SocketAddr, ParseError> {
    const BAD: ParseError = ParseError::Syntax("Syntax: PORT h1,h2,h3,h4,p1,p2");
    let nums: Vec<u8> = arg
        .trim()
        .split(',')
        .map(|n| n.trim().parse::<u8>())
        .collect::<Result<_, _>>()
        .map_err(|_| BAD)?;
    let [a, b, c, d, p1, p2] = nums[..] else {
        return Err(BAD);
    };
    Ok(SocketAddr::new(
        IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
        u16::from_be_bytes([p1, p2]),
    ))
}

/// `<d>proto<d>addr<d>port<d>` (RFC 2428), any printable delimiter.
fn parse_eprt(arg: &str) -> Result<SocketAddr, ParseError> {
    const BAD: ParseError = ParseError::Syntax("Syntax: EPRT |proto|address|port|");
    let arg = arg.trim();
    let delim = arg
        .chars()
        .next()
        .filter(|c| ('!'..='~').contains(c))
        .ok_or(BAD)?;
    let fields: Vec<&str> = arg.split(delim).collect();
    let ["", proto, addr, port, ""] = fields[..] else {
        return Err(BAD);
    };
    let port: u16 = port.parse().map_err(|_| BAD)?;
    let ip: IpAddr = match proto {
        "1" => IpAddr::V4(addr.parse().map_err(|_| BAD)?),
        "2" => IpAddr::V6(addr.parse().map_err(|_| BAD)?),
        _ => return Err(ParseError::Protocol),
    };
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_are_case_insensitive_and_args_kept() {
        assert_eq!(
            Command::parse("retr my file.txt"),
            Ok(Command::Retr("my file.txt".into()))
        );
        assert_eq!(Command::parse("XPWD"), Ok(Command::Pwd));
        assert_eq!(
            Command::parse("RETR"),
            Err(ParseError::Syntax("Syntax error: argument required"))
        );
        assert_eq!(Command::parse("BOGUS"), Err(ParseError::Unknown));
        assert_eq!(Command::parse(""), Err(ParseError::Unknown));
        assert_eq!(Command::parse("SMNT x").unwrap_err().code(), 502);
    }

    #[test]
    fn port_and_eprt() {
        assert_eq!(
            Command::parse("PORT 127,0,0,1,4,1"),
            Ok(Command::Port("127.0.0.1:1025".parse().unwrap()))
        );
        assert_eq!(Command::parse("PORT 127,0,0,1,4").unwrap_err().code(), 501);
        assert_eq!(
            Command::parse("PORT 300,0,0,1,4,1").unwrap_err().code(),
            501
        );
        assert_eq!(
            Command::parse("EPRT |2|::1|5282|"),
            Ok(Command::Eprt("[::1]:5282".parse().unwrap()))
        );
        assert_eq!(
            Command::parse("EPRT !1!127.0.0.1!80!"),
            Ok(Command::Eprt("127.0.0.1:80".parse().unwrap()))
        );
        assert_eq!(Command::parse("EPRT |3|x|1|").unwrap_err().code(), 522);
        assert_eq!(Command::parse("EPRT |1|::1|1|").unwrap_err().code(), 501);
    }

    #[test]
    fn type_mode_stru() {
        assert_eq!(
            Command::parse("TYPE a"),
            Ok(Command::Type(TransferType::Ascii))
        );
        assert_eq!(
            Command::parse("TYPE L 8"),
            Ok(Command::Type(TransferType::Binary))
        );
        assert_eq!(Command::parse("TYPE E").unwrap_err().code(), 504);
        assert_eq!(Command::parse("TYPE Q").unwrap_err().code(), 501);
        assert_eq!(Command::parse("MODE B").unwrap_err().code(), 504);
        assert_eq!(Command::parse("STRU R").unwrap_err().code(), 504);
        assert_eq!(Command::parse("EPSV ALL"), Ok(Command::Epsv(EpsvArg::All)));
        assert_eq!(Command::parse("EPSV 7").unwrap_err().code(), 522);
    }
}
