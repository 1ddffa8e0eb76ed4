//! The personalities' data.
//!
//! vsftpd, ProFTPD and Pure-FTPd: from their golden transcripts in
//! `fixtures/personalities/` (Debian's vsftpd 3.0.3, proftpd-basic 1.3.8,
//! pure-ftpd 1.0.50, recorded on 2026-11-25 with `tools/record-personality`;
//! configurations in `tools/personality-configs/`). Each rule maps the
//! engine's reply for a (verb, code) to what that server sends.
//!
//! IIS and FileZilla Server cannot run here: their data follows their
//! documentation, cited beside each profile.

use super::gate::{Gate, Relogin};
use super::{Block, ListStyle, Profile, Rule, When};

const fn r(verb: &'static str, code: u16, to: u16, text: &'static str) -> Rule {
    Rule {
        verb,
        code,
        when: When::Always,
        to,
        text,
    }
}

const fn rw(verb: &'static str, code: u16, when: When, to: u16, text: &'static str) -> Rule {
    Rule {
        verb,
        code,
        when,
        to,
        text,
    }
}

/// The RFC 959 verbs every Unix server here knows, plus the extensions
/// each adds.
const CORE: &[&str] = &[
    "ABOR", "ACCT", "ALLO", "APPE", "CDUP", "CWD", "DELE", "EPRT", "EPSV", "FEAT", "HELP", "LIST",
    "MDTM", "MKD", "MODE", "NLST", "NOOP", "OPTS", "PASS", "PASV", "PORT", "PWD", "QUIT", "REIN",
    "REST", "RETR", "RMD", "RNFR", "RNTO", "SITE", "SIZE", "STAT", "STOR", "STOU", "STRU", "SYST",
    "TYPE", "USER", "XCUP", "XCWD", "XMKD", "XPWD", "XRMD", "AUTH", "PBSZ", "PROT",
];

const WITH_MLST: &[&str] = &[
    "ABOR", "ACCT", "ALLO", "APPE", "CDUP", "CWD", "DELE", "EPRT", "EPSV", "FEAT", "HELP", "LIST",
    "MDTM", "MKD", "MODE", "NLST", "NOOP", "OPTS", "PASS", "PASV", "PORT", "PWD", "QUIT", "REIN",
    "REST", "RETR", "RMD", "RNFR", "RNTO", "SITE", "SIZE", "STAT", "STOR", "STOU", "STRU", "SYST",
    "TYPE", "USER", "XCUP", "XCWD", "XMKD", "XPWD", "XRMD", "AUTH", "PBSZ", "PROT", "MLSD", "MLST",
    "MFMT", "HOST", "CCC",
];

/// Pure-FTPd 1.0.50's verbs: no REIN, SMNT or HOST (`500 Unknown
/// command`), PRET besides MLSD and MLST.
const PURE_VERBS: &[&str] = &[
    "ABOR", "ACCT", "ALLO", "APPE", "CDUP", "CWD", "DELE", "EPRT", "EPSV", "FEAT", "HELP", "LIST",
    "MDTM", "MKD", "MODE", "NLST", "NOOP", "OPTS", "PASS", "PASV", "PORT", "PWD", "QUIT", "REST",
    "RETR", "RMD", "RNFR", "RNTO", "SITE", "SIZE", "STAT", "STOR", "STOU", "STRU", "SYST", "TYPE",
    "USER", "XCUP", "XCWD", "XMKD", "XPWD", "XRMD", "AUTH", "PBSZ", "PROT", "MLSD", "MLST", "MFMT",
    "CCC", "PRET",
];

pub(super) static VSFTPD: Profile = Profile {
    greeting: &["(vsFTPd 3.0.3)"],
    syst: "UNIX Type: L8",
    feat: Block {
        first: "Features:",
        lines: &[
            "EPRT",
            "EPSV",
            "MDTM",
            "PASV",
            "REST STREAM",
            "SIZE",
            "TVFS",
        ],
        last: "End",
    },
    help: Block {
        first: "The following commands are recognized.",
        lines: &[
            "ABOR ACCT ALLO APPE CDUP CWD  DELE EPRT EPSV FEAT HELP LIST MDTM MKD",
            "MODE NLST NOOP OPTS PASS PASV PORT PWD  QUIT REIN REST RETR RMD  RNFR",
            "RNTO SITE SIZE SMNT STAT STOR STOU STRU SYST TYPE USER XCUP XCWD XMKD",
            "XPWD XRMD",
        ],
        last: "Help OK.",
    },
    site_help: Block {
        first: "CHMOD UMASK HELP",
        lines: &[],
        last: "",
    },
    stat: "FTP server status:",
    verbs: CORE,
    unknown: (500, "Unknown command."),
    rules: &[
        r("PASS", 530, 530, "Login incorrect."),
        r("*", 530, 530, "Please login with USER and PASS."),
        r("USER", 331, 331, "Please specify the password."),
        r("PASS", 230, 230, "Login successful."),
        r("CWD", 250, 250, "Directory successfully changed."),
        r("CDUP", 250, 250, "Directory successfully changed."),
        r("CWD", 550, 550, "Failed to change directory."),
        r("CWD", 501, 550, "Failed to change directory."),
        rw(
            "TYPE",
            200,
            When::Has("to I"),
            200,
            "Switching to Binary mode.",
        ),
        rw(
            "TYPE",
            200,
            When::Has("to A"),
            200,
            "Switching to ASCII mode.",
        ),
        r("TYPE", 501, 500, "Unrecognised TYPE command."),
        r("TYPE", 504, 500, "Unrecognised TYPE command."),
        r("PASV", 227, 227, "{text}."),
        r("RETR", 150, 150, "{text}."),
        r("RETR", 550, 550, "Failed to open file."),
        r("RETR", 501, 550, "Failed to open file."),
        r("MDTM", 550, 550, "Could not get file modification time."),
        r("MKD", 550, 550, "Create directory operation failed."),
        r("RMD", 250, 250, "Remove directory operation successful."),
        r("RMD", 550, 550, "Remove directory operation failed."),
        r("LIST", 150, 150, "Here comes the directory listing."),
        r("NLST", 150, 150, "Here comes the directory listing."),
        r("LIST", 226, 226, "Directory send OK."),
        r("NLST", 226, 226, "Directory send OK."),
        r("STOR", 150, 150, "Ok to send data."),
        r("APPE", 150, 150, "Ok to send data."),
        r("STOR", 553, 553, "Could not create file."),
        r("APPE", 553, 553, "Could not create file."),
        r("*", 226, 226, "Transfer complete."),
        r("REST", 350, 350, "Restart position accepted ({arg})."),
        r("RNFR", 350, 350, "Ready for RNTO."),
        r("RNTO", 250, 250, "Rename successful."),
        r("RNFR", 550, 550, "RNFR command failed."),
        r("RNTO", 503, 503, "RNFR required first."),
        r("DELE", 250, 250, "Delete operation successful."),
        r("DELE", 550, 550, "Delete operation failed."),
        r("MODE", 200, 200, "Mode set to S."),
        r("MODE", 504, 504, "Bad MODE command."),
        r("STRU", 200, 200, "Structure set to F."),
        r("STRU", 504, 504, "Bad STRU command."),
        r("OPTS", 200, 200, "Always in UTF8 mode."),
        r("STAT", 213, 213, "Status follows:"),
        r("NOOP", 200, 200, "NOOP ok."),
        r("ALLO", 202, 202, "ALLO command ignored."),
        r("ABOR", 225, 225, "No transfer to ABOR."),
        r("PORT", 501, 500, "Illegal PORT command."),
        rw(
            "SITE",
            200,
            When::Has("CHMOD"),
            200,
            "SITE CHMOD command ok.",
        ),
        r("QUIT", 221, 221, "Goodbye."),
    ],
    list: ListStyle::Unix { links: 4, size: 8 },
    size_ascii: None,
    converted_size: false,
    appe: None,
    // ascii_download_enable=NO: TYPE A is accepted, bytes go as they are.
    ascii_data: false,
    nlst_paths: true,
    dot_entries: false,
    // vsftpd's prelogin.c: USER, PASS, QUIT, FEAT and OPTS (AUTH, PBSZ,
    // PROT with ssl_enable); anything else, known or not, is 530.
    gate: Some(Gate {
        login_before_unknown: true,
        before_login: &["USER", "PASS", "QUIT", "FEAT", "OPTS"],
        before_login_tls: &["AUTH", "PBSZ", "PROT"],
        login_needed: (530, "Please login with USER and PASS."),
        not_implemented: &[
            ("ACCT", 502, "ACCT not implemented."),
            ("SMNT", 502, "SMNT not implemented."),
            ("REIN", 502, "REIN not implemented."),
        ],
        without_tls: &[
            ("AUTH", 500, "Unknown command."),
            ("PBSZ", 550, "Permission denied."),
            ("PROT", 550, "Permission denied."),
        ],
        relogin: Relogin {
            same: Some((331, "Any password will do.")),
            other: (530, "Can't change to another user."),
            pass: (230, "Already logged in."),
        },
    }),
};

pub(super) static PROFTPD: Profile = Profile {
    greeting: &["ProFTPD Server (Debian) [{host}]"],
    syst: "UNIX Type: L8",
    feat: Block {
        first: "Features:",
        lines: &[
            "CLNT",
            "CSID",
            "EPRT",
            "EPSV",
            "HOST",
            "LANG C.UTF-8*",
            "MDTM",
            "MFF modify;UNIX.group;UNIX.mode;",
            "MFMT",
            "MLST modify*;perm*;size*;type*;unique*;UNIX.group*;UNIX.groupname*;UNIX.mode*;UNIX.owner*;UNIX.ownername*;",
            "RANG STREAM",
            "REST STREAM",
            "SITE COPY",
            "SITE MKDIR",
            "SITE RMDIR",
            "SITE SYMLINK",
            "SITE UTIME",
            "SIZE",
            "TVFS",
            "UTF8",
        ],
        last: "End",
    },
    help: Block {
        first: "The following commands are recognized (* =>'s unimplemented):",
        lines: &[
            "CWD     XCWD    CDUP    XCUP    SMNT*   QUIT    PORT    PASV    ",
            "EPRT    EPSV    ALLO    RNFR    RNTO    DELE    MDTM    RMD     ",
            "XRMD    MKD     XMKD    PWD     XPWD    SIZE    SYST    HELP    ",
            "NOOP    FEAT    OPTS    HOST    CLNT    AUTH*   CCC*    CONF*   ",
            "ENC*    MIC*    PBSZ*   PROT*   TYPE    STRU    MODE    RETR    ",
            "STOR    STOU    APPE    REST    ABOR    RANG    USER    PASS    ",
            "ACCT*   REIN*   LIST    NLST    STAT    SITE    MLSD    MLST    ",
        ],
        last: "Direct comments to root@localhost",
    },
    site_help: Block {
        first: "The following SITE commands are recognized (* =>'s unimplemented)",
        lines: &["UTIME <sp> YYYYMMDDhhmm[ss] <sp> path", "HELP", "CHMOD"],
        last: "Direct comments to root@localhost",
    },
    stat: "Status of 'Debian'",
    verbs: WITH_MLST,
    unknown: (500, "{verb} not understood"),
    rules: &[
        r("PASS", 530, 530, "Login incorrect."),
        r("CWD", 250, 250, "CWD command successful"),
        r("CDUP", 250, 250, "CDUP command successful"),
        r("CWD", 550, 550, "{arg}: No such file or directory"),
        r("CWD", 501, 501, "Invalid number of parameters"),
        r("RETR", 501, 500, "'RETR' not understood"),
        rw("TYPE", 200, When::Has("to I"), 200, "Type set to I"),
        rw("TYPE", 200, When::Has("to A"), 200, "Type set to A"),
        r("TYPE", 501, 504, "TYPE not implemented for '{arg}' parameter"),
        r("PASV", 227, 227, "{text}."),
        r("MKD", 257, 257, "\"{abs}\" - Directory successfully created"),
        rw("*", 550, When::Has("File exists"), 550, "{arg}: File exists"),
        rw("*", 550, When::Has("Permission denied"), 550, "{arg}: Permission denied"),
        rw("*", 553, When::Has("Permission denied"), 550, "{arg}: Permission denied"),
        rw("*", 550, When::Has("No such file"), 550, "{arg}: No such file or directory"),
        r("RMD", 250, 250, "RMD command successful"),
        r("LIST", 150, 150, "Opening BINARY mode data connection for file list"),
        r("NLST", 150, 150, "Opening BINARY mode data connection for file list"),
        r("MLSD", 150, 150, "Opening BINARY mode data connection for MLSD"),
        r("STOR", 150, 150, "Opening BINARY mode data connection for {arg}"),
        r("*", 226, 226, "Transfer complete"),
        r("REST", 350, 350, "Restarting at {arg}. Send STORE or RETRIEVE to initiate transfer"),
        r("RNFR", 350, 350, "File or directory exists, ready for destination name"),
        r("RNTO", 250, 250, "Rename successful"),
        r("RNTO", 503, 503, "Bad sequence of commands"),
        r("DELE", 250, 250, "DELE command successful"),
        r("MODE", 504, 501, "'MODE {arg}' unrecognized transfer mode"),
        r("STRU", 504, 504, "'STRU {arg}' unsupported structure type"),
        r("OPTS", 200, 200, "UTF8 set to on"),
        r("MLST", 250, 250, "Start of list for {arg}\n{text}\nEnd of list"),
        r("STAT", 213, 213, "Status of {arg}:"),
        r("NOOP", 200, 200, "NOOP command successful"),
        r("ALLO", 202, 202, "No storage allocation necessary"),
        r("ABOR", 225, 226, "Abort successful"),
        r("PORT", 501, 501, "Illegal PORT command"),
        rw("SITE", 200, When::Has("CHMOD"), 200, "SITE CHMOD command successful"),
        r("QUIT", 221, 221, "Goodbye."),
    ],
    list: ListStyle::Unix { links: 3, size: 8 },
    // "SIZE not allowed in ASCII mode" (ProFTPD refuses to read the
    // file to count the converted size).
    size_ascii: Some((550, "SIZE not allowed in ASCII mode")),
    converted_size: true,
    appe: Some((451, "{arg}: Append/Restart not permitted, try again")),
    ascii_data: true,
    nlst_paths: true,
    dot_entries: false,
    // ProFTPD: an unknown verb is "not understood" before anything else;
    // the commands of mod_core and mod_lang that need no login answer
    // before it; ACCT, REIN and SMNT are named and refused. Without
    // mod_tls the TLS verbs are unknown.
    gate: Some(Gate {
        login_before_unknown: false,
        before_login: &[
            "USER", "PASS", "QUIT", "FEAT", "HELP", "LANG", "NOOP", "OPTS", "SYST", "TYPE",
            "ACCT", "REIN", "AUTH", "PBSZ", "PROT", "CCC", "HOST", "CLNT",
        ],
        before_login_tls: &[],
        login_needed: (530, "Please login with USER and PASS"),
        not_implemented: &[
            ("ACCT", 502, "ACCT command not implemented"),
            ("SMNT", 502, "SMNT command not implemented"),
            ("REIN", 502, "REIN command not implemented"),
        ],
        without_tls: &[
            ("AUTH", 500, "AUTH not understood"),
            ("PBSZ", 500, "PBSZ not understood"),
            ("PROT", 500, "PROT not understood"),
            ("CCC", 500, "CCC not understood"),
        ],
        relogin: Relogin {
            same: Some((230, "User {user} logged in")),
            other: (501, "Reauthentication not supported"),
            pass: (503, "You are already logged in"),
        },
    }),
};

pub(super) static PURE_FTPD: Profile = Profile {
    greeting: &[
        "--------- Welcome to Pure-FTPd [privsep] [TLS] ----------",
        "You are user number 1 of 50 allowed.",
        "This is a private system - No anonymous login",
        "You will be disconnected after 15 minutes of inactivity.",
    ],
    syst: "UNIX Type: L8",
    feat: Block {
        first: "Extensions supported:",
        lines: &[
            "UTF8",
            "EPRT",
            "IDLE",
            "MDTM",
            "SIZE",
            "MFMT",
            "REST STREAM",
            "MLST type*;size*;sizd*;modify*;UNIX.mode*;UNIX.uid*;UNIX.gid*;unique*;",
            "MLSD",
            "PRET",
            "AUTH TLS",
            "PBSZ",
            "PROT",
            "TVFS",
            "ESTA",
            "PASV",
            "EPSV",
        ],
        last: "End.",
    },
    help: Block {
        first: "The following SITE commands are recognized",
        lines: &["ALIAS", "CHMOD", "IDLE", "UTIME"],
        last: "Pure-FTPd - http://pureftpd.org/",
    },
    site_help: Block {
        first: "The following SITE commands are recognized",
        lines: &["ALIAS", "CHMOD", "IDLE", "UTIME"],
        last: "Pure-FTPd - http://pureftpd.org/",
    },
    stat: "https://www.pureftpd.org/",
    verbs: PURE_VERBS,
    unknown: (500, "Unknown command"),
    rules: &[
        r("PASS", 530, 530, "Login authentication failed"),
        r("*", 530, 530, "You aren't logged in"),
        r("USER", 331, 331, "User {arg} OK. Password required"),
        r("PASS", 230, 230, "OK. Current restricted directory is {cwd}"),
        r("PWD", 257, 257, "\"{cwd}\" is your current location"),
        r("CWD", 250, 250, "OK. Current directory is {cwd}"),
        r("CDUP", 250, 250, "OK. Current directory is {cwd}"),
        r("CWD", 501, 250, "OK. Current directory is {cwd}"),
        r("CWD", 550, 550, "Can't change directory to {arg}: No such file or directory"),
        rw("TYPE", 200, When::Has("to I"), 200, "TYPE is now 8-bit binary"),
        rw("TYPE", 200, When::Has("to A"), 200, "TYPE is now ASCII"),
        r("TYPE", 501, 504, "Unknown TYPE: {arg}\nTYPE is now ASCII"),
        r("PASV", 227, 227, "{text}"),
        r("EPSV", 229, 229, "Extended Passive mode OK {paren}"),
        r("MDTM", 550, 550, "Can't check for file existence"),
        r("MKD", 257, 257, "\"{arg}\" : The directory was successfully created"),
        rw("MKD", 550, When::Has("File exists"), 550, "Can't create directory: File exists"),
        rw("MKD", 550, When::Has("Permission"), 550, "Can't create directory: Permission denied"),
        r("RMD", 250, 250, "The directory was successfully removed"),
        r("RMD", 550, 550, "Can't remove directory: No such file or directory"),
        r("*", 150, 150, "Accepted data connection"),
        r("LIST", 226, 226, "Options: -l \n{count} matches total"),
        r("NLST", 226, 226, "{count} matches total"),
        r("MLSD", 226, 226, "{count} matches total"),
        rw(
            "RETR",
            226,
            When::Ascii,
            226,
            "Warning: client is in ASCII mode - Assuming data is plain text\nFile successfully transferred\n0.000 seconds (measured here), 0 Kbytes per second",
        ),
        r(
            "*",
            226,
            226,
            "File successfully transferred\n0.000 seconds (measured here), 0 Kbytes per second",
        ),
        r("RETR", 550, 550, "Can't open {arg}: No such file or directory"),
        r("RETR", 501, 501, "No file name"),
        r("STOR", 553, 553, "Can't open that file: Permission denied"),
        r("REST", 350, 350, "Restarting at {arg}"),
        r("RNFR", 350, 350, "RNFR accepted - file exists, ready for destination"),
        r("RNTO", 250, 250, "File successfully renamed or moved"),
        r("RNFR", 550, 550, "Sorry, but that file doesn't exist"),
        r("RNTO", 503, 503, "Need RNFR before RNTO"),
        r("DELE", 250, 250, "Deleted {arg}"),
        rw("DELE", 550, When::Has("Permission"), 550, "Could not delete {arg}: Permission denied"),
        r("DELE", 550, 550, "Could not delete {arg}: No such file or directory"),
        r("MODE", 200, 200, "S OK"),
        r("MODE", 504, 504, "Please use S(tream) mode"),
        r("STRU", 200, 200, "F OK"),
        r("STRU", 504, 504, "Only F(ile) is supported"),
        r("OPTS", 200, 504, "Unknown command"),
        r("MLST", 250, 250, "Begin\n{text}\nEnd."),
        r("STAT", 211, 211, "=https://www.pureftpd.org/"),
        r("STAT", 213, 213, "STAT\n{text}\nEnd."),
        r("NOOP", 200, 200, "Zzz..."),
        r("ALLO", 202, 200, "A L'HUILE"),
        r("ABOR", 225, 226, "Since you see this ABOR must've succeeded"),
        r("PORT", 501, 501, "Syntax error in IP address"),
        rw("SITE", 200, When::Has("CHMOD"), 200, "Permissions changed on {arg_last}"),
        r(
            "QUIT",
            221,
            221,
            "Goodbye. You uploaded {kb_up} and downloaded {kb_down} kbytes.\nLogout.",
        ),
    ],
    list: ListStyle::Unix { links: 4, size: 8 },
    size_ascii: None,
    converted_size: false,
    appe: None,
    ascii_data: true,
    nlst_paths: true,
    dot_entries: true,
    // Pure-FTPd: before login, the commands that set up the session
    // (TYPE, MODE, STRU, the TLS ones, HELP, SYST, NOOP...); anything
    // else, known or not, is 530.
    gate: Some(Gate {
        login_before_unknown: true,
        before_login: &[
            "USER", "PASS", "QUIT", "FEAT", "HELP", "SYST", "NOOP", "OPTS", "MODE", "STRU", "TYPE",
            "ACCT", "AUTH", "PBSZ", "PROT", "CCC",
        ],
        before_login_tls: &[],
        login_needed: (530, "You aren't logged in"),
        not_implemented: &[("ACCT", 202, "Please tell me who you are")],
        without_tls: &[
            ("AUTH", 500, "This security scheme is not implemented"),
            ("PBSZ", 503, "PBSZ=0"),
            ("PROT", 503, "PROT must be preceded by a successful PBSZ command"),
            ("CCC", 534, "CCC not allowed at this point"),
        ],
        relogin: Relogin {
            same: None,
            other: (530, "You're already logged in"),
            pass: (530, "We can't do that in the current session"),
        },
    }),
};

// IIS FTP (7.5 and later), from public client logs and Microsoft's
// documentation (the addresses are in tools/personality-servers.md):
// greeting "220 Microsoft FTP Service", SYST "215 Windows_NT", FEAT ending in
// "211 END", no MLSD/MLST ("500 Command not understood."), "257 "/" is
// current directory.", "150 Opening BINARY mode data connection.", "226
// Transfer complete.", "550 The system cannot find the file specified.";
// the MS-DOS listing style by default ("MM-DD-YY  hh:mmAM", `<DIR>` or the
// size in a 21-column field, the name at column 39), toggled to Unix style
// by "SITE DIRSTYLE" ("200 MSDOS-like directory output is off").
pub(super) static IIS: Profile = Profile {
    greeting: &["Microsoft FTP Service"],
    syst: "Windows_NT",
    feat: Block {
        first: "Extended features supported:",
        lines: &[
            "LANG EN*",
            "UTF8",
            "AUTH TLS;TLS-C;SSL;TLS-P;",
            "PBSZ",
            "PROT C;P;",
            "CCC",
            "HOST",
            "SIZE",
            "MDTM",
            "REST STREAM",
        ],
        last: "END",
    },
    help: Block {
        first: "The following commands are recognized (* ==>'s unimplemented).",
        lines: &[
            "ABOR ACCT ADAT * ALLO APPE AUTH CCC CDUP CWD DELE ENC * EPRT",
            "EPSV FEAT HELP HOST LANG LIST MDTM MIC * MKD MODE NLST NOOP",
            "OPTS PASS PASV PBSZ PORT PROT PWD QUIT REIN REST RETR RMD RNFR",
            "RNTO SITE SIZE SMNT * STAT STOR STOU STRU SYST TYPE USER XCUP",
            "XCWD XMKD XPWD XRMD",
        ],
        last: "HELP command successful.",
    },
    site_help: Block {
        first: "The following  SITE commands are recognized (* ==>'s unimplemented).",
        lines: &["DIRSTYLE", "HELP"],
        last: "HELP command successful.",
    },
    stat: "Microsoft FTP Service status:",
    verbs: CORE,
    unknown: (500, "Command not understood."),
    rules: &[
        r("USER", 331, 331, "Password required"),
        r("PASS", 230, 230, "User logged in."),
        r("PASS", 530, 530, "User cannot log in."),
        r("*", 530, 530, "Please login with USER and PASS."),
        r("CWD", 250, 250, "CWD command successful."),
        r("CDUP", 250, 250, "CDUP command successful."),
        r("PWD", 257, 257, "\"{cwd}\" is current directory."),
        r("TYPE", 200, 200, "Type set to {arg}."),
        r("PASV", 227, 227, "{text}."),
        r(
            "OPTS",
            200,
            200,
            "OPTS UTF8 command successful - UTF8 encoding now ON.",
        ),
        r("*", 150, 150, "Opening {mode} mode data connection."),
        r("*", 226, 226, "Transfer complete."),
        rw(
            "*",
            550,
            When::Has("No such file"),
            550,
            "The system cannot find the file specified.",
        ),
        rw(
            "*",
            550,
            When::Has("Permission denied"),
            550,
            "Access is denied.",
        ),
        rw(
            "*",
            553,
            When::Has("Permission denied"),
            550,
            "Access is denied.",
        ),
        rw(
            "*",
            550,
            When::Has("File exists"),
            550,
            "Cannot create a file when that file already exists.",
        ),
        r("MKD", 257, 257, "\"{arg}\" directory created."),
        r("DELE", 250, 250, "DELE command successful."),
        r("RMD", 250, 250, "RMD command successful."),
        r(
            "RNFR",
            350,
            350,
            "Requested file action pending further information.",
        ),
        r("RNTO", 250, 250, "RNTO command successful."),
        r("NOOP", 200, 200, "NOOP command successful."),
        r("QUIT", 221, 221, "Goodbye."),
    ],
    list: ListStyle::Dos,
    size_ascii: None,
    converted_size: false,
    appe: None,
    ascii_data: true,
    nlst_paths: false,
    dot_entries: false,
    gate: None,
};

// FileZilla Server 1.x, from public client logs (addresses in
// tools/personality-servers.md): greeting "220-FileZilla Server 1.9.4" /
// "220 Please visit https://filezilla-project.org/", "331 Please, specify the
// password.", "230 Login successful.", SYST "215 UNIX emulated by
// FileZilla.", FEAT as below, "257 "/" is current directory.", "200 Type set
// to A", 227 without a final period; LIST in Unix style with "ftp ftp"
// owners and one link. Texts not found in public logs keep ftpfixture's.
pub(super) static FILEZILLA: Profile = Profile {
    greeting: &[
        "FileZilla Server 1.9.4",
        "Please visit https://filezilla-project.org/",
    ],
    syst: "UNIX emulated by FileZilla.",
    feat: Block {
        first: "Features:",
        lines: &[
            "MDTM",
            "REST STREAM",
            "SIZE",
            "MLST type*;size*;modify*;perm*;",
            "MLSD",
            "AUTH SSL",
            "AUTH TLS",
            "PROT",
            "PBSZ",
            "UTF8",
            "TVFS",
            "EPSV",
            "EPRT",
            "MFMT",
        ],
        last: "End",
    },
    help: Block {
        first: "The following commands are recognized.",
        lines: &[
            "ABOR ALLO APPE AUTH CDUP CWD DELE EPRT EPSV FEAT HELP LIST",
            "MDTM MFMT MKD MLSD MLST MODE NLST NOOP OPTS PASS PASV PBSZ",
            "PORT PROT PWD QUIT REST RETR RMD RNFR RNTO SITE SIZE STOR",
            "STRU SYST TYPE USER XCUP XCWD XMKD XPWD XRMD",
        ],
        last: "Help ok.",
    },
    site_help: Block {
        first: "The following SITE commands are recognized.",
        lines: &["HELP"],
        last: "Help ok.",
    },
    stat: "FTP server status:",
    verbs: WITH_MLST,
    unknown: (500, "Syntax error, command unrecognized."),
    rules: &[
        r("USER", 331, 331, "Please, specify the password."),
        r("PASS", 230, 230, "Login successful."),
        r("PASS", 530, 530, "Login incorrect."),
        r("PWD", 257, 257, "\"{cwd}\" is current directory."),
        r("TYPE", 200, 200, "Type set to {arg}"),
        r("PASV", 227, 227, "{text}"),
        r("MKD", 257, 257, "{text} successfully"),
        r("RMD", 250, 250, "Directory deleted successfully"),
    ],
    list: ListStyle::Unix { links: 1, size: 15 },
    size_ascii: None,
    converted_size: false,
    appe: None,
    ascii_data: true,
    nlst_paths: false,
    dot_entries: false,
    gate: None,
};
