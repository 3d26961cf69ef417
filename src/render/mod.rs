//! Showing plans to people and programs: text (like Terraform, colour on a terminal),
//! markdown (for pull-request comments, summary first) and JSON (the serialised plan, the
//! format of `schema/plan.schema.json`). Reads plans only; never calls back into earlier
//! stages. Sensitive values are not in a plan's shown fields, so they cannot be rendered.

mod markdown;
pub mod outcome;
mod text;
pub mod words;

pub use markdown::markdown;
pub use text::text;

use serde_json::Value;

use crate::plan::{Plan, Summary};

/// The plan as pretty JSON with a final newline, every note and blocked reason with its
/// words beside its code.
#[must_use]
pub fn json(plan: &Plan) -> String {
    let mut plan = plan.clone();
    for section in &mut plan.sections {
        for note in &mut section.notes {
            note.message = words::note(&note.kind);
        }
        for blocked in section.items.iter_mut().filter_map(|i| i.blocked.as_mut()) {
            blocked.message = words::blocked(&blocked.reason);
        }
    }
    let mut out = serde_json::to_string_pretty(&plan).unwrap_or_default();
    out.push('\n');
    out
}

/// "2 sections to change (3 attributes), 1 action" or "no changes".
#[must_use]
pub fn summary_phrase(summary: &Summary) -> String {
    let mut parts = Vec::new();
    if summary.sections > 0 {
        parts.push(format!(
            "{} to change ({})",
            count(summary.sections, "section"),
            count(summary.attributes, "attribute")
        ));
    }
    let items: Vec<String> = [
        (summary.create, "to create"),
        (summary.update, "to update"),
        (summary.delete, "to delete"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if !items.is_empty() {
        parts.push(format!("items: {}", items.join(", ")));
    }
    if summary.actions > 0 {
        parts.push(count(summary.actions, "action"));
    }
    if summary.blocked > 0 {
        parts.push(format!("{} blocked", count(summary.blocked, "item")));
    }
    if parts.is_empty() {
        "no changes".to_owned()
    } else {
        parts.join(", ")
    }
}

fn count(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A value for a reviewer: JSON, long or multi-line strings shortened.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) if s.contains('\n') || s.chars().count() > 72 => {
            let first: String = s
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(40)
                .collect();
            format!("{:?}… ({} characters)", first, s.chars().count())
        }
        other => other.to_string(),
    }
}
