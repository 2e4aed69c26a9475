//! File name matching for QUERY_DIRECTORY search patterns (MS-FSA 2.1.4.4).
//!
//! The pattern is run as a nondeterministic automaton whose states are pattern positions, so
//! the cost is at most O(len(pattern) * len(name)) whatever the pattern: no backtracking. The
//! pattern is one file name component, at most [`MAX_PATTERN_LEN`] characters, so one match
//! costs at most a few times 255 * 255 steps.

/// DOS_STAR: zero or more characters, but never the name's final '.'.
const DOS_STAR: char = '<';
/// DOS_QM: one character, or nothing at a '.' or the end of the name.
const DOS_QM: char = '>';
/// DOS_DOT: a '.', or nothing at the end of the name.
const DOS_DOT: char = '"';

/// The longest search pattern, in UTF-16 code units: a file name component (MS-FSCC 2.1.5).
pub const MAX_PATTERN_LEN: usize = 255;

/// Whether `name` matches the search `pattern`, ignoring case, with MS-FSA 2.1.4.4 semantics:
/// `*` matches any run, `?` any one character, and the DOS wildcards `<` (DOS_STAR), `>`
/// (DOS_QM) and `"` (DOS_DOT) behave as that section defines. `"*"` and `"*.*"` match every
/// name. As in the spec, an empty pattern matches only an empty name: SMB2 callers substitute
/// `"*"` for an empty search pattern. A pattern longer than [`MAX_PATTERN_LEN`] matches
/// nothing (QUERY_DIRECTORY refuses it before it gets here).
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    match_counting(pattern, name).0
}

/// [`wildcard_match`], and how many automaton steps it took.
fn match_counting(pattern: &str, name: &str) -> (bool, usize) {
    if pattern.is_empty() || name.is_empty() {
        return (pattern.is_empty() && name.is_empty(), 0);
    }
    if pattern == "*" || pattern == "*.*" {
        return (true, 0);
    }
    if pattern.encode_utf16().count() > MAX_PATTERN_LEN {
        return (false, 0);
    }
    let pat: Vec<char> = pattern.chars().map(fold).collect();
    let name: Vec<char> = name.chars().map(fold).collect();
    let mut steps = 0;
    let matched = Matcher::new(&pat).run(&name, &mut steps);
    (matched, steps)
}

/// Case folding for comparison: the VFS's own fold (simple uppercase per UTF-16 code unit, as
/// Windows' upcase table), so a listing pattern matches exactly the names an open of the same
/// spelling finds. (A pure function of the `vfs` crate: no I/O reaches `proto` through it.)
fn fold(c: char) -> char {
    vfs::fold_char(c)
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

    /// Runs the automaton over `name`, adding to `steps` one per state visited (each visit
    /// is constant work): at most (len(pattern) + 1) * 2 per name character, plus the end.
    fn run(&self, name: &[char], steps: &mut usize) -> bool {
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
            *steps += self.close(&mut cur, Some(ch));
            next.fill(false);
            let mut alive = false;
            for p in (0..m).filter(|&p| cur[p]) {
                *steps += 1;
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
        *steps += self.close(&mut cur, None);
        cur[m]
    }

    /// Adds the states reachable without consuming a character, given the next name
    /// character (`None` at the end of the name). Moves only go forward, so one pass suffices.
    /// Returns the positions visited.
    fn close(&self, states: &mut [bool], next: Option<char>) -> usize {
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
        self.pat.len()
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

    /// Hostile patterns cost at most a constant times len(pattern) * len(name) automaton
    /// steps (counted, not timed): no backtracking blow-up.
    #[test]
    fn hostile_patterns_take_linear_steps() {
        let name = "a".repeat(5000);
        let bound = |p: &str, n: &str| 2 * (p.chars().count() + 1) * (n.chars().count() + 1);
        let cases = [
            (format!("{}b", "*a".repeat(127)), false),
            (format!("{}a", "*a".repeat(127)), true),
            (format!("{}x", "<".repeat(254)), false),
            (format!("{}a", "?*".repeat(127)), true),
            (">".repeat(255), false),
        ];
        for (pattern, want) in &cases {
            let (matched, steps) = match_counting(pattern, &name);
            assert_eq!(matched, *want, "{pattern}");
            assert!(steps <= bound(pattern, &name), "{pattern}: {steps} steps");
        }
        let qm = ">".repeat(255);
        assert!(wildcard_match(&qm, &"z".repeat(200)));
        assert!(!wildcard_match(&qm, &"z".repeat(300)));
    }

    /// A pattern longer than a file name component matches nothing, at no cost.
    #[test]
    fn overlong_pattern_matches_nothing() {
        let long = "*".repeat(MAX_PATTERN_LEN) + "a";
        assert_eq!(match_counting(&long, "a"), (false, 0));
        let fits = "?".repeat(MAX_PATTERN_LEN);
        assert!(wildcard_match(&fits, &"q".repeat(MAX_PATTERN_LEN)));
    }
}
