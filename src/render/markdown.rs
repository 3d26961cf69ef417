//! The markdown plan, for a pull-request comment: the summary first, then one table row per
//! attribute and one line per action; below the table, each multi-line value's line diff in a
//! ```` ```diff ```` block and each certificate change as a table of the certificates' facts.

use std::fmt::Write as _;

use super::value::{self, Shown};
use super::{SetChange, kind_of, set_changes, summary_phrase, words};
use crate::catalogue::{self, Kind};
use crate::certificate::{PemBlock, Validity};
use crate::plan::{
    AttributePlan, AttributeRole, CertificateChange, ItemPlan, LineDiff, LineOp, Operation, Plan,
};

/// What a value shows below the table.
enum Detail<'a> {
    Lines(LineDiff),
    Certificates(&'a CertificateChange),
}

/// The plan as GitHub-flavoured markdown.
#[must_use]
pub fn markdown(plan: &Plan) -> String {
    let mut out = String::new();
    let release = plan
        .release
        .as_deref()
        .map_or_else(String::new, |r| format!(" (TFE {r})"));
    let _ = writeln!(
        out,
        "### tfe-admin plan: {}\n",
        summary_phrase(&plan.summary)
    );
    let _ = writeln!(out, "Against `{}`{release}.\n", plan.address);
    let mut details = Vec::new();
    if plan.has_changes() {
        out.push_str("| | setting | live | desired |\n|---|---|---|---|\n");
        for section in &plan.sections {
            let key = &section.section;
            for item in &section.items {
                rows(&mut out, &mut details, key, item);
            }
        }
        let actions: Vec<String> = plan
            .sections
            .iter()
            .flat_map(|s| {
                s.items.iter().flat_map(move |item| {
                    item.steps.iter().filter_map(move |step| {
                        step.action.as_ref().map(|a| {
                            format!("`{}.{a}`", words::item(&s.section, item.item.as_deref()))
                        })
                    })
                })
            })
            .collect();
        if !actions.is_empty() {
            let _ = writeln!(out, "\n**Actions:** {}", actions.join(", "));
        }
    } else {
        out.push_str("The live settings match the desired state.\n");
    }
    for (name, detail) in details {
        let _ = writeln!(out, "\n**`{name}`**\n");
        match detail {
            Detail::Lines(diff) => diff_block(&mut out, &diff),
            Detail::Certificates(change) => certificate_table(&mut out, change),
        }
    }
    let mut notes = Vec::new();
    for section in &plan.sections {
        for item in &section.items {
            if let Some(blocked) = &item.blocked {
                notes.push(format!(
                    "**blocked** `{}`: {}",
                    words::item(&section.section, item.item.as_deref()),
                    words::blocked(&blocked.reason)
                ));
            }
        }
        for note in &section.notes {
            notes.push(format!(
                "`{}`: {}",
                section.section,
                words::note(&note.kind)
            ));
        }
    }
    if !notes.is_empty() {
        out.push('\n');
        for note in notes {
            let _ = writeln!(out, "> {note}");
        }
    }
    out
}

/// The table rows of one item: one per attribute, or one for an item created or deleted
/// whole; a value shown below the table goes into `details`.
fn rows<'a>(
    out: &mut String,
    details: &mut Vec<(String, Detail<'a>)>,
    key: &str,
    item: &'a ItemPlan,
) {
    let name = words::item(key, item.item.as_deref());
    let keyed = item.item.is_some();
    match item.operation {
        Operation::Delete if keyed => {
            let _ = writeln!(out, "| − | `{name}` | exists | deleted |");
            return;
        }
        Operation::Delete => {
            let _ = writeln!(out, "| − | `{name}` | set | null (deleted) |");
            return;
        }
        Operation::Create if keyed => {
            let _ = writeln!(out, "| + | `{name}` | — | created |");
        }
        Operation::Disable => {
            let consequence = catalogue::section(key)
                .and_then(|s| s.disable_destroys)
                .unwrap_or("destroys data");
            for attr in &item.attributes {
                let full = format!("{name}.{}", attr.name);
                let (live, desired) = cells(key, &full, attr, details);
                let _ = writeln!(
                    out,
                    "| − | `{full}` | {live} | {desired} (DELETE: {consequence}) |"
                );
            }
            return;
        }
        _ => {}
    }
    for attr in &item.attributes {
        if set_rows(out, key, &name, attr) {
            continue;
        }
        let full = format!("{name}.{}", attr.name);
        let (live, desired) = cells(key, &full, attr, details);
        let (mark, live) = match attr.role {
            AttributeRole::Change if item.operation == Operation::Create => ("+", "—".to_owned()),
            AttributeRole::Change => ("~", live),
            AttributeRole::WriteOnly => ("~", "*(write-only)*".to_owned()),
            AttributeRole::Trigger => ("+", "*(not persisted)*".to_owned()),
        };
        let _ = writeln!(out, "| {mark} | `{full}` | {live} | {desired} |");
    }
}

/// The rows of a changed keyed set (`archs`), one per entry added, removed or changed;
/// `false` when the attribute is not one.
fn set_rows(out: &mut String, key: &str, name: &str, attr: &AttributePlan) -> bool {
    let Some(Kind::KeyedSet { key: fields, .. }) = kind_of(key, &attr.name) else {
        return false;
    };
    if attr.role != AttributeRole::Change || attr.sensitive || !attr.before_known {
        return false;
    }
    let (Some(before), Some(after)) = (&attr.before, &attr.after) else {
        return false;
    };
    let Some(changes) = set_changes(fields, before, after) else {
        return false;
    };
    for change in changes {
        let _ = match change {
            SetChange::Added { entry, value } => writeln!(
                out,
                "| + | {} | — | {} |",
                code(&format!("{name}.{}[{}]", attr.name, value::escape(&entry))),
                code(&value::one_line(&value, &serde_json::Value::Null))
            ),
            SetChange::Removed { entry } => writeln!(
                out,
                "| − | {} | exists | removed |",
                code(&format!("{name}.{}[{}]", attr.name, value::escape(&entry)))
            ),
            SetChange::Changed {
                entry,
                field,
                before,
                after,
            } => writeln!(
                out,
                "| ~ | {} | {} | {} |",
                code(&format!(
                    "{name}.{}[{}].{}",
                    attr.name,
                    value::escape(&entry),
                    value::escape(&field)
                )),
                code(&value::one_line(&before, &after)),
                code(&value::one_line(&after, &before))
            ),
        };
    }
    true
}

/// The live and desired cells of an attribute's row.
fn cells<'a>(
    section: &str,
    full: &str,
    attr: &'a AttributePlan,
    details: &mut Vec<(String, Detail<'a>)>,
) -> (String, String) {
    match value::shown(section, attr) {
        Shown::Sensitive => ("*(sensitive)*".to_owned(), "*(sensitive)*".to_owned()),
        Shown::OneLine { before, after } => (
            before.map_or_else(|| "*(not returned)*".to_owned(), |b| code(&b)),
            code(&after),
        ),
        Shown::Lines(diff) => {
            let count = |op| {
                diff.hunks
                    .iter()
                    .flat_map(|h| &h.lines)
                    .filter(|l| l.op == op)
                    .count()
            };
            let (removed, added) = (count(LineOp::Delete), count(LineOp::Insert));
            let live = if attr.before_known {
                "*(see the diff below)*".to_owned()
            } else {
                "*(not returned)*".to_owned()
            };
            let desired = format!(
                "*{} removed, {} added: see the diff below*",
                lines(removed),
                lines(added)
            );
            details.push((full.to_owned(), Detail::Lines(diff)));
            (live, desired)
        }
        Shown::Certificates(change) => {
            let live = match &change.before {
                Some(blocks) => subjects(blocks),
                None => "*(not returned)*".to_owned(),
            };
            let desired = subjects(&change.after);
            details.push((full.to_owned(), Detail::Certificates(change)));
            (live, desired)
        }
    }
}

fn lines(n: usize) -> String {
    if n == 1 {
        "1 line".to_owned()
    } else {
        format!("{n} lines")
    }
}

/// The certificates of a value in a cell, by subject.
fn subjects(blocks: &[PemBlock]) -> String {
    if blocks.is_empty() {
        return "*(no certificate)*".to_owned();
    }
    let named: Vec<String> = blocks.iter().map(block_name).collect();
    format!("{} (facts below)", named.join(", "))
}

fn block_name(block: &PemBlock) -> String {
    match block {
        PemBlock::Certificate(cert) => code(&value::escape(&cert.subject)),
        PemBlock::Unreadable => "*(unreadable certificate)*".to_owned(),
        PemBlock::Other { label } => format!(
            "*(a {} block, not shown)*",
            value::escape(label).replace('|', "\\|")
        ),
        PemBlock::NotPem => "*(not PEM)*".to_owned(),
    }
}

/// A line diff as a fenced `diff` block, fenced with more backticks than any run in it.
fn diff_block(out: &mut String, diff: &LineDiff) {
    let mut body = String::new();
    for hunk in &diff.hunks {
        let _ = writeln!(body, "{}", value::hunk_header(hunk));
        for line in &hunk.lines {
            let (text, newline) = value::diff_line(line);
            let _ = writeln!(body, "{text}");
            if !newline {
                let _ = writeln!(body, "{}", value::NO_NEWLINE);
            }
        }
    }
    let fence = "`".repeat(longest_backtick_run(&body).max(2) + 1);
    let _ = write!(out, "{fence}diff\n{body}{fence}\n");
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// The certificates before and after, one row each: subject, issuer, SHA-256, not after.
fn certificate_table(out: &mut String, change: &CertificateChange) {
    out.push_str("| | subject | issuer | SHA-256 | not after |\n|---|---|---|---|---|\n");
    if let Some(before) = &change.before {
        certificate_rows(out, "− live", before);
    }
    certificate_rows(out, "+ desired", &change.after);
}

fn certificate_rows(out: &mut String, side: &str, blocks: &[PemBlock]) {
    if blocks.is_empty() {
        let _ = writeln!(out, "| {side} | *(no certificate)* | | | |");
    }
    for block in blocks {
        match block {
            PemBlock::Certificate(cert) => {
                let validity = match cert.validity {
                    Validity::Valid => String::new(),
                    Validity::Expiring { days_left } => format!(
                        " **expires {}**",
                        crate::certificate::days_phrase(days_left)
                    ),
                    Validity::Expired => " **expired**".to_owned(),
                    Validity::NotYetValid => " **not valid yet**".to_owned(),
                };
                let _ = writeln!(
                    out,
                    "| {side} | {} | {} | `{}` | `{}`{validity} |",
                    code(&value::escape(&cert.subject)),
                    code(&value::escape(&cert.issuer)),
                    cert.sha256,
                    cert.not_after
                );
            }
            other => {
                let _ = writeln!(out, "| {side} | {} | | | |", block_name(other));
            }
        }
    }
}

/// A table cell holding code: pipes escaped, backticks fenced.
fn code(text: &str) -> String {
    let escaped = text.replace('|', "\\|");
    if escaped.contains('`') {
        format!("`` {escaped} ``")
    } else {
        format!("`{escaped}`")
    }
}
