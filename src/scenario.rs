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
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use crate::fault::parse::parse_duration;
use crate::{Fault, ServerBuilder, Tls, User};

/// A parsed scenario file. Every key is optional; see the crate README for
/// the full list and `fixtures/` for samples.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Address to listen on.
    pub bind: Option<IpAddr>,
    /// Control port.
    pub port: Option<u16>,
    /// The 220 greeting.
    pub greeting: Option<String>,
    /// `none`, `explicit` or `implicit`.
    pub tls: Option<String>,
    /// Require TLS on control and data channels.
    pub require_tls: Option<bool>,
    /// Protected data connections must resume the TLS session (else 522).
    pub require_tls_resumption: Option<bool>,
    /// Certificate chain PEM file (with `key`).
    pub cert: Option<PathBuf>,
    /// Private key PEM file (with `cert`).
    pub key: Option<PathBuf>,
    /// Passive port range, `"50000-50100"`.
    pub passive_ports: Option<String>,
    /// Address announced in 227 replies.
    pub public_ip: Option<IpAddr>,
    /// Idle timeout, `"30s"`.
    pub idle_timeout: Option<String>,
    /// Data connection timeout, `"10s"`.
    pub data_timeout: Option<String>,
    /// Sessions beyond this get 421.
    pub max_sessions: Option<usize>,
    /// Allow anonymous login.
    pub anonymous: Option<bool>,
    /// Accounts.
    #[serde(default)]
    pub users: Vec<ScenarioUser>,
    /// Files to create: path → content.
    #[serde(default)]
    pub files: std::collections::BTreeMap<String, String>,
    /// Directories to create.
    #[serde(default)]
    pub dirs: Vec<String>,
    /// A local directory copied into the root (relative to the file).
    pub fixtures: Option<PathBuf>,
    /// Fault rules in the text form.
    #[serde(default)]
    pub faults: Vec<String>,
}

/// An account in a scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioUser {
    /// Login name.
    pub name: String,
    /// Password.
    pub password: String,
    /// Home directory (default `/`).
    pub home: Option<String>,
    /// Writes get 550.
    #[serde(default)]
    pub read_only: bool,
}

/// Why a scenario could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Not valid TOML, or unknown keys or wrong types.
    #[error("invalid scenario: {0}")]
    Toml(#[from] toml::de::Error),
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
        let scenario: Scenario = toml::from_str(text)?;
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
pub(crate) fn parse_port_range(s: &str) -> Result<std::ops::RangeInclusive<u16>, String> {
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
        self.tls_mode()?;
        self.faults()?;
        if let Some(r) = &self.passive_ports {
            parse_port_range(r).map_err(|m| value_err("passive_ports", m))?;
        }
        for (key, v) in [
            ("idle_timeout", &self.idle_timeout),
            ("data_timeout", &self.data_timeout),
        ] {
            if let Some(v) = v {
                parse_duration(v)
                    .ok_or_else(|| value_err(key, format!("{v:?} is no duration (30s, 500ms)")))?;
            }
        }
        if self.cert.is_some() != self.key.is_some() {
            return Err(value_err("cert", "cert and key go together"));
        }
        Ok(())
    }

    fn tls_mode(&self) -> Result<Option<Tls>, ScenarioError> {
        self.tls
            .as_deref()
            .map(|t| t.parse::<Tls>().map_err(|m| value_err("tls", m)))
            .transpose()
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
        if let Some(mode) = self.tls_mode()? {
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
            b = b.passive_ports(parse_port_range(r).map_err(|m| value_err("passive_ports", m))?);
        }
        if let Some(ip) = self.public_ip {
            b = b.public_ip(ip);
        }
        let duration = |v: &str| parse_duration(v).unwrap_or(Duration::from_secs(30));
        if let Some(v) = &self.idle_timeout {
            b = b.idle_timeout(duration(v));
        }
        if let Some(v) = &self.data_timeout {
            b = b.data_timeout(duration(v));
        }
        if let Some(n) = self.max_sessions {
            b = b.max_sessions(n);
        }
        if let Some(a) = self.anonymous {
            b = b.anonymous(a);
        }
        for u in &self.users {
            let mut user = User::new(&u.name, &u.password);
            if let Some(home) = &u.home {
                user = user.home(home);
            }
            if u.read_only {
                user = user.read_only();
            }
            b = b.account(user);
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
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_problem() {
        let e = "prot = 1".parse::<Scenario>().unwrap_err();
        assert!(e.to_string().contains("unknown field `prot`"), "{e}");
        let e = "tls = \"sometimes\"".parse::<Scenario>().unwrap_err();
        assert!(e.to_string().contains("tls: unknown TLS mode"), "{e}");
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
