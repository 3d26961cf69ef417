//! The text plan: one line per attribute, `~ general.api-rate-limit: 30 -> 50`, a multi-line
//! value as a unified diff indented under its attribute, a certificate by its facts, items
//! named by key (`+ terraform-versions["1.9.8"]`, `- terraform-versions["0.12.31"]`), actions
//! as `> saml.revoke-old-certificate`, then notes and the summary line. Colours (anstyle) only
//! when asked for: a terminal without `NO_COLOR`.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use super::value::{self, Shown};
use super::{SetChange, kind_of, set_changes, summary_phrase, words};
use crate::catalogue::{self, Kind};
use crate::certificate::{PemBlock, Validity};
use crate::plan::{AttributePlan, AttributeRole, CertificateChange, ItemPlan, Operation, Plan};

const ADD: Style = AnsiColor::Green.on_default();
const CHANGE: Style = AnsiColor::Yellow.on_default();
const REMOVE: Style = AnsiColor::Red.on_default();
const ACTION: Style = AnsiColor::Cyan.on_default();
const HUNK: Style = AnsiColor::Cyan.on_default();
const NOTE: Style = Style::new().dimmed();
const WARN: Style = AnsiColor::Yellow.on_default().bold();
const BAD: Style = AnsiColor::Red.on_default().bold();

/// Where the lines of a value go under its attribute's line.
const BLOCK_INDENT: &str = "      ";

/// Paints text in a style, or leaves it plain.
#[derive(Clone, Copy)]
struct Paint {
    colour: bool,
}

impl Paint {
    fn paint(self, style: Style, text: &str) -> String {
        if self.colour {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    }
}

/// The plan as text; `colour` adds ANSI colours.
#[must_use]
pub fn text(plan: &Plan, colour: bool) -> String {
    let paint = Paint { colour };
    let mut out = String::new();
    let release = plan
        .release
        .as_deref()
        .map_or_else(String::new, |r| format!(" (TFE {r})"));
    if !plan.has_changes() {
        let _ = writeln!(
            out,
            "No changes: {}{release} matches the desired state.",
            plan.address
        );
        for section in &plan.sections {
            for note in &section.notes {
                let _ = writeln!(
                    out,
                    "{}",
                    paint.paint(
                        NOTE,
                        &format!("  # {}: {}", section.section, words::note(&note.kind))
                    )
                );
            }
        }
        return out;
    }
    let _ = writeln!(out, "Changes to {}{release}:\n", plan.address);
    for section in &plan.sections {
        let key = &section.section;
        for item in &section.items {
            let name = words::item(key, item.item.as_deref());
            item_lines(&mut out, key, &name, item, paint);
            for step in &item.steps {
                if let Some(action) = &step.action {
                    let _ = writeln!(out, "  {} {name}.{action}", paint.paint(ACTION, ">"));
                }
            }
            if let Some(blocked) = &item.blocked {
                let _ = writeln!(
                    out,
                    "  {} {name}: {}",
                    paint.paint(REMOVE, "!"),
                    paint.paint(
                        REMOVE,
                        &format!("blocked: {}", words::blocked(&blocked.reason))
                    )
                );
            }
        }
        for note in &section.notes {
            let _ = writeln!(
                out,
                "{}",
                paint.paint(NOTE, &format!("  # {key}: {}", words::note(&note.kind)))
            );
        }
    }
    let _ = writeln!(out, "\nPlan: {}.", summary_phrase(&plan.summary));
    out
}

/// The lines of an item's write: one per attribute (and the lines of its value), or one for
/// a whole item deleted.
fn item_lines(out: &mut String, key: &str, name: &str, item: &ItemPlan, paint: Paint) {
    let keyed = item.item.is_some();
    match item.operation {
        Operation::Delete if keyed => {
            let _ = writeln!(out, "  {} {name}", paint.paint(REMOVE, "-"));
            return;
        }
        Operation::Delete => {
            let _ = writeln!(
                out,
                "  {} {name}: deleted (null in the file)",
                paint.paint(REMOVE, "-")
            );
            return;
        }
        Operation::Disable => {
            let consequence = catalogue::section(key)
                .and_then(|s| s.disable_destroys)
                .unwrap_or("destroys data");
            for attr in &item.attributes {
                let (inline, block) = change(key, attr, paint);
                let _ = writeln!(
                    out,
                    "  {} {name}.{}:{inline} (DELETE: {consequence})",
                    paint.paint(REMOVE, "-"),
                    attr.name,
                );
                push_block(out, &block);
            }
            return;
        }
        Operation::Create if keyed => {
            let _ = writeln!(out, "  {} {name}", paint.paint(ADD, "+"));
            for attr in &item.attributes {
                let (inline, block) = created(key, attr, paint);
                let _ = writeln!(out, "      {}:{inline}", attr.name);
                push_block(out, &indent(&block, "    "));
            }
            return;
        }
        _ => {}
    }
    for attr in &item.attributes {
        if let Some(lines) = set_lines(key, name, attr, paint) {
            out.push_str(&lines);
            continue;
        }
        let full = format!("{name}.{}", attr.name);
        let (mark, inline, block) = match attr.role {
            AttributeRole::Change if item.operation == Operation::Create => {
                let (inline, block) = created(key, attr, paint);
                (paint.paint(ADD, "+"), inline, block)
            }
            AttributeRole::Change => {
                let (inline, block) = change(key, attr, paint);
                (paint.paint(CHANGE, "~"), inline, block)
            }
            AttributeRole::WriteOnly => {
                let (inline, block) = created(key, attr, paint);
                let note = paint.paint(NOTE, "(write-only: sent with this change)");
                (paint.paint(CHANGE, "~"), format!("{inline} {note}"), block)
            }
            AttributeRole::Trigger => {
                let (inline, block) = created(key, attr, paint);
                let note = paint.paint(NOTE, "(not persisted: triggers a test)");
                (paint.paint(ACTION, "+"), format!("{inline} {note}"), block)
            }
        };
        let _ = writeln!(out, "  {mark} {full}:{inline}");
        push_block(out, &block);
    }
}

/// A changed keyed set (`archs`) entry by entry, named by key:
/// `~ terraform-versions["1.9.8"].archs[linux/arm64].url: "..." -> "..."`.
fn set_lines(key: &str, name: &str, attr: &AttributePlan, paint: Paint) -> Option<String> {
    let Some(Kind::KeyedSet { key: fields, .. }) = kind_of(key, &attr.name) else {
        return None;
    };
    if attr.role != AttributeRole::Change || attr.sensitive || !attr.before_known {
        return None;
    }
    let changes = set_changes(fields, attr.before.as_ref()?, attr.after.as_ref()?)?;
    let mut out = String::new();
    for change in changes {
        let _ = match change {
            SetChange::Added { entry, value } => writeln!(
                out,
                "  {} {name}.{}[{}]: {}",
                paint.paint(ADD, "+"),
                attr.name,
                value::escape(&entry),
                value::one_line(&value, &serde_json::Value::Null)
            ),
            SetChange::Removed { entry } => writeln!(
                out,
                "  {} {name}.{}[{}]",
                paint.paint(REMOVE, "-"),
                attr.name,
                value::escape(&entry)
            ),
            SetChange::Changed {
                entry,
                field,
                before,
                after,
            } => writeln!(
                out,
                "  {} {name}.{}[{}].{}: {} -> {}",
                paint.paint(CHANGE, "~"),
                attr.name,
                value::escape(&entry),
                value::escape(&field),
                value::one_line(&before, &after),
                value::one_line(&after, &before)
            ),
        };
    }
    Some(out)
}

/// A change of a value: what follows the attribute's name on its line (` 30 -> 50`), and the
/// lines under it (a diff, certificates).
fn change(section: &str, attr: &AttributePlan, paint: Paint) -> (String, Vec<String>) {
    let not_returned = if attr.before_known {
        ""
    } else {
        " (not returned by the server)"
    };
    match value::shown(section, attr) {
        Shown::Sensitive => (" (sensitive) -> (sensitive)".to_owned(), Vec::new()),
        Shown::OneLine { before, after } => (
            format!(
                " {} -> {after}",
                before.as_deref().unwrap_or("(not returned by the server)")
            ),
            Vec::new(),
        ),
        Shown::Lines(diff) => (not_returned.to_owned(), diff_lines(&diff, paint)),
        Shown::Certificates(change) => (not_returned.to_owned(), certificate_lines(change, paint)),
    }
}

/// A value set where there was none (an item created, a write-only secret, a trigger).
fn created(section: &str, attr: &AttributePlan, paint: Paint) -> (String, Vec<String>) {
    match value::shown(section, attr) {
        Shown::Sensitive => (" (sensitive)".to_owned(), Vec::new()),
        Shown::OneLine { after, .. } => (format!(" {after}"), Vec::new()),
        Shown::Lines(diff) => (String::new(), diff_lines(&diff, paint)),
        Shown::Certificates(change) => (String::new(), certificate_lines(change, paint)),
    }
}

/// A unified diff, line by line: `@@ -1,3 +1,3 @@`, then ` `, `-` and `+` lines.
fn diff_lines(diff: &crate::plan::LineDiff, paint: Paint) -> Vec<String> {
    let mut lines = Vec::new();
    for hunk in &diff.hunks {
        lines.push(paint.paint(HUNK, &value::hunk_header(hunk)));
        for line in &hunk.lines {
            let (text, newline) = value::diff_line(line);
            let style = match line.op {
                crate::plan::LineOp::Equal => None,
                crate::plan::LineOp::Delete => Some(REMOVE),
                crate::plan::LineOp::Insert => Some(ADD),
            };
            lines.push(style.map_or_else(|| text.clone(), |s| paint.paint(s, &text)));
            if !newline {
                lines.push(paint.paint(NOTE, value::NO_NEWLINE));
            }
        }
    }
    lines
}

/// The certificates before (`-`) and after (`+`), each by subject, issuer, fingerprint and
/// end of validity.
fn certificate_lines(change: &CertificateChange, paint: Paint) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(before) = &change.before {
        blocks(&mut lines, '-', REMOVE, before, paint);
    }
    blocks(&mut lines, '+', ADD, &change.after, paint);
    lines
}

fn blocks(lines: &mut Vec<String>, mark: char, style: Style, blocks: &[PemBlock], paint: Paint) {
    let marked = |text: &str| paint.paint(style, &format!("{mark} {text}"));
    if blocks.is_empty() {
        lines.push(marked("(no certificate)"));
    }
    for block in blocks {
        match block {
            PemBlock::Certificate(cert) => {
                lines.push(marked(&format!(
                    "subject   {}",
                    value::escape(&cert.subject)
                )));
                lines.push(format!("  issuer    {}", value::escape(&cert.issuer)));
                lines.push(format!("  sha256    {}", cert.sha256));
                lines.push(format!(
                    "  not after {}{}",
                    cert.not_after,
                    validity(cert.validity, paint)
                ));
            }
            PemBlock::Unreadable => {
                lines.push(marked(
                    "(a CERTIFICATE block that is not a readable X.509 certificate)",
                ));
            }
            PemBlock::Other { label } => {
                lines.push(marked(&format!(
                    "(a {} block, not shown)",
                    value::escape(label)
                )));
            }
            PemBlock::NotPem => lines.push(marked("(text that holds no PEM block)")),
        }
    }
}

/// ` (expired)`, ` (expires in 12 days)`: a certificate worth a second look.
fn validity(validity: Validity, paint: Paint) -> String {
    match validity {
        Validity::Valid => String::new(),
        Validity::Expiring { days_left } => format!(
            " {}",
            paint.paint(
                WARN,
                &format!("(expires {})", crate::certificate::days_phrase(days_left))
            )
        ),
        Validity::Expired => format!(" {}", paint.paint(BAD, "(expired)")),
        Validity::NotYetValid => format!(" {}", paint.paint(WARN, "(not valid yet)")),
    }
}

fn indent(lines: &[String], by: &str) -> Vec<String> {
    lines.iter().map(|l| format!("{by}{l}")).collect()
}

fn push_block(out: &mut String, lines: &[String]) {
    for line in lines {
        let _ = writeln!(out, "{BLOCK_INDENT}{line}");
    }
}
