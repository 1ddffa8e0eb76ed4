//! `*` and `?` wildcards, for matching command arguments, and the `{a,b}`
//! alternatives listings take as shells (and vsftpd) do.

/// True when `text` matches `pattern`, where `*` stands for any run of
/// characters (also none) and `?` for exactly one.
pub(crate) fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matcher with one backtrack point: linear for one `*`,
    // never exponential.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
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
pub(crate) fn matches_with_braces(pattern: &str, text: &str) -> bool {
    let Some(open) = pattern.find('{') else {
        return matches(pattern, text);
    };
    let Some(len) = pattern[open..].find('}') else {
        return matches(pattern, text);
    };
    let (head, tail) = (&pattern[..open], &pattern[open + len + 1..]);
    pattern[open + 1..open + len]
        .split(',')
        .any(|alt| matches_with_braces(&format!("{head}{alt}{tail}"), text))
}

#[cfg(test)]
mod tests {
    use super::{has_braces, matches, matches_with_braces};

    #[test]
    fn brace_alternatives() {
        assert!(has_braces("{dir,ro}"));
        assert!(!has_braces("}{"));
        assert!(matches_with_braces("{dir,ro}", "ro"));
        assert!(matches_with_braces("{dir,ro}", "dir"));
        assert!(!matches_with_braces("{dir,ro}", "readme.txt"));
        assert!(matches_with_braces("*.{txt,csv}", "a.csv"));
        assert!(!matches_with_braces("*.{txt,csv}", "a.bin"));
        assert!(matches_with_braces("{a,b}{1,2}", "b2"));
        assert!(matches_with_braces("x{", "x{"));
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
