//! Loading the desired state: read each `-f` file (bounded, UTF-8), parse it into a located
//! tree, resolve `${env:...}` / `${file:...}` references, merge the files key by key (later
//! wins), then validate the result. Every problem of every file is reported in one run.
//! Reads the files and the referenced secrets; never the network.

pub mod diagnostic;
pub mod interpolate;
pub mod references;
pub mod schema;
pub mod validate;
pub mod yaml;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use diagnostic::{Diagnostic, Reason, SettingPath};
use interpolate::EnvLookup;
use yaml::{Node, NodeValue, Pos};

use crate::desired::DesiredState;

/// How to load.
pub struct LoadOptions<'a> {
    /// Accept literal values in sensitive attributes.
    pub allow_literal_secrets: bool,
    /// Where `${env:NAME}` values come from.
    pub env: EnvLookup<'a>,
}

/// A valid desired state, with the warnings found on the way.
#[derive(Debug)]
pub struct Loaded {
    pub state: DesiredState,
    pub warnings: Vec<Diagnostic>,
}

/// The files do not describe a valid desired state.
#[derive(Debug, thiserror::Error)]
#[error("{} in {}", plural(self.error_count(), "error"), self.files.join(", "))]
pub struct Invalid {
    /// Every problem found, errors and warnings, in file order.
    pub diagnostics: Vec<Diagnostic>,
    pub files: Vec<String>,
}

impl Invalid {
    /// How many of the diagnostics are errors.
    #[must_use]
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Loads, merges and validates the files, in order.
///
/// # Errors
/// [`Invalid`] with every problem found, when any is an error.
pub fn load(paths: &[PathBuf], options: &LoadOptions<'_>) -> Result<Loaded, Invalid> {
    let mut diagnostics = Vec::new();
    let mut reported = Vec::new();
    let mut merged: Option<Node> = None;
    for path in paths {
        let name: Arc<str> = Arc::from(path.display().to_string());
        let Some(mut root) = read_root(path, &name, &mut diagnostics) else {
            continue;
        };
        let base_dir = path.parent().unwrap_or_else(|| Path::new("."));
        let problems =
            interpolate::interpolate_tree(&mut root, &SettingPath::root(), base_dir, options.env);
        reported.extend(problems.iter().map(|d| d.path.clone()));
        diagnostics.extend(problems);
        merged = Some(match merged {
            None => root,
            Some(mut base) => {
                merge(&mut base, root);
                base
            }
        });
    }
    let files: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let Some(root) = merged else {
        sort_by_position(&mut diagnostics, &files);
        return Err(Invalid { diagnostics, files });
    };
    let outcome = validate::validate(&root, options.allow_literal_secrets, &reported);
    diagnostics.extend(outcome.diagnostics);
    sort_by_position(&mut diagnostics, &files);
    match outcome.state {
        Some(mut state) if !diagnostics.iter().any(Diagnostic::is_error) => {
            set_base_dirs(&mut state, paths);
            Ok(Loaded {
                state,
                warnings: diagnostics,
            })
        }
        _ => Err(Invalid { diagnostics, files }),
    }
}

/// Checks a desired-state text the tool wrote itself (`export`, from live values a server
/// sent): the problems that are errors, in order. A reference (`${env:...}`) stands for a
/// value not at hand here and resolves to a placeholder; literal secrets are what export
/// never writes, so they are not looked for. An empty document is fine.
#[must_use]
pub fn check_written(name: &str, text: &str) -> Vec<Diagnostic> {
    let name: Arc<str> = Arc::from(name);
    let mut root = match yaml::parse(&name, text) {
        Ok(root) => root,
        Err(e) => {
            let pos = Pos {
                file: Arc::clone(&name),
                line: e.line,
                col: e.col,
            };
            return vec![Diagnostic::error(
                &pos,
                SettingPath::root(),
                Reason::Yaml { message: e.message },
            )];
        }
    };
    if root.value == NodeValue::Null {
        return Vec::new();
    }
    let placeholder = |_: &str| Some("placeholder".to_owned());
    let mut diagnostics = interpolate::interpolate_tree(
        &mut root,
        &SettingPath::root(),
        Path::new("."),
        &placeholder,
    );
    let reported: Vec<SettingPath> = diagnostics.iter().map(|d| d.path.clone()).collect();
    diagnostics.extend(validate::validate(&root, true, &reported).diagnostics);
    diagnostics.retain(Diagnostic::is_error);
    diagnostics
}

/// Records, on every attribute, the absolute directory of the file that set it.
fn set_base_dirs(state: &mut DesiredState, paths: &[PathBuf]) {
    for attr in state
        .sections
        .iter_mut()
        .flat_map(|s| s.items.iter_mut())
        .flat_map(|i| i.attributes.iter_mut())
    {
        let Some(path) = paths
            .iter()
            .find(|p| p.display().to_string() == *attr.pos.file)
        else {
            continue;
        };
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        attr.base_dir = std::path::absolute(dir).ok();
    }
}

/// Orders problems as the files were given, then by line and column.
fn sort_by_position(diagnostics: &mut [Diagnostic], files: &[String]) {
    diagnostics.sort_by_key(|d| {
        let file = files
            .iter()
            .position(|f| **f == *d.file)
            .unwrap_or(usize::MAX);
        let (line, col) = d.pos.as_ref().map_or((0, 0), |p| (p.line, p.col));
        (file, line, col)
    });
}

/// Reads and parses one file; its root must be a mapping.
fn read_root(path: &Path, name: &Arc<str>, diagnostics: &mut Vec<Diagnostic>) -> Option<Node> {
    match read_bounded(path) {
        Ok(bytes) => parse_root(name, bytes, diagnostics),
        Err(reason) => {
            diagnostics.push(Diagnostic::file_error(name, reason));
            None
        }
    }
}

/// Decodes and parses one file's bytes; its root must be a mapping.
fn parse_root(name: &Arc<str>, bytes: Vec<u8>, diagnostics: &mut Vec<Diagnostic>) -> Option<Node> {
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let bytes = e.as_bytes();
            let offset = e.utf8_error().valid_up_to();
            let pos = position_of(name, bytes, offset);
            diagnostics.push(Diagnostic::error(
                &pos,
                SettingPath::root(),
                Reason::NotUtf8 {
                    byte: bytes.get(offset).copied().unwrap_or_default(),
                },
            ));
            return None;
        }
    };
    let root = match yaml::parse(name, &text) {
        Ok(root) => root,
        Err(e) => {
            let pos = Pos {
                file: Arc::clone(name),
                line: e.line,
                col: e.col,
            };
            diagnostics.push(Diagnostic::error(
                &pos,
                SettingPath::root(),
                Reason::Yaml { message: e.message },
            ));
            return None;
        }
    };
    match &root.value {
        NodeValue::Map(_) => Some(root),
        NodeValue::Null => {
            diagnostics.push(Diagnostic::error(
                &root.pos,
                SettingPath::root(),
                Reason::EmptyFile,
            ));
            None
        }
        other => {
            diagnostics.push(Diagnostic::error(
                &root.pos,
                SettingPath::root(),
                Reason::RootNotAMapping {
                    found: other.type_name(),
                },
            ));
            None
        }
    }
}

/// Reads a file within the bound; why not, as a reason (a missing file has a remedy of its
/// own: the hint).
fn read_bounded(path: &Path) -> Result<Vec<u8>, Reason> {
    use crate::bounded::{self, ReadError};
    bounded::read_file(path, bounded::DESIRED_STATE).map_err(|e| match e {
        ReadError::Open(e) if e.kind() == std::io::ErrorKind::NotFound => Reason::MissingFile,
        ReadError::Open(e) | ReadError::Read(e) => Reason::CannotRead {
            error: e.to_string(),
        },
        ReadError::NotAFile { kind } => Reason::NotAFile { kind },
        ReadError::TooLarge { size, limit } => Reason::TooLarge { size, limit },
    })
}

/// Line and column (1-based, in characters) of a byte offset.
fn position_of(file: &Arc<str>, bytes: &[u8], offset: usize) -> Pos {
    let before = &bytes[..offset.min(bytes.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.split(|&b| b == b'\n').count() as u64;
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count() as u64
        + 1;
    Pos {
        file: Arc::clone(file),
        line,
        col,
    }
}

/// Lays `overlay` over `base`: mappings merge key by key, anything else is replaced.
fn merge(base: &mut Node, overlay: Node) {
    match (&mut base.value, overlay.value) {
        (NodeValue::Map(entries), NodeValue::Map(overrides)) => {
            for (key, value) in overrides {
                if let Some((existing_key, existing)) =
                    entries.iter_mut().find(|(k, _)| k.name == key.name)
                {
                    *existing_key = key;
                    merge(existing, value);
                } else {
                    entries.push((key, value));
                }
            }
        }
        (_, value) => {
            base.pos = overlay.pos;
            base.value = value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(text: &str, file: &str) -> Node {
        match yaml::parse(&Arc::from(file), text) {
            Ok(n) => n,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn overlays_merge_key_by_key_and_later_wins() {
        let mut base = node(
            "general:\n  api-rate-limit: 30\n  plan-timeout: 2h\nsmtp:\n  host: a\n",
            "base.yaml",
        );
        let overlay = node(
            "general:\n  api-rate-limit: 60\nscim:\n  paused: true\n",
            "prod.yaml",
        );
        merge(&mut base, overlay);
        let expected = node(
            "general:\n  api-rate-limit: 60\n  plan-timeout: 2h\nsmtp:\n  host: a\nscim:\n  paused: true\n",
            "x",
        );
        // Compare the values only; positions differ by design.
        let values = |n: &Node| -> serde_json::Value {
            let outcome = validate::validate(n, true, &[]);
            assert!(outcome.diagnostics.is_empty(), "{:?}", outcome.diagnostics);
            let Some(state) = outcome.state else {
                panic!("no state")
            };
            serde_json::Value::Array(
                state
                    .sections
                    .iter()
                    .flat_map(|s| s.items.iter())
                    .flat_map(|i| i.attributes.iter())
                    .map(|a| serde_json::json!([a.spec.name, a.value]))
                    .collect(),
            )
        };
        assert_eq!(values(&base), values(&expected));
        // The overriding value points at the overlay.
        let NodeValue::Map(entries) = &base.value else {
            panic!()
        };
        let NodeValue::Map(general) = &entries[0].1.value else {
            panic!()
        };
        assert_eq!(general[0].1.pos.file.as_ref(), "prod.yaml");
    }

    #[test]
    fn null_policy_in_an_overlay_replaces_the_base_policy() {
        let mut base = node(
            "data-retention-policy:\n  delete-older-than-n-days: 30\n",
            "a",
        );
        merge(&mut base, node("data-retention-policy: null\n", "b"));
        let NodeValue::Map(entries) = &base.value else {
            panic!()
        };
        assert_eq!(entries[0].1.value, NodeValue::Null);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// No input makes the loader panic: arbitrary bytes.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = run_bytes(bytes);
        }

        /// No input makes the loader panic: YAML-shaped text built from the settings' own
        /// vocabulary, which reaches deep into validation.
        #[test]
        fn yaml_shaped_text_never_panics(text in yaml_shaped()) {
            let _ = run_bytes(text.into_bytes());
        }
    }

    fn run_bytes(bytes: Vec<u8>) -> usize {
        let name: Arc<str> = Arc::from("fuzz.yaml");
        let mut diagnostics = Vec::new();
        let Some(mut root) = parse_root(&name, bytes, &mut diagnostics) else {
            return diagnostics.len();
        };
        let env = |_: &str| Some("value".to_owned());
        let problems =
            interpolate::interpolate_tree(&mut root, &SettingPath::root(), Path::new("."), &env);
        validate::validate(&root, false, &[]).diagnostics.len() + problems.len()
    }

    use std::fmt::Write as _;

    fn yaml_shaped() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let keys = prop::sample::select(vec![
            "general",
            "smtp",
            "saml",
            "scim",
            "twilio",
            "customization",
            "cost-estimation",
            "data-retention-policy",
            "oidc",
            "enabled",
            "port",
            "api-rate-limit",
            "plan-timeout",
            "avatar-sources",
            "source",
            "password",
            "idp-cert",
            "gcp-credentials",
            "x",
            "- ",
            "<<",
        ]);
        let values = prop::sample::select(vec![
            "true",
            "1",
            "-1",
            "99999999999999999999",
            "1e400",
            ".nan",
            "~",
            "\"${env:A}\"",
            "${file:x}",
            "[1, 2]",
            "{a: 1}",
            "&a [1]",
            "*a",
            "\"\"",
            "2h",
            "https://x",
            "|\n  text",
            "!!binary aGk=",
            "'q'",
            "{",
            "]",
            "\t",
            "#c",
        ]);
        prop::collection::vec((0usize..6, keys, values), 0..24).prop_map(|lines| {
            lines
                .into_iter()
                .fold(String::new(), |mut text, (indent, key, value)| {
                    let _ = writeln!(text, "{}{key}: {value}", "  ".repeat(indent));
                    text
                })
        })
    }

    #[test]
    fn byte_offsets_become_line_and_column() {
        let pos = position_of(&Arc::from("f"), b"ab\ncd\xffe", 5);
        assert_eq!((pos.line, pos.col), (2, 3));
    }
}
