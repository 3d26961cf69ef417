//! The one redaction step for text that comes from the server. A server (or a proxy in front
//! of it) may echo what it was sent: an error whose title, detail or `meta` holds the request
//! body, the bearer token in a GET error, an escape sequence that clears the terminal. Every
//! piece of server text passes through a [`Redactor`] before anything renders it (text, JSON,
//! markdown, reports, error chains): each known secret (the token, every resolved value of a
//! sensitive attribute, every value that came from a `${env:}` / `${file:}` reference) becomes
//! `(sensitive)`, and in messages control characters are escaped.
//!
//! Where it is applied: the HTTP client (`api::http`) redacts every error response and every
//! content type at the door; `live`, `apply`, `plan` and `export` redact the successful
//! documents' values where they become report data (successful documents stay raw for the
//! diff, which must compare real values). Pure: no I/O.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use aho_corasick::{AhoCorasick, MatchKind};
use serde_json::{Map, Value};

/// What a secret is replaced with.
pub const REDACTED: &str = "(sensitive)";

/// Lines of a multi-line secret (a PEM key) at least this long are secrets of their own: a
/// server that echoes only the start of the key must not print its first lines.
const MIN_LINE: usize = 16;

/// Replaces known secrets in server text. Cheap to clone.
#[derive(Clone, Default)]
pub struct Redactor {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The secrets as given, for [`Redactor::with`].
    secrets: Vec<String>,
    /// Every form of every secret, longest match first; `None` when there is none.
    matcher: Option<AhoCorasick>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.inner.secrets.len())
    }
}

impl Redactor {
    /// A redactor of these secrets; blank ones are ignored (they are not secrets, and would
    /// match everywhere).
    #[must_use]
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut kept: Vec<String> = secrets
            .into_iter()
            .map(|s| s.as_ref().to_owned())
            .filter(|s| !s.trim().is_empty())
            .collect();
        kept.sort();
        kept.dedup();
        let mut patterns: Vec<String> = kept.iter().flat_map(|s| forms(s)).collect();
        patterns.sort();
        patterns.dedup();
        // Leftmost-longest: a secret that contains another is replaced whole.
        let matcher = if patterns.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&patterns)
                .ok()
        };
        Redactor {
            inner: Arc::new(Inner {
                secrets: kept,
                matcher,
            }),
        }
    }

    /// This redactor and more secrets (the token, once it is known).
    #[must_use]
    pub fn with<I, S>(&self, more: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let all: Vec<String> = self
            .inner
            .secrets
            .iter()
            .cloned()
            .chain(more.into_iter().map(|s| s.as_ref().to_owned()))
            .collect();
        Redactor::new(all)
    }

    /// A message from the server, ready to print: secrets replaced, control characters (and
    /// the invisible characters that reorder a line) escaped, so that the text can neither
    /// clear a terminal nor forge a line of the tool's own output.
    #[must_use]
    pub fn text(&self, text: &str) -> String {
        escape_controls(&self.replace(text))
    }

    /// A value from the server (a live setting): every string in it, keys included, with the
    /// secrets replaced; otherwise unchanged (renderers escape what they print).
    #[must_use]
    pub fn value(&self, value: &Value) -> Value {
        map_strings(value, &|s| self.replace(s))
    }

    /// A document of messages (an error response): every string in it through [`Self::text`].
    #[must_use]
    pub fn message_document(&self, value: &Value) -> Value {
        map_strings(value, &|s| self.text(s))
    }

    /// Whether any string in the value holds a known secret.
    #[must_use]
    pub fn contains_secret(&self, value: &Value) -> bool {
        let Some(matcher) = &self.inner.matcher else {
            return false;
        };
        match value {
            Value::String(s) => matcher.is_match(s),
            Value::Array(items) => items.iter().any(|v| self.contains_secret(v)),
            Value::Object(fields) => fields
                .iter()
                .any(|(k, v)| matcher.is_match(k) || self.contains_secret(v)),
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }

    fn replace(&self, text: &str) -> String {
        match &self.inner.matcher {
            Some(matcher) => matcher.replace_all(text, &vec![REDACTED; matcher.patterns_len()]),
            None => text.to_owned(),
        }
    }
}

/// The forms in which a server may echo a secret: as is; JSON-escaped, as inside the text of
/// a JSON body quoted in a message (a `"` or a newline in a password); with HTML-significant
/// characters escaped as Rails writes them; and each long line of a multi-line secret.
fn forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_owned()];
    let json = Value::String(secret.to_owned()).to_string();
    let json = json[1..json.len() - 1].to_owned();
    let rails = json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    forms.push(json);
    forms.push(rails);
    if secret.contains('\n') {
        forms.extend(
            secret
                .lines()
                .map(str::trim)
                .filter(|l| l.chars().count() >= MIN_LINE && !l.starts_with("-----"))
                .map(str::to_owned),
        );
    }
    forms
}

fn map_strings(value: &Value, f: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::String(s) => Value::String(f(s)),
        Value::Array(items) => Value::Array(items.iter().map(|v| map_strings(v, f)).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (f(k), map_strings(v, f)))
                .collect::<Map<String, Value>>(),
        ),
        other => other.clone(),
    }
}

/// Control characters as visible escapes (`\n`, `\u{1b}`), and the bidirectional and
/// zero-width formatting characters too: they reorder or hide what a reviewer reads. For a
/// line of text that no secret can be in but a server may have shaped (an error of the
/// connector quoting what a server presented).
#[must_use]
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_invisible_format(c) => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}'
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_secret_and_its_echoed_forms_become_sensitive() {
        let r = Redactor::new(["hunter2", "p\"w\\d", "tok-abc", "", "  "]);
        assert_eq!(
            r.text("smtp password hunter2 rejected; token tok-abc"),
            "smtp password (sensitive) rejected; token (sensitive)"
        );
        // The body quoted as JSON text inside a detail.
        assert_eq!(
            r.text(r#"body: {"password":"p\"w\\d"}"#),
            r#"body: {"password":"(sensitive)"}"#
        );
        assert_eq!(r.text("plain"), "plain", "blank secrets match nothing");
        assert_eq!(format!("{r:?}"), "Redactor(3 secrets)");
    }

    #[test]
    fn a_secret_inside_another_is_replaced_as_the_longer_one() {
        let r = Redactor::new(["abc", "xxabcxx"]);
        assert_eq!(r.text("-xxabcxx-abc-"), "-(sensitive)-(sensitive)-");
    }

    #[test]
    fn long_lines_of_a_multi_line_secret_are_secrets_of_their_own() {
        let key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nshort\n-----END PRIVATE KEY-----\n";
        let r = Redactor::new([key]);
        assert_eq!(
            r.text("unparsable key starting -----BEGIN PRIVATE KEY----- MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
            "unparsable key starting -----BEGIN PRIVATE KEY----- (sensitive)"
        );
        // JSON-escaped whole, as in a quoted body.
        let quoted = Value::String(key.to_owned()).to_string();
        assert_eq!(r.text(&quoted), "\"(sensitive)\"");
    }

    #[test]
    fn control_and_reordering_characters_are_escaped_in_messages() {
        let r = Redactor::default();
        assert_eq!(
            r.text("a\u{1b}[2Jb\rc\nd\u{202e}e\u{7}"),
            "a\\u{1b}[2Jb\\rc\\nd\\u{202e}e\\u{7}"
        );
        assert_eq!(r.text("é ü 日本"), "é ü 日本", "printable text is kept");
    }

    #[test]
    fn documents_are_redacted_in_every_string_and_key() {
        let r = Redactor::new(["canary-1234"]);
        let body = json!({"errors": [{"title": "bad canary-1234", "detail": "x\u{1b}[2J",
            "meta": {"canary-1234": ["echo canary-1234"], "n": 1}}]});
        assert_eq!(
            r.message_document(&body),
            json!({"errors": [{"title": "bad (sensitive)", "detail": "x\\u{1b}[2J",
                "meta": {"(sensitive)": ["echo (sensitive)"], "n": 1}}]})
        );
        // Values keep their control characters (renderers escape them), lose the secrets.
        let live = json!({"footer": "a\ncanary-1234"});
        assert_eq!(r.value(&live), json!({"footer": "a\n(sensitive)"}));
        assert!(r.contains_secret(&live));
        assert!(!r.contains_secret(&json!({"footer": "clean", "n": 1})));
        assert!(!Redactor::default().contains_secret(&live));
    }

    #[test]
    fn more_secrets_join_those_already_known() {
        let r = Redactor::new(["first-secret"]).with(["token-xyz"]);
        assert_eq!(r.text("first-secret token-xyz"), "(sensitive) (sensitive)");
    }
}
