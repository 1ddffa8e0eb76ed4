//! Server personalities: the engine speaking as vsftpd, ProFTPD, Pure-FTPd,
//! IIS or FileZilla Server, so that a client can be tested against the
//! servers it meets in the field without running them.
//!
//! A personality is data (a [`Profile`]), not a fork of the engine: the
//! greeting, SYST, FEAT and HELP texts, which verbs exist, the reply that
//! replaces the engine's for each (verb, code) situation, and a few switches
//! for behaviour that differs (listing style, SIZE in TYPE A, APPE refused,
//! TYPE A transfers sent as binary…). The session applies it in `send`, the
//! one place replies are written, before faults, so faults, quirks, TLS and
//! the transcript work on top of any personality.
//!
//! The vsftpd, ProFTPD and Pure-FTPd profiles were taken from the real
//! servers: `fixtures/personalities/*.txt` are their golden transcripts
//! (recorded with `tools/record-personality`), and the tests replay the same
//! sequence against ftpfixture and require the same codes and first lines.

mod gate;
mod options;
mod profiles;

pub(crate) use gate::Standing;
pub(crate) use options::{settle, Settings};
pub(crate) use profiles::pure_names_only;

use std::fmt;
use std::str::FromStr;

use crate::protocol::Reply;

/// Which server ftpfixture plays.
///
/// ```
/// use ftpfixture::Personality;
/// let p: Personality = "pure-ftpd".parse().unwrap();
/// assert_eq!(p, Personality::PureFtpd);
/// assert_eq!(p.to_string(), "pure-ftpd");
/// assert_eq!(Personality::ALL.len(), 6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Personality {
    /// ftpfixture's own replies (the default).
    #[default]
    Ftpfixture,
    /// vsftpd 3.0.3 (Debian): no MLSD/MLST, `550 Failed to …` texts, TYPE A
    /// transfers sent as binary (`ascii_download_enable=NO`).
    Vsftpd,
    /// ProFTPD 1.3.8 (Debian): `path: No such file or directory` texts, SIZE
    /// refused in TYPE A, APPE refused (`AllowStoreRestart off`).
    Proftpd,
    /// Pure-FTPd 1.0.50 (Debian): multi-line greeting, `. ..` in NLST and
    /// MLSD, `226 N matches total`, `553` for uploads it may not write.
    PureFtpd,
    /// Microsoft IIS FTP (documented behaviour): `Windows_NT`, DOS-style
    /// listings, `550 The system cannot find the file specified.`
    Iis,
    /// FileZilla Server (documented behaviour): `UNIX emulated by
    /// FileZilla`, `550 File not found`.
    Filezilla,
}

impl Personality {
    /// Every personality, the default first: loop over it to test a
    /// client against all of them.
    pub const ALL: &'static [Personality] = &[
        Personality::Ftpfixture,
        Personality::Vsftpd,
        Personality::Proftpd,
        Personality::PureFtpd,
        Personality::Iis,
        Personality::Filezilla,
    ];

    /// The name `--personality` and scenario files use.
    pub fn name(self) -> &'static str {
        match self {
            Personality::Ftpfixture => "ftpfixture",
            Personality::Vsftpd => "vsftpd",
            Personality::Proftpd => "proftpd",
            Personality::PureFtpd => "pure-ftpd",
            Personality::Iis => "iis",
            Personality::Filezilla => "filezilla",
        }
    }

    /// The data the engine follows; `None` for ftpfixture's own replies.
    pub(crate) fn profile(self) -> Option<&'static Profile> {
        match self {
            Personality::Ftpfixture => None,
            Personality::Vsftpd => Some(&profiles::VSFTPD),
            Personality::Proftpd => Some(&profiles::PROFTPD),
            Personality::PureFtpd => Some(&profiles::PURE_FTPD),
            Personality::Iis => Some(&profiles::IIS),
            Personality::Filezilla => Some(&profiles::FILEZILLA),
        }
    }
}

impl fmt::Display for Personality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no personality.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown personality {0:?}: use ftpfixture, vsftpd, proftpd, pure-ftpd, iis or filezilla")]
pub struct ParsePersonalityError(String);

impl FromStr for Personality {
    type Err = ParsePersonalityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        Personality::ALL
            .iter()
            .copied()
            .find(|p| p.name() == wanted || (wanted == "pureftpd" && *p == Personality::PureFtpd))
            .ok_or_else(|| ParsePersonalityError(s.to_string()))
    }
}

/// A multi-line reply's text: first line, lines between, last line.
#[derive(Debug)]
pub(crate) struct Block {
    pub first: &'static str,
    pub lines: &'static [&'static str],
    pub last: &'static str,
}

/// When a rule applies, besides its verb and the engine's code.
#[derive(Debug, Clone, Copy)]
pub(crate) enum When {
    Always,
    /// The engine's text contains this.
    Has(&'static str),
    /// In TYPE A.
    Ascii,
    /// In TYPE A, and the engine's text contains this.
    AsciiHas(&'static str),
    /// The argument starts with this (case-insensitive).
    ArgStarts(&'static str),
    /// The argument is this (case-insensitive).
    ArgIs(&'static str),
    /// The argument passes this test (a server's own reading of it, too
    /// particular for the cases above: ProFTPD's ALLO).
    ArgPasses(fn(&str) -> bool),
    /// The data connection is active (PORT/EPRT).
    Active,
    /// The listing being ended named nothing (see
    /// `Profile::missing_list_fails_late`).
    Missing,
}

/// Replaces the engine's reply to `verb` with `code` (`"*"`: any verb).
/// The text may hold `{arg}` (the command's argument; `{arg_last}` its last
/// word, `{arg_first}` its first, `{arg_rest}` what follows that, `{arg_first_upper}` its first word after any spaces, in capitals,
/// `{arg_upper}` the whole argument in capitals), `{cwd}`, `{user}`, `{count}` (lines of the listing just sent),
/// `{abs}` (the argument as an absolute path; `{abs_quoted}` with its `"` doubled, for a 257), `{cwd_arg}` (the argument
/// after the working directory, unresolved: `/dir/../x`), `{paren}` (the engine's text
/// from its first parenthesis), `{mode}` (ASCII or BINARY), `{kb_up}`/`{kb_down}` (KiB moved so far),
/// `{verb}` (the verb as sent, X-aliases included), `{text}` (the engine's text),
/// `{list_path_home}` (a listing's path with
/// `~root` read as root's home, `/root`, as ProFTPD's mod_ls reads it),
/// `{pure_rate}` (Pure-FTPd's rate line, after a newline, when the transfer moved bytes) and `\n` for a multi-line reply. A text
/// that starts with `=` replaces a multi-line reply whole; otherwise a
/// one-line text replaces only its first line.
#[derive(Debug)]
pub(crate) struct Rule {
    pub verb: &'static str,
    pub code: u16,
    pub when: When,
    pub to: u16,
    pub text: &'static str,
}

/// How LIST lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListStyle {
    /// `ls -l`, with these widths for the link count, the size, and the
    /// owner and group.
    Unix {
        links: usize,
        size: usize,
        owner: usize,
    },
    /// `01-15-24  10:30AM       <DIR>          dir` (IIS).
    Dos,
}

/// Everything that makes one server sound like itself.
#[derive(Debug)]
pub(crate) struct Profile {
    /// Greeting lines (several: a multi-line 220). `{host}` is the address
    /// the client reached.
    pub greeting: &'static [&'static str],
    pub syst: &'static str,
    pub feat: Block,
    pub help: Block,
    pub site_help: Block,
    /// `HELP verb`: `214 Syntax: VERB text` for these (any case); any
    /// other verb is unknown to HELP. Empty: the engine's answer.
    pub help_topics: &'static [(&'static str, &'static str)],
    /// The first line of STAT without argument.
    pub stat: &'static str,
    /// The verbs this server knows; others get `unknown`.
    pub verbs: &'static [&'static str],
    /// The reply to an unknown verb (`{verb}` is it).
    pub unknown: (u16, &'static str),
    pub rules: &'static [Rule],
    pub list: ListStyle,
    /// SIZE in TYPE A is refused with this.
    pub size_ascii: Option<(u16, &'static str)>,
    /// SIZE in TYPE A counts the converted bytes (false: the file's size,
    /// as vsftpd and Pure-FTPd answer).
    pub converted_size: bool,
    /// APPE to a file that exists is refused with this (ProFTPD without
    /// AllowStoreRestart); APPE of a new name stores it.
    pub appe: Option<(u16, &'static str)>,
    /// TYPE A converts line endings on transfers (false: vsftpd's
    /// default, which sends bytes as they are).
    pub ascii_data: bool,
    /// NLST of a directory names `dir/file` (true) or `file`.
    pub nlst_paths: bool,
    /// NLST and MLSD of a directory include `.` and `..`.
    pub dot_entries: bool,
    /// `LIST -a` includes `.` and `..` (the flag is read, as by `ls`).
    pub list_a: bool,
    /// LIST and NLST of a path or pattern that names nothing send an
    /// empty listing (vsftpd, Pure-FTPd) rather than refuse.
    pub missing_lists_empty: bool,
    /// LIST of a path that names nothing opens the data connection, sends
    /// nothing, and ends with an error instead of 226 (ProFTPD's `450`):
    /// the rules see it as [`When::Missing`].
    pub missing_list_fails_late: bool,
    /// NLST of anything but a directory (a file, a pattern, a missing
    /// path, flags: its argument is read as a path) is refused with this
    /// (Pure-FTPd).
    pub nlst_needs_dir: Option<(u16, &'static str)>,
    /// The checks before a command's handler, in the server's order
    /// (`None`: the engine's; IIS and FileZilla, which cannot be run
    /// here to read them off).
    pub gate: Option<gate::Gate>,
    /// The lines FEAT gains when the server runs with TLS (kept in
    /// order when FEAT's lines are sorted, as vsftpd's and ProFTPD's are).
    pub feat_tls: &'static [&'static str],
    /// How listings show owners and groups.
    pub owners: Owners,
    /// The TYPE a session starts in.
    pub initial_type: crate::protocol::TransferType,
    /// STAT without argument, when the server's own block differs from
    /// the engine's: `{peer}`, `{user}`, `{type}`, `{idle}` (seconds),
    /// `{control}` and `{data}` ("plain text" or "encrypted"), `{clients}`,
    /// `{session_bytes}` (a line with it shows once a transfer moved bytes).
    pub status: Option<Block>,
    /// REST takes any argument, as vsftpd does: digits are the offset,
    /// anything else (a sign, words, an overflow) is 0.
    pub lenient_rest: bool,
    /// Verbs whose argument the server ignores (vsftpd's HELP and PASV).
    pub ignores_args: &'static [&'static str],
    /// Multi-line replies the server composes carry the code on every
    /// line (`220-…`), as Pure-FTPd's do.
    pub dash_every_line: bool,
    /// RNFR's path waits for an RNTO across other commands (vsftpd,
    /// ProFTPD and Pure-FTPd keep it until an RNTO or the next RNFR);
    /// otherwise any other command forgets it.
    pub rename_survives: bool,
    /// LIST of a file shows its name without the path the client gave
    /// (vsftpd), rather than the path as given.
    pub list_file_name_only: bool,
    /// `STAT path`, when the server answers it with its own listing
    /// (`None`: the engine's, reworded by the rules).
    pub stat_list: Option<StatList>,
    /// How MLSD and MLST write their facts, and what `OPTS MLST` does.
    pub facts: crate::facts::FactStyle,
    /// How the server's code behaves where the protocol leaves it free
    /// (what it checks when, how it reads paths and REST): vsftpd's and
    /// the other Unix servers' habits, none for the rest.
    pub habits: Habits,
}

/// How a server's `STOU` names the file it stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StouNames {
    /// The engine's: the argument or `ftpfixture.stou`, then `.1`, `.2`…
    /// until one is free, named in the 150 by its last part.
    Engine,
    /// wu-ftpd's (vsftpd): the argument itself if it does not exist, else
    /// the argument (or `STOU` without one) with `.1`, `.2`… appended,
    /// named in the 150 as the client wrote it.
    WuFtpd,
    /// mkstemp(3) with ProFTPD's `StoreUniquePrefix`: `ftp` and six
    /// random letters or digits in the working directory. The argument is
    /// ignored, but two or more words are `500 'STOU …' not understood`,
    /// and a REST before it is `550 STOU incompatible with REST`.
    Mkstemp,
    /// Pure-FTPd's `pureftpd.<seconds>.<microseconds & ff>.<counter>`
    /// (hex) in the working directory, the argument ignored; the
    /// `FILE: name` line goes ahead of whatever answers next (its 150, or
    /// the refusal of the STOR it becomes).
    PureFtpd,
}

/// A server's own reading of TYPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeReader {
    /// Pure-FTPd's `dotype`: the first letter decides (`a`, `i`, `l8`),
    /// and every answer ends with the type now in force.
    FirstLetter,
    /// ProFTPD 1.3.8's `xfer_type`: `A` or `I` (whatever word follows),
    /// `L 7`, `L 8`, the first letter in any case; anything else is `504
    /// TYPE not implemented for '…' parameter` naming the first word;
    /// `200 Type set to` the first word as sent.
    Words,
}

/// The SITE commands a played server has beyond the engine's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SiteDialect {
    /// The engine's SITE (CHMOD, UMASK, HELP) alone.
    Engine,
    /// ProFTPD's modules: mod_site's CHMOD and CHGRP, mod_site_misc's
    /// UTIME, MKDIR, RMDIR, mod_copy's CPFR, CPTO, COPY, QUOTA, RATIO.
    ProFtpd,
    /// Pure-FTPd's parser: SITE IDLE, TIME, CHMOD, UTIME, ALIAS.
    PureFtpd,
}

/// What a real server's code does beyond its replies' words, read from
/// its source and checked by the differential tester. Each is off in
/// [`Habits::NONE`], the engine's own behaviour.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Habits {
    /// RNFR only checks that the path exists; whether it may be renamed
    /// is the rename's to say, at RNTO (the three Unix servers: `RNFR` of
    /// a file in a read-only directory is 350, its RNTO fails).
    pub rnfr_exists_only: bool,
    /// `REST n` is an lseek on the file the transfer opens (vsftpd):
    /// `STOR` writes over it from byte `n`, keeping what follows and
    /// leaving zeros past its end ([`WriteMode::Over`](crate::WriteMode::Over)),
    /// and `RETR` from past the end sends nothing; rather than the
    /// engine's keep-`n`-bytes and 554 past the end.
    pub rest_is_lseek: bool,
    /// An RNFR or RNTO without a path still ends the rename an RNFR began
    /// (vsftpd's and ProFTPD's handlers run and fail; Pure-FTPd refuses
    /// the line before its handler, and the RNFR still waits).
    pub rnto_ends_rename: bool,
    /// How `STOU` names the file it stores.
    pub stou: StouNames,
    /// An RNFR of a path that exists, while another waits for its RNTO,
    /// puts this line ahead of its 350; an RNFR that fails leaves the
    /// waiting one waiting (Pure-FTPd's `dornfr`).
    pub rnfr_abort_notice: Option<&'static str>,
    /// How TYPE reads its argument, when the server's own reading
    /// replaces the engine's.
    pub reads_type: Option<TypeReader>,
    /// A path with a backslash or a control character is refused before
    /// it is looked at: `553 Prohibited file name: …` (`Prohibited
    /// directory name` for MKD and RMD), Pure-FTPd's `checknamesanity`.
    pub prohibits_odd_names: bool,
    /// The root is the server's chroot, a mount point to the kernel:
    /// renaming it fails with `Device or resource busy` (EBUSY) before
    /// any permission is looked at (ProFTPD, Pure-FTPd).
    pub root_rename_busy: bool,
    /// Removing the root fails so too (ProFTPD, which hands the kernel
    /// `/`; Pure-FTPd hands it `..`, which is "Directory not empty").
    pub root_rmdir_busy: bool,
    /// An upload onto a directory fails as one before its permission is
    /// looked at (open(2) says EISDIR before EACCES; ProFTPD's "Not a
    /// regular file").
    pub directory_upload_first: bool,
    /// REST reads its digits as strtoull(3) does: a number past
    /// 18446744073709551615 is that number (ProFTPD takes it).
    pub rest_saturates: bool,
    /// A LIST pattern that matches nothing is an empty listing ending in
    /// 226, where a missing path fails; NLST of one is `450 No files
    /// found` (ProFTPD's mod_ls).
    pub unmatched_glob_lists_empty: bool,
    /// MODE and STRU read the first letter of their argument: `MODE SS`
    /// is stream mode, `STRU FF` file structure (ProFTPD's `xfer_mode`).
    pub mode_by_first_letter: bool,
    /// A REST the server cannot read sets the offset back to 0 (Pure-FTPd:
    /// `554 Restart offset reset to 0`); otherwise an earlier REST stands.
    /// A RETR from past the end says so in the same two lines.
    pub bad_rest_resets: bool,
    /// A REST past the end of the file an upload writes is its end (a new
    /// file's 0): Pure-FTPd's dostor() clamps it, where the engine refuses
    /// with 554.
    pub upload_rest_clamps: bool,
    /// STOR, APPE, MKD and RNTO read their name folded (`//`, `/./`,
    /// `x/../`, a leading `./`) and with white space at either end turned
    /// into `_` (Pure-FTPd's simplify() and revealextraspc()); MKD's 257
    /// names what it made. LIST, NLST and STAT fold their path (a file is
    /// listed under the folded name).
    pub names_folded: bool,
    /// Paths go to the kernel as the client wrote them, so the part before
    /// the last `/` must exist, component by component (`nodir/../x`
    /// fails where the engine would read `x`): a command on such a path
    /// fails as on a missing one, and a listing lists nothing and ends as
    /// [`When::Missing`] (vsftpd's "Transfer done (but failed to open
    /// directory)").
    pub paths_as_kernel: bool,
    /// A LIST or NLST argument without flags is the path as sent, white
    /// space first and all (ProFTPD's mod_ls skips it only before flags).
    pub list_space_kept: bool,
    /// A path argument `~` or `~/…` means the home directory (`/` in the
    /// chroot), for the verbs that take a path: vsftpd's `resolve_tilde`.
    pub tilde_is_home: bool,
    /// `~` and `~user` name home directories as the system has them,
    /// outside the chroot and so missing; `~/…` is `/…` for the commands
    /// that canonicalise their path, but missing for listings, whose
    /// glob(3) expands it to the home's real path (ProFTPD).
    pub tilde_outside_chroot: bool,
    /// With data protection required, `PROT C` (and `PROT` without
    /// `PBSZ`) is accepted and the transfer is what gets refused
    /// (vsftpd's `force_local_data_ssl`: 522 at RETR/STOR/LIST); a USER
    /// refused for want of TLS ends the session (`force_local_logins_ssl`).
    pub tls_checked_late: bool,
    /// EPRT takes only `|` as its delimiter (vsftpd), not any character
    /// RFC 2428 allows.
    pub eprt_pipe_only: bool,
    /// `NLST -l` is a long listing, as LIST's (vsftpd reads ls flags on
    /// both).
    pub nlst_reads_l: bool,
    /// The TYPE arguments the server takes, exactly as written (any case):
    /// vsftpd's `I`, `L8`, `L 8`, `A`, `A N`; anything else is its TYPE
    /// error. `None`: the engine's reading (RFC 959's forms).
    pub types: Option<&'static [&'static str]>,
    /// A listing of a directory leaves out names starting with `.` unless
    /// `-a` asks for them (vsftpd, `force_dot_files=NO`).
    pub hides_dot_files: bool,
    /// `.` and `..` sort among the other names by their bytes (vsftpd: a
    /// `%name` comes before `.`), rather than first.
    pub sorts_dots_with_names: bool,
    /// RMD and DELE of a missing path say it is missing before they say
    /// the directory is read-only (ProFTPD, Pure-FTPd).
    pub missing_before_denied: bool,
    /// A login sets the transfer type afresh: ASCII, unless a TYPE was
    /// taken before it, and then Image whatever that TYPE said (ProFTPD:
    /// mod_auth clears the session's flags at PASS, and `xfer_post_pass`
    /// sets ASCII back only when no TYPE came first).
    pub login_clears_type: bool,
    /// RETR's 150 counts the bytes it will send, the size less the REST
    /// offset (ProFTPD's `st_size - restart_pos`), where the engine (and
    /// vsftpd) names the file's size.
    pub retr_counts_left: bool,
    /// Whose SITE commands answer beyond the engine's (`command::site_misc`).
    pub site: SiteDialect,
    /// Listings read `[…]` classes in a pattern, as glob(3) does
    /// (ProFTPD, Pure-FTPd); vsftpd's own matcher takes `[` as itself.
    pub glob_brackets: bool,
    /// STOR and APPE open the file before the data connection is made,
    /// so one that fails leaves it created (or emptied) (ProFTPD,
    /// Pure-FTPd).
    pub upload_opens_first: bool,
    /// A STOR or APPE after `REST n` (n > 0) of a file that does not
    /// exist creates it and fails: `554 REST: invalid x argument`
    /// (ProFTPD's lseek past the new file's end).
    pub rest_past_new_file_fails: bool,
    /// NLST of one path (no wildcard) cleans it first, and a file is
    /// named as cleaned: `./x` and `d/../x` are `x` (ProFTPD's mod_ls).
    pub nlst_cleans_path: bool,
    /// HOST as ProFTPD's mod_core reads it (`core_host`): refused only
    /// once logged in; an address must be the one connected to, a name
    /// one of its virtual hosts (none here).
    pub host_as_proftpd: bool,
    /// LIST takes several targets, split at spaces, and lists each
    /// directory a pattern or a list names under a heading (Pure-FTPd's
    /// dolist).
    pub lists_several: bool,
    /// LIST reads `ls`'s `-d` (a directory as one line, not what it
    /// holds) and `-R` (each subdirectory's lines after, under a heading
    /// in the server's layout): ProFTPD's mod_ls, Pure-FTPd's ls.c.
    pub lists_dir_flags: Option<DirFlags>,
    /// A transfer or listing refused because a rename waits still runs
    /// its error cleanup, which forgets the RNFR's path: the RNTO that
    /// comes is refused (503), and until it comes every other command
    /// still is (ProFTPD: core_pre_any refuses, mod_xfer's and mod_ls's
    /// error handlers clear the transfer state that held the path).
    pub refused_transfer_forgets_rename: bool,
    /// ESTP accepts the data connection a PASV prepared at once and names
    /// the client's end; `PRET RETR path` checks the path (Pure-FTPd;
    /// `command/pure_data.rs`).
    pub pure_data_verbs: bool,
    /// STOR after a REST moves the file aside first, to the temporary
    /// name the upload is written under, and refuses a file it may not
    /// move (`553 Rename/move failure`): Pure-FTPd's dostor().
    pub resume_moves_aside: bool,
    /// A passive listener outlives its transfer: the next transfer (or
    /// ESTP) without a new PASV waits on it again (Pure-FTPd closes its
    /// listening socket only for a new PASV, PORT or the session's end).
    pub passive_listener_stays: bool,
    /// RMD hands its path to rmdir(2) as given: a last part `.` is
    /// EINVAL and `..` ENOTEMPTY, before anything else (Pure-FTPd).
    pub rmdir_reads_dots: bool,
    /// A path given to a file command is walked as the kernel walks it:
    /// each directory before the last `/` must be there, so `dir/../x`
    /// fails when `dir` does not exist (Pure-FTPd; vsftpd has it with
    /// `paths_as_kernel`).
    pub walks_dir_parts: bool,
    /// The server runs as the logged-in user, so the kernel refuses what
    /// the owner's mode bits forbid (after `SITE CHMOD 000`): a directory
    /// without x cannot be walked or entered, a file without r read, one
    /// without w written (Pure-FTPd; `storage/owner_modes.rs`).
    pub owner_modes_apply: bool,
    /// After a STOU, every upload of the session goes to a new file
    /// renamed over its target once the data is in (Pure-FTPd's
    /// `no_truncate`, set by dostor() for a STOU and never cleared): APPE
    /// replaces the file, and a target rename(2) refuses (a directory,
    /// `..`) takes the data and then says so in its 226.
    pub stou_makes_uploads_atomic: bool,
    /// DELE looks at what the path is before the permission: a directory
    /// is refused as one even where nothing may be deleted (Pure-FTPd's
    /// dodele() lstat()s before its rename).
    pub dele_kind_first: bool,
    /// CWD with no argument or `~` goes home (`/` in a chroot), and
    /// `~/x` below it, even where a directory is named `~` (Pure-FTPd's
    /// docwd(); other commands take `~` as a name).
    pub cwd_tilde_home: bool,
    /// USER with no name before login, on a server without anonymous
    /// logins, is refused and the connection closed (Pure-FTPd's
    /// douser(): `die(530, ...)`; `ftp` and `anonymous` get the 331 of
    /// any other name there, held-out seed 8005).
    pub bare_user_closes: bool,
    /// A LIST pattern with more `*` than this is not expanded: nothing is
    /// listed and the 226 says "Out of memory during globbing" (Pure-FTPd's
    /// bsd-glob.c, GLOB_MAX_STARS 3).
    pub glob_max_stars: Option<usize>,
    /// EPRT's port is atoi(3) stored in an `unsigned short`: 99999 is
    /// 34463 (ProFTPD's core_eprt()).
    pub eprt_port_truncated: bool,
    /// A TYPE A upload drops every CR, not only those before an LF
    /// (Pure-FTPd's ulhandler).
    pub ascii_drops_every_cr: bool,
    /// A TYPE A download puts a CR before every LF, even one after a CR
    /// (Pure-FTPd's dl handler).
    pub ascii_cr_before_every_lf: bool,
    /// Listing patterns take `{a,b}` as the characters they are (Pure-FTPd's
    /// glob has no GLOB_BRACE).
    pub braces_literal: bool,
}

impl Habits {
    /// The engine's behaviour everywhere (IIS, FileZilla).
    pub(crate) const NONE: Habits = Habits {
        rnfr_exists_only: false,
        rest_is_lseek: false,
        rnto_ends_rename: false,
        stou: StouNames::Engine,
        rnfr_abort_notice: None,
        reads_type: None,
        prohibits_odd_names: false,
        root_rename_busy: false,
        root_rmdir_busy: false,
        directory_upload_first: false,
        rest_saturates: false,
        unmatched_glob_lists_empty: false,
        mode_by_first_letter: false,
        bad_rest_resets: false,
        upload_rest_clamps: false,
        names_folded: false,
        paths_as_kernel: false,
        list_space_kept: false,
        tilde_is_home: false,
        tilde_outside_chroot: false,
        tls_checked_late: false,
        eprt_pipe_only: false,
        nlst_reads_l: false,
        types: None,
        hides_dot_files: false,
        sorts_dots_with_names: false,
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
        lists_dir_flags: None,
        refused_transfer_forgets_rename: false,
        pure_data_verbs: false,
        resume_moves_aside: false,
        passive_listener_stays: false,
        rmdir_reads_dots: false,
        walks_dir_parts: false,
        owner_modes_apply: false,
        stou_makes_uploads_atomic: false,
        dele_kind_first: false,
        cwd_tilde_home: false,
        bare_user_closes: false,
        glob_max_stars: None,
        eprt_port_truncated: false,
        ascii_drops_every_cr: false,
        ascii_cr_before_every_lf: false,
        braces_literal: false,
    };
}

/// The verbs whose argument is a path, for the rules that read paths as
/// a server hands them to the kernel.
pub(crate) const PATH_VERBS: &[&str] = &[
    "CWD", "XCWD", "MKD", "XMKD", "RMD", "XRMD", "DELE", "RNFR", "RNTO", "RETR", "STOR", "APPE",
    "STOU", "SIZE", "MDTM", "LIST", "NLST", "STAT", "MLST",
];

/// Whose `ls -R` and `-d` a LIST plays (`Habits::lists_dir_flags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DirFlags {
    /// mod_ls: `\r\n{path}:\r\n` before a subdirectory, named from the
    /// argument (`sub`, `dir/sub`); STAT ignores the flags; a bare `-d`
    /// is not played (it ends the real server's session).
    ProFtpd,
    /// ls.c: `\r\n\r\n{path}:\r\n\r\n`, the path the argument (`.`
    /// without one) and `/` and the name, as they come (`./sub`, `//sub`
    /// for `/`); STAT reads the flags too; a bare `-d` lists `.`.
    PureFtpd,
}

impl DirFlags {
    /// The heading before the lines of `name`, a subdirectory of what
    /// `parent` (as the listing named it; empty for the argument-less
    /// top) holds, and how the listing names it from then on.
    pub(crate) fn heading(self, parent: &str, name: &str) -> (String, String) {
        match self {
            DirFlags::ProFtpd => {
                let named = match parent.trim_end_matches('/') {
                    "" if parent.is_empty() => name.to_string(),
                    "." => name.to_string(),
                    parent => format!("{parent}/{name}"),
                };
                (format!("\r\n{named}:\r\n"), named)
            }
            DirFlags::PureFtpd => {
                let parent = if parent.is_empty() { "." } else { parent };
                let named = format!("{parent}/{name}");
                (format!("\r\n\r\n{named}:\r\n\r\n"), named)
            }
        }
    }
}

/// How a server answers `STAT path`: its `LIST` of the path, sent over the
/// control connection between a first and a last line.
#[derive(Debug)]
pub(crate) struct StatList {
    /// The first line; `{arg}` is the path as the client gave it.
    pub first: &'static str,
    pub last: &'static str,
    /// Put before every listing line (ProFTPD's one space).
    pub indent: &'static str,
    /// A directory's listing starts with `.` and `..`, as `ls -a`'s
    /// (vsftpd adds the flag to STAT; ProFTPD too).
    pub dots: bool,
    /// The reply code for a directory (ProFTPD's 212); 213 otherwise.
    pub dir_code: u16,
    /// A path that names nothing: refused with this code and
    /// `{arg}: No such file or directory` (ProFTPD's 450), or `None`: an
    /// empty listing between the first and last lines (vsftpd, Pure-FTPd).
    pub missing: Option<u16>,
}

/// How a server's listings name owners and groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owners {
    /// By name, as the fixture names them (`--owner`; `ftp` by default).
    Names,
    /// By number, as vsftpd without `hide_ids` does: `root` is 0, any
    /// other name the account's uid (1000); `hide_ids=YES` shows `ftp`.
    Numeric,
    /// By name, but root's as 0 (Pure-FTPd in its chroot).
    NamesRootNumeric,
}

impl Owners {
    /// The column a listing shows for `name`.
    pub(crate) fn show(self, name: &str, settings: Settings) -> &str {
        match self {
            Owners::Numeric if settings.hide_ids => "ftp",
            Owners::Numeric if name == "root" => "0",
            Owners::Numeric => "1000",
            Owners::NamesRootNumeric if name == "root" => "0",
            _ => name,
        }
    }
}

/// The values a rule's text may use.
pub(crate) struct Fill<'a> {
    pub verb: &'a str,
    pub arg: &'a str,
    pub cwd: &'a str,
    pub user: &'a str,
    pub count: usize,
    pub ascii: bool,
    /// Bytes uploaded and downloaded in the session so far.
    pub up: u64,
    pub down: u64,
    /// The argument as an absolute path.
    pub abs: &'a str,
    /// Bytes of the transfer whose end is being reported.
    pub moved: u64,
    /// The client's port when the next data connection is active.
    pub active_port: Option<u16>,
    /// The listing just sent named nothing.
    pub missing: bool,
}

impl Profile {
    /// True when the server knows `verb`.
    pub(crate) fn knows(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }

    /// The command line as this server reads it, with its argument, when
    /// that differs from what was sent: an argument the verb ignores is
    /// dropped, and vsftpd's REST takes digits as the offset and anything
    /// else (a sign, a word, an overflow) as 0.
    pub(crate) fn reread(&self, verb: &str, arg: Option<&str>) -> Option<(String, String)> {
        // An EPSV among them still reads ALL, 1 and 2 (Pure-FTPd).
        let epsv_known = verb == "EPSV"
            && arg.is_some_and(|a| ["ALL", "1", "2"].iter().any(|k| a.eq_ignore_ascii_case(k)));
        if arg.is_some() && self.ignores_args.contains(&verb) && !epsv_known {
            return Some((verb.to_string(), String::new()));
        }
        let listing = matches!(verb, "LIST" | "NLST" | "STAT");
        let tilde_home =
            self.habits.tilde_is_home || (self.habits.tilde_outside_chroot && !listing);
        if let Some(rest) = arg
            .filter(|_| tilde_home && PATH_VERBS.contains(&verb))
            .and_then(|a| a.strip_prefix('~'))
            .filter(|rest| rest.starts_with('/') || (rest.is_empty() && self.habits.tilde_is_home))
        {
            let home = format!("/{rest}");
            return Some((format!("{verb} {home}"), home));
        }
        if self.habits.eprt_port_truncated && verb == "EPRT" {
            if let Some(read) = arg.and_then(eprt_port_as_short) {
                return Some((format!("EPRT {read}"), read));
            }
        }
        if self.habits.cwd_tilde_home && matches!(verb, "CWD" | "XCWD") {
            // docwd(): nothing or `~` is the home (`/` in a chroot), `~/x`
            // is below it; its replies still name what was sent.
            let sent = arg.unwrap_or("");
            let home = match sent.strip_prefix('~') {
                _ if sent.is_empty() => Some("/".to_string()),
                Some("") => Some("/".to_string()),
                Some(rest) if rest.starts_with('/') => Some(format!("/{rest}")),
                _ => None,
            };
            if let Some(home) = home {
                return Some((format!("{verb} {home}"), sent.to_string()));
            }
        }
        if self.habits.names_folded {
            let folded = match (verb, arg) {
                ("STOR" | "APPE" | "MKD" | "XMKD" | "RNTO", Some(name)) => {
                    Some(reveal_extra_spaces(&fold_name(name)))
                }
                // Listings fold their path too (not their flags).
                ("LIST" | "NLST" | "STAT", Some(path)) if !path.starts_with('-') => {
                    Some(fold_name(path))
                }
                _ => None,
            };
            if let Some(folded) = folded.filter(|f| Some(f.as_str()) != arg && !f.is_empty()) {
                return Some((format!("{verb} {folded}"), folded));
            }
        }
        if self.habits.mode_by_first_letter {
            let first = arg
                .and_then(|a| a.chars().next())
                .map(|c| c.to_ascii_uppercase());
            match (verb, first) {
                ("MODE", Some('S')) => return Some(("MODE S".to_string(), "S".to_string())),
                ("STRU", Some('F')) => return Some(("STRU F".to_string(), "F".to_string())),
                _ => {}
            }
        }
        if self.habits.rest_saturates && verb == "REST" {
            let digits = arg.filter(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()));
            if let Some(digits) = digits.filter(|d| d.parse::<u64>().is_err()) {
                let offset = u64::MAX.to_string();
                tracing::debug!(%digits, "REST past 2^64-1, read as its maximum");
                return Some((format!("REST {offset}"), offset));
            }
        }
        if self.lenient_rest && verb == "REST" {
            let offset = arg
                .filter(|a| a.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|a| a.parse::<i64>().ok())
                .unwrap_or(0);
            return Some((format!("REST {offset}"), offset.to_string()));
        }
        None
    }

    /// A listing of a path or pattern that names nothing: `None` when the
    /// server refuses it, `Some(late)` when it sends an empty listing,
    /// ending it with an error instead of 226 when `late`.
    pub(crate) fn lists_nothing(&self, format: crate::protocol::ListFormat) -> Option<bool> {
        use crate::protocol::ListFormat;
        if self.missing_lists_empty && format != ListFormat::Machine {
            Some(false)
        } else if self.missing_list_fails_late && format == ListFormat::Long {
            Some(true)
        } else {
            None
        }
    }

    /// The reply to an unknown verb.
    pub(crate) fn unknown(&self, verb: &str) -> Reply {
        Reply::new(self.unknown.0, self.unknown.1.replace("{verb}", verb))
    }

    /// The greeting. `{host}` is the address the client reached, `{port}`
    /// the server's port, `{time}` the local time as HH:MM.
    pub(crate) fn greeting(&self, host: &str, port: u16) -> Reply {
        let time = crate::timeval::Civil::from_system_time(std::time::SystemTime::now());
        let hhmm = format!("{:02}:{:02}", time.hour, time.minute);
        let lines: Vec<String> = self
            .greeting
            .iter()
            .map(|l| {
                l.replace("{host}", host)
                    .replace("{port}", &port.to_string())
                    .replace("{time}", &hhmm)
            })
            .collect();
        self.layout(Reply::from_lines(220, lines))
    }

    /// A reply the server composes line by line (its greeting, a rule's
    /// several lines) in its multi-line layout: Pure-FTPd repeats
    /// `NNN-` on every line but the last.
    fn layout(&self, reply: Reply) -> Reply {
        if !self.dash_every_line || reply.lines.len() < 2 {
            return reply;
        }
        let n = reply.lines.len();
        let lines = reply
            .lines
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let sep = if i + 1 == n { ' ' } else { '-' };
                format!("{}{sep}{text}", reply.code)
            })
            .collect();
        Reply::raw(reply.code, lines)
    }

    /// `reply` with a line the server queued before it, in the server's
    /// multi-line layout and with the reply's code.
    pub(crate) fn prefaced(&self, line: String, reply: Reply) -> Reply {
        let code = reply.code;
        let mut lines = reply.into_wire_lines();
        if !self.dash_every_line && lines.len() > 1 {
            // The reply's first line is a middle one now.
            let dashed = format!("{code}-");
            if let Some(rest) = lines[0].strip_prefix(&dashed) {
                lines[0] = format!(" {rest}");
            }
        }
        lines.insert(0, format!("{code}-{line}"));
        Reply::raw(code, lines)
    }

    /// The refusal of a path the server will not look at
    /// ([`Habits::prohibits_odd_names`]). `renaming`: an RNFR waits (an
    /// RNTO without one is refused for that first).
    pub(crate) fn prohibited(
        &self,
        verb: &str,
        arg: Option<&str>,
        renaming: bool,
    ) -> Option<Reply> {
        if !self.habits.prohibits_odd_names {
            return None;
        }
        let name = arg?;
        if !name.chars().any(|c| c == '\\' || c.is_ascii_control()) {
            return None;
        }
        match verb {
            "MKD" | "XMKD" | "RMD" | "XRMD" => Some(Reply::new(553, "Prohibited directory name")),
            "RNTO" if !renaming => None,
            "CWD" | "XCWD" | "DELE" | "RETR" | "STOR" | "APPE" | "RNFR" | "RNTO" => {
                Some(Reply::new(553, format!("Prohibited file name: {name}")))
            }
            _ => None,
        }
    }

    /// TYPE as the server reads it ([`Habits::reads_type`]): the type now
    /// in force (changed or not) and the reply, in the server's layout.
    pub(crate) fn read_type(
        &self,
        reader: TypeReader,
        arg: Option<&str>,
        current: crate::protocol::TransferType,
    ) -> (crate::protocol::TransferType, Reply) {
        use crate::protocol::TransferType::{Ascii, Binary};
        let arg = arg.unwrap_or("");
        if reader == TypeReader::Words {
            let words: Vec<&str> = arg.split_whitespace().collect();
            let refuse = |word: &str| {
                let text = format!("TYPE not implemented for '{word}' parameter");
                (current, Reply::new(504, text))
            };
            let first = words.first().copied().unwrap_or("");
            let mut letter = first.to_string();
            if let Some(c) = letter.get_mut(..1) {
                c.make_ascii_uppercase();
            }
            // 1.3.8 reads no second word after A or I, and refuses an L
            // without 7 or 8 by its first.
            let now = match (letter.as_str(), words.get(1).copied()) {
                ("A", _) => Ascii,
                ("I", _) => Binary,
                ("L", Some("7")) => Ascii,
                ("L", Some("8")) => Binary,
                _ => return refuse(first),
            };
            return (now, Reply::new(200, format!("Type set to {first}")));
        }
        let mut rest = arg.chars().map(|c| c.to_ascii_lowercase());
        let (code, mut lines, now) = match (rest.next(), rest.next()) {
            (None, _) => (
                501,
                vec![
                    "Missing argument".to_string(),
                    "A(scii) I(mage) L(ocal)".to_string(),
                ],
                current,
            ),
            (Some('a'), _) => (200, vec![], Ascii),
            (Some('i'), _) | (Some('l'), Some('8')) => (200, vec![], Binary),
            (Some('l'), Some(d)) if d.is_ascii_digit() => (
                504,
                vec!["Only 8-bit bytes are supported, we're not 10 years ago".to_string()],
                current,
            ),
            (Some('l'), _) => (200, vec!["Missing argument".to_string()], Binary),
            _ => (504, vec![format!("Unknown TYPE: {arg}")], current),
        };
        let shown = if now == Binary {
            "8-bit binary"
        } else {
            "ASCII"
        };
        lines.push(format!("TYPE is now {shown}"));
        (now, self.layout(Reply::from_lines(code, lines)))
    }

    /// The engine's reply, as this server would word it.
    pub(crate) fn rewrite(&self, reply: Reply, fill: &Fill<'_>) -> Reply {
        let text = reply.lines.first().map(String::as_str).unwrap_or("");
        // The X-aliases of RFC 775 are their verbs' twins on every server
        // here; a rule's text says `{verb}` where the server names the
        // verb it got.
        let verb = match fill.verb {
            "XCUP" => "CDUP",
            "XCWD" => "CWD",
            "XMKD" => "MKD",
            "XPWD" => "PWD",
            "XRMD" => "RMD",
            v => v,
        };
        let rule = self.rules.iter().find(|r| {
            (r.verb == "*" || r.verb == verb)
                && r.code == reply.code
                && match r.when {
                    When::Always => true,
                    When::Has(part) => text.contains(part),
                    When::Ascii => fill.ascii,
                    When::AsciiHas(part) => fill.ascii && text.contains(part),
                    When::Active => fill.active_port.is_some(),
                    When::Missing => fill.missing,
                    When::ArgStarts(p) => fill
                        .arg
                        .get(..p.len())
                        .is_some_and(|a| a.eq_ignore_ascii_case(p)),
                    When::ArgIs(p) => fill.arg.eq_ignore_ascii_case(p),
                    When::ArgPasses(test) => test(fill.arg),
                }
        });
        let Some(rule) = rule else {
            return reply;
        };
        // "=": the rule's text replaces a multi-line reply whole.
        let (whole, template) = match rule.text.strip_prefix('=') {
            Some(t) => (true, t),
            None => (false, rule.text),
        };
        let kb = |bytes: u64| bytes.div_ceil(1024).to_string();
        let filled = template
            .replace("{text}", text)
            .replace("{arg_last}", fill.arg.rsplit(' ').next().unwrap_or(""))
            .replace("{arg_upper}", &fill.arg.to_uppercase())
            .replace(
                "{arg_first_upper}",
                &fill
                    .arg
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_uppercase(),
            )
            .replace("{arg_first}", fill.arg.split(' ').next().unwrap_or(""))
            .replace(
                "{arg_rest}",
                fill.arg.split_once(' ').map_or("", |(_, rest)| rest),
            )
            .replace("{arg}", fill.arg)
            .replace("{abs_quoted}", &fill.abs.replace('"', "\"\""))
            .replace("{abs}", fill.abs)
            .replace("{cwd_arg}", &cwd_arg(fill.cwd, fill.arg))
            .replace("{paren}", text.find('(').map_or("", |i| &text[i..]))
            .replace("{cwd}", fill.cwd)
            .replace("{verb}", fill.verb)
            .replace("{list_flags}", &list_flags(fill.arg))
            .replace(
                "{list_path_home}",
                &home_expanded(crate::protocol::strip_list_flags_only(fill.arg)),
            )
            .replace("{list_path}", crate::protocol::strip_list_flags(fill.arg))
            .replace(
                "{port}",
                &fill.active_port.map(|p| p.to_string()).unwrap_or_default(),
            )
            .replace(
                "{reason}",
                text.rsplit_once(": ").map_or(text, |(_, reason)| reason),
            )
            .replace("{user}", fill.user)
            .replace("{count}", &fill.count.to_string())
            .replace("{mode}", if fill.ascii { "ASCII" } else { "BINARY" })
            .replace("{kb_up}", &kb(fill.up))
            .replace("{kb_down}", &kb(fill.down))
            // Pure-FTPd's displayrate(): no line when nothing moved.
            .replace(
                "{pure_rate}",
                if fill.moved > 0 {
                    "\n0.000 seconds (measured here), 0 Kbytes per second"
                } else {
                    ""
                },
            );
        let mut lines: Vec<String> = filled.split('\n').map(str::to_string).collect();
        let composed = lines.len() > 1;
        if !whole && reply.lines.len() > 1 && lines.len() == 1 {
            // A multi-line reply of the engine (STAT…) keeps its body.
            lines.extend(reply.lines.into_iter().skip(1));
        }
        let reply = Reply::from_lines(rule.to, lines);
        if composed {
            self.layout(reply)
        } else {
            reply
        }
    }
}

impl Profile {
    /// FEAT, as the server's settings make it; `facts` are the ones in
    /// force (ProFTPD's MLST line marks those `OPTS MLST` selected).
    pub(crate) fn feat(&self, tls: bool, settings: Settings, facts: &crate::facts::Facts) -> Reply {
        let mlst = facts.feat_line();
        let mut lines: Vec<&str> = self.feat.lines.to_vec();
        if facts.style() == crate::facts::FactStyle::ProFtpd {
            for line in lines.iter_mut().filter(|l| l.starts_with("MLST ")) {
                *line = &mlst;
            }
        }
        if tls {
            let sorted = lines.is_sorted();
            lines.extend(self.feat_tls);
            if sorted {
                lines.sort_unstable();
            }
        }
        if settings.utf8_filesystem && !lines.contains(&"UTF8") {
            // vsftpd names UTF8 first when utf8_filesystem=YES.
            lines.insert(0, "UTF8");
        }
        let lines = lines.into_iter().map(str::to_string).collect();
        Reply::multi(211, self.feat.first, lines, self.feat.last)
    }
}

/// A path cleaned as ProFTPD's pr_fs_clean_path() cleans it: `//` and
/// `/./` to `/`, `x/../` dropped with the part before it (a leading
/// `/../` to `/`), a leading `./` dropped, a trailing `/.` to `/` and
/// `x/..` to `x`; leading `../` parts are kept as they are.
pub(crate) fn clean_path(name: &str) -> String {
    fold(name, false)
}

/// `~root` at the start of a path as root's home, `/root` (ProFTPD's
/// mod_ls expands `~user` with the account database before it looks).
fn home_expanded(path: &str) -> String {
    match path.strip_prefix("~root") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("/root{rest}"),
        _ => path.to_string(),
    }
}

/// An EPRT argument whose port field is past 65535, with the port as an
/// `unsigned short` holds atoi(3)'s value (strtol(3) saturates, the int
/// then truncates): `None` when the port fits or the line has no port.
fn eprt_port_as_short(arg: &str) -> Option<String> {
    let delim = arg.chars().next()?;
    let fields: Vec<&str> = arg[delim.len_utf8()..].splitn(4, delim).collect();
    let [family, host, port, rest] = fields.as_slice() else {
        return None;
    };
    let digits: String = port.chars().take_while(char::is_ascii_digit).collect();
    let value: u128 = digits.parse().ok()?;
    if value <= u128::from(u16::MAX) {
        return None;
    }
    let short = (value.min(i64::MAX as u128) as i64) as i32 as u16;
    let tail = &port[digits.len()..];
    Some(format!(
        "{delim}{family}{delim}{host}{delim}{short}{tail}{delim}{rest}"
    ))
}

/// A name as Pure-FTPd's simplify() leaves it: as [`clean_path`], but a
/// trailing `x/..` goes to the directory above `x` as written (`a/b/..`
/// to `a/`, `dir/..` to `/`).
fn fold_name(name: &str) -> String {
    fold(name, true)
}

/// [`clean_path`], or with `pure_tail` [`fold_name`].
fn fold(name: &str, pure_tail: bool) -> String {
    let kept = {
        let mut rest = name;
        while let Some(r) = rest.strip_prefix("../") {
            rest = r;
        }
        name.len() - rest.len()
    };
    let (head, tail) = name.split_at(kept);
    let mut s = tail.to_string();
    while s.contains("//") {
        s = s.replace("//", "/");
    }
    while s.contains("/./") {
        s = s.replace("/./", "/");
    }
    while s.starts_with("/../") {
        s.replace_range(..3, "");
    }
    while let Some(at) = s.find("/../") {
        // Back to the start of the component before `/../`.
        let start = s[..at].rfind('/').map_or(0, |slash| slash + 1);
        s.replace_range(start..at + 4, "");
    }
    if let Some(rest) = s.strip_prefix("./") {
        s = rest.trim_start_matches('/').to_string();
    }
    if s.len() > 1 && s.ends_with("/.") {
        s.truncate(s.len() - 1);
    } else if s.len() > 2 && s.ends_with("/..") {
        s.truncate(s.len() - 3);
        if pure_tail {
            match s.rfind('/') {
                Some(at) => s.truncate(at + 1),
                None => s = "/".to_string(),
            }
        }
    }
    format!("{head}{s}")
}

/// White space at either end of a name turned into `_`, as Pure-FTPd's
/// revealextraspc() does.
fn reveal_extra_spaces(name: &str) -> String {
    let start = name.len() - name.trim_start().len();
    let end = name.trim_end().len().max(start);
    format!(
        "{}{}{}",
        "_".repeat(name[..start].chars().count()),
        &name[start..end],
        "_".repeat(name[end..].chars().count())
    )
}

/// The `ls` flags of a LIST argument as Pure-FTPd echoes them: `-a ` when
/// asked for, `-l ` always.
fn list_flags(arg: &str) -> String {
    let has = |flag| crate::protocol::has_list_flag(arg, flag);
    // ls.c's order, each with its space but `-t`.
    let mut shown = String::new();
    for (flag, text) in [('a', "-a "), ('d', "-d ")] {
        if has(flag) {
            shown.push_str(text);
        }
    }
    shown.push_str("-l ");
    for (flag, text) in [('r', "-r "), ('R', "-R ")] {
        if has(flag) {
            shown.push_str(text);
        }
    }
    shown
}

impl Block {
    /// The reply; with no lines and no last line, a one-line reply.
    pub(crate) fn reply(&self, code: u16) -> Reply {
        if self.lines.is_empty() && self.last.is_empty() {
            return Reply::new(code, self.first);
        }
        Reply::multi(
            code,
            self.first,
            self.lines.iter().map(|l| l.to_string()).collect(),
            self.last,
        )
    }
}

/// The argument as a path from the root without resolving it: after the
/// working directory unless it starts with `/` (vsftpd's
/// `prepend_path_to_filename`), its `"` doubled for a 257.
fn cwd_arg(cwd: &str, arg: &str) -> String {
    let path = if arg.starts_with('/') {
        arg.to_string()
    } else if cwd.ends_with('/') {
        format!("{cwd}{arg}")
    } else {
        format!("{cwd}/{arg}")
    };
    // Quoted in a 257 as RFC 959 quotes a pathname: `"` doubled.
    path.replace('"', "\"\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pure_ftpd_folds_names() {
        assert_eq!(fold_name("dir/../readme.txt"), "readme.txt");
        assert_eq!(fold_name("a//b/./c"), "a/b/c");
        assert_eq!(fold_name("./x.txt"), "x.txt");
        assert_eq!(fold_name("/../x"), "/x");
        assert_eq!(fold_name("../../x"), "../../x");
        assert_eq!(fold_name("dir/."), "dir/");
        assert_eq!(fold_name("dir/.."), "/");
        assert_eq!(fold_name("a/b/.."), "a/");
        assert_eq!(clean_path("dir/.."), "dir");
        assert_eq!(reveal_extra_spaces(" readme.txt "), "_readme.txt_");
        assert_eq!(reveal_extra_spaces("a  b.txt"), "a  b.txt");
        assert_eq!(reveal_extra_spaces("   "), "___");
    }

    #[test]
    fn names_round_trip() {
        for p in Personality::ALL {
            assert_eq!(p.name().parse::<Personality>(), Ok(*p));
        }
        assert!("wu-ftpd".parse::<Personality>().is_err());
        assert_eq!("Pure_FTPd".parse(), Ok(Personality::PureFtpd));
    }

    #[test]
    fn rules_rewrite_by_verb_code_and_text() {
        let p = Personality::Proftpd.profile().unwrap();
        let fill = Fill {
            verb: "MKD",
            arg: "new",
            cwd: "/",
            user: "u",
            count: 0,
            ascii: false,
            up: 0,
            down: 0,
            abs: "/new",
            moved: 0,
            active_port: None,
            missing: false,
        };
        let r = p.rewrite(Reply::new(550, "/new: File exists"), &fill);
        assert_eq!((r.code, r.lines[0].as_str()), (550, "new: File exists"));
        let r = p.rewrite(Reply::new(257, "\"/new\" created"), &fill);
        // Pure-FTPd's composed replies carry the code on every line.
        let pure = Personality::PureFtpd.profile().unwrap();
        let greeting = pure.greeting("127.0.0.1", 21).into_wire_lines();
        assert!(
            greeting.iter().rev().skip(1).all(|l| l.starts_with("220-")),
            "{greeting:?}"
        );
        assert!(
            greeting.last().unwrap().starts_with("220 You will"),
            "{greeting:?}"
        );
        assert_eq!(r.lines[0], "\"/new\" - Directory successfully created");
    }
}
