//! Virtual paths: what a client sees, always absolute and normalised.

use std::fmt;

/// Why a client-supplied path was refused before it reached the storage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The path contains NUL or another control character.
    #[error("path contains a control character")]
    ControlCharacter,
    /// The path is empty where a name is required.
    #[error("empty path")]
    Empty,
}

/// An absolute, `/`-rooted, normalised path inside the server's virtual tree.
///
/// `.` and empty components are dropped, `..` removes the previous component
/// and stops at the root, so a `VirtualPath` can never name anything above `/`.
/// Storage implementations map it onto their own namespace.
///
/// ```
/// use ftpfixture::VirtualPath;
/// let cwd = VirtualPath::root().join("inbox").unwrap();
/// assert_eq!(cwd.join("../../../etc/passwd").unwrap().as_str(), "/etc/passwd");
/// assert_eq!(cwd.join("/a//b/./c/..").unwrap().as_str(), "/a/b");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VirtualPath(String);

impl VirtualPath {
    /// The root, `/`.
    pub fn root() -> Self {
        VirtualPath("/".to_string())
    }

    /// Parses an absolute path (relative input is taken from the root).
    pub fn new(path: &str) -> Result<Self, PathError> {
        Self::root().join(path)
    }

    /// Resolves `input` against `self` (a directory): absolute input starts
    /// again from the root, relative input is appended.
    pub fn join(&self, input: &str) -> Result<Self, PathError> {
        if input.chars().any(|c| c.is_control()) {
            return Err(PathError::ControlCharacter);
        }
        let mut parts: Vec<&str> = if input.starts_with('/') {
            Vec::new()
        } else {
            self.components().collect()
        };
        for part in input.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                name => parts.push(name),
            }
        }
        Ok(Self::from_parts(&parts))
    }

    fn from_parts(parts: &[&str]) -> Self {
        if parts.is_empty() {
            return Self::root();
        }
        let mut s = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
        for p in parts {
            s.push('/');
            s.push_str(p);
        }
        VirtualPath(s)
    }

    /// The path as text, for example `/inbox/hello.txt`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for `/`.
    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// The components below the root, in order.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|p| !p.is_empty())
    }

    /// The last component, or `None` for the root.
    pub fn file_name(&self) -> Option<&str> {
        self.components().last()
    }

    /// The directory holding this path (the root is its own parent).
    pub fn parent(&self) -> VirtualPath {
        let parts: Vec<&str> = self.components().collect();
        Self::from_parts(&parts[..parts.len().saturating_sub(1)])
    }

    /// True when `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &VirtualPath) -> bool {
        other.is_root()
            || self.0 == other.0
            || (self.0.starts_with(&other.0) && self.0.as_bytes().get(other.0.len()) == Some(&b'/'))
    }
}

/// True when `path`, read from the root, climbs above it (`/a/../..`):
/// a client's path stops at the root, but a path the test or the operator
/// wrote (a permission rule, a home, a control API path) that does so is a
/// mistake to report, not to take as `/`.
pub(crate) fn leaves_root(path: &str) -> bool {
    let mut depth = 0usize;
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if depth == 0 => return true,
            ".." => depth -= 1,
            _ => depth += 1,
        }
    }
    false
}

impl fmt::Display for VirtualPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_stops_at_root() {
        let root = VirtualPath::root();
        assert_eq!(root.join("..").unwrap().as_str(), "/");
        assert_eq!(root.join("a/../../b").unwrap().as_str(), "/b");
        assert_eq!(root.join("a/b/").unwrap().as_str(), "/a/b");
        let a = root.join("a").unwrap();
        assert_eq!(a.join("b").unwrap().as_str(), "/a/b");
        assert_eq!(a.join("/c").unwrap().as_str(), "/c");
        assert_eq!(a.parent().as_str(), "/");
        assert_eq!(root.parent().as_str(), "/");
        assert_eq!(a.join("b").unwrap().file_name(), Some("b"));
    }

    #[test]
    fn refuses_control_characters() {
        let root = VirtualPath::root();
        assert_eq!(root.join("a\0b"), Err(PathError::ControlCharacter));
        assert_eq!(root.join("a\nb"), Err(PathError::ControlCharacter));
    }

    #[test]
    fn prefix_is_by_component() {
        let ab = VirtualPath::new("/a/b").unwrap();
        assert!(ab.starts_with(&VirtualPath::new("/a").unwrap()));
        assert!(!VirtualPath::new("/ab")
            .unwrap()
            .starts_with(&VirtualPath::new("/a").unwrap()));
        assert!(ab.starts_with(&VirtualPath::root()));
    }
}
