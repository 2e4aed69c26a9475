//! Names a share shows HIDDEN whatever their stored attributes (Samba's "hide dot files" and
//! "hide files"): a presentation of the name, never stored, so an overwrite need not restate it.

use crate::proto::fscc::wildcard_match;

/// A share's rules for names shown with FILE_ATTRIBUTE_HIDDEN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HideRules {
    /// Names starting with a dot (`hide_dot_files`).
    pub dot_files: bool,
    /// Wildcard patterns (`*`, `?`; case-insensitive) matched against the last component
    /// (`hide_files`).
    pub patterns: Vec<String>,
}

impl HideRules {
    /// Whether the object at `path` (a share path, `/`-separated) is shown HIDDEN.
    pub fn hides(&self, path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        if name.is_empty() || name == "." || name == ".." {
            return false;
        }
        (self.dot_files && name.starts_with('.'))
            || self.patterns.iter().any(|p| wildcard_match(p, name))
    }

    /// `attributes` of the object at `path` as shown: with HIDDEN when a rule hides it.
    pub fn shown(&self, path: &str, attributes: u32) -> u32 {
        if self.hides(path) {
            attributes | vfs::attr::HIDDEN
        } else {
            attributes
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_files_and_patterns_are_hidden() {
        let rules = HideRules {
            dot_files: true,
            patterns: vec!["hidefile".into(), "*.tmp".into()],
        };
        assert!(rules.hides("dir/.dotfile"));
        assert!(rules.hides("dir/HideFile"));
        assert!(rules.hides("x.TMP"));
        assert!(!rules.hides("dir/file"));
        assert!(!rules.hides(""));
        assert_eq!(rules.shown("a/.b", 0x20), 0x22);
        assert!(!HideRules::default().hides(".dotfile"));
    }
}
