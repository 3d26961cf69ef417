//! `${env:NAME}` and `${file:relative/path}` references in string values, resolved before
//! validation so that the schema sees real values. `$${` writes a literal `${`. A `${file:}`
//! path is relative to the YAML file that holds it and stays in its directory (no absolute
//! path, no `..` or symbolic link leading out: the YAML may come from a pull request); it
//! must be a regular file, read with the YAML's own bound; one trailing newline is stripped.
//!
//! Resolved values may be secrets: they are stored beside their template and never printed;
//! messages here name the reference, never the value. Reads only the referenced files and
//! variables.

use std::path::{Component, Path, PathBuf};

use super::diagnostic::{Diagnostic, Reason, SettingPath};
use super::yaml::{Node, NodeValue};
use crate::bounded::{self, ReadError};

/// Where `${env:...}` values come from (the process environment, or a test's map).
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Resolves every reference in the tree in place; returns the problems found.
pub fn interpolate_tree(
    node: &mut Node,
    path: &SettingPath,
    base_dir: &Path,
    env: EnvLookup<'_>,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    walk(node, path, base_dir, env, &mut problems);
    problems
}

fn walk(
    node: &mut Node,
    path: &SettingPath,
    base_dir: &Path,
    env: EnvLookup<'_>,
    problems: &mut Vec<Diagnostic>,
) {
    match &mut node.value {
        NodeValue::Str(text) => {
            if !text.value.contains('$') {
                return;
            }
            match resolve(&text.value, base_dir, env) {
                Ok(Some(value)) => {
                    let template = std::mem::replace(&mut text.value, value);
                    text.template = Some(template);
                }
                Ok(None) => {}
                Err(e) => {
                    problems.push(Diagnostic::error(
                        &node.pos,
                        path.clone(),
                        Reason::Reference(e),
                    ));
                }
            }
        }
        NodeValue::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, &path.index(i), base_dir, env, problems);
            }
        }
        NodeValue::Map(entries) => {
            for (key, value) in entries {
                walk(value, &path.key(&key.name), base_dir, env, problems);
            }
        }
        NodeValue::Null | NodeValue::Bool(_) | NodeValue::Int(_) | NodeValue::Float(_) => {}
    }
}

/// Why a reference cannot be resolved. Messages name the reference, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// `${env:NAME}` and `NAME` is not set: the one with a remedy of its own.
    #[error("environment variable {name} is not set (referenced as `${{env:{name}}}`)")]
    UnsetVariable { name: String },
    /// Any other bad reference, described.
    #[error("{0}")]
    Other(String),
}

impl From<String> for ReferenceError {
    fn from(message: String) -> Self {
        ReferenceError::Other(message)
    }
}

/// The text with its references resolved; `Ok(None)` when it has none (`$${` escapes alone
/// still produce a new value).
///
/// # Errors
/// The bad reference, named (never a resolved value).
pub fn resolve(
    text: &str,
    base_dir: &Path,
    env: EnvLookup<'_>,
) -> Result<Option<String>, ReferenceError> {
    scan(text, |reference| lookup(reference, base_dir, env))
}

/// One `${...}` reference as written in a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The text between `${` and `}`: `env:NAME`, `file:relative/path`.
    pub inner: String,
}

impl Reference {
    /// `env` or `file`; `None` for a kind the tool does not know.
    #[must_use]
    pub fn kind(&self) -> Option<&'static str> {
        ["env", "file"]
            .into_iter()
            .find(|kind| self.inner.split_once(':').is_some_and(|(k, _)| k == *kind))
    }

    /// What the reference names: the variable, or the path as written.
    #[must_use]
    pub fn name(&self) -> &str {
        self.inner.split_once(':').map_or("", |(_, name)| name)
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${{{}}}", self.inner)
    }
}

/// The references in a string value, in order; `$${` escapes are not references.
///
/// # Errors
/// A malformed reference, described (never quoting the text, which may be a secret).
pub fn references(text: &str) -> Result<Vec<Reference>, ReferenceError> {
    let mut found = Vec::new();
    scan(text, |inner| {
        found.push(Reference {
            inner: inner.to_owned(),
        });
        Ok(String::new())
    })?;
    Ok(found)
}

/// Whether a reference resolves, by resolving it and dropping the value.
///
/// # Errors
/// What `validate` would report for it (naming the reference, never a value).
pub fn check(
    reference: &Reference,
    base_dir: &Path,
    env: EnvLookup<'_>,
) -> Result<(), ReferenceError> {
    lookup(&reference.inner, base_dir, env).map(drop)
}

/// Walks the text, replacing each `${...}` with what `substitute` makes of its inner text and
/// each `$${` with `${`; `Ok(None)` when there was neither.
fn scan(
    text: &str,
    mut substitute: impl FnMut(&str) -> Result<String, ReferenceError>,
) -> Result<Option<String>, ReferenceError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
            changed = true;
        } else if let Some(after) = tail.strip_prefix("${") {
            let Some(end) = after.find('}') else {
                // The text may be a secret: describe it, never quote it.
                return Err(ReferenceError::Other(
                    "unterminated reference: a `${` without its closing `}` (write `$${` for a literal `${`)"
                        .to_owned(),
                ));
            };
            out.push_str(&substitute(&after[..end])?);
            rest = &after[end + 1..];
            changed = true;
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(changed.then_some(out))
}

/// Whether the text holds a `${env:...}` or `${file:...}` reference: its value came from
/// outside the file, and is sensitive wherever it lands (`$${` escapes alone are not).
#[must_use]
pub fn has_reference(text: &str) -> bool {
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$${") {
            rest = after;
        } else if tail.starts_with("${") {
            return true;
        } else {
            rest = &tail[1..];
        }
    }
    false
}

fn lookup(reference: &str, base_dir: &Path, env: EnvLookup<'_>) -> Result<String, ReferenceError> {
    if let Some(name) = reference.strip_prefix("env:") {
        let valid = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(ReferenceError::Other(
                "invalid `${env:...}` reference: an environment variable name is letters, digits \
                 and `_`, not starting with a digit"
                    .to_owned(),
            ));
        }
        return env(name).ok_or_else(|| ReferenceError::UnsetVariable {
            name: name.to_owned(),
        });
    }
    if let Some(relative) = reference.strip_prefix("file:") {
        if relative.is_empty() {
            return Err(ReferenceError::Other(
                "`${file:}` needs a path, relative to this YAML file".to_owned(),
            ));
        }
        return Ok(read_secret_file(relative, base_dir)?);
    }
    Err(ReferenceError::Other(
        "unknown kind of reference: use `${env:NAME}` or `${file:path}` (write `$${` for a literal `${`)"
            .to_owned(),
    ))
}

fn read_secret_file(relative: &str, base_dir: &Path) -> Result<String, String> {
    let reference = format!("`${{file:{relative}}}`");
    let shown = base_dir.join(relative);
    let shown = shown.display();
    let real = confined(relative, base_dir).map_err(|why| match why {
        Escape::Absolute => format!(
            "{reference} is an absolute path: a file reference is relative to the YAML file \
             and stays in its directory"
        ),
        Escape::ParentDir => format!(
            "{reference} leads out of the YAML file's directory with `..`: a file reference \
             stays in that directory"
        ),
        Escape::Symlink => format!(
            "{reference} is a symbolic link (or passes through one) to a file outside the YAML \
             file's directory: a file reference stays in that directory"
        ),
        Escape::Unreadable(e) => {
            format!("cannot read file {shown} (referenced as {reference}): {e}")
        }
    })?;
    let bytes = bounded::read_file(&real, bounded::SECRET_FILE).map_err(|e| match e {
        ReadError::Open(e) | ReadError::Read(e) => {
            format!("cannot read file {shown} (referenced as {reference}): {e}")
        }
        ReadError::NotAFile { kind } => {
            format!("file {shown} (referenced as {reference}) is {kind}, not a regular file")
        }
        ReadError::TooLarge { limit, .. } => {
            format!("file {shown} (referenced as {reference}) is larger than the {limit} limit")
        }
    })?;
    let mut text = String::from_utf8(bytes)
        .map_err(|_| format!("file {shown} (referenced as {reference}) is not UTF-8 text"))?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(text)
}

/// Why a `${file:...}` path is refused.
enum Escape {
    Absolute,
    ParentDir,
    Symlink,
    Unreadable(std::io::Error),
}

/// The real path of `relative` below `base_dir`, which it must not leave: not absolute, no
/// `..` above the directory, no symbolic link out of it (a link inside it is fine). A YAML
/// file from a pull request must not read `/proc/self/environ` or `~/.ssh`.
fn confined(relative: &str, base_dir: &Path) -> Result<PathBuf, Escape> {
    let path = Path::new(relative);
    let mut depth = 0usize;
    for component in path.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => return Err(Escape::Absolute),
            Component::CurDir => {}
            Component::ParentDir => depth = depth.checked_sub(1).ok_or(Escape::ParentDir)?,
            Component::Normal(_) => depth += 1,
        }
    }
    let base_dir = if base_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base_dir
    };
    let base = std::fs::canonicalize(base_dir).map_err(Escape::Unreadable)?;
    let real = std::fs::canonicalize(base.join(path)).map_err(Escape::Unreadable)?;
    if real.starts_with(&base) {
        Ok(real)
    } else {
        Err(Escape::Symlink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "TOKEN").then(|| "s3cr3t".to_owned())
    }

    fn run(text: &str) -> Result<Option<String>, String> {
        resolve(text, Path::new("."), &env).map_err(|e| e.to_string())
    }

    #[test]
    fn env_references_resolve() {
        assert_eq!(run("${env:TOKEN}"), Ok(Some("s3cr3t".to_owned())));
        assert_eq!(
            run("Bearer ${env:TOKEN}!"),
            Ok(Some("Bearer s3cr3t!".to_owned()))
        );
        assert_eq!(run("no refs $5"), Ok(None));
    }

    #[test]
    fn escapes_write_a_literal() {
        assert_eq!(run("$${env:TOKEN}"), Ok(Some("${env:TOKEN}".to_owned())));
        assert!(!has_reference("$${env:TOKEN} costs $5"));
        assert!(has_reference("$${x} ${env:TOKEN}"));
        assert!(has_reference("${file:a}"));
    }

    #[test]
    fn errors_name_the_reference_never_a_value() {
        assert_eq!(
            run("${env:MISSING}"),
            Err(
                "environment variable MISSING is not set (referenced as `${env:MISSING}`)"
                    .to_owned()
            )
        );
        // Text that is not a valid reference may be a secret: never quoted.
        for (text, start) in [
            ("p4ss${S3cr3t:x}", "unknown kind of reference"),
            ("p4ss${w0rdS3cr3t", "unterminated reference"),
            ("${env:S3cr-3t}", "invalid `${env:...}` reference"),
        ] {
            let Err(message) = run(text) else {
                panic!("{text} accepted")
            };
            assert!(message.starts_with(start), "{message}");
            assert!(
                !message.contains("3cr3t") && !message.contains("3cr-3t"),
                "{message}"
            );
        }
    }

    #[test]
    fn references_are_listed_as_written_without_escapes() {
        let found = match references("a ${env:TOKEN} $${env:NOT} ${file:x/y.pem}${vault:z}") {
            Ok(found) => found,
            Err(e) => panic!("{e}"),
        };
        let listed: Vec<(Option<&str>, &str, String)> = found
            .iter()
            .map(|r| (r.kind(), r.name(), r.to_string()))
            .collect();
        assert_eq!(
            listed,
            [
                (Some("env"), "TOKEN", "${env:TOKEN}".to_owned()),
                (Some("file"), "x/y.pem", "${file:x/y.pem}".to_owned()),
                (None, "z", "${vault:z}".to_owned()),
            ]
        );
        assert_eq!(references("plain $5"), Ok(Vec::new()));
        assert!(references("p4ss${w0rd").is_err());
        let set = Reference {
            inner: "env:TOKEN".to_owned(),
        };
        let unset = Reference {
            inner: "env:MISSING".to_owned(),
        };
        assert_eq!(check(&set, Path::new("."), &env), Ok(()));
        assert!(
            check(&unset, Path::new("."), &env).is_err_and(|e| e.to_string().contains("MISSING"))
        );
    }

    #[test]
    fn files_resolve_relative_to_the_yaml_and_lose_one_newline() {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        let secret = dir.path().join("key.pem");
        if let Err(e) = std::fs::write(&secret, "line1\nline2\n\n") {
            panic!("write: {e}");
        }
        assert_eq!(
            resolve("${file:key.pem}", dir.path(), &env),
            Ok(Some("line1\nline2\n".to_owned()))
        );
        let missing = resolve("${file:nope.pem}", dir.path(), &env);
        assert!(
            matches!(missing, Err(ReferenceError::Other(m)) if m.starts_with("cannot read file"))
        );
    }

    #[test]
    fn file_references_stay_in_the_yaml_files_directory() {
        let root = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        let conf = root.path().join("conf");
        let write = |path: &Path, text: &str| {
            if let Some(parent) = path.parent()
                && let Err(e) = std::fs::create_dir_all(parent)
            {
                panic!("{e}");
            }
            if let Err(e) = std::fs::write(path, text) {
                panic!("write: {e}");
            }
        };
        write(&conf.join("secrets/pw"), "inside\n");
        write(&root.path().join("outside"), "outside\n");
        let resolve_here = |text: &str| resolve(text, &conf, &env);
        assert_eq!(
            resolve_here("${file:secrets/pw}"),
            Ok(Some("inside".to_owned()))
        );
        // `..` that stays inside is only a longer way to the same file.
        assert_eq!(
            resolve_here("${file:secrets/../secrets/pw}"),
            Ok(Some("inside".to_owned()))
        );
        let refused = |text: &str, start: &str| {
            let Err(message) = resolve_here(text).map_err(|e| e.to_string()) else {
                panic!("{text} was read")
            };
            assert!(message.contains(start), "{text}: {message}");
            assert!(!message.contains("outside\n"), "{message}");
        };
        refused(
            "${file:../outside}",
            "leads out of the YAML file's directory with `..`",
        );
        refused("${file:secrets/../../outside}", "with `..`");
        let absolute = format!("${{file:{}}}", root.path().join("outside").display());
        refused(&absolute, "is an absolute path");
        refused("${file:/etc/passwd}", "is an absolute path");
        #[cfg(unix)]
        {
            let link = |target: &Path, name: &str| {
                if let Err(e) = std::os::unix::fs::symlink(target, conf.join(name)) {
                    panic!("symlink: {e}");
                }
            };
            link(&root.path().join("outside"), "out-link");
            link(root.path(), "out-dir");
            link(&conf.join("secrets/pw"), "in-link");
            link(Path::new("/dev/zero"), "zero");
            refused("${file:out-link}", "is a symbolic link");
            refused("${file:out-dir/outside}", "is a symbolic link");
            refused("${file:zero}", "is a symbolic link");
            assert_eq!(
                resolve_here("${file:in-link}"),
                Ok(Some("inside".to_owned()))
            );
            let made = std::process::Command::new("mkfifo")
                .arg(conf.join("fifo"))
                .status();
            assert!(made.is_ok_and(|s| s.success()), "mkfifo failed");
            refused("${file:fifo}", "is a FIFO (named pipe), not a regular file");
            refused("${file:secrets}", "is a directory, not a regular file");
        }
    }
}
