//! File name matching for QUERY_DIRECTORY search patterns (MS-FSA 2.1.4.4).
//!
//! The pattern is run as a nondeterministic automaton whose states are pattern positions, so
//! the cost is at most O(len(pattern) * len(name)) whatever the pattern: no backtracking.

/// DOS_STAR: zero or more characters, but never the name's final '.'.
const DOS_STAR: char = '<';
/// DOS_QM: one character, or nothing at a '.' or the end of the name.
const DOS_QM: char = '>';
/// DOS_DOT: a '.', or nothing at the end of the name.
const DOS_DOT: char = '"';

/// Whether `name` matches the search `pattern`, ignoring case, with MS-FSA 2.1.4.4 semantics:
/// `*` matches any run, `?` any one character, and the DOS wildcards `<` (DOS_STAR), `>`
/// (DOS_QM) and `"` (DOS_DOT) behave as that section defines. `"*"` and `"*.*"` match every
/// name. As in the spec, an empty pattern matches only an empty name: SMB2 callers substitute
/// `"*"` for an empty search pattern.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    if pattern.is_empty() || name.is_empty() {
        return pattern.is_empty() && name.is_empty();
    }
    if pattern == "*" || pattern == "*.*" {
        return true;
    }
    let pat: Vec<char> = pattern.chars().map(fold).collect();
    let name: Vec<char> = name.chars().map(fold).collect();
    Matcher::new(&pat).run(&name)
}

/// Case folding for comparison: the simple (one-to-one) uppercase mapping.
fn fold(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// The automaton for one pattern.
struct Matcher<'p> {
    pat: &'p [char],
    /// For each position, the first position after the run of DOS_QMs starting there.
    qm_run_end: Vec<usize>,
}

impl<'p> Matcher<'p> {
    fn new(pat: &'p [char]) -> Self {
        let mut qm_run_end = vec![0; pat.len() + 1];
        qm_run_end[pat.len()] = pat.len();
        for p in (0..pat.len()).rev() {
            qm_run_end[p] = if pat[p] == DOS_QM {
                qm_run_end[p + 1]
            } else {
                p
            };
        }
        Self { pat, qm_run_end }
    }

    fn run(&self, name: &[char]) -> bool {
        let m = self.pat.len();
        // dot_later[i]: a '.' occurs somewhere after name[i].
        let mut dot_later = vec![false; name.len()];
        let mut seen = false;
        for (i, &c) in name.iter().enumerate().rev() {
            dot_later[i] = seen;
            seen |= c == '.';
        }
        let mut cur = vec![false; m + 1];
        let mut next = vec![false; m + 1];
        cur[0] = true;
        for (i, &ch) in name.iter().enumerate() {
            self.close(&mut cur, Some(ch));
            next.fill(false);
            let mut alive = false;
            for p in (0..m).filter(|&p| cur[p]) {
                let target = match self.pat[p] {
                    '*' => Some(p),
                    DOS_STAR if ch != '.' || dot_later[i] => Some(p),
                    DOS_STAR => None,
                    '?' => Some(p + 1),
                    DOS_QM if ch != '.' => Some(p + 1),
                    DOS_QM => None,
                    DOS_DOT if ch == '.' => Some(p + 1),
                    DOS_DOT => None,
                    lit if lit == ch => Some(p + 1),
                    _ => None,
                };
                if let Some(t) = target {
                    next[t] = true;
                    alive = true;
                }
            }
            if !alive {
                return false;
            }
            std::mem::swap(&mut cur, &mut next);
        }
        self.close(&mut cur, None);
        cur[m]
    }

    /// Adds the states reachable without consuming a character, given the next name
    /// character (`None` at the end of the name). Moves only go forward, so one pass suffices.
    fn close(&self, states: &mut [bool], next: Option<char>) {
        let at_end = next.is_none();
        let at_dot_or_end = at_end || next == Some('.');
        for p in 0..self.pat.len() {
            if !states[p] {
                continue;
            }
            match self.pat[p] {
                '*' | DOS_STAR => states[p + 1] = true,
                DOS_DOT if at_end => states[p + 1] = true,
                DOS_QM if at_dot_or_end => states[self.qm_run_end[p]] = true,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truth_table() {
        let cases: &[(&str, &str, bool)] = &[
            // Special cases of MS-FSA 2.1.4.4 part 1.
            ("*", "anything.at.all", true),
            ("*.*", "noextension", true),
            ("", "", true),
            ("", "a", false),
            ("a", "", false),
            // Literals, case-insensitively.
            ("abc", "ABC", true),
            ("abc", "abcd", false),
            ("\u{c4}bc", "\u{e4}BC", true),
            // '*' and '?'.
            ("*.txt", "a.txt", true),
            ("*.txt", "A.TXT", true),
            ("*.txt", ".txt", true),
            ("*.txt", "a.b.txt", true),
            ("*.txt", "a.txt.bak", false),
            ("*.txt", "txt", false),
            ("a?c", "abc", true),
            ("a?c", "AXC", true),
            ("a?c", "a.c", true),
            ("a?c", "ac", false),
            ("a?c", "abbc", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("*a", "banana", true),
            ("*n", "banana", false),
            // DOS_STAR stops before the final dot.
            ("<.TXT", "foo.txt", true),
            ("<.TXT", "foo.bar.txt", true),
            ("<.TXT", ".txt", true),
            ("<.TXT", "footxt", false),
            ("<", "abc", true),
            ("<", "a.b", false),
            ("<.<", "a.b", true),
            ("<.<", "a.b.c", true),
            ("a<", "a", true),
            // DOS_DOT: a dot, or nothing at the end.
            ("*\"*", "abc", true),
            ("*\"*", "a.b", true),
            ("a\"", "a", true),
            ("a\"", "a.", true),
            ("a\"", "a.b", false),
            ("a\"b", "a.b", true),
            ("a\"b", "ab", false),
            // DOS_QM: one character, or nothing at a dot or the end.
            ("a>>", "a", true),
            ("a>>", "ab", true),
            ("a>>", "abc", true),
            ("a>>", "abcd", false),
            ("a>>.c", "a.c", true),
            ("a>>.c", "ab.c", true),
            ("a>>.c", "abc.c", true),
            ("a>>.c", "abcd.c", false),
            (">>>>>>>>\">>>", "readme.md", true),
            (">>>>>>>>\">>>", "readme", true),
            (">>>>>>>>\">>>", "toolongname.md", false),
            (">", ".", false),
        ];
        for &(pattern, name, want) in cases {
            assert_eq!(
                wildcard_match(pattern, name),
                want,
                "pattern {pattern:?} name {name:?}"
            );
        }
    }

    #[test]
    fn hostile_patterns_finish_fast() {
        let pattern = format!("{}b", "*a".repeat(500));
        let name = "a".repeat(5000);
        let qm = ">".repeat(2000);
        // Correctness only: speed is measured in perf/, never in a timed unit test. The
        // matcher is linear, so these finish at once; a backtracking one would not finish.
        assert!(!wildcard_match(&pattern, &name));
        assert!(wildcard_match(&format!("{}a", "*a".repeat(500)), &name));
        assert!(!wildcard_match(&format!("{}x", "<".repeat(1000)), &name));
        assert!(wildcard_match(&qm, &"z".repeat(1500)));
        assert!(!wildcard_match(&qm, &"z".repeat(2500)));
    }
}
