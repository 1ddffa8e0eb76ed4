//! Scenario files: a whole test setup (users, files, TLS, faults) in one
//! TOML file, for the CLI (`--scenario FILE`) and for tests alike.
//!
//! ```
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let scenario: ftpfixture::Scenario = r#"
//!     greeting = "Flaky FTP"
//!     tls = "explicit"
//!     faults = ["RETR#1 reply=450 text=\"busy\""]
//!
//!     [[users]]
//!     name = "alice"
//!     password = "secret"
//!     home = "/alice"
//!
//!     [files]
//!     "alice/report.csv" = "a,b\n1,2\n"
//! "#.parse()?;
//! let server = scenario.apply(ftpfixture::Server::builder())?.start().await?;
//! # Ok(()) }
//! ```

use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use crate::{Fault, ServerBuilder, Tls, User};

/// A parsed scenario file. Every key is optional; see docs/cli.md ("Scenario
/// files") for the full list and `fixtures/` for samples. Values are checked when the
/// file is parsed: a duration that does not parse, an unknown TLS mode or a
/// bad port range is an error naming the key, never a silent default.
///
/// Read it with [`Scenario::from_file`] or [`str::parse`], use it with
/// [`Scenario::apply`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    bind: Option<IpAddr>,
    port: Option<u16>,
    greeting: Option<String>,
    #[serde(default, deserialize_with = "de::tls")]
    tls: Option<Tls>,
    require_tls: Option<bool>,
    require_tls_resumption: Option<bool>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    #[serde(default, deserialize_with = "de::port_range")]
    passive_ports: Option<RangeInclusive<u16>>,
    public_ip: Option<IpAddr>,
    #[serde(default, deserialize_with = "de::duration")]
    idle_timeout: Option<Duration>,
    #[serde(default, deserialize_with = "de::duration")]
    data_timeout: Option<Duration>,
    max_sessions: Option<usize>,
    max_sessions_per_ip: Option<usize>,
    max_login_failures: Option<u32>,
    #[serde(default, deserialize_with = "de::duration")]
    login_failure_delay: Option<Duration>,
    anonymous: Option<bool>,
    read_only: Option<bool>,
    chroot: Option<bool>,
    #[serde(default, deserialize_with = "de::personality")]
    personality: Option<crate::Personality>,
    /// The played server's own settings (`--personality-option`).
    #[serde(default)]
    personality_options: std::collections::BTreeMap<String, String>,
    #[serde(default, deserialize_with = "de::perms")]
    perm: Vec<crate::PathPerm>,
    #[serde(default)]
    users: Vec<ScenarioUser>,
    #[serde(default)]
    files: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    dirs: Vec<String>,
    fixtures: Option<PathBuf>,
    #[serde(default)]
    faults: Vec<String>,
    dual_stack: Option<bool>,
    memory: Option<bool>,
    max_line: Option<usize>,
    #[serde(default, deserialize_with = "de::duration")]
    shutdown_grace: Option<Duration>,
    require_tls_control: Option<bool>,
    require_tls_data: Option<bool>,
    allow_ccc: Option<bool>,
    #[serde(default, deserialize_with = "de::duration")]
    tls_handshake_timeout: Option<Duration>,
    record: Option<bool>,
    max_transcript_events: Option<usize>,
    replay: Option<PathBuf>,
    #[serde(default, deserialize_with = "de::owners")]
    owners: Vec<(String, crate::Ownership)>,
}

/// An account in a scenario (`[[users]]`: `name`, `password`, `home`,
/// `read_only`, `chroot`, `own_root`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioUser {
    name: String,
    password: String,
    home: Option<String>,
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    chroot: bool,
    #[serde(default)]
    own_root: bool,
}

impl ScenarioUser {
    /// The account as the builder takes it.
    pub fn to_user(&self) -> User {
        let mut user = User::new(&self.name, &self.password);
        if let Some(home) = &self.home {
            user = user.home(home.as_str());
        }
        if self.read_only {
            user = user.read_only();
        }
        if self.chroot {
            user = user.chroot();
        }
        if self.own_root {
            user = user.own_root();
        }
        user
    }
}

/// `PATH=OWNER:GROUP`, as `--owner` and a scenario's `owners` take it.
pub fn parse_owner(text: &str) -> Result<(String, crate::Ownership), String> {
    let bad = || format!("{text:?}: expected PATH=OWNER:GROUP, e.g. /shared=alice:staff");
    let (path, who) = text.rsplit_once('=').ok_or_else(bad)?;
    let (owner, group) = who.split_once(':').ok_or_else(bad)?;
    if !path.starts_with('/') || owner.is_empty() || group.is_empty() {
        return Err(bad());
    }
    Ok((path.to_string(), crate::Ownership::new(owner, group)))
}

/// Typed values from their text form, so a bad value fails the parse with
/// the key's name and position.
mod de {
    use std::ops::RangeInclusive;
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    use crate::fault::parse::parse_duration;
    use crate::Tls;

    /// `owners = ["/shared=alice:staff"]`.
    pub(super) fn owners<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<(String, crate::Ownership)>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|text| super::parse_owner(text).map_err(serde::de::Error::custom))
            .collect()
    }

    pub(super) fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!("{text:?} is no duration (30s, 500ms)"))
        })
    }

    pub(super) fn personality<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<crate::Personality>, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map(Some).map_err(serde::de::Error::custom)
    }

    /// `perm = ["/inbox=write-only", "bob:/private=none"]`.
    pub(super) fn perms<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<crate::PathPerm>, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        texts
            .iter()
            .map(|t| t.parse().map_err(serde::de::Error::custom))
            .collect()
    }

    pub(super) fn tls<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Tls>, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map(Some).map_err(serde::de::Error::custom)
    }

    pub(super) fn port_range<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<RangeInclusive<u16>>, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_port_range(&text)
            .map(Some)
            .map_err(serde::de::Error::custom)
    }
}

/// Why a scenario could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Not valid TOML, an unknown key, a wrong type or a bad value; the
    /// message names the key and points at it. The TOML parser's own error
    /// is the `source()`.
    #[error("invalid scenario: {message}")]
    Syntax {
        /// What is wrong, and where.
        message: String,
        /// The parser's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A value that TOML accepted but ftpfixture does not.
    #[error("invalid scenario: {key}: {message}")]
    Value {
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A fault rule that does not parse.
    #[error("invalid scenario: faults[{index}]: {error}")]
    Fault {
        /// Which rule (0-based).
        index: usize,
        /// The parse error, pointing at the bad part.
        error: crate::FaultParseError,
    },
}

impl FromStr for Scenario {
    type Err = ScenarioError;

    fn from_str(text: &str) -> Result<Self, ScenarioError> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Syntax {
            message: e.to_string().trim_end().to_string(),
            source: Box::new(e),
        })?;
        scenario.check()?;
        Ok(scenario)
    }
}

fn value_err(key: &str, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Value {
        key: key.to_string(),
        message: message.into(),
    }
}

/// Parses `A-B` into a port range.
pub fn parse_port_range(s: &str) -> Result<std::ops::RangeInclusive<u16>, String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("{s:?}: expected FIRST-LAST, like 50000-50100"))?;
    let a: u16 = a
        .trim()
        .parse()
        .map_err(|_| format!("{a:?} is no port number"))?;
    let b: u16 = b
        .trim()
        .parse()
        .map_err(|_| format!("{b:?} is no port number"))?;
    if a == 0 || a > b {
        return Err(format!("{s:?}: the range must be 1-65535, first <= last"));
    }
    Ok(a..=b)
}

impl Scenario {
    /// Reads and parses a scenario file. Relative paths inside it
    /// (`fixtures`, `cert`, `key`) are resolved against the file's directory.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut scenario: Scenario = text.parse()?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [
            &mut scenario.fixtures,
            &mut scenario.cert,
            &mut scenario.key,
            &mut scenario.replay,
        ]
        .into_iter()
        .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(scenario)
    }

    fn check(&self) -> Result<(), ScenarioError> {
        self.faults()?;
        if self.cert.is_some() != self.key.is_some() {
            return Err(value_err("cert", "cert and key go together"));
        }
        Ok(())
    }

    /// The accounts, in file order.
    pub fn users(&self) -> &[ScenarioUser] {
        &self.users
    }

    /// The fault rules, parsed.
    pub fn faults(&self) -> Result<Vec<Fault>, ScenarioError> {
        self.faults
            .iter()
            .enumerate()
            .map(|(index, rule)| {
                rule.parse()
                    .map_err(|error| ScenarioError::Fault { index, error })
            })
            .collect()
    }

    /// Applies every setting to a builder (settings the builder already
    /// has and the scenario does not name are kept).
    pub fn apply(&self, builder: ServerBuilder) -> Result<ServerBuilder, ScenarioError> {
        let mut b = builder;
        if let Some(ip) = self.bind {
            b = b.bind(ip);
        }
        if let Some(port) = self.port {
            b = b.port(port);
        }
        if let Some(g) = &self.greeting {
            b = b.greeting(g);
        }
        if let Some(mode) = self.tls {
            b = b.tls(mode);
        }
        if let Some(req) = self.require_tls {
            b = b.require_tls(req);
        }
        if let Some(req) = self.require_tls_resumption {
            b = b.require_tls_resumption(req);
        }
        if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
            let c = crate::Certificate::from_pem_files(cert, key)
                .map_err(|e| value_err("cert", e.to_string()))?;
            b = b.certificate(c);
        }
        if let Some(r) = &self.passive_ports {
            b = b.passive_ports(r.clone());
        }
        if let Some(ip) = self.public_ip {
            b = b.public_ip(ip);
        }
        if let Some(v) = self.idle_timeout {
            b = b.idle_timeout(v);
        }
        if let Some(v) = self.data_timeout {
            b = b.data_timeout(v);
        }
        if let Some(n) = self.max_sessions {
            b = b.max_sessions(n);
        }
        if let Some(n) = self.max_sessions_per_ip {
            b = b.max_sessions_per_ip(n);
        }
        if let Some(n) = self.max_login_failures {
            b = b.max_login_failures(n);
        }
        if let Some(d) = self.login_failure_delay {
            b = b.login_failure_delay(d);
        }
        if let Some(a) = self.anonymous {
            b = b.anonymous(a);
        }
        if let Some(r) = self.read_only {
            b = b.read_only(r);
        }
        if let Some(c) = self.chroot {
            b = b.chroot(c);
        }
        for (key, value) in &self.personality_options {
            b = b.personality_option(key, value);
        }
        if let Some(p) = self.personality {
            b = b.personality(p);
        }
        for rule in &self.perm {
            b = b.perm(rule.clone());
        }
        for u in &self.users {
            b = b.account(u.to_user());
        }
        for d in &self.dirs {
            b = b.dir(d);
        }
        for (path, content) in &self.files {
            b = b.file(path, content);
        }
        if let Some(dir) = &self.fixtures {
            b = b.fixture_dir(dir);
        }
        for f in self.faults()? {
            b = b.fault(f);
        }
        if self.dual_stack == Some(true) {
            b = b.dual_stack();
        }
        if self.memory == Some(true) {
            b = b.memory();
        }
        if let Some(n) = self.max_line {
            b = b.max_line(n);
        }
        if let Some(g) = self.shutdown_grace {
            b = b.shutdown_grace(g);
        }
        if let Some(r) = self.require_tls_control {
            b = b.require_tls_control(r);
        }
        if let Some(r) = self.require_tls_data {
            b = b.require_tls_data(r);
        }
        if let Some(a) = self.allow_ccc {
            b = b.allow_ccc(a);
        }
        if let Some(t) = self.tls_handshake_timeout {
            b = b.tls_handshake_timeout(t);
        }
        if let Some(r) = self.record {
            b = b.record(r);
        }
        if let Some(dir) = &self.replay {
            b = b.replay(dir);
        }
        if let Some(n) = self.max_transcript_events {
            b = b.max_transcript_events(n);
        }
        for (path, owner) in &self.owners {
            b = b.ownership(path, owner.clone());
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_in_a_file_are_relative_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.toml");
        std::fs::write(&file, "fixtures = \"tree\"\nreplay = \"rec\"\n").unwrap();
        let scenario = Scenario::from_file(&file).unwrap();
        assert_eq!(scenario.fixtures, Some(dir.path().join("tree")));
        assert_eq!(scenario.replay, Some(dir.path().join("rec")));
    }

    #[test]
    fn errors_name_the_problem() {
        let e = "prot = 1".parse::<Scenario>().unwrap_err();
        assert!(e.to_string().contains("unknown field `prot`"), "{e}");
        let e = "tls = \"sometimes\"".parse::<Scenario>().unwrap_err();
        assert!(e.to_string().contains("unknown TLS mode"), "{e}");
        assert!(e.to_string().contains("line 1, column 7"), "{e}");
        let e = "data_timeout = \"30 seconds\""
            .parse::<Scenario>()
            .unwrap_err();
        assert!(e.to_string().contains("is no duration"), "{e}");
        let s: Scenario = "idle_timeout = \"2m\"\ndata_timeout = \"1500ms\""
            .parse()
            .unwrap();
        assert_eq!(s.idle_timeout, Some(Duration::from_secs(120)));
        assert_eq!(s.data_timeout, Some(Duration::from_millis(1500)));
        let e = "faults = [\"RETR dorp\"]".parse::<Scenario>().unwrap_err();
        assert!(e.to_string().contains("faults[0]"), "{e}");
        assert!(e.to_string().contains("unknown option \"dorp\""), "{e}");
        let e = "passive_ports = \"9-3\"".parse::<Scenario>().unwrap_err();
        assert!(e.to_string().contains("passive_ports"), "{e}");
        let e = "idle_timeout = \"soon\"".parse::<Scenario>().unwrap_err();
        assert!(e.to_string().contains("idle_timeout"), "{e}");
        assert_eq!(parse_port_range("50000-50010").unwrap(), 50000..=50010);
    }
}
