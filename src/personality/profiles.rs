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

use super::gate::{ArgCount, Gate, Relogin, Words};
use super::{
    Block, DirFlags, Habits, ListStyle, Owners, Profile, Rule, SiteDialect, StatList, StouNames,
    TypeReader, When,
};
use crate::facts::FactStyle;
use crate::protocol::TransferType;

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

/// ProFTPD 1.3.8's: those, and mod_facts' MFF.
const PROFTPD_VERBS: &[&str] = &[
    "ABOR", "ACCT", "ALLO", "APPE", "CDUP", "CWD", "DELE", "EPRT", "EPSV", "FEAT", "HELP", "LIST",
    "MDTM", "MKD", "MODE", "NLST", "NOOP", "OPTS", "PASS", "PASV", "PORT", "PWD", "QUIT", "REIN",
    "REST", "RETR", "RMD", "RNFR", "RNTO", "SITE", "SIZE", "STAT", "STOR", "STOU", "STRU", "SYST",
    "TYPE", "USER", "XCUP", "XCWD", "XMKD", "XPWD", "XRMD", "AUTH", "PBSZ", "PROT", "MLSD", "MLST",
    "MFMT", "HOST", "CCC", "MFF",
];

/// Pure-FTPd 1.0.50's verbs: no REIN, SMNT or HOST (`500 Unknown
/// command`), PRET besides MLSD and MLST.
const PURE_VERBS: &[&str] = &[
    "ABOR", "ACCT", "ALLO", "APPE", "CDUP", "CWD", "DELE", "EPRT", "EPSV", "FEAT", "HELP", "LIST",
    "MDTM", "MKD", "MODE", "NLST", "NOOP", "OPTS", "PASS", "PASV", "PORT", "PWD", "QUIT", "REST",
    "RETR", "RMD", "RNFR", "RNTO", "SITE", "SIZE", "STAT", "STOR", "STOU", "STRU", "SYST", "TYPE",
    "USER", "XCUP", "XCWD", "XMKD", "XPWD", "XRMD", "AUTH", "PBSZ", "PROT", "MLSD", "MLST", "MFMT",
    "CCC", "PRET", "ESTP",
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
    help_topics: &[],
    stat: "FTP server status:",
    verbs: CORE,
    unknown: (500, "Unknown command."),
    rules: &[
        r("AUTH", 234, 234, "Proceed with negotiation."),
        // Before login, an AUTH under TLS is no command vsftpd knows there.
        r("AUTH", 503, 530, "Please login with USER and PASS."),
        r("PBSZ", 200, 200, "PBSZ set to 0."),
        r("PBSZ", 503, 503, "PBSZ needs a secure connection."),
        r("PROT", 503, 503, "PROT needs a secure connection."),
        r("PROT", 536, 536, "PROT not supported."),
        r("PROT", 504, 504, "PROT not recognized."),
        r("*", 521, 522, "Data connections must be encrypted."),
        rw(
            "USER",
            530,
            When::Has("TLS required"),
            530,
            "Non-anonymous sessions must use encryption.",
        ),
        rw("PROT", 200, When::Has("to P"), 200, "PROT now Private."),
        rw("PROT", 200, When::Has("to C"), 200, "PROT now Clear."),
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
        r(
            "RETR",
            150,
            150,
            "Opening BINARY mode data connection for {arg} {paren}.",
        ),
        r("SIZE", 550, 550, "Could not get file size."),
        r("RETR", 550, 550, "Failed to open file."),
        r("RETR", 501, 550, "Failed to open file."),
        r("MDTM", 550, 550, "Could not get file modification time."),
        r("MKD", 257, 257, "\"{cwd_arg}\" created"),
        r("MKD", 550, 550, "Create directory operation failed."),
        r("RMD", 250, 250, "Remove directory operation successful."),
        r("RMD", 550, 550, "Remove directory operation failed."),
        r("LIST", 150, 150, "Here comes the directory listing."),
        r("NLST", 150, 150, "Here comes the directory listing."),
        rw(
            "LIST",
            226,
            When::Missing,
            226,
            "Transfer done (but failed to open directory).",
        ),
        rw(
            "NLST",
            226,
            When::Missing,
            226,
            "Transfer done (but failed to open directory).",
        ),
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
        r("DELE", 501, 550, "Delete operation failed."),
        r("MODE", 200, 200, "Mode set to S."),
        r("MODE", 504, 504, "Bad MODE command."),
        r("MODE", 501, 504, "Bad MODE command."),
        r("STRU", 200, 200, "Structure set to F."),
        r("STRU", 504, 504, "Bad STRU command."),
        r("STRU", 501, 504, "Bad STRU command."),
        rw(
            "OPTS",
            200,
            When::ArgStarts("UTF8 ON"),
            200,
            "Always in UTF8 mode.",
        ),
        r("OPTS", 200, 501, "Option not understood."),
        // A missing argument is an empty path to vsftpd: the command
        // fails as it would on a path it cannot use.
        r("MKD", 501, 550, "Create directory operation failed."),
        r("RMD", 501, 550, "Remove directory operation failed."),
        r("SIZE", 501, 550, "Could not get file size."),
        r("MDTM", 501, 550, "Could not get file modification time."),
        r("MDTM", 553, 550, "Could not get file modification time."),
        // A name longer than the filesystem takes (553 from the engine)
        // is one more path vsftpd cannot use.
        r("CWD", 553, 550, "Failed to change directory."),
        r("SIZE", 553, 550, "Could not get file size."),
        r("RETR", 553, 550, "Failed to open file."),
        r("MKD", 553, 550, "Create directory operation failed."),
        r("RMD", 553, 550, "Remove directory operation failed."),
        r("DELE", 553, 550, "Delete operation failed."),
        r("RNFR", 553, 550, "RNFR command failed."),
        r("EPSV", 501, 522, "Bad network protocol."),
        r("RNFR", 501, 550, "RNFR command failed."),
        r("RNTO", 501, 550, "Rename failed."),
        rw(
            "SITE",
            501,
            When::Has("SITE CHMOD mode"),
            500,
            "SITE CHMOD needs 2 arguments.",
        ),
        r("SITE", 501, 500, "Unknown SITE command."),
        rw(
            "SITE",
            500,
            When::Has("Unknown SITE"),
            500,
            "Unknown SITE command.",
        ),
        rw(
            "EPRT",
            501,
            When::Has("argument required"),
            500,
            "Bad EPRT protocol.",
        ),
        r("EPRT", 501, 500, "Bad EPRT command."),
        r("RNTO", 550, 550, "Rename failed."),
        r("RNTO", 553, 550, "Rename failed."),
        r("STOU", 550, 553, "Could not create file."),
        r("STOU", 553, 553, "Could not create file."),
        r("APPE", 501, 553, "Could not create file."),
        r("STOR", 501, 553, "Could not create file."),
        r("STOR", 550, 553, "Could not create file."),
        r("APPE", 550, 553, "Could not create file."),
        r("STAT", 213, 213, "Status follows:"),
        r("NOOP", 200, 200, "NOOP ok."),
        r("ALLO", 202, 202, "ALLO command ignored."),
        r("ABOR", 225, 225, "No transfer to ABOR."),
        r("PORT", 501, 500, "Illegal PORT command."),
        // vsftpd's port_security: an address other than the client's.
        r("PORT", 504, 500, "Illegal PORT command."),
        r("EPRT", 504, 500, "Illegal EPRT command."),
        rw(
            "SITE",
            550,
            When::ArgStarts("CHMOD"),
            550,
            "SITE CHMOD command failed.",
        ),
        r(
            "PORT",
            200,
            200,
            "PORT command successful. Consider using PASV.",
        ),
        r(
            "EPRT",
            200,
            200,
            "EPRT command successful. Consider using EPSV.",
        ),
        rw(
            "*",
            425,
            When::Has("PORT or PASV"),
            425,
            "Use PORT or PASV first.",
        ),
        r("OPTS", 501, 501, "Option not understood."),
        rw(
            "SITE",
            200,
            When::Has("CHMOD"),
            200,
            "SITE CHMOD command ok.",
        ),
        r("QUIT", 221, 221, "Goodbye."),
    ],
    list: ListStyle::Unix {
        links: 4,
        size: 8,
        owner: 8,
    },
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
        site_before_login: None,
        login_needed: (530, "Please login with USER and PASS."),
        login_needed_twice: &[],
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
            pass_ends_same: false,
        },
        data_first: Some((425, "Use PORT or PASV first.")),
        arg_count: None,
        words: &[],
        glob_slash_denied: false,
        site_commands: &[],
        refused_chars: &[],
        rest_in_ascii: None,
        resume_in_ascii: Some((
            &["RETR"],
            0,
            (550, "No support for resume of ASCII transfer."),
        )),
        resume_needs_path: false,
        fixed: &[],
        fixed_before_login: &[],
        fixed_without_passive: &[],
        fixed_in_ascii: &[],
        rename_pending: None,
    }),
    // ssl_enable=YES adds these; the list stays sorted.
    feat_tls: &["AUTH TLS", "PBSZ", "PROT"],
    owners: Owners::Numeric,
    list_file_name_only: true,
    // postlogin.c: STAT path is LIST with `-a` added, over the control
    // connection; a directory that cannot be opened lists nothing.
    stat_list: Some(StatList {
        first: "Status follows:",
        last: "End of status",
        indent: "",
        dots: true,
        dir_code: 213,
        missing: None,
    }),
    initial_type: TransferType::Ascii,
    status: Some(Block {
        first: "FTP server status:",
        lines: &[
            "    Connected to {peer}",
            "    Logged in as {user}",
            "    TYPE: {type}",
            "    No session bandwidth limit",
            "    Session timeout in seconds is {idle}",
            "    Control connection is {control}",
            "    Data connections will be {data}",
            "    At session startup, client count was {clients}",
            "    vsFTPd 3.0.3 - secure, fast, stable",
        ],
        last: "End of status",
    }),
    lenient_rest: true,
    dash_every_line: false,
    rename_survives: true,
    list_a: true,
    missing_lists_empty: true,
    ignores_args: &["HELP", "PASV"],
    missing_list_fails_late: false,
    nlst_needs_dir: None,
    facts: FactStyle::Engine,
    habits: Habits {
        rnfr_exists_only: true,
        rest_is_lseek: true,
        rnto_ends_rename: true,
        stou: StouNames::WuFtpd,
        paths_as_kernel: true,
        tilde_is_home: true,
        tls_checked_late: true,
        eprt_pipe_only: true,
        nlst_reads_l: true,
        types: Some(&["I", "L8", "L 8", "A", "A N"]),
        hides_dot_files: true,
        sorts_dots_with_names: true,
        missing_before_denied: false,
        login_clears_type: false,
        retr_counts_left: false,
        site: SiteDialect::Engine,
        glob_brackets: false,
        upload_opens_first: false,
        rest_past_new_file_fails: false,
        nlst_cleans_path: false,
        host_as_proftpd: false,
        lists_several: false,
        ascii_drops_every_cr: false,
        braces_literal: false,
        ..Habits::NONE
    },
};

/// ProFTPD's `pr_help_add` table (mod_core, mod_xfer, mod_ls, mod_auth,
/// mod_facts): `HELP verb` answers `214 Syntax: VERB` and this.
const PROFTPD_HELP: &[(&str, &str)] = &[
    ("USER", "<sp> username"),
    ("PASS", "<sp> password"),
    ("ACCT", "is not implemented"),
    ("REIN", "is not implemented"),
    ("CWD", "<sp> pathname"),
    ("XCWD", "<sp> pathname"),
    ("CDUP", "(up one directory)"),
    ("XCUP", "(up one directory)"),
    ("SMNT", "is not implemented"),
    ("QUIT", "(close control connection)"),
    ("PORT", "<sp> h1,h2,h3,h4,p1,p2"),
    ("PASV", "(returns address/port)"),
    ("EPRT", "<sp> |proto|addr|port|"),
    ("EPSV", "(returns port |||port|)"),
    ("ALLO", "<sp> size"),
    ("RNFR", "<sp> pathname"),
    ("RNTO", "<sp> pathname"),
    ("DELE", "<sp> pathname"),
    ("MDTM", "<sp> pathname"),
    ("RMD", "<sp> pathname"),
    ("XRMD", "<sp> pathname"),
    ("MKD", "<sp> pathname"),
    ("XMKD", "<sp> pathname"),
    ("PWD", "(returns current working directory)"),
    ("XPWD", "(returns current working directory)"),
    ("SIZE", "<sp> pathname"),
    ("SYST", "(returns system type)"),
    ("HELP", "[<sp> command]"),
    ("NOOP", "(no operation)"),
    ("FEAT", "(returns feature list)"),
    ("OPTS", "<sp> command [<sp> options]"),
    ("HOST", "<cp> hostname"),
    ("CLNT", "<cp> client-info"),
    ("AUTH", "<sp> base64-data"),
    ("CCC", "(clears protection level)"),
    ("CONF", "<sp> base64-data"),
    ("ENC", "<sp> base64-data"),
    ("MIC", "<sp> base64-data"),
    ("PBSZ", "<sp> protection buffer size"),
    ("PROT", "<sp> protection code"),
    ("MLSD", "[<sp> pathname]"),
    ("MLST", "[<sp> pathname]"),
    ("LIST", "[<sp> pathname]"),
    ("NLST", "[<sp> (pathname)]"),
    ("STAT", "[<sp> pathname]"),
    ("SITE", "<sp> string"),
    ("TYPE", "<sp> type-code (A, I, L 7, L 8)"),
    ("STRU", "is not implemented (always F)"),
    ("MODE", "is not implemented (always S)"),
    ("RETR", "<sp> pathname"),
    ("STOR", "<sp> pathname"),
    ("STOU", "(store unique filename)"),
    ("APPE", "<sp> pathname"),
    ("REST", "<sp> byte-count"),
    ("ABOR", "(abort current operation)"),
    ("RANG", "<sp> start-point <sp> end-point"),
];

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
        lines: &[
            "CPFR <sp> pathname",
            "CPTO <sp> pathname",
            "UTIME <sp> YYYYMMDDhhmm[ss] <sp> path",
            "SYMLINK <sp> source <sp> destination",
            "RMDIR <sp> path",
            "MKDIR <sp> path",
            "The following SITE extensions are recognized:",
            "RATIO -- show all ratios in effect",
            "QUOTA",
            "HELP",
            "CHGRP",
            "CHMOD",
        ],
        last: "Direct comments to root@localhost",
    },
    help_topics: PROFTPD_HELP,
    stat: "Status of 'Debian'",
    verbs: PROFTPD_VERBS,
    unknown: (500, "{verb} not understood"),
    rules: &[
        r("AUTH", 234, 234, "AUTH TLS successful"),
        // mod_tls: a second AUTH is refused before its argument is read;
        // PBSZ and PROT before any AUTH are declined to the core, which
        // does not understand them.
        r("AUTH", 503, 503, "Unwilling to accept second AUTH"),
        // xfer_retr(): a REST past the end of the file.
        rw("RETR", 554, When::Has("Invalid restart offset"), 554, "REST: invalid {arg} argument"),
        rw("PBSZ", 503, When::Has("AUTH TLS first"), 500, "PBSZ not understood"),
        rw("PROT", 503, When::Has("AUTH TLS first"), 500, "PROT not understood"),
        r("PBSZ", 200, 200, "PBSZ 0 successful"),
        rw("PROT", 200, When::Has("to P"), 200, "Protection set to Private"),
        rw("PROT", 200, When::Has("to C"), 200, "Protection set to Clear"),
        r("CCC", 200, 200, "Clearing control channel protection"),
        r("PASS", 530, 530, "Login incorrect."),
        r("CWD", 250, 250, "{verb} command successful"),
        r("CDUP", 250, 250, "{verb} command successful"),
        rw("CWD", 550, When::Has("Not a directory"), 550, "{arg}: Not a directory"),
        r("CWD", 550, 550, "{arg}: No such file or directory"),
        r("CWD", 501, 501, "Invalid number of parameters"),
        // The transfer verbs' own parser says "not understood".
        r("RETR", 501, 500, "'{verb}' not understood"),
        r("STOR", 501, 500, "'{verb}' not understood"),
        r("APPE", 501, 500, "'{verb}' not understood"),

        r("PASV", 227, 227, "{text}."),
        rw(
            "*",
            425,
            When::Has("PORT or PASV"),
            425,
            "Unable to build data connection: Connection refused",
        ),
        r("HOST", 503, 503, "Bad sequence of commands"),
        rw("NLST", 550, When::Has("No such file"), 450, "{arg}: No such file or directory"),
        rw("MLST", 550, When::Has("No such file"), 550, "'{arg}' cannot be listed"),
        r("MLSD", 501, 550, "'{arg}' is not a directory"),
        rw("DELE", 550, When::Has("Is a directory"), 550, "{arg}: Is a directory"),
        rw("DELE", 550, When::Has("Not a plain file"), 550, "{arg}: Is a directory"),
        r("EPSV", 501, 501, "EPSV: unknown network protocol"),
        r("EPRT", 501, 522, "Network protocol not supported, use (1)"),
        rw("MFMT", 501, When::Has("Syntax"), 501, "Invalid number of parameters"),
        // mod_facts: a time-val of the right length that names no date
        // is the path's EINVAL; one of the wrong length, the time's.
        rw("MFMT", 501, When::Has("not a date"), 501, "{arg_rest}: Invalid argument"),
        rw("MFMT", 501, When::Has("time-val"), 501, "{arg_first}: Invalid argument"),
        rw("MFF", 501, When::Has("each fact ends"), 550, "{arg_first}: Invalid argument"),
        rw("MFF", 550, When::Has("No such file"), 550, "{arg_rest}: No such file or directory"),
        rw("MFF", 550, When::Has("Permission denied"), 501, "{arg_rest}: Operation not permitted"),
        rw("MFMT", 550, When::Has("Permission denied"), 501, "{arg_rest}: Operation not permitted"),
        rw("MFMT", 550, When::Has("No such file"), 550, "{arg_last}: No such file or directory"),
        r("MKD", 257, 257, "\"{abs_quoted}\" - Directory successfully created"),
        rw("*", 550, When::Has("File exists"), 550, "{arg}: File exists"),
        rw("*", 550, When::Has("Permission denied"), 550, "{arg}: Permission denied"),
        rw("*", 553, When::Has("Permission denied"), 550, "{arg}: Permission denied"),
        rw("*", 550, When::Has("No such file"), 550, "{arg}: No such file or directory"),
        r("RMD", 250, 250, "{verb} command successful"),
        r("LIST", 150, 150, "Opening {mode} mode data connection for file list"),
        // lstat(2) refuses a name longer than NAME_MAX before it looks.
        rw("LIST", 226, When::ArgPasses(names_too_long), 450, "{list_path_home}: File name too long"),
        rw("LIST", 226, When::Missing, 450, "{list_path_home}: No such file or directory"),
        r("NLST", 150, 150, "Opening {mode} mode data connection for file list"),
        r("MLSD", 150, 150, "Opening {mode} mode data connection for MLSD"),
        r("STOR", 150, 150, "Opening {mode} mode data connection for {arg}"),
        rw("STOR", 550, When::Has("Is a directory"), 550, "{arg}: Not a regular file"),
        // mod_xfer: a REST past the end of a file STOR creates.
        r("STOR", 554, 554, "REST: invalid {arg} argument"),
        // A name longer than the filesystem takes: stat(2)'s ENAMETOOLONG;
        // CWD resolves the path first and finds nothing.
        r("CWD", 553, 550, "{arg}: No such file or directory"),
        r("NLST", 553, 450, "{arg}: File name too long"),
        rw("*", 553, When::Has("File name not allowed"), 550, "{arg}: File name too long"),
        rw("RMD", 550, When::Has("Not a directory"), 550, "{arg}: Not a directory"),
        rw("SIZE", 550, When::Has("Not a plain file"), 550, "{arg}: not a regular file"),
        rw(
            "SITE",
            501,
            When::Has("Syntax: SITE CHMOD"),
            500,
            "'SITE {arg_upper}' not understood\nSITE not understood",
        ),
        rw("APPE", 550, When::Has("Is a directory"), 550, "{arg}: Not a regular file"),
        // rename(2) of a file onto a directory: mod_core reports EPERM.
        rw("RNTO", 550, When::Has("Is a directory"), 550, "{arg}: Operation not permitted"),
        rw("RNTO", 550, When::Has("Not a directory"), 550, "{arg}: Not a directory"),
        rw("RNTO", 550, When::Has("Invalid argument"), 550, "{arg}: Invalid argument"),
        r("APPE", 150, 150, "Opening {mode} mode data connection for {arg}"),
        // pr_data_open: no size when nothing is left to send, "byte" for one.
        rw("RETR", 150, When::Has("(0 bytes)"), 150, "Opening {mode} mode data connection for {arg}"),
        rw("RETR", 150, When::Has("(1 bytes)"), 150, "Opening {mode} mode data connection for {arg} (1 byte)"),
        r("RETR", 150, 150, "Opening {mode} mode data connection for {arg} {paren}"),
        rw("NLST", 550, When::Has("No files found"), 450, "No files found"),
        rw("*", 550, When::Has("Directory not empty"), 550, "{arg}: Directory not empty"),
        rw("MDTM", 550, When::Has("Not a plain file"), 550, "{arg}: not a plain file"),
        rw("*", 550, When::Has("Not a plain file"), 550, "{arg}: Not a regular file"),
        rw("*", 550, When::Has("Is a directory"), 550, "{arg}: Not a regular file"),
        rw("*", 501, When::Has("argument required"), 501, "Invalid number of parameters"),
        r("REST", 501, 501, "REST requires a value greater than or equal to 0"),
        r("*", 226, 226, "Transfer complete"),
        r("REST", 350, 350, "Restarting at {arg}. Send STORE or RETRIEVE to initiate transfer"),
        r("RNFR", 350, 350, "File or directory exists, ready for destination name"),
        r("RNTO", 250, 250, "Rename successful"),
        r("RNTO", 503, 503, "Bad sequence of commands"),
        r("DELE", 250, 250, "DELE command successful"),
        // xfer_mode: B and C are modes it knows and lacks; others, not modes.
        rw(
            "MODE",
            504,
            When::ArgPasses(|a| matches!(a.chars().next(), Some('B' | 'b' | 'C' | 'c'))),
            504,
            "'MODE {arg}' unsupported transfer mode",
        ),
        r("MODE", 504, 501, "'MODE {arg}' unrecognized transfer mode"),
        rw(
            "MODE",
            501,
            When::Has("Unknown transfer mode"),
            501,
            "'MODE {arg}' unrecognized transfer mode",
        ),
        // xfer_stru: one word (argv split at every space), read by its
        // first letter: F is taken, R and P are known and lacking.
        rw("STRU", 501, When::ArgPasses(|a| a.contains(' ')), 501, "'STRU {arg}' not understood"),
        rw("STRU", 504, When::ArgPasses(|a| a.contains(' ')), 501, "'STRU {arg}' not understood"),
        rw("STRU", 501, When::ArgPasses(|a| a.starts_with(['F', 'f'])), 200, "Structure set to F"),
        rw("STRU", 501, When::ArgPasses(|a| a.starts_with(['R', 'r', 'P', 'p'])), 504, "'STRU {arg}' unsupported structure type"),
        r("STRU", 504, 504, "'STRU {arg}' unsupported structure type"),
        rw(
            "STRU",
            501,
            When::Has("Unknown file structure"),
            501,
            "'STRU {arg}' unrecognized structure type",
        ),
        rw("OPTS", 200, When::ArgIs("UTF8"), 501, "'OPTS UTF8' not understood"),
        // lang_utf8: one word that get_boolean() reads, on or off.
        rw("OPTS", 200, When::ArgPasses(|a| utf8_switch(a) == Some(false)), 200, "UTF8 set to off"),
        rw("OPTS", 501, When::ArgPasses(|a| utf8_switch(a) == Some(false)), 200, "UTF8 set to off"),
        rw("OPTS", 501, When::ArgPasses(|a| utf8_switch(a) == Some(true)), 200, "UTF8 set to on"),
        rw("OPTS", 501, When::ArgStarts("UTF8 "), 501, "'OPTS UTF8' not understood"),
        rw("OPTS", 200, When::Has("UTF8"), 200, "UTF8 set to on"),
        rw(
            "OPTS",
            501,
            When::Has("Option not understood"),
            500,
            "OPTS {arg_first_upper} not understood",
        ),
        r("STAT", 213, 213, "Status of {arg}:"),
        r("NOOP", 200, 200, "NOOP command successful"),
        // mod_core hands `HELP SITE …` to mod_site's HELP, which lists
        // its own three commands, and takes `SITE` for the topic asked.
        rw("HELP", 214, When::ArgIs("SITE"), 214, "=HELP\nCHGRP\nCHMOD"),
        rw("HELP", 502, When::ArgStarts("SITE "), 502, "Unknown command 'SITE {arg}'"),
        rw("HELP", 502, When::Has("Unknown command"), 502, "Unknown command '{arg_first_upper}'"),
        // mod_xfer: one word or three ("10 R 5"), the first a number as
        // strtoull(3) reads one (a sign allowed).
        rw("ALLO", 202, When::ArgPasses(|a| matches!(a.split_whitespace().count(), 2 | 4..)), 504, "'ALLO {arg}' not understood"),
        rw("ALLO", 202, When::ArgPasses(proftpd_allo_number), 202, "No storage allocation necessary"),
        rw("ALLO", 202, When::ArgIs(""), 504, "'ALLO' not understood"),
        r("ALLO", 202, 504, "{arg}: Invalid ALLO argument"),
        r("ABOR", 225, 226, "Abort successful"),
        // core_port and core_eprt: another host is 500.
        rw("PORT", 504, When::Has("third-party"), 500, "Illegal PORT command"),
        rw("EPRT", 504, When::Has("third-party"), 500, "Illegal EPRT command"),
        // core_port: sscanf(3) takes six numbers; a port below 1024 (0
        // too: `!port`) is 500, as EPRT's.
        rw("PORT", 501, When::ArgPasses(sscanf_port_0_to_1023), 500, "Illegal PORT command"),
        rw("PORT", 504, When::Has("privileged"), 500, "Illegal PORT command"),
        rw("EPRT", 504, When::Has("privileged"), 500, "Illegal EPRT command"),
        r("PORT", 501, 501, "Illegal PORT command"),
        rw("SITE", 200, When::Has("CHMOD"), 200, "SITE CHMOD command successful"),
        rw(
            "SITE",
            500,
            When::Has("Unknown SITE"),
            500,
            "'SITE {arg_first_upper}' not understood",
        ),
        rw(
            "SITE",
            501,
            When::Has("argument required"),
            500,
            "'SITE' requires parameters",
        ),
        r("QUIT", 221, 221, "Goodbye."),
    ],
    list: ListStyle::Unix {
        links: 3,
        size: 8,
        owner: 8,
    },
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
        site_before_login: Some(proftpd_site_before_login),
        login_needed: (530, "Please login with USER and PASS"),
        login_needed_twice: &["RNTO", "SITE CHMOD", "SITE CHGRP"],
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
            pass_ends_same: true,
        },
        data_first: None,
        arg_count: Some(ArgCount {
            none: &["PWD", "XPWD", "CDUP", "XCUP", "PASV", "FEAT"],
            some: &[
                "CWD", "XCWD", "RNFR", "RNTO", "SIZE", "MDTM", "MKD", "XMKD", "RMD", "XRMD",
                "DELE", "PORT", "EPRT", "MFMT",
            ],
            reply: (501, "Invalid number of parameters"),
        }),
        // Handlers that count their words themselves (mod_xfer, mod_core,
        // mod_facts).
        words: &[
            Words { verb: "REST", min: 1, max: 1, reply: (500, "'{line}' not understood") },
            // core_host() names argv[0] alone.
            Words { verb: "HOST", min: 1, max: 1, reply: (500, "'HOST' not understood") },
            Words { verb: "ABOR", min: 0, max: 0, reply: (500, "'{line}' not understood") },
            Words {
                verb: "USER",
                min: 1,
                max: usize::MAX,
                reply: (500, "USER: command requires a parameter"),
            },
            Words { verb: "RANG", min: 2, max: 2, reply: (500, "'{line}' not understood") },
            Words { verb: "TYPE", min: 1, max: 2, reply: (500, "'{line}' not understood") },
            Words { verb: "STOU", min: 0, max: 1, reply: (500, "'{line}' not understood") },
            Words { verb: "MODE", min: 1, max: 1, reply: (501, "'{line}' not understood") },
            Words { verb: "STRU", min: 1, max: 1, reply: (501, "'{line}' not understood") },
            Words {
                verb: "MFF",
                min: 2,
                max: usize::MAX,
                reply: (501, "Invalid number of parameters"),
            },
        ],
        glob_slash_denied: true,
        site_commands: &[
            "CPFR", "CPTO", "COPY", "UTIME", "SYMLINK", "RMDIR", "MKDIR", "RATIO", "QUOTA", "HELP", "CHGRP",
            "CHMOD",
        ],
        // core_mkd: a `*` in the name.
        refused_chars: &[
            ("MKD", '*', 550, "{arg}: Invalid directory name"),
            ("XMKD", '*', 550, "{arg}: Invalid directory name"),
        ],
        rest_in_ascii: Some((501, "REST: Resuming transfers not allowed in ASCII mode")),
        resume_in_ascii: None,
        resume_needs_path: false,
        fixed: &[
            ("CLNT", 200, "OK"),
            ("CSID", 200, "name=ProFTPD;version=1.3.8;casesensitive=1;"),
            // mod_lang: setlocale() fails in the chroot.
            ("LANG", 500, "Unable to handle command"),
        ],
        // mod_lang: before login a LANG names a language it lacks, or none
        // (its default, which it can still set).
        fixed_before_login: &[
            ("LANG", 504, "Language {arg} not supported"),
            ("LANG", 200, "Using default language C.UTF-8"),
        ],
        fixed_without_passive: &[],
        // mod_xfer's RANG refuses TYPE A before anything else; in TYPE I
        // the personality does not have it (it answers "not understood").
        fixed_in_ascii: &[
            ("SIZE", 550, "SIZE not allowed in ASCII mode"),
            ("RANG", 551, "RANG: Transfer ranges not allowed in ASCII mode"),
        ],
        rename_pending: Some((
            &["RNTO", "HELP", "NOOP", "QUIT", "STAT"],
            (501, "Bad sequence of commands"),
        )),
    }),
    // mod_tls adds these; the list stays sorted.
    feat_tls: &["AUTH TLS", "CCC", "PBSZ", "PROT", "SSCN"],
    owners: Owners::Names,
    list_file_name_only: false,
    stat_list: Some(StatList {
        first: "Status of {arg}:",
        last: "End of status",
        indent: " ",
        dots: true,
        dir_code: 212,
        missing: Some(450),
    }),
    initial_type: TransferType::Ascii,
    status: Some(Block {
        first: "Status of 'Debian'",
        lines: &[
            "Connected from {peer} ({peer})",
            "Logged in as {user}",
            "TYPE: {type}, STRUcture: File, Mode: Stream",
            "Total bytes transferred for session: {session_bytes}",
            // A PASV or PORT waiting is no connection yet (mod_ls).
            "No data connection",
        ],
        last: "End of status",
    }),
    lenient_rest: false,
    dash_every_line: false,
    rename_survives: true,
    list_a: true,
    missing_lists_empty: false,
    ignores_args: &[],
    missing_list_fails_late: true,
    nlst_needs_dir: None,
    facts: FactStyle::ProFtpd,
    habits: Habits {
        rnfr_exists_only: true,
        rnto_ends_rename: true,
        missing_before_denied: true,
        login_clears_type: true,
        retr_counts_left: true,
        site: SiteDialect::ProFtpd,
        glob_brackets: true,
        // glob(3) without GLOB_BRACE; mod_ls shows dot files only with -a.
        braces_literal: true,
        hides_dot_files: true,
        // sreaddir() sorts every name, `.` and `..` among them.
        sorts_dots_with_names: true,
        upload_opens_first: true,
        rest_past_new_file_fails: true,
        nlst_cleans_path: true,
        host_as_proftpd: true,
        lists_several: false,
        lists_dir_flags: Some(DirFlags::ProFtpd),
        list_space_kept: true,
        tilde_outside_chroot: true,
        eprt_port_truncated: true,
        refused_transfer_forgets_rename: true,
        ascii_drops_every_cr: false,
        stou: StouNames::Mkstemp,
        root_rename_busy: true,
        root_rmdir_busy: true,
        directory_upload_first: true,
        rest_saturates: true,
        mode_by_first_letter: true,
        unmatched_glob_lists_empty: true,
        reads_type: Some(TypeReader::Words),
        ..Habits::NONE
    },
};

pub(super) static PURE_FTPD: Profile = Profile {
    greeting: &[
        "--------- Welcome to Pure-FTPd [privsep] [TLS] ----------",
        "You are user number 1 of 50 allowed.",
        "Local time is now {time}. Server port: {port}.",
        "This is a private system - No anonymous login",
        "IPv6 connections are also welcome on this server.",
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
    help_topics: &[],
    stat: "https://www.pureftpd.org/",
    verbs: PURE_VERBS,
    unknown: (500, "Unknown command"),
    rules: &[
        r("AUTH", 234, 234, "AUTH TLS OK."),
        // The parser takes `AUTH TLS` only before login; any other AUTH
        // is the unimplemented one, TLS or not. PROT and PBSZ before TLS.
        rw("AUTH", 503, When::ArgPasses(not_auth_tls), 500, "This security scheme is not implemented"),
        rw("AUTH", 504, When::ArgPasses(not_auth_tls), 500, "This security scheme is not implemented"),
        rw("PROT", 503, When::Has("AUTH TLS first"), 503, "PROT must be preceded by a successful PBSZ command"),
        rw("PBSZ", 503, When::Has("AUTH TLS first"), 503, "PBSZ=0"),
        rw("PROT", 200, When::Has("to P"), 200, "Data protection level set to \"private\""),
        rw("PROT", 200, When::Has("to C"), 200, "Data protection level set to \"clear\""),
        r("CCC", 200, 200, "Control connection unencrypted"),
        r("PASS", 530, 530, "Login authentication failed"),
        r("*", 530, 530, "You aren't logged in"),
        r("USER", 331, 331, "User {arg} OK. Password required"),
        r("PASS", 230, 230, "OK. Current restricted directory is {cwd}"),
        r("PWD", 257, 257, "\"{cwd}\" is your current location"),
        r("CWD", 250, 250, "OK. Current directory is {cwd}"),
        r("CDUP", 250, 250, "OK. Current directory is {cwd}"),
        r("CWD", 501, 250, "OK. Current directory is {cwd}"),
        rw(
            "CWD",
            550,
            When::Has("Not a directory"),
            550,
            "Can't change directory to {arg}: Not a directory",
        ),
        // The owner's mode bits, as the kernel reads them for the user
        // the server runs as (`Habits::owner_modes_apply`).
        rw(
            "CWD",
            550,
            When::Has("Permission denied"),
            550,
            "Can't change directory to {arg}: Permission denied",
        ),
        rw("RETR", 550, When::Has("Permission denied"), 550, "Can't open {arg}: Permission denied"),
        rw("STOR", 550, When::Has("Permission denied"), 553, "Can't open that file: Permission denied"),
        rw("APPE", 550, When::Has("Permission denied"), 553, "Can't open that file: Permission denied"),
        r("CWD", 550, 550, "Can't change directory to {arg}: No such file or directory"),
        // A name longer than the filesystem takes: ENAMETOOLONG.
        rw(
            "CWD",
            553,
            When::Has("File name not allowed"),
            550,
            "Can't change directory to {arg}: File name too long",
        ),
        rw("RETR", 553, When::Has("File name not allowed"), 550, "Can't open {arg}: File name too long"),
        rw(
            "MKD",
            553,
            When::Has("File name not allowed"),
            550,
            "Can't create directory: File name too long",
        ),
        // `LIST -1` is ls without -l: names, and no Options line.
        rw("LIST", 226, When::ArgPasses(pure_names_only), 226, "{count} matches total"),
        // rmdir(2) of `.` is EINVAL, of `..` ENOTEMPTY, whatever the
        // permissions; an upload renamed onto `..` is EBUSY.
        rw(
            "RMD",
            550,
            When::ArgPasses(last_is_dot_dot),
            550,
            "Can't remove directory: Directory not empty",
        ),
        rw("TYPE", 200, When::ArgStarts("L"), 200, "Missing argument\nTYPE is now 8-bit binary"),
        rw("TYPE", 200, When::Has("to I"), 200, "TYPE is now 8-bit binary"),
        rw("TYPE", 200, When::Has("to A"), 200, "TYPE is now ASCII"),
        r("TYPE", 501, 504, "Unknown TYPE: {arg}\nTYPE is now ASCII"),
        r("PASV", 227, 227, "{text}"),
        r("EPSV", 229, 229, "Extended Passive mode OK {paren}"),
        rw(
            "MDTM",
            550,
            When::Has("Not a plain file"),
            550,
            "I can only retrieve regular files",
        ),
        r("MDTM", 550, 550, "Can't check for file existence"),
        rw("MDTM", 501, When::Has("argument required"), 501, "Missing argument"),
        rw("MFMT", 501, When::Has("argument required"), 501, "Missing argument"),
        rw("MFMT", 501, When::Has("Syntax"), 501, "Missing argument"),
        rw("MFMT", 501, When::Has("time-val"), 501, "Can't get a time stamp"),
        r("MFMT", 550, 550, "utime({arg_last}): No such file or directory"),
        rw("MKD", 501, When::Has("argument required"), 501, "No directory name"),
        r("MLST", 550, 550, "Can't check for file existence"),
        r("MLSD", 550, 550, "Can't check for file existence"),
        r("MLSD", 501, 550, "Can't check for file existence"),
        rw("OPTS", 501, When::Has("Option not understood"), 504, "Unknown command"),
        rw("OPTS", 501, When::Has("argument required"), 504, "Unknown command"),
        r("EPRT", 501, 501, "Syntax error in IP address"),
        rw("*", 425, When::Has("PORT or PASV"), 425, "No data connection"),
        r("MKD", 257, 257, "\"{arg}\" : The directory was successfully created"),
        rw("MKD", 550, When::Has("File exists"), 550, "Can't create directory: File exists"),
        rw("MKD", 550, When::Has("Permission"), 550, "Can't create directory: Permission denied"),
        r("MKD", 550, 550, "Can't create directory: {reason}"),
        r("RMD", 250, 250, "The directory was successfully removed"),
        r("RMD", 550, 550, "Can't remove directory: {reason}"),
        rw(
            "SIZE",
            550,
            When::Has("Not a plain file"),
            550,
            "I can only retrieve regular files",
        ),
        r("SIZE", 550, 550, "Can't check for file existence"),
        rw("RETR", 550, When::Has("Not a plain file"), 550, "I can only retrieve regular files"),
        // The parser's own check: no argument, no dorest().
        rw("REST", 501, When::ArgIs(""), 501, "No restart point"),
        r("REST", 501, 554, "REST needs a numeric parameter\nRestart offset reset to 0"),
        rw("*", 150, When::Active, 150, "Connecting to port {port}"),
        r("*", 150, 150, "Accepted data connection"),
        rw(
            "LIST",
            226,
            When::Has("too many stars"),
            226,
            "Out of memory during globbing of {list_path}\n(This probably means \"Permission denied\")\nOptions: {list_flags}\n{count} matches total",
        ),
        r("LIST", 226, 226, "Options: {list_flags}\n{count} matches total"),
        r("NLST", 226, 226, "{count} matches total"),
        r("MLSD", 226, 226, "{count} matches total"),
        // dlmap_init(): a REST at the end of the file sends nothing.
        rw("RETR", 226, When::Has("nothing left"), 226, "Nothing left to download"),
        // An upload after a STOU whose final rename failed: the data
        // was taken (and dropped), and the transfer still "succeeded".
        rw(
            "*",
            226,
            When::AsciiHas("Rename/move failure"),
            226,
            "Warning: client is in ASCII mode - Assuming data is plain text\n{text}\nFile successfully transferred{pure_rate}",
        ),
        rw(
            "*",
            226,
            When::Has("Rename/move failure"),
            226,
            "{text}\nFile successfully transferred{pure_rate}",
        ),
        rw(
            "*",
            226,
            When::Ascii,
            226,
            "Warning: client is in ASCII mode - Assuming data is plain text\nFile successfully transferred{pure_rate}",
        ),
        r(
            "*",
            226,
            226,
            "File successfully transferred{pure_rate}",
        ),
        r("RETR", 550, 550, "Can't open {arg}: No such file or directory"),
        // A name past NAME_MAX: RNFR's stat(2) finds nothing.
        r("RNFR", 553, 550, "Sorry, but that file doesn't exist"),
        r("MLST", 553, 550, "Can't check for file existence"),
        r("RETR", 501, 501, "No file name"),
        rw(
            "STOR",
            550,
            When::Has("Is a directory"),
            553,
            "Can't open that file: Is a directory",
        ),
        rw(
            "APPE",
            550,
            When::Has("Is a directory"),
            553,
            "Can't open that file: Is a directory",
        ),
        rw(
            "APPE",
            550,
            When::Has("No such file"),
            553,
            "Can't open that file: No such file or directory",
        ),
        rw(
            "STOR",
            550,
            When::Has("No such file"),
            553,
            "Can't open that file: No such file or directory",
        ),
        rw(
            "STOR",
            553,
            When::Has("File name not allowed"),
            553,
            "Can't open that file: Is a directory",
        ),
        rw("STOR", 553, When::Has("Rename/move failure"), 553, "{text}"),
        rw("STOR", 553, When::Has("Prohibited file name"), 553, "{text}"),
        rw("APPE", 553, When::Has("Prohibited file name"), 553, "{text}"),
        r("STOR", 553, 553, "Can't open that file: Permission denied"),
        rw("REST", 350, When::ArgIs("0"), 350, "Restarting at 0"),
        rw(
            "REST",
            350,
            When::Ascii,
            350,
            "Restarting at {arg}. But we're in ASCII mode",
        ),
        r("REST", 350, 350, "Restarting at {arg}"),
        rw(
            "SIZE",
            550,
            When::Has("Not a plain file"),
            550,
            "I can only retrieve regular files",
        ),
        rw(
            "MDTM",
            550,
            When::Has("Not a plain file"),
            550,
            "I can only retrieve regular files",
        ),
        r("RNFR", 350, 350, "RNFR accepted - file exists, ready for destination"),
        r("RNTO", 250, 250, "File successfully renamed or moved"),
        r("RNFR", 550, 550, "Sorry, but that file doesn't exist"),
        r("RNTO", 503, 503, "Need RNFR before RNTO"),
        r("RNTO", 550, 451, "Rename/move failure: {reason}"),
        r("RNTO", 501, 550, "No file name"),
        r("DELE", 250, 250, "Deleted {arg}"),
        rw("DELE", 550, When::Has("Permission"), 550, "Could not delete {arg}: Permission denied"),
        rw("DELE", 550, When::Has("Is a directory"), 550, "Could not delete {arg}: Invalid argument"),
        rw("DELE", 550, When::Has("Not a plain file"), 550, "Could not delete {arg}: Invalid argument"),
        r("DELE", 550, 550, "Could not delete {arg}: No such file or directory"),
        // The parser's "Missing argument" (MSG_MISSING_ARG) and its
        // "No file name" / "No directory name" checks.
        rw("MODE", 501, When::ArgIs(""), 501, "Missing argument"),
        rw("STRU", 501, When::ArgIs(""), 501, "Missing argument"),
        rw("SIZE", 501, When::Has("argument required"), 501, "Missing argument"),
        rw("DELE", 501, When::Has("argument required"), 501, "No file name"),
        rw("APPE", 501, When::Has("argument required"), 501, "No file name"),
        rw("STOR", 501, When::Has("argument required"), 501, "No file name"),
        rw("ALLO", 202, When::ArgIs(""), 501, "Can't find file size"),
        // A name longer than the filesystem takes names nothing.
        r("SIZE", 553, 550, "Can't check for file existence"),
        r("MDTM", 553, 550, "Can't check for file existence"),
        r("APPE", 553, 553, "Can't open that file: Permission denied"),
        rw("RMD", 501, When::Has("argument required"), 550, "No directory name"),
        rw("RNFR", 501, When::Has("argument required"), 550, "No file name"),
        rw("SITE", 501, When::Has("argument required"), 500, "SITE: Missing argument"),
        rw("SITE", 501, When::Has("Syntax: SITE CHMOD"), 550, "No file name"),
        rw(
            "SITE",
            500,
            When::Has("Unknown SITE"),
            500,
            "SITE {arg_first} is an unknown extension",
        ),
        r("MODE", 200, 200, "S OK"),
        r("MODE", 504, 504, "Please use S(tream) mode"),
        r("MODE", 501, 504, "Please use S(tream) mode"),
        r("STRU", 200, 200, "F OK"),
        r("STRU", 504, 504, "Only F(ile) is supported"),
        r("STRU", 501, 504, "Only F(ile) is supported"),
        r("EPRT", 200, 200, "PORT command successful"),
        // doopts(): "MLST " and anything after it is 200, all else 504.
        rw("OPTS", 200, When::ArgStarts("MLST "), 200, "{text}"),
        r("OPTS", 200, 504, "Unknown command"),
        r("STAT", 211, 211, "=https://www.pureftpd.org/"),
        r("STAT", 213, 213, "STAT\n{text}\nEnd."),
        r("NOOP", 200, 200, "Zzz..."),
        r("ALLO", 202, 200, "A L'HUILE"),
        r("ABOR", 225, 226, "Since you see this ABOR must've succeeded"),
        // sscanf(3) takes the first six numbers; what follows is not read.
        rw(
            "PORT",
            501,
            When::ArgPasses(sscanf_port_below_1024),
            501,
            "Sorry, but I won't connect to ports < 1024",
        ),
        r("PORT", 501, 501, "Syntax error in IP address"),
        // doport2() refuses a low port before a third party.
        rw("PORT", 504, When::ArgPasses(sscanf_port_zero), 501, "Syntax error in IP address"),
        rw(
            "PORT",
            504,
            When::ArgPasses(sscanf_port_below_1024),
            501,
            "Sorry, but I won't connect to ports < 1024",
        ),
        rw("EPRT", 504, When::ArgPasses(eprt_port_zero), 501, "Syntax error in IP address"),
        rw(
            "EPRT",
            504,
            When::ArgPasses(eprt_port_below_1024),
            501,
            "Sorry, but I won't connect to ports < 1024",
        ),
        rw("PORT", 504, When::Has("third-party"), 500, "I won't open a connection to {reason}"),
        rw("EPRT", 504, When::Has("third-party"), 500, "I won't open a connection to {reason}"),
        // A name longer than NAME_MAX: rmdir(2) and unlink(2) say so.
        r("RMD", 553, 550, "Can't remove directory: File name too long"),
        r("DELE", 553, 550, "Could not delete {arg}: File name too long"),
        rw("SITE", 200, When::Has("CHMOD"), 200, "Permissions changed on {arg_last}"),
        r(
            "QUIT",
            221,
            221,
            "Goodbye. You uploaded {kb_up} and downloaded {kb_down} kbytes.\nLogout.",
        ),
    ],
    list: ListStyle::Unix {
        links: 4,
        size: 10,
        owner: 10,
    },
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
        site_before_login: None,
        login_needed: (530, "You aren't logged in"),
        login_needed_twice: &[],
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
            pass_ends_same: false,
        },
        data_first: None,
        arg_count: None,
        // The parser's check, before doretr() looks at anything.
        words: &[Words {
            verb: "RETR",
            min: 1,
            max: usize::MAX,
            reply: (501, "No file name"),
        }],
        glob_slash_denied: false,
        site_commands: &[],
        refused_chars: &[],
        rest_in_ascii: None,
        // doretr() and dostor(): `type == 1 && restartat > 1`.
        resume_in_ascii: Some((
            &["RETR", "STOR", "APPE"],
            1,
            (503, "ASCII resume is unsafe, please delete the file first"),
        )),
        resume_needs_path: true,
        fixed: &[],
        fixed_before_login: &[],
        // doestp(): no passive connection to name.
        fixed_without_passive: &[("ESTP", 520, "Unable to open a passive connection")],
        fixed_in_ascii: &[],
        rename_pending: None,
    }),
    // Pure-FTPd lists AUTH TLS, PBSZ and PROT with TLS off too.
    feat_tls: &[],
    owners: Owners::NamesRootNumeric,
    list_file_name_only: false,
    stat_list: Some(StatList {
        first: "STAT",
        last: "End.",
        indent: "",
        dots: false,
        dir_code: 213,
        missing: None,
    }),
    initial_type: TransferType::Ascii,
    status: Some(Block {
        first: "https://www.pureftpd.org/",
        lines: &[],
        last: "",
    }),
    lenient_rest: false,
    dash_every_line: true,
    rename_survives: true,
    list_a: true,
    missing_lists_empty: true,
    // HELP is the SITE help whatever follows; PASV and EPSV take no
    // argument they do not know.
    ignores_args: &["HELP", "PASV", "EPSV"],
    missing_list_fails_late: false,
    nlst_needs_dir: Some((550, "Can't check for file existence")),
    facts: FactStyle::PureFtpd,
    habits: Habits {
        rnfr_exists_only: true,
        missing_before_denied: true,
        login_clears_type: false,
        retr_counts_left: false,
        site: SiteDialect::PureFtpd,
        glob_brackets: true,
        upload_opens_first: true,
        rest_past_new_file_fails: false,
        nlst_cleans_path: false,
        host_as_proftpd: false,
        lists_several: true,
        lists_dir_flags: Some(DirFlags::PureFtpd),
        root_rmdir_busy: true,
        pure_data_verbs: true,
        resume_moves_aside: true,
        passive_listener_stays: true,
        rmdir_reads_dots: true,
        walks_dir_parts: true,
        owner_modes_apply: true,
        stou_makes_uploads_atomic: true,
        dele_kind_first: true,
        cwd_tilde_home: true,
        bare_user_closes: true,
        glob_max_stars: Some(3),
        ascii_drops_every_cr: true,
        ascii_cr_before_every_lf: true,
        // ls.c's listdir(): names starting with `.` only with -a.
        hides_dot_files: true,
        braces_literal: true,
        stou: StouNames::PureFtpd,
        rnfr_abort_notice: Some("Aborting previous rename operation"),
        reads_type: Some(TypeReader::FirstLetter),
        prohibits_odd_names: true,
        bad_rest_resets: true,
        names_folded: true,
        upload_rest_clamps: true,
        root_rename_busy: true,
        directory_upload_first: true,
        ..Habits::NONE
    },
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
    help_topics: &[],
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
    feat_tls: &[],
    owners: Owners::Names,
    list_file_name_only: false,
    stat_list: None,
    initial_type: TransferType::Binary,
    status: None,
    lenient_rest: false,
    dash_every_line: false,
    rename_survives: false,
    list_a: false,
    missing_lists_empty: false,
    ignores_args: &[],
    missing_list_fails_late: false,
    nlst_needs_dir: None,
    facts: FactStyle::Engine,
    habits: Habits::NONE,
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
    help_topics: &[],
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
    list: ListStyle::Unix {
        links: 1,
        size: 15,
        owner: 8,
    },
    size_ascii: None,
    converted_size: false,
    appe: None,
    ascii_data: true,
    nlst_paths: false,
    dot_entries: false,
    gate: None,
    feat_tls: &[],
    owners: Owners::Names,
    list_file_name_only: false,
    stat_list: None,
    initial_type: TransferType::Binary,
    status: None,
    lenient_rest: false,
    dash_every_line: false,
    rename_survives: false,
    list_a: false,
    missing_lists_empty: false,
    ignores_args: &[],
    missing_list_fails_late: false,
    nlst_needs_dir: None,
    facts: FactStyle::Engine,
    habits: Habits::NONE,
};

/// ProFTPD's ALLO size as strtoull(3) takes it: white space, a sign,
/// then digits and nothing else.
fn proftpd_allo_number(arg: &str) -> bool {
    let first = arg.split_whitespace().next().unwrap_or("");
    let digits = first.strip_prefix(['+', '-']).unwrap_or(first);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `OPTS UTF8 word` as ProFTPD's get_boolean() reads the word: on or off,
/// `None` for anything else (another option, a second word).
fn utf8_switch(arg: &str) -> Option<bool> {
    let (option, word) = arg.split_once(' ')?;
    if !option.eq_ignore_ascii_case("UTF8") {
        return None;
    }
    let word = word.to_ascii_lowercase();
    match word.as_str() {
        "on" | "yes" | "true" | "1" => Some(true),
        "off" | "no" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// The SITE lines ProFTPD 1.3.8 answers before login as after it: the
/// handlers that do not ask for one (mod_site's HELP, mod_ratio's RATIO,
/// mod_copy's CPTO) and what no handler takes (an unknown word, COPY
/// without its two paths, a bare CPFR), which mod_site refuses. Its
/// CHMOD and CHGRP, mod_quotatab, mod_site_misc and mod_copy's CPFR and
/// COPY ask for the login first.
fn proftpd_site_before_login(arg: &str) -> bool {
    let words: Vec<&str> = arg.split(' ').collect();
    let Some((sub, rest)) = words.split_first() else {
        return true;
    };
    match sub.to_ascii_uppercase().as_str() {
        "HELP" | "RATIO" | "CPTO" => true,
        "COPY" => rest.len() != 2,
        "CPFR" => rest.is_empty(),
        "CHMOD" | "CHGRP" | "QUOTA" | "UTIME" | "MKDIR" | "RMDIR" | "SYMLINK" => false,
        _ => true,
    }
}

/// Some part of the path is longer than Linux's NAME_MAX (255 bytes).
fn names_too_long(arg: &str) -> bool {
    arg.split('/').any(|part| part.len() > 255)
}

/// The last part of a path is `..`.
fn last_is_dot_dot(arg: &str) -> bool {
    arg.rsplit('/').next() == Some("..")
}

/// PORT as Pure-FTPd's and ProFTPD's sscanf(3) read it: six numbers up
/// to 255 and whatever after them, naming a port below 1024.
fn sscanf_port_below_1024(arg: &str) -> bool {
    let numbers: Vec<Option<u8>> = arg
        .split(',')
        .take(6)
        .map(|n| n.trim().parse().ok())
        .collect();
    match numbers.as_slice() {
        [Some(_), Some(_), Some(_), Some(_), Some(hi), Some(lo)] => {
            (1..1024).contains(&(u16::from(*hi) * 256 + u16::from(*lo)))
        }
        _ => false,
    }
}

/// [`sscanf_port_below_1024`], port 0 included (ProFTPD's `!port`).
fn sscanf_port_0_to_1023(arg: &str) -> bool {
    sscanf_port_zero(arg) || sscanf_port_below_1024(arg)
}

/// A PORT whose six numbers end in `0,0`: Pure-FTPd's doport() reads
/// port 0 as a syntax error, not a low port.
fn sscanf_port_zero(arg: &str) -> bool {
    let numbers: Vec<&str> = arg.split(',').take(6).map(str::trim).collect();
    numbers.len() == 6 && numbers[4].parse() == Ok(0u8) && numbers[5].parse() == Ok(0u8)
}

/// The port field of an EPRT, as atoi(3) reads what follows the address.
fn eprt_port(arg: &str) -> Option<u64> {
    let mut chars = arg.chars();
    let delim = chars.next()?;
    let port = chars.as_str().split(delim).nth(2)?;
    let digits: String = port.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// An AUTH whose mechanism is not `TLS` (Pure-FTPd compares it with
/// strcasecmp(3)).
fn not_auth_tls(arg: &str) -> bool {
    !arg.eq_ignore_ascii_case("TLS")
}

/// An EPRT to port 0: a syntax error on Pure-FTPd (`port <= 0`).
fn eprt_port_zero(arg: &str) -> bool {
    eprt_port(arg) == Some(0)
}

/// An EPRT to a port below 1024, which doport2() refuses before it looks
/// at the address.
fn eprt_port_below_1024(arg: &str) -> bool {
    eprt_port(arg).is_some_and(|p| (1..1024).contains(&p))
}

/// Pure-FTPd's LIST flags leave `-l` off (the last of `-1`, `-l`, `-C` is
/// `-1`) and set no other: names only, no Options line.
pub(crate) fn pure_names_only(arg: &str) -> bool {
    let mut long = true;
    let mut columns = false;
    let mut other = false;
    for word in arg.split_whitespace().take_while(|w| w.starts_with('-')) {
        for flag in word.chars().skip(1) {
            match flag {
                'l' => {
                    long = true;
                    columns = false;
                }
                '1' => {
                    long = false;
                    columns = false;
                }
                'C' => {
                    long = false;
                    columns = true;
                }
                'a' | 'd' | 'F' | 'R' | 'r' | 't' | 'S' => other = true,
                _ => {}
            }
        }
    }
    !long && !columns && !other
}
