//! A problem found in the desired-state files, located as `FILE:LINE:COL: path: message`.
//! Produced by every config stage, rendered by `main`. Data only.

use std::fmt;
use std::sync::Arc;

use super::yaml::Pos;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// Where in the document a value is: `smtp.port`, `customization.avatar-sources[1].source`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct SettingPath(Vec<Segment>);

/// One step of a [`SettingPath`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Segment {
    Key(String),
    Index(usize),
}

impl SettingPath {
    #[must_use]
    pub fn root() -> Self {
        SettingPath(Vec::new())
    }

    #[must_use]
    pub fn key(&self, name: &str) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Key(name.to_owned()));
        next
    }

    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }

    /// `self` followed by the steps of `rest`.
    #[must_use]
    pub fn join(&self, rest: &SettingPath) -> Self {
        let mut next = self.clone();
        next.0.extend(rest.0.iter().cloned());
        next
    }

    /// Whether `self` is `other` or inside it.
    #[must_use]
    pub fn starts_with(&self, other: &SettingPath) -> bool {
        self.0.starts_with(&other.0)
    }

    /// The steps of the path, from the root.
    pub fn steps(&self) -> impl Iterator<Item = Step<'_>> {
        self.0.iter().map(|segment| match segment {
            Segment::Key(k) => Step::Key(k),
            Segment::Index(i) => Step::Index(*i),
        })
    }

    /// How many steps the path has (a section is 1, an attribute 2).
    #[must_use]
    pub fn depth(&self) -> usize {
        self.0.len()
    }

    /// The first key (the section), if any.
    #[must_use]
    pub fn section(&self) -> Option<&str> {
        match self.0.first() {
            Some(Segment::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// The second key (the attribute), if any.
    #[must_use]
    pub fn attribute(&self) -> Option<&str> {
        self.key_at(1)
    }

    /// The key at step `n` (0 is the section), if that step is a key.
    #[must_use]
    pub fn key_at(&self, n: usize) -> Option<&str> {
        match self.0.get(n) {
            Some(Segment::Key(k)) => Some(k),
            _ => None,
        }
    }
}

/// Whether a key reads as a name after a dot (`api-rate-limit`); others (`1.9.8`, keys with
/// spaces) are shown as `["1.9.8"]`.
fn is_plain(key: &str) -> bool {
    key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl fmt::Display for SettingPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(root)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(k) if i == 0 => f.write_str(k)?,
                Segment::Key(k) if is_plain(k) => write!(f, ".{k}")?,
                Segment::Key(k) => write!(f, "[{k:?}]")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// What kind of problem a diagnostic is, where the remedy depends on it: the hint after the
/// list is chosen from these, never from the words of a message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Problem {
    /// A `-f` file (or the default `tfe-admin.yaml`) does not exist.
    MissingFile,
    /// `${env:NAME}` names a variable that is not set.
    UnsetVariable { name: String },
    /// A literal value in a sensitive attribute.
    LiteralSecret,
    /// Anything else: the message says it all.
    #[default]
    Other,
}

/// One problem, with everything needed to render it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file, for problems without a position (an unreadable file).
    pub file: Arc<str>,
    pub pos: Option<Pos>,
    pub path: SettingPath,
    pub message: String,
    pub problem: Problem,
}

impl Diagnostic {
    #[must_use]
    pub fn error(pos: &Pos, path: SettingPath, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: Arc::clone(&pos.file),
            pos: Some(pos.clone()),
            path,
            message: message.into(),
            problem: Problem::Other,
        }
    }

    /// The same diagnostic, of this kind.
    #[must_use]
    pub fn of_kind(self, problem: Problem) -> Self {
        Diagnostic { problem, ..self }
    }

    #[must_use]
    pub fn warning(pos: &Pos, path: SettingPath, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(pos, path, message)
        }
    }

    /// A problem with a whole file (it cannot be read).
    #[must_use]
    pub fn file_error(file: &Arc<str>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: Arc::clone(file),
            pos: None,
            path: SettingPath::root(),
            message: message.into(),
            problem: Problem::Other,
        }
    }

    #[must_use]
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `FILE:LINE:COL: path: message`, with `warning: ` before the message of a warning.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pos {
            Some(pos) => write!(f, "{pos}: {}: ", self.path)?,
            None => write!(f, "{}: ", self.file)?,
        }
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_file_line_column_path_message() {
        let pos = Pos {
            file: Arc::from("a.yaml"),
            line: 3,
            col: 5,
        };
        let path = SettingPath::root().key("smtp").key("port");
        let d = Diagnostic::error(&pos, path, "must be at most 65535");
        assert_eq!(
            d.to_string(),
            "a.yaml:3:5: smtp.port: must be at most 65535"
        );
        let list = SettingPath::root()
            .key("customization")
            .key("avatar-sources")
            .index(1);
        assert_eq!(list.to_string(), "customization.avatar-sources[1]");
        let item = SettingPath::root()
            .key("terraform-versions")
            .key("versions")
            .key("1.9.8")
            .key("archs");
        assert_eq!(
            item.to_string(),
            "terraform-versions.versions[\"1.9.8\"].archs"
        );
        let file = Diagnostic::file_error(&Arc::from("b.yaml"), "cannot read");
        assert_eq!(file.to_string(), "b.yaml: cannot read");
    }
}
