//! The text plan: one line per attribute, `~ general.api-rate-limit: 30 -> 50`, actions as
//! `> saml.revoke-old-certificate`, then notes and the summary line.

use std::fmt::Write as _;

use super::{shown, summary_phrase};
use crate::plan::{AttributePlan, AttributeRole, Operation, Plan};

const RESET: &str = "\x1b[0m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";
const CYAN: &str = "\x1b[36m";
const DIM: &str = "\x1b[2m";

/// The plan as text; `colour` adds ANSI colours.
#[must_use]
pub fn text(plan: &Plan, colour: bool) -> String {
    let paint = |code: &str, text: &str| {
        if colour {
            format!("{code}{text}{RESET}")
        } else {
            text.to_owned()
        }
    };
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
                    paint(DIM, &format!("  # {}: {note}", section.section))
                );
            }
        }
        return out;
    }
    let _ = writeln!(out, "Changes to {}{release}:\n", plan.address);
    for section in &plan.sections {
        let key = &section.section;
        match section.operation {
            Operation::Delete => {
                let _ = writeln!(out, "  {} {key}: delete the policy", paint(RED, "-"));
            }
            Operation::Disable => {
                let _ = writeln!(
                    out,
                    "  {} {key}.enabled: true -> false (DELETE: removes every SCIM group, membership and token)",
                    paint(RED, "-")
                );
            }
            _ => {}
        }
        if section.operation != Operation::Disable {
            for attr in &section.attributes {
                let _ = writeln!(
                    out,
                    "{}",
                    attribute_line(key, attr, section.operation, &paint)
                );
            }
        }
        for step in &section.steps {
            if let Some(action) = &step.action {
                let _ = writeln!(out, "  {} {key}.{action}", paint(CYAN, ">"));
            }
        }
        if let Some(blocked) = &section.blocked {
            let _ = writeln!(
                out,
                "  {} {key}: {}",
                paint(RED, "!"),
                paint(RED, &format!("blocked: {blocked}"))
            );
        }
        for note in &section.notes {
            let _ = writeln!(out, "{}", paint(DIM, &format!("  # {key}: {note}")));
        }
    }
    let _ = writeln!(out, "\nPlan: {}.", summary_phrase(&plan.summary));
    out
}

fn attribute_line(
    key: &str,
    attr: &AttributePlan,
    operation: Operation,
    paint: &dyn Fn(&str, &str) -> String,
) -> String {
    let after = if attr.sensitive {
        "(sensitive)".to_owned()
    } else {
        attr.after.as_ref().map_or_else(|| "null".to_owned(), shown)
    };
    let name = format!("{key}.{}", attr.name);
    match attr.role {
        AttributeRole::Change if operation == Operation::Create => {
            format!("  {} {name}: {after}", paint(GREEN, "+"))
        }
        AttributeRole::Change => {
            let before = if attr.sensitive {
                "(sensitive)".to_owned()
            } else if attr.before_known {
                attr.before
                    .as_ref()
                    .map_or_else(|| "null".to_owned(), shown)
            } else {
                "(not returned by the server)".to_owned()
            };
            format!("  {} {name}: {before} -> {after}", paint(YELLOW, "~"))
        }
        AttributeRole::WriteOnly => format!(
            "  {} {name}: {after} {}",
            paint(YELLOW, "~"),
            paint(DIM, "(write-only: sent with this change)")
        ),
        AttributeRole::Trigger => format!(
            "  {} {name}: {after} {}",
            paint(CYAN, "+"),
            paint(DIM, "(not persisted: triggers a test)")
        ),
    }
}
