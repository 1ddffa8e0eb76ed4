//! `*` and `?` wildcards, for matching command arguments, the `{a,b}`
//! alternatives listings take as shells (and vsftpd) do, and, where a
//! played server's glob(3) reads them, `[…]` classes.

/// True when `text` matches `pattern`, where `*` stands for any run of
/// characters (also none) and `?` for exactly one.
pub(crate) fn matches(pattern: &str, text: &str) -> bool {
    matches_as(pattern, text, false)
}

/// A `[…]` class at the start of `p`: whether `c` is in it, and the
/// class's length; `None` when `p` does not start one (no closing `]`).
/// `!` or `^` first negates; `a-z` is a range; a `]` first is a member.
fn class(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let start = i;
    let mut hit = false;
    while i < p.len() {
        if p[i] == ']' && i > start {
            return Some((hit != negate, i + 1));
        }
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            hit |= p[i] <= c && c <= p[i + 2];
            i += 3;
        } else {
            hit |= p[i] == c;
            i += 1;
        }
    }
    None
}

/// [`matches`], with `[…]` classes when `brackets` (glob(3)'s reading:
/// ProFTPD's and Pure-FTPd's listings); without, `[` is itself.
pub(crate) fn matches_as(pattern: &str, text: &str, brackets: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matcher with one backtrack point: linear for one `*`,
    // never exponential.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        let in_class = if brackets && pi < p.len() && p[pi] == '[' {
            class(&p[pi..], t[ti])
        } else {
            None
        };
        if let Some((true, len)) = in_class {
            pi += len;
            ti += 1;
        } else if in_class.is_none() && pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// True when `pattern` holds a `{a,b}` alternative (a `{` with a `}`
/// after it).
pub(crate) fn has_braces(pattern: &str) -> bool {
    pattern
        .find('{')
        .is_some_and(|open| pattern[open..].contains('}'))
}

/// [`matches`], with the first `{a,b,…}` in `pattern` standing for each of
/// its alternatives in turn (not nested; later braces expand the same
/// way). A `{` without a closing `}` is an ordinary character.
pub(crate) fn matches_with_braces(pattern: &str, text: &str, brackets: bool) -> bool {
    let Some(open) = pattern.find('{') else {
        return matches_as(pattern, text, brackets);
    };
    let Some(len) = pattern[open..].find('}') else {
        return matches_as(pattern, text, brackets);
    };
    let (head, tail) = (&pattern[..open], &pattern[open + len + 1..]);
    pattern[open + 1..open + len]
        .split(',')
        .any(|alt| matches_with_braces(&format!("{head}{alt}{tail}"), text, brackets))
}

/// True when `pattern` holds a `[…]` class.
pub(crate) fn has_class(pattern: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    (0..p.len()).any(|i| p[i] == '[' && class(&p[i..], '\0').is_some())
}

#[cfg(test)]
mod tests {
    use super::{has_braces, has_class, matches, matches_as, matches_with_braces};

    fn matches_with_braces_test(pattern: &str, text: &str) -> bool {
        matches_with_braces(pattern, text, false)
    }

    #[test]
    fn bracket_classes() {
        assert!(matches_as("[dr]*", "readme.txt", true));
        assert!(matches_as("[dr]*", "dir", true));
        assert!(!matches_as("[dr]*", "a.txt", true));
        assert!(!matches_as("[dr]*", "dir", false));
        assert!(matches_as("[dr]*", "[dr]x", false));
        assert!(matches_as("[!d]*", "ro", true));
        assert!(!matches_as("[!d]*", "dir", true));
        assert!(matches_as("[a-c]?", "b1", true));
        assert!(!matches_as("[a-c]?", "d1", true));
        assert!(matches_as("x[]]", "x]", true));
        // No closing bracket: an ordinary character.
        assert!(matches_as("a[b", "a[b", true));
        assert!(has_class("[dr]*"));
        assert!(!has_class("a[b"));
    }

    #[test]
    fn brace_alternatives() {
        assert!(has_braces("{dir,ro}"));
        assert!(!has_braces("}{"));
        assert!(matches_with_braces_test("{dir,ro}", "ro"));
        assert!(matches_with_braces_test("{dir,ro}", "dir"));
        assert!(!matches_with_braces_test("{dir,ro}", "readme.txt"));
        assert!(matches_with_braces_test("*.{txt,csv}", "a.csv"));
        assert!(!matches_with_braces_test("*.{txt,csv}", "a.bin"));
        assert!(matches_with_braces_test("{a,b}{1,2}", "b2"));
        assert!(matches_with_braces_test("x{", "x{"));
    }

    #[test]
    fn wildcards() {
        assert!(matches("*.txt", "a.txt"));
        assert!(matches("*", ""));
        assert!(matches("a?c", "abc"));
        assert!(!matches("a?c", "ac"));
        assert!(matches("in*/*.csv", "inbox/x.csv"));
        assert!(!matches("*.txt", "a.txt.gz"));
        assert!(matches("exact", "exact"));
    }
}
