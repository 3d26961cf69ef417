//! YAML text to a located node tree: the one module that knows the YAML crate.
//!
//! serde-saphyr parses (panic-free, duplicate keys rejected, aliases and document size
//! bounded) into [`Node`]s that remember where each key and value was written, so every later
//! message can point at `FILE:LINE:COL`. Nothing here knows about settings.

use std::fmt;
use std::sync::Arc;

use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A position in a file, 1-based.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub file: Arc<str>,
    pub line: u64,
    pub col: u64,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

impl fmt::Debug for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A YAML value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: NodeValue,
}

/// The YAML data model the desired-state file uses.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    Null,
    Bool(bool),
    Int(i64),
    /// Integers beyond `i64` and non-integers.
    Float(f64),
    Str(Text),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

impl NodeValue {
    /// "a string", "a mapping", ...: how messages name a value's type.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Int(_) => "an integer",
            NodeValue::Float(_) => "a number",
            NodeValue::Str(_) => "a string",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }
}

/// A string scalar: its value, and the text it was interpolated from, if it had references.
#[derive(Clone, PartialEq, Eq)]
pub struct Text {
    pub value: String,
    /// The original text with its `${env:...}` / `${file:...}` references.
    pub template: Option<String>,
}

impl fmt::Debug for Text {
    /// Interpolated values may be secrets: only their template is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.template {
            Some(template) => write!(f, "Text(template {template:?})"),
            None => write!(f, "Text({:?})", self.value),
        }
    }
}

/// A mapping key and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub name: String,
    pub pos: Pos,
}

/// Why a file is not YAML the tool can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    pub line: u64,
    pub col: u64,
    pub message: String,
}

/// Parses one YAML document into a located tree. An empty document is a `Null` root.
///
/// # Errors
/// Malformed YAML, duplicate keys, non-string keys, several documents, too many aliases.
pub fn parse(file: &Arc<str>, text: &str) -> Result<Node, SyntaxError> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: 1,
            max_depth: 64,
            max_nodes: 200_000,
            max_aliases: 1_000,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 10_000,
            max_replay_stack_depth: 16,
        },
    };
    match serde_saphyr::from_str_with_options::<Spanned<RawNode>>(text, options) {
        Ok(root) => Ok(locate(file, root)),
        Err(error) => Err(syntax_error(&error, text)),
    }
}

fn syntax_error(error: &serde_saphyr::Error, text: &str) -> SyntaxError {
    use serde_saphyr::Error as E;
    use serde_saphyr::budget::BudgetBreach as B;
    let (mut line, mut col) = error
        .location()
        .map_or((1, 1), |l| (l.line().max(1), l.column().max(1)));
    let message = match innermost(error) {
        E::DuplicateMappingKey { .. } => {
            let rendered = error.without_snippet().to_string();
            let key = rendered
                .strip_prefix("duplicate mapping key: ")
                .and_then(|k| k.split(", set DuplicateKeyPolicy").next())
                .unwrap_or("?");
            format!("duplicate key `{key}`: each key may appear once in a mapping")
        }
        E::MultipleDocuments { .. }
        | E::Budget {
            breach: B::Documents { .. },
            ..
        } => "a desired-state file holds one YAML document; this is a second one (after `---`)"
            .to_owned(),
        E::AliasReplayCounterOverflow { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::Budget {
            breach: B::Aliases { .. } | B::AliasAnchorRatio { .. },
            ..
        } => "too many alias expansions (an alias bomb?): a settings file needs few aliases"
            .to_owned(),
        E::Budget { .. } => format!(
            "the document is too large or too deeply nested ({})",
            strip_position(&error.without_snippet().to_string())
        ),
        E::NonFiniteFloat { .. } => {
            "not a finite number (.nan and .inf are not allowed)".to_owned()
        }
        _ => {
            let message = strip_position(&error.without_snippet().to_string()).to_owned();
            if message == NUMBER_KEY
                && let Some(written) = key_at(text, line, col)
            {
                // `1.10` is 1.1 to YAML: say so, it is why quoting matters.
                let read_as = written
                    .parse::<f64>()
                    .ok()
                    .map(|n| n.to_string())
                    .filter(|n| *n != written)
                    .map_or_else(String::new, |n| format!(", which YAML reads as {n}"));
                return SyntaxError {
                    line,
                    col,
                    message: format!(
                        "the key {written} is a number{read_as}, not text: quote it, as \
                         \"{written}\""
                    ),
                };
            }
            // The scanner reports a tab at the start of the scalar it was reading; point at
            // the tab itself.
            if message.contains("tab")
                && let Some((tab_line, tab_col)) = first_tab_from(text, line, col)
            {
                (line, col) = (tab_line, tab_col);
            }
            message
        }
    };
    SyntaxError { line, col, message }
}

/// The error under the crate's snippet and alias-location wrappers.
fn innermost(mut error: &serde_saphyr::Error) -> &serde_saphyr::Error {
    while let serde_saphyr::Error::WithSnippet { error: inner, .. }
    | serde_saphyr::Error::AliasError { error: inner, .. } = error
    {
        error = inner;
    }
    error
}

/// The message without the trailing " at line N, column M" the crate appends.
fn strip_position(message: &str) -> &str {
    if let Some((head, tail)) = message.rsplit_once(" at line ") {
        let is_position = tail.split_once(", column ").is_some_and(|(l, c)| {
            l.bytes().all(|b| b.is_ascii_digit()) && c.bytes().all(|b| b.is_ascii_digit())
        });
        if is_position {
            return head;
        }
    }
    message
}

/// The key as written at a position (1-based line and column, in characters): the text up
/// to the `:` that ends it.
fn key_at(text: &str, line: u64, col: u64) -> Option<String> {
    let content = text
        .lines()
        .nth(usize::try_from(line.checked_sub(1)?).ok()?)?;
    let start = usize::try_from(col.checked_sub(1)?).ok()?;
    let rest: String = content.chars().skip(start).collect();
    let key = rest.split(':').next()?.trim();
    (!key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | '_' | 'e' | 'E')))
    .then(|| key.to_owned())
}

/// The first tab at or after a position (1-based line and column, in characters).
fn first_tab_from(text: &str, line: u64, col: u64) -> Option<(u64, u64)> {
    for (index, content) in text.lines().enumerate() {
        let number = index as u64 + 1;
        if number < line {
            continue;
        }
        let skip = if number == line {
            col.saturating_sub(1)
        } else {
            0
        };
        let skip = usize::try_from(skip).unwrap_or(usize::MAX);
        if let Some(found) = content.chars().skip(skip).position(|c| c == '\t') {
            return Some((number, (skip + found) as u64 + 1));
        }
    }
    None
}

fn locate(file: &Arc<str>, node: Spanned<RawNode>) -> Node {
    let pos = Pos {
        file: Arc::clone(file),
        line: node.referenced.line().max(1),
        col: node.referenced.column().max(1),
    };
    let value = match node.value {
        RawNode::Null => NodeValue::Null,
        RawNode::Bool(b) => NodeValue::Bool(b),
        RawNode::Int(i) => NodeValue::Int(i),
        RawNode::Float(f) => NodeValue::Float(f),
        RawNode::Str(s) => NodeValue::Str(Text {
            value: s,
            template: None,
        }),
        RawNode::Seq(items) => NodeValue::Seq(items.into_iter().map(|n| locate(file, n)).collect()),
        RawNode::Map(entries) => NodeValue::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let key = Key {
                        pos: Pos {
                            file: Arc::clone(file),
                            line: k.referenced.line().max(1),
                            col: k.referenced.column().max(1),
                        },
                        name: k.value,
                    };
                    (key, locate(file, v))
                })
                .collect(),
        ),
    };
    Node { pos, value }
}

/// The tree as serde-saphyr hands it over, before positions are attached to the file.
enum RawNode {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawNode>>),
    Map(Vec<(Spanned<String>, Spanned<RawNode>)>),
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawNode;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_unit<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }

    fn visit_none<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawNode, D::Error> {
        RawNode::deserialize(deserializer)
    }

    fn visit_bool<E>(self, v: bool) -> Result<RawNode, E> {
        Ok(RawNode::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<RawNode, E> {
        Ok(RawNode::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<RawNode, E> {
        Ok(i64::try_from(v).map_or(
            {
                #[allow(clippy::cast_precision_loss)]
                let f = v as f64;
                RawNode::Float(f)
            },
            RawNode::Int,
        ))
    }

    fn visit_i128<E>(self, v: i128) -> Result<RawNode, E> {
        #[allow(clippy::cast_precision_loss)]
        Ok(i64::try_from(v).map_or(RawNode::Float(v as f64), RawNode::Int))
    }

    fn visit_u128<E>(self, v: u128) -> Result<RawNode, E> {
        #[allow(clippy::cast_precision_loss)]
        Ok(i64::try_from(v).map_or(RawNode::Float(v as f64), RawNode::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<RawNode, E> {
        Ok(RawNode::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<RawNode, E> {
        Ok(RawNode::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<RawNode, E> {
        Ok(RawNode::Str(v))
    }

    fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<RawNode, E> {
        Err(E::custom("binary values (!!binary) are not supported"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawNode::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let value = map.next_value()?;
            let Spanned {
                value: KeyText(name),
                referenced,
                defined,
            } = key;
            entries.push((Spanned::new(name, referenced, defined), value));
        }
        Ok(RawNode::Map(entries))
    }
}

/// What the deserialiser says of a number used as a key; [`syntax_error`] adds the key as
/// written, which only the source text still has (`1.10` is the number 1.1 by then).
const NUMBER_KEY: &str = "a key must be a name, found a number; quote it if you mean the text";

/// A mapping key: settings files only have string keys, and `1:` or `true:` are mistakes.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match RawNode::deserialize(deserializer)? {
            RawNode::Str(s) => Ok(KeyText(s)),
            RawNode::Null => Err(D::Error::custom(
                "a key must be a name, found null (an empty key?)",
            )),
            RawNode::Bool(b) => Err(D::Error::custom(format!(
                "a key must be a name, found the boolean {b}; quote it if you mean the text"
            ))),
            RawNode::Int(_) | RawNode::Float(_) => Err(D::Error::custom(NUMBER_KEY)),
            RawNode::Seq(_) | RawNode::Map(_) => {
                Err(D::Error::custom("a key must be a name, found a collection"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Arc<str> {
        Arc::from("t.yaml")
    }

    #[test]
    fn positions_point_at_keys_and_values() {
        let Ok(root) = parse(&file(), "general:\n  api-rate-limit: 50\n") else {
            panic!("should parse");
        };
        let NodeValue::Map(entries) = &root.value else {
            panic!("root is a map");
        };
        let (key, value) = &entries[0];
        assert_eq!((key.pos.line, key.pos.col), (1, 1));
        let NodeValue::Map(inner) = &value.value else {
            panic!("section is a map");
        };
        assert_eq!(inner[0].0.name, "api-rate-limit");
        assert_eq!((inner[0].1.pos.line, inner[0].1.pos.col), (2, 19));
        assert_eq!(inner[0].1.value, NodeValue::Int(50));
    }

    #[test]
    fn duplicate_keys_are_refused_where_repeated() {
        let Err(e) = parse(&file(), "a: 1\na: 2\n") else {
            panic!("duplicate accepted");
        };
        assert_eq!((e.line, e.col), (2, 1));
        assert_eq!(
            e.message,
            "duplicate key `a`: each key may appear once in a mapping"
        );
    }

    #[test]
    fn alias_bombs_are_bounded() {
        use std::fmt::Write as _;
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            let _ = writeln!(
                text,
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]"
            );
        }
        let Err(e) = parse(&file(), &text) else {
            panic!("alias bomb accepted");
        };
        assert_eq!(
            e.message,
            "too many alias expansions (an alias bomb?): a settings file needs few aliases"
        );
    }

    #[test]
    fn tabs_are_reported_where_they_are() {
        let Err(e) = parse(
            &file(),
            "general:\n  api-rate-limit: 30\n\tplan-timeout: 2h\n",
        ) else {
            panic!("tab accepted");
        };
        assert_eq!((e.line, e.col), (3, 1), "{}", e.message);
    }

    #[test]
    fn several_documents_are_refused() {
        let Err(e) = parse(&file(), "general: {}\n---\nsmtp: {}\n") else {
            panic!("two documents accepted");
        };
        assert!(
            e.message
                .starts_with("a desired-state file holds one YAML document")
        );
    }

    #[test]
    fn only_the_trailing_position_is_stripped() {
        assert_eq!(strip_position("bad at line 3, column 4"), "bad");
        assert_eq!(
            strip_position("x at line 1, column 45 (defined at line 3, column 9)"),
            "x at line 1, column 45 (defined at line 3, column 9)"
        );
    }

    #[test]
    fn empty_documents_are_null() {
        let Ok(root) = parse(&file(), "") else {
            panic!("should parse");
        };
        assert_eq!(root.value, NodeValue::Null);
    }
}
