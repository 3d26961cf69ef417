//! How a changed value is shown to a reviewer, whatever the format: a one-line value quoted
//! whole (a long one around its first difference), a multi-line text (HTML, text, JSON text
//! pretty-printed) as the hunks of a line diff (similar), a certificate by its facts (from
//! the plan). Text that came from a server is escaped here, so that no renderer prints a
//! control character. Reads plans only.

use std::time::{Duration, Instant};

use serde_json::Value;
use similar::{Algorithm, DiffTag};

use crate::catalogue::{self, Kind};
use crate::diff::decode_html;
use crate::plan::{AttributePlan, CertificateChange, DiffLine, Hunk, LineDiff, LineOp};
use crate::redact;

/// Lines of context around each change, as in `diff -u`.
const CONTEXT: usize = 3;

/// A one-line string longer than this (in characters) is shown around its first difference:
/// a download URL or a checksum, what a reviewer checks, is shown whole.
const ONE_LINE_LIMIT: usize = 240;

/// How much of a long one-line string is shown: before its first difference, and in all.
const WINDOW_BEFORE: usize = 30;
const WINDOW: usize = 90;

/// The most time a line diff may take: a hostile value of a million lines gets a coarser
/// diff (still correct, with larger hunks), not a stuck plan.
const DIFF_DEADLINE: Duration = Duration::from_secs(2);

/// How an attribute's change is shown.
#[derive(Debug)]
pub enum Shown<'a> {
    /// A secret, or a value from a reference: `(sensitive)`.
    Sensitive,
    /// The certificates before and after.
    Certificates(&'a CertificateChange),
    /// A multi-line text: which lines change.
    Lines(LineDiff),
    /// A value on one line: before (`None`: the server did not return it) and after.
    OneLine {
        before: Option<String>,
        after: String,
    },
}

/// How the change of an attribute of `section` is shown.
#[must_use]
pub fn shown<'a>(section: &str, attr: &'a AttributePlan) -> Shown<'a> {
    if let Some(certificates) = &attr.certificates {
        return Shown::Certificates(certificates);
    }
    if attr.sensitive {
        return Shown::Sensitive;
    }
    let kind = catalogue::section(section)
        .and_then(|s| s.attribute(&attr.name))
        .map_or(Kind::Text, |a| a.kind);
    let before = attr.before_known.then_some(attr.before.as_ref());
    if let Some(diff) = line_diff(kind, before.flatten(), attr.after.as_ref()) {
        return Shown::Lines(diff);
    }
    let after = attr.after.as_ref().unwrap_or(&Value::Null);
    Shown::OneLine {
        before: before.map(|b| one_line(b.unwrap_or(&Value::Null), after)),
        after: one_line(after, before.flatten().unwrap_or(&Value::Null)),
    }
}

/// The line diff of two values of a kind, when either is a multi-line text (JSON text
/// pretty-printed first); `None` for one-line values and for values that are not text. A
/// value that is absent or null diffs as empty: every line of the other is inserted.
#[must_use]
pub fn line_diff(kind: Kind, before: Option<&Value>, after: Option<&Value>) -> Option<LineDiff> {
    let text = |value: Option<&Value>| -> Option<String> {
        match value {
            None | Some(Value::Null) => Some(String::new()),
            Some(Value::String(s)) if kind == Kind::JsonText => Some(pretty_json(s)),
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => None,
        }
    };
    let (old, new) = (text(before)?, text(after)?);
    if !old.contains('\n') && !new.contains('\n') {
        return None;
    }
    let hunks = hunks(kind, &old, &new);
    (!hunks.is_empty()).then_some(LineDiff { hunks })
}

/// JSON text as a reviewer reads it: pretty-printed, keys in order; as it is when it is not
/// JSON.
fn pretty_json(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .map_or_else(
            || text.to_owned(),
            |mut pretty| {
                pretty.push('\n');
                pretty
            },
        )
}

/// The hunks of the line diff of `old` and `new`. HTML lines are matched once their
/// entities are decoded, as the comparison does, so that a line stored escaped is context,
/// not a change; context lines are shown as desired.
fn hunks(kind: Kind, old: &str, new: &str) -> Vec<Hunk> {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let key = |line: &&str| -> String {
        if kind == Kind::Html {
            decode_html(line)
        } else {
            (*line).to_owned()
        }
    };
    let old_keys: Vec<String> = old_lines.iter().map(key).collect();
    let new_keys: Vec<String> = new_lines.iter().map(key).collect();
    let ops = similar::capture_diff_slices_deadline(
        Algorithm::Myers,
        &old_keys,
        &new_keys,
        Some(Instant::now() + DIFF_DEADLINE),
    );
    similar::group_diff_ops(ops, CONTEXT)
        .into_iter()
        .filter_map(|group| {
            let (first, last) = (group.first()?, group.last()?);
            let old_range = first.old_range().start..last.old_range().end;
            let new_range = first.new_range().start..last.new_range().end;
            let mut lines = Vec::new();
            for op in &group {
                let (tag, old_part, new_part) = op.as_tag_tuple();
                let push = |lines: &mut Vec<DiffLine>, op, part: &[&str]| {
                    lines.extend(part.iter().map(|text| DiffLine {
                        op,
                        text: (*text).to_owned(),
                    }));
                };
                match tag {
                    DiffTag::Equal => push(&mut lines, LineOp::Equal, &new_lines[new_part]),
                    DiffTag::Delete => push(&mut lines, LineOp::Delete, &old_lines[old_part]),
                    DiffTag::Insert => push(&mut lines, LineOp::Insert, &new_lines[new_part]),
                    DiffTag::Replace => {
                        push(&mut lines, LineOp::Delete, &old_lines[old_part]);
                        push(&mut lines, LineOp::Insert, &new_lines[new_part]);
                    }
                }
            }
            // `diff -u`: a range with no lines starts at the line before it.
            let start = |range: &std::ops::Range<usize>| {
                if range.is_empty() {
                    range.start
                } else {
                    range.start + 1
                }
            };
            Some(Hunk {
                old_start: start(&old_range),
                old_lines: old_range.len(),
                new_start: start(&new_range),
                new_lines: new_range.len(),
                lines,
            })
        })
        .collect()
}

/// `@@ -1,3 +1,4 @@`.
#[must_use]
pub fn hunk_header(hunk: &Hunk) -> String {
    format!(
        "@@ -{},{} +{},{} @@",
        hunk.old_start, hunk.old_lines, hunk.new_start, hunk.new_lines
    )
}

/// The mark of a line in a unified diff.
#[must_use]
pub fn line_mark(op: LineOp) -> char {
    match op {
        LineOp::Equal => ' ',
        LineOp::Delete => '-',
        LineOp::Insert => '+',
    }
}

/// A diff line as printed: its mark and text without its line ending, control characters
/// escaped (a tab is kept: HTML is indented with them); and whether it had a line ending (the
/// last line of a value may not: `diff -u` then prints [`NO_NEWLINE`] after it).
#[must_use]
pub fn diff_line(line: &DiffLine) -> (String, bool) {
    let (text, newline) = match line.text.strip_suffix('\n') {
        Some(text) => (text, true),
        None => (line.text.as_str(), false),
    };
    let escaped: Vec<String> = text.split('\t').map(escape).collect();
    (
        format!("{}{}", line_mark(line.op), escaped.join("\t")),
        newline,
    )
}

/// What `diff -u` prints after a line without a final newline.
pub const NO_NEWLINE: &str = "\\ No newline at end of file";

/// A value on one line: JSON (strings quoted, control characters escaped); a long string is
/// shown around its first difference from `other`, so that two long values never look alike.
#[must_use]
pub fn one_line(value: &Value, other: &Value) -> String {
    let Value::String(text) = value else {
        return escape(&value.to_string());
    };
    let length = text.chars().count();
    if length <= ONE_LINE_LIMIT && !text.contains('\n') {
        return quoted(text);
    }
    let other = other.as_str().unwrap_or_default();
    let differs_at = text
        .chars()
        .zip(other.chars())
        .take_while(|(a, b)| a == b)
        .count();
    let start = differs_at.saturating_sub(WINDOW_BEFORE);
    let part: String = text.chars().skip(start).take(WINDOW).collect();
    let cut_before = if start > 0 { "…" } else { "" };
    let cut_after = if start + WINDOW < length { "…" } else { "" };
    format!(
        "{cut_before}{}{cut_after} ({length} characters)",
        quoted(&part)
    )
}

/// A string as JSON writes it, with the invisible characters that reorder a line escaped too.
fn quoted(text: &str) -> String {
    escape(&Value::String(text.to_owned()).to_string())
}

/// Control and invisible formatting characters as visible escapes.
#[must_use]
pub fn escape(text: &str) -> String {
    redact::escape_controls(text)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn lines(diff: &LineDiff) -> Vec<String> {
        diff.hunks
            .iter()
            .flat_map(|h| {
                std::iter::once(hunk_header(h)).chain(h.lines.iter().map(|l| diff_line(l).0))
            })
            .collect()
    }

    #[test]
    fn the_changed_line_of_a_multi_line_value_is_the_one_shown() {
        let before = json!("<p>Line ONE of the footer</p>\n<p>Line two</p>\n<p>Line three</p>\n");
        let after = json!("<p>Line ONE of the footer</p>\n<p>Line TWO</p>\n<p>Line three</p>\n");
        let Some(diff) = line_diff(Kind::Html, Some(&before), Some(&after)) else {
            panic!("no diff")
        };
        assert_eq!(
            lines(&diff),
            [
                "@@ -1,3 +1,3 @@",
                " <p>Line ONE of the footer</p>",
                "-<p>Line two</p>",
                "+<p>Line TWO</p>",
                " <p>Line three</p>",
            ]
        );
    }

    #[test]
    fn far_apart_changes_are_separate_hunks_with_three_lines_of_context() {
        let old: String = (1..=20)
            .flat_map(|n| ["line ".to_owned(), n.to_string(), "\n".to_owned()])
            .collect();
        let new = old
            .replace("line 2\n", "line two\n")
            .replace("line 19\n", "");
        let Some(diff) = line_diff(Kind::Text, Some(&json!(old)), Some(&json!(new))) else {
            panic!()
        };
        assert_eq!(diff.hunks.len(), 2);
        assert_eq!(hunk_header(&diff.hunks[0]), "@@ -1,5 +1,5 @@");
        assert_eq!(hunk_header(&diff.hunks[1]), "@@ -16,5 +16,4 @@");
    }

    #[test]
    fn html_stored_escaped_is_context_not_a_change() {
        let live = json!("&lt;p&gt;Hello&lt;/p&gt;\n<p>it&#39;s old</p>\n");
        let desired = json!("<p>Hello</p>\n<p>it's new</p>\n");
        let Some(diff) = line_diff(Kind::Html, Some(&live), Some(&desired)) else {
            panic!()
        };
        assert_eq!(
            lines(&diff),
            [
                "@@ -1,2 +1,2 @@",
                " <p>Hello</p>",
                "-<p>it&#39;s old</p>",
                "+<p>it's new</p>",
            ]
        );
    }

    #[test]
    fn json_text_is_diffed_pretty_printed() {
        let before = json!(r#"{"type":"service_account","project_id":"old","n":1}"#);
        let after = json!(r#"{"n":1,"project_id":"new","type":"service_account"}"#);
        let Some(diff) = line_diff(Kind::JsonText, Some(&before), Some(&after)) else {
            panic!()
        };
        assert_eq!(
            lines(&diff),
            [
                "@@ -1,5 +1,5 @@",
                " {",
                "   \"n\": 1,",
                "-  \"project_id\": \"old\",",
                "+  \"project_id\": \"new\",",
                "   \"type\": \"service_account\"",
                " }",
            ]
        );
        // Text that is not JSON is diffed as it is.
        assert!(line_diff(Kind::JsonText, Some(&json!("{a\nb")), Some(&json!("{a\nc"))).is_some());
    }

    #[test]
    fn one_line_values_are_not_diffed_and_unset_ones_diff_as_empty() {
        assert!(line_diff(Kind::Text, Some(&json!("a")), Some(&json!("b"))).is_none());
        assert!(line_diff(Kind::Integer, Some(&json!(1)), Some(&json!(2))).is_none());
        let Some(diff) = line_diff(Kind::Html, None, Some(&json!("a\nb"))) else {
            panic!()
        };
        assert_eq!(lines(&diff), ["@@ -0,0 +1,2 @@", "+a", "+b"]);
        let Some(diff) = line_diff(Kind::Html, Some(&json!("a\nb\n")), Some(&Value::Null)) else {
            panic!()
        };
        assert_eq!(lines(&diff), ["@@ -1,2 +0,0 @@", "-a", "-b"]);
    }

    #[test]
    fn a_missing_final_newline_and_control_characters_are_visible() {
        let Some(diff) = line_diff(Kind::Text, Some(&json!("a\nb\n")), Some(&json!("a\nb"))) else {
            panic!()
        };
        let last: Vec<(String, bool)> = diff.hunks[0].lines.iter().map(diff_line).collect();
        assert_eq!(
            last,
            [
                (" a".to_owned(), true),
                ("-b".to_owned(), true),
                ("+b".to_owned(), false)
            ]
        );
        let Some(diff) = line_diff(
            Kind::Text,
            Some(&json!("x\nclean\n")),
            Some(&json!("x\n\u{1b}[2J\tred\r\n")),
        ) else {
            panic!()
        };
        assert_eq!(
            lines(&diff),
            ["@@ -1,2 +1,2 @@", " x", "-clean", "+\\u{1b}[2J\tred\\r"]
        );
    }

    #[test]
    fn long_one_line_values_are_shown_around_their_difference() {
        let base = "x".repeat(300);
        let before = json!(format!("{base}-old-tail"));
        let after = json!(format!("{base}-new-tail"));
        let (b, a) = (one_line(&before, &after), one_line(&after, &before));
        assert_ne!(b, a);
        assert!(
            b.starts_with('…') && b.contains("-old-tail") && b.ends_with("(309 characters)"),
            "{b}"
        );
        assert!(a.contains("-new-tail"), "{a}");
        assert_eq!(one_line(&json!("short"), &json!("x")), "\"short\"");
        assert_eq!(one_line(&json!(30), &json!(50)), "30");
        assert_eq!(
            one_line(&json!("a\u{202e}b"), &json!("")),
            "\"a\\u{202e}b\""
        );
    }
}
