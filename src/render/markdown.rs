//! The markdown plan, for a pull-request comment: the summary first, then one table row per
//! attribute and one line per action.

use std::fmt::Write as _;

use super::{SetChange, kind_of, set_changes, shown, summary_phrase, words};
use crate::catalogue::{self, Kind};
use crate::plan::{AttributePlan, AttributeRole, ItemPlan, Operation, Plan};

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
    if plan.has_changes() {
        out.push_str("| | setting | live | desired |\n|---|---|---|---|\n");
        for section in &plan.sections {
            let key = &section.section;
            for item in &section.items {
                rows(&mut out, key, item);
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
/// whole.
fn rows(out: &mut String, key: &str, item: &ItemPlan) {
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
                let _ = writeln!(
                    out,
                    "| − | `{name}.{}` | {} | {} (DELETE: {consequence}) |",
                    attr.name,
                    cell(attr, attr.before.as_ref(), attr.before_known),
                    cell(attr, attr.after.as_ref(), true)
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
        let (mark, live) = match attr.role {
            AttributeRole::Change if item.operation == Operation::Create => ("+", "—".to_owned()),
            AttributeRole::Change => ("~", cell(attr, attr.before.as_ref(), attr.before_known)),
            AttributeRole::WriteOnly => ("~", "*(write-only)*".to_owned()),
            AttributeRole::Trigger => ("+", "*(not persisted)*".to_owned()),
        };
        let _ = writeln!(
            out,
            "| {mark} | `{name}.{}` | {live} | {} |",
            attr.name,
            cell(attr, attr.after.as_ref(), true)
        );
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
                "| + | `{name}.{}[{entry}]` | — | {} |",
                attr.name,
                code(&shown(&value))
            ),
            SetChange::Removed { entry } => {
                writeln!(
                    out,
                    "| − | `{name}.{}[{entry}]` | exists | removed |",
                    attr.name
                )
            }
            SetChange::Changed {
                entry,
                field,
                before,
                after,
            } => writeln!(
                out,
                "| ~ | `{name}.{}[{entry}].{field}` | {} | {} |",
                attr.name,
                code(&shown(&before)),
                code(&shown(&after))
            ),
        };
    }
    true
}

/// A value's cell: sensitive and unreturned values say so.
fn cell(attr: &AttributePlan, value: Option<&serde_json::Value>, known: bool) -> String {
    if attr.sensitive {
        "*(sensitive)*".to_owned()
    } else if !known {
        "*(not returned)*".to_owned()
    } else {
        code(&value.map_or_else(|| "null".to_owned(), shown))
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
