//! The markdown plan, for a pull-request comment: the summary first, then one table row per
//! attribute and one line per action.

use std::fmt::Write as _;

use super::{shown, summary_phrase};
use crate::plan::{AttributeRole, Operation, Plan};

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
            match section.operation {
                Operation::Delete => {
                    let _ = writeln!(out, "| − | `{key}` | policy set | no policy |");
                }
                Operation::Disable => {
                    let _ = writeln!(
                        out,
                        "| − | `{key}.enabled` | `true` | `false` (DELETE: removes SCIM groups and tokens) |"
                    );
                }
                _ => {}
            }
            if section.operation == Operation::Disable {
                continue;
            }
            for attr in &section.attributes {
                let value = |v: Option<&serde_json::Value>, known: bool| {
                    if attr.sensitive {
                        "*(sensitive)*".to_owned()
                    } else if !known {
                        "*(not returned)*".to_owned()
                    } else {
                        code(&v.map_or_else(|| "null".to_owned(), shown))
                    }
                };
                let (mark, live) = match attr.role {
                    AttributeRole::Change if section.operation == Operation::Create => {
                        ("+", "—".to_owned())
                    }
                    AttributeRole::Change => ("~", value(attr.before.as_ref(), attr.before_known)),
                    AttributeRole::WriteOnly => ("~", "*(write-only)*".to_owned()),
                    AttributeRole::Trigger => ("+", "*(not persisted)*".to_owned()),
                };
                let _ = writeln!(
                    out,
                    "| {mark} | `{key}.{}` | {live} | {} |",
                    attr.name,
                    value(attr.after.as_ref(), true)
                );
            }
        }
        let actions: Vec<String> = plan
            .sections
            .iter()
            .flat_map(|s| {
                s.steps.iter().filter_map(move |step| {
                    step.action.as_ref().map(|a| format!("`{}.{a}`", s.section))
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
        if let Some(blocked) = &section.blocked {
            notes.push(format!("**blocked** `{}`: {blocked}", section.section));
        }
        for note in &section.notes {
            notes.push(format!("`{}`: {note}", section.section));
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

/// A table cell holding code: pipes escaped, backticks fenced.
fn code(text: &str) -> String {
    let escaped = text.replace('|', "\\|");
    if escaped.contains('`') {
        format!("`` {escaped} ``")
    } else {
        format!("`{escaped}`")
    }
}
