//! The text plan: one line per attribute, `~ general.api-rate-limit: 30 -> 50`, items named
//! by key (`+ terraform-versions["1.9.8"]`, `- terraform-versions["0.12.31"]`), actions as
//! `> saml.revoke-old-certificate`, then notes and the summary line.

use std::fmt::Write as _;

use super::{SetChange, kind_of, set_changes, shown, summary_phrase, words};
use crate::catalogue::{self, Kind};
use crate::plan::{AttributePlan, AttributeRole, ItemPlan, Operation, Plan};

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
                    paint(
                        DIM,
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
            item_lines(&mut out, key, &name, item, &paint);
            for step in &item.steps {
                if let Some(action) = &step.action {
                    let _ = writeln!(out, "  {} {name}.{action}", paint(CYAN, ">"));
                }
            }
            if let Some(blocked) = &item.blocked {
                let _ = writeln!(
                    out,
                    "  {} {name}: {}",
                    paint(RED, "!"),
                    paint(
                        RED,
                        &format!("blocked: {}", words::blocked(&blocked.reason))
                    )
                );
            }
        }
        for note in &section.notes {
            let _ = writeln!(
                out,
                "{}",
                paint(DIM, &format!("  # {key}: {}", words::note(&note.kind)))
            );
        }
    }
    let _ = writeln!(out, "\nPlan: {}.", summary_phrase(&plan.summary));
    out
}

/// The lines of an item's write: one per attribute, or one for a whole item created or
/// deleted.
fn item_lines(
    out: &mut String,
    key: &str,
    name: &str,
    item: &ItemPlan,
    paint: &dyn Fn(&str, &str) -> String,
) {
    let keyed = item.item.is_some();
    match item.operation {
        Operation::Delete if keyed => {
            let _ = writeln!(out, "  {} {name}", paint(RED, "-"));
            return;
        }
        Operation::Delete => {
            let _ = writeln!(
                out,
                "  {} {name}: deleted (null in the file)",
                paint(RED, "-")
            );
            return;
        }
        Operation::Disable => {
            let consequence = catalogue::section(key)
                .and_then(|s| s.disable_destroys)
                .unwrap_or("destroys data");
            for attr in &item.attributes {
                let _ = writeln!(
                    out,
                    "  {} {name}.{}: {} -> {} (DELETE: {consequence})",
                    paint(RED, "-"),
                    attr.name,
                    before(attr),
                    after(attr)
                );
            }
            return;
        }
        Operation::Create if keyed => {
            let _ = writeln!(out, "  {} {name}", paint(GREEN, "+"));
            for attr in &item.attributes {
                let _ = writeln!(out, "      {}: {}", attr.name, after(attr));
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
        let _ = writeln!(out, "{}", attribute_line(name, attr, item.operation, paint));
    }
}

/// A changed keyed set (`archs`) entry by entry, named by key:
/// `~ terraform-versions["1.9.8"].archs[linux/arm64].url: "..." -> "..."`.
fn set_lines(
    key: &str,
    name: &str,
    attr: &AttributePlan,
    paint: &dyn Fn(&str, &str) -> String,
) -> Option<String> {
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
                "  {} {name}.{}[{entry}]: {}",
                paint(GREEN, "+"),
                attr.name,
                shown(&value)
            ),
            SetChange::Removed { entry } => {
                writeln!(out, "  {} {name}.{}[{entry}]", paint(RED, "-"), attr.name)
            }
            SetChange::Changed {
                entry,
                field,
                before,
                after,
            } => writeln!(
                out,
                "  {} {name}.{}[{entry}].{field}: {} -> {}",
                paint(YELLOW, "~"),
                attr.name,
                shown(&before),
                shown(&after)
            ),
        };
    }
    Some(out)
}

fn after(attr: &AttributePlan) -> String {
    if attr.sensitive {
        "(sensitive)".to_owned()
    } else {
        attr.after.as_ref().map_or_else(|| "null".to_owned(), shown)
    }
}

fn before(attr: &AttributePlan) -> String {
    if attr.sensitive {
        "(sensitive)".to_owned()
    } else if attr.before_known {
        attr.before
            .as_ref()
            .map_or_else(|| "null".to_owned(), shown)
    } else {
        "(not returned by the server)".to_owned()
    }
}

fn attribute_line(
    item: &str,
    attr: &AttributePlan,
    operation: Operation,
    paint: &dyn Fn(&str, &str) -> String,
) -> String {
    let after = after(attr);
    let name = format!("{item}.{}", attr.name);
    match attr.role {
        AttributeRole::Change if operation == Operation::Create => {
            format!("  {} {name}: {after}", paint(GREEN, "+"))
        }
        AttributeRole::Change => {
            format!(
                "  {} {name}: {} -> {after}",
                paint(YELLOW, "~"),
                before(attr)
            )
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
