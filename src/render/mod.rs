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

/// How the entries of a keyed set changed (`archs`, keyed by os/arch): entries added,
/// removed, and the fields that changed in the others, each named by its key
/// (`linux/arm64`). `None` when the values are not lists of objects.
#[must_use]
pub fn set_changes(key: &[&str], before: &Value, after: &Value) -> Option<Vec<SetChange>> {
    let (Value::Array(before), Value::Array(after)) = (before, after) else {
        return None;
    };
    let name = |entry: &Value| -> String {
        key.iter()
            .map(|k| {
                entry
                    .get(*k)
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut changes = Vec::new();
    for entry in after {
        let entry_name = name(entry);
        match before.iter().find(|b| name(b) == entry_name) {
            None => changes.push(SetChange::Added {
                entry: entry_name,
                value: entry.clone(),
            }),
            Some(old) => {
                let fields = entry.as_object().into_iter().flatten();
                for (field, value) in fields {
                    let was = old.get(field).cloned().unwrap_or(Value::Null);
                    let same = match (&was, value) {
                        (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
                        (a, b) => a == b,
                    };
                    if !same {
                        changes.push(SetChange::Changed {
                            entry: entry_name.clone(),
                            field: field.clone(),
                            before: was,
                            after: value.clone(),
                        });
                    }
                }
            }
        }
    }
    for entry in before {
        let entry_name = name(entry);
        if !after.iter().any(|a| name(a) == entry_name) {
            changes.push(SetChange::Removed { entry: entry_name });
        }
    }
    Some(changes)
}

/// One change of a keyed set's entries.
#[derive(Debug, Clone, PartialEq)]
pub enum SetChange {
    Added {
        entry: String,
        value: Value,
    },
    Removed {
        entry: String,
    },
    Changed {
        entry: String,
        field: String,
        before: Value,
        after: Value,
    },
}

/// The kind of a section's attribute, if the catalogue has it.
fn kind_of(section: &str, attribute: &str) -> Option<crate::catalogue::Kind> {
    crate::catalogue::section(section)
        .and_then(|s| s.attribute(attribute))
        .map(|a| a.kind)
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
        // A download URL or a checksum is what a reviewer checks: one line is shown whole up
        // to a length no real one reaches.
        Value::String(s) if s.contains('\n') || s.chars().count() > 240 => {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn set_changes_name_entries_by_key() {
        let amd = json!({"os": "linux", "arch": "amd64", "url": "https://a", "sha": "AB"});
        let amd_lower = json!({"os": "linux", "arch": "amd64", "url": "https://a", "sha": "ab"});
        let arm = json!({"os": "linux", "arch": "arm64", "url": "https://b", "sha": "cd"});
        let s390 = json!({"os": "linux", "arch": "s390x", "url": "https://c", "sha": "ef"});
        let changes = set_changes(
            &["os", "arch"],
            &json!([amd, arm]),
            &json!([s390.clone(), amd_lower]),
        );
        assert_eq!(
            changes,
            Some(vec![
                SetChange::Added {
                    entry: "linux/s390x".to_owned(),
                    value: s390
                },
                SetChange::Removed {
                    entry: "linux/arm64".to_owned()
                },
            ])
        );
    }
}
