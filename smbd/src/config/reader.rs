//! Typed reading of one TOML table with spans, so that every error names its line and key.

use std::ops::{Range, RangeInclusive};

use toml_edit::{Item, TableLike, Value};

use super::error::{ConfigError, line_of};
use super::policy::Named;

/// The text being read and its file name, shared by every table view.
pub(super) struct Source<'a> {
    /// The whole configuration text (spans index into it).
    pub(super) text: &'a str,
    /// The file name used in error messages.
    pub(super) file: &'a str,
}

impl Source<'_> {
    /// An error at `span` about `key`.
    pub(super) fn error(
        &self,
        span: Option<Range<usize>>,
        key: Option<String>,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError {
            file: self.file.to_owned(),
            line: line_of(self.text, span),
            key,
            message: message.into(),
        }
    }
}

/// One table of the document (the root, a `[[share]]` or an `[[account]]`), with the key path
/// prefix its keys are reported under.
pub(super) struct TableView<'a> {
    src: &'a Source<'a>,
    table: &'a dyn TableLike,
    prefix: String,
    span: Option<Range<usize>>,
}

/// A value read from the table together with where it was written.
pub(super) struct At<T> {
    /// The value.
    pub(super) value: T,
    /// Its byte span in the text.
    pub(super) span: Option<Range<usize>>,
    /// Its full key path.
    pub(super) key: String,
}

impl<'a> TableView<'a> {
    /// A view of the document's root table.
    pub(super) fn root(src: &'a Source<'a>, table: &'a dyn TableLike) -> Self {
        Self {
            src,
            table,
            prefix: String::new(),
            span: Some(0..0),
        }
    }

    /// The full key path of `key` in this table.
    pub(super) fn path(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    /// An error about `key` of this table, at `span` (or the table's own place without one).
    pub(super) fn error_at(
        &self,
        span: Option<Range<usize>>,
        key: &str,
        message: impl Into<String>,
    ) -> ConfigError {
        self.src.error(
            span.or_else(|| self.span.clone()),
            Some(self.path(key)),
            message,
        )
    }

    /// An error about a value already read from this table, at its place.
    pub(super) fn value_error<T>(&self, at: &At<T>, message: impl Into<String>) -> ConfigError {
        self.src.error(
            at.span.clone().or_else(|| self.span.clone()),
            Some(at.key.clone()),
            message,
        )
    }

    /// Fails on the first key not in `allowed`; a key listed in `refused` fails with the
    /// message given for it.
    pub(super) fn check_keys(
        &self,
        allowed: &[&str],
        refused: &[(&str, &str)],
    ) -> Result<(), ConfigError> {
        for (key, item) in self.table.iter() {
            if allowed.contains(&key) {
                continue;
            }
            let span = self
                .table
                .key(key)
                .and_then(|k| k.span())
                .or_else(|| item.span());
            let message = match refused.iter().find(|(k, _)| *k == key) {
                Some((_, why)) => (*why).to_owned(),
                None => format!("unknown key (allowed keys: {})", allowed.join(", ")),
            };
            return Err(self.error_at(span, key, message));
        }
        Ok(())
    }

    /// Where the value of `key` was written, if it is present.
    pub(super) fn span_of(&self, key: &str) -> Option<Range<usize>> {
        self.item(key).and_then(Item::span)
    }

    fn item(&self, key: &str) -> Option<&'a Item> {
        self.table.get(key).filter(|i| !i.is_none())
    }

    fn wrong_type(&self, key: &str, item: &Item, expected: &str) -> ConfigError {
        self.error_at(
            item.span(),
            key,
            format!("expected {expected}, found {}", item.type_name()),
        )
    }

    /// The string at `key`, if present.
    pub(super) fn string(&self, key: &str) -> Result<Option<At<String>>, ConfigError> {
        let Some(item) = self.item(key) else {
            return Ok(None);
        };
        match item.as_str() {
            Some(s) => Ok(Some(At {
                value: s.to_owned(),
                span: item.span(),
                key: self.path(key),
            })),
            None => Err(self.wrong_type(key, item, "a string")),
        }
    }

    /// The string at `key`, which must be present.
    pub(super) fn required_string(&self, key: &str) -> Result<At<String>, ConfigError> {
        self.string(key)?
            .ok_or_else(|| self.error_at(None, key, "missing required key"))
    }

    /// The boolean at `key`, if present.
    pub(super) fn bool(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        let Some(item) = self.item(key) else {
            return Ok(None);
        };
        item.as_bool()
            .map(Some)
            .ok_or_else(|| self.wrong_type(key, item, "true or false"))
    }

    /// The integer at `key`, if present, which must lie in `range`.
    pub(super) fn integer(
        &self,
        key: &str,
        range: RangeInclusive<i64>,
    ) -> Result<Option<i64>, ConfigError> {
        let Some(item) = self.item(key) else {
            return Ok(None);
        };
        let n = item
            .as_integer()
            .ok_or_else(|| self.wrong_type(key, item, "an integer"))?;
        if !range.contains(&n) {
            return Err(self.error_at(
                item.span(),
                key,
                format!(
                    "{n} is out of range (allowed {} to {})",
                    range.start(),
                    range.end()
                ),
            ));
        }
        Ok(Some(n))
    }

    /// The named choice at `key`, if present.
    pub(super) fn choice<T: Named>(&self, key: &str) -> Result<Option<T>, ConfigError> {
        let Some(at) = self.string(key)? else {
            return Ok(None);
        };
        match T::from_name(&at.value) {
            Some(v) => Ok(Some(v)),
            None => Err(self
                .src
                .error(at.span, Some(at.key), unknown_value::<T>(&at.value))),
        }
    }

    /// The array of strings at `key`, if present, each with its place.
    pub(super) fn string_list(&self, key: &str) -> Result<Option<Vec<At<String>>>, ConfigError> {
        let Some(item) = self.item(key) else {
            return Ok(None);
        };
        let array = item
            .as_array()
            .ok_or_else(|| self.wrong_type(key, item, "an array"))?;
        let mut out = Vec::with_capacity(array.len());
        for (i, value) in array.iter().enumerate() {
            let elem_key = format!("{}[{i}]", self.path(key));
            match value {
                Value::String(s) => out.push(At {
                    value: s.value().clone(),
                    span: value.span(),
                    key: elem_key,
                }),
                other => {
                    let message = format!("expected a string, found {}", other.type_name());
                    return Err(self.src.error(value.span(), Some(elem_key), message));
                }
            }
        }
        Ok(Some(out))
    }

    /// The non-empty, duplicate-free array of named choices at `key`, if present.
    pub(super) fn choice_list<T: Named + PartialEq>(
        &self,
        key: &str,
    ) -> Result<Option<Vec<T>>, ConfigError> {
        let Some(words) = self.string_list(key)? else {
            return Ok(None);
        };
        if words.is_empty() {
            return Err(self.error_at(self.span_of(key), key, "must list at least one value"));
        }
        let mut out: Vec<T> = Vec::with_capacity(words.len());
        for w in words {
            let v = T::from_name(&w.value).ok_or_else(|| {
                self.src.error(
                    w.span.clone(),
                    Some(w.key.clone()),
                    unknown_value::<T>(&w.value),
                )
            })?;
            if out.contains(&v) {
                return Err(self.src.error(
                    w.span,
                    Some(w.key),
                    format!("\"{}\" is listed twice", w.value),
                ));
            }
            out.push(v);
        }
        Ok(Some(out))
    }

    /// The tables of the array of tables at `key` (`[[key]]` or `key = [{...}]`), each viewed
    /// with the prefix `key[i]`.
    pub(super) fn tables(&self, key: &str) -> Result<Vec<Self>, ConfigError> {
        let Some(item) = self.item(key) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        match item {
            Item::ArrayOfTables(array) => {
                for (i, t) in array.iter().enumerate() {
                    let span = t.span().or_else(|| item.span());
                    out.push(self.child(format!("{key}[{i}]"), t, span));
                }
            }
            Item::Value(Value::Array(array)) => {
                for (i, v) in array.iter().enumerate() {
                    let Some(t) = v.as_inline_table() else {
                        let message = format!("expected a table, found {}", v.type_name());
                        return Err(self
                            .src
                            .error(v.span(), Some(format!("{key}[{i}]")), message));
                    };
                    out.push(self.child(format!("{key}[{i}]"), t, v.span()));
                }
            }
            other => {
                let message = format!(
                    "expected an array of tables ([[{key}]]), found {}",
                    other.type_name()
                );
                return Err(self.error_at(other.span(), key, message));
            }
        }
        Ok(out)
    }

    fn child(&self, name: String, table: &'a dyn TableLike, span: Option<Range<usize>>) -> Self {
        Self {
            src: self.src,
            table,
            prefix: self.path(&name),
            span,
        }
    }
}

fn unknown_value<T: Named>(word: &str) -> String {
    format!("unknown value \"{word}\" (expected {})", T::expected())
}
