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

/// What is wrong, as data: every problem the config layer finds is one of these, put into
/// words in one place ([`Reason`]'s `Display`), and the hint after a list of problems is chosen
/// from these variants, never from the words. Values are quoted only as [`Found`], which
/// validation fills only for values that are neither sensitive nor interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A `-f` file (or the default `tfe-admin.yaml`) does not exist.
    MissingFile,
    /// A file that cannot be read: the system's reason.
    CannotRead {
        error: String,
    },
    /// A path that is not a regular file (a directory, a FIFO).
    NotAFile {
        kind: &'static str,
    },
    /// A file over the bound; `size` when the file system said so before reading.
    TooLarge {
        size: Option<u64>,
        limit: crate::bounded::Limit,
    },
    /// Bytes that are not UTF-8, with the first bad byte.
    NotUtf8 {
        byte: u8,
    },
    /// The YAML parser's own message.
    Yaml {
        message: String,
    },
    /// A file that holds nothing (empty, or `null`).
    EmptyFile,
    /// A file whose root is not a mapping.
    RootNotAMapping {
        found: &'static str,
    },
    /// A reference that cannot be resolved (or is not one).
    Reference(super::interpolate::ReferenceError),
    /// A top-level key that is no section.
    UnknownSection {
        name: String,
        /// A section whose name is close.
        suggestion: Option<&'static str>,
        /// The section that has an attribute of this name.
        owner: Option<&'static str>,
        known: Vec<&'static str>,
    },
    /// A key of a section that is no attribute of it.
    UnknownAttribute {
        name: String,
        section: &'static str,
        suggestion: Option<&'static str>,
        /// Another section that has an attribute of this name.
        owner: Option<&'static str>,
    },
    /// A key the JSON Schema does not allow (inside an attribute's value).
    UnknownKey {
        name: String,
        suggestion: Option<String>,
        allowed: Vec<String>,
    },
    /// A read-only attribute in the file.
    ReadOnly {
        attribute: &'static str,
    },
    /// A deprecated alias beside the attribute it stands for.
    AliasAndTarget {
        alias: &'static str,
        target: &'static str,
    },
    /// A deprecated alias (a warning).
    Deprecated {
        target: &'static str,
    },
    /// A literal value in a sensitive attribute.
    LiteralSecret,
    /// A duration longer than Go holds.
    DurationTooLong,
    /// JSON text that is JSON, but not an object.
    JsonNotAnObject,
    /// JSON text that is not JSON: the parser's message, which names what it met and where,
    /// never the content.
    JsonInvalid {
        error: String,
    },
    /// Text with no PEM block where one belongs.
    NotPem,
    /// A PEM block without its end line.
    PemUnterminated,
    /// A certificate past its not-after date.
    CertificateExpired {
        subject: String,
        not_after: String,
    },
    /// A certificate that expires within [`crate::certificate::EXPIRY_WARNING_DAYS`] days.
    CertificateExpiring {
        subject: String,
        not_after: String,
        days_left: u64,
    },
    /// A `CERTIFICATE` block that is not a readable certificate.
    CertificateUnreadable,
    /// Another kind of block (a key) where a certificate belongs.
    NotACertificate {
        label: String,
    },
    /// A number YAML wrote that JSON cannot hold (`.nan`, `.inf`).
    NotFinite,
    /// A value of the wrong type: what the attribute expects, in words, and what was found.
    Type {
        expected: String,
        found: &'static str,
        /// A number or boolean where text belongs: quoting it would make it text.
        quote: bool,
    },
    AtLeast {
        limit: String,
        found: Option<Found>,
    },
    AtMost {
        limit: String,
        found: Option<Found>,
    },
    OneOf {
        options: Vec<String>,
        found: Option<Found>,
    },
    NotADuration {
        found: Option<Found>,
    },
    NotAUrl {
        prefixes: Vec<String>,
        allow_blank: bool,
        found: Option<Found>,
    },
    NotAnEmail {
        found: Option<Found>,
    },
    NotASha256 {
        found: Option<Found>,
    },
    /// A list that must have at least one entry.
    NoEntries,
    /// Keys the schema does not allow, found inside a value.
    UnknownKeys {
        names: Vec<String>,
    },
    NotOfTheForm {
        found: Option<Found>,
    },
    NotAFormat {
        format: String,
        found: Option<Found>,
    },
    Missing {
        property: String,
    },
    NotAllowedHere,
    SchemaMismatch,
    /// A problem the catalogue describes in its own words (a section's kind, a rule of the
    /// API, an item's rule); the catalogue builds those messages.
    Catalogue {
        message: String,
    },
    /// The section's typed struct refused a value the schema accepted.
    DoesNotFit {
        section: &'static str,
        error: String,
    },
    /// The generated schema does not compile: a bug of this tool.
    SchemaDoesNotCompile,
}

/// A value as a message may quote it: never a sensitive or interpolated one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// Text, cut to its first 60 characters.
    Text(String),
    /// A number as YAML wrote it.
    Number(String),
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::Text(text) => write!(f, " (found {text:?})"),
            Found::Number(n) => write!(f, " (found {n})"),
        }
    }
}

/// ` (found "x")`, or nothing.
struct FoundSuffix<'a>(&'a Option<Found>);

impl fmt::Display for FoundSuffix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(found) => found.fmt(f),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Reason {
    #[allow(clippy::too_many_lines)]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::MissingFile => f.write_str("no such file"),
            Reason::CannotRead { error } => write!(f, "cannot read the file: {error}"),
            Reason::NotAFile { kind } => write!(f, "is {kind}, not a YAML file"),
            Reason::TooLarge {
                size: Some(size),
                limit,
            } => write!(
                f,
                "the file is {size} bytes; a desired-state file may have at most {} ({limit})",
                limit.bytes
            ),
            Reason::TooLarge { size: None, limit } => write!(
                f,
                "the file holds more than {} bytes ({limit}), the most a desired-state file may \
                 have",
                limit.bytes
            ),
            Reason::NotUtf8 { byte } => {
                write!(
                    f,
                    "not UTF-8 text (byte 0x{byte:02X}); is this a binary file?"
                )
            }
            Reason::Yaml { message } | Reason::Catalogue { message } => f.write_str(message),
            Reason::EmptyFile => f.write_str(
                "the file holds no settings (it is empty or null): expected a mapping of \
                 settings sections, like `general:` (write `{}` to manage nothing)",
            ),
            Reason::RootNotAMapping { found } => write!(
                f,
                "expected a mapping of settings sections, like `general:`, found {found}"
            ),
            Reason::Reference(e) => e.fmt(f),
            Reason::UnknownSection {
                name,
                suggestion: Some(close),
                ..
            } => write!(f, "unknown section `{name}`; did you mean `{close}`?"),
            Reason::UnknownSection {
                name,
                owner: Some(owner),
                ..
            } => write!(
                f,
                "unknown section `{name}`: it is an attribute of `{owner}`; put it under \
                 `{owner}:`"
            ),
            Reason::UnknownSection { name, known, .. } => write!(
                f,
                "unknown section `{name}`; the sections are: {}",
                known.join(", ")
            ),
            Reason::UnknownAttribute {
                name,
                section,
                suggestion: Some(close),
                ..
            } => write!(
                f,
                "unknown attribute `{name}` in `{section}`; did you mean `{close}`?"
            ),
            Reason::UnknownAttribute {
                name,
                section,
                owner: Some(owner),
                ..
            } => write!(
                f,
                "unknown attribute `{name}` in `{section}`: it belongs to section `{owner}`"
            ),
            Reason::UnknownAttribute { name, section, .. } => write!(
                f,
                "unknown attribute `{name}` in `{section}` (see `tfe-admin schema` for the \
                 attributes)"
            ),
            Reason::UnknownKey {
                name,
                suggestion: Some(close),
                ..
            } => write!(f, "unknown key `{name}`; did you mean `{close}`?"),
            Reason::UnknownKey { name, allowed, .. } if allowed.is_empty() => {
                write!(f, "unknown key `{name}`")
            }
            Reason::UnknownKey { name, allowed, .. } => {
                write!(f, "unknown key `{name}`; expected {}", allowed.join(", "))
            }
            Reason::ReadOnly { attribute } => write!(
                f,
                "`{attribute}` is read-only: TFE sets it itself; remove it from the file"
            ),
            Reason::AliasAndTarget { alias, target } => write!(
                f,
                "set either `{target}` or its deprecated alias `{alias}`, not both"
            ),
            Reason::Deprecated { target } => {
                write!(f, "deprecated: use `{target}` instead (the same setting)")
            }
            Reason::LiteralSecret => f.write_str(
                "literal secret: reference it as `${env:NAME}` or `${file:path}` (or pass \
                 --allow-literal-secrets)",
            ),
            Reason::DurationTooLong => f.write_str(
                "too long: a duration is at most 2562047h47m16.854775807s, the longest Go holds \
                 (TFE refuses longer ones)",
            ),
            Reason::JsonNotAnObject => f.write_str(
                "not a JSON object: expected the contents of a service account key file",
            ),
            Reason::JsonInvalid { error } => write!(
                f,
                "not valid JSON ({error}): expected the contents of a service account key file"
            ),
            Reason::NotPem => {
                f.write_str("does not look like PEM text (no `-----BEGIN ...-----` line)")
            }
            Reason::PemUnterminated => {
                f.write_str("a PEM block without its `-----END ...-----` line")
            }
            Reason::CertificateExpired { subject, not_after } => {
                write!(f, "the certificate `{subject}` expired at {not_after}")
            }
            Reason::CertificateExpiring {
                subject,
                not_after,
                days_left,
            } => write!(
                f,
                "the certificate `{subject}` expires at {not_after} ({}): renew it",
                crate::certificate::days_phrase(*days_left)
            ),
            Reason::CertificateUnreadable => {
                f.write_str("a CERTIFICATE block that is not a readable X.509 certificate")
            }
            Reason::NotACertificate { label } => write!(
                f,
                "holds a `{label}` block where a certificate belongs: is this the right file?"
            ),
            Reason::NotFinite => f.write_str("not a finite number"),
            Reason::Type {
                expected,
                found,
                quote,
            } => {
                write!(f, "expected {expected}, found {found}")?;
                if *quote {
                    f.write_str("; quote the value to write it as text")?;
                }
                Ok(())
            }
            Reason::AtLeast { limit, found } => {
                write!(f, "must be at least {limit}{}", FoundSuffix(found))
            }
            Reason::AtMost { limit, found } => {
                write!(f, "must be at most {limit}{}", FoundSuffix(found))
            }
            Reason::OneOf { options, found } => write!(
                f,
                "must be one of: {}{}",
                options.join(", "),
                FoundSuffix(found)
            ),
            Reason::NotADuration { found } => write!(
                f,
                "not a duration{}: write a number and a unit (h, m, s, ms), like 90m, 2h or 1h30m",
                FoundSuffix(found)
            ),
            Reason::NotAUrl {
                prefixes,
                allow_blank,
                found,
            } => write!(
                f,
                "must be a URL starting with {}{}{}",
                prefixes.join(" or "),
                if *allow_blank {
                    " (or empty to unset)"
                } else {
                    ""
                },
                FoundSuffix(found)
            ),
            Reason::NotAnEmail { found } => {
                write!(f, "not an e-mail address{}", FoundSuffix(found))
            }
            Reason::NotASha256 { found } => write!(
                f,
                "not a SHA-256 checksum{}: expected 64 hexadecimal characters",
                FoundSuffix(found)
            ),
            Reason::NoEntries => f.write_str("must list at least one entry"),
            Reason::UnknownKeys { names } => write!(f, "unknown key `{}`", names.join("`, `")),
            Reason::NotOfTheForm { found } => {
                write!(f, "does not have the expected form{}", FoundSuffix(found))
            }
            Reason::NotAFormat { format, found } => {
                write!(f, "not a valid {format}{}", FoundSuffix(found))
            }
            Reason::Missing { property } => write!(f, "missing `{property}`"),
            Reason::NotAllowedHere => f.write_str("not allowed here"),
            Reason::SchemaMismatch => {
                f.write_str("does not match the schema of this attribute (see `tfe-admin schema`)")
            }
            Reason::DoesNotFit { section, error } => {
                write!(f, "does not fit the `{section}` settings: {error}")
            }
            Reason::SchemaDoesNotCompile => {
                f.write_str("internal error: the generated JSON Schema does not compile")
            }
        }
    }
}

/// One problem, with everything needed to render it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file, for problems without a position (an unreadable file).
    pub file: Arc<str>,
    pub pos: Option<Pos>,
    pub path: SettingPath,
    pub reason: Reason,
}

impl Diagnostic {
    #[must_use]
    pub fn error(pos: &Pos, path: SettingPath, reason: Reason) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: Arc::clone(&pos.file),
            pos: Some(pos.clone()),
            path,
            reason,
        }
    }

    #[must_use]
    pub fn warning(pos: &Pos, path: SettingPath, reason: Reason) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(pos, path, reason)
        }
    }

    /// A problem with a whole file (it cannot be read).
    #[must_use]
    pub fn file_error(file: &Arc<str>, reason: Reason) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: Arc::clone(file),
            pos: None,
            path: SettingPath::root(),
            reason,
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
        self.reason.fmt(f)
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
        let d = Diagnostic::error(
            &pos,
            path,
            Reason::AtMost {
                limit: "65535".to_owned(),
                found: None,
            },
        );
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
        let file = Diagnostic::file_error(&Arc::from("b.yaml"), Reason::MissingFile);
        assert_eq!(file.to_string(), "b.yaml: no such file");
    }
}
