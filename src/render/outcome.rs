//! The apply report: one progress line per section as it finishes (stderr), the problems of
//! the failed ones mapped back to the file (`FILE:LINE:COL: section.attribute: message`), and
//! the final line. Reads outcomes and the plan they came from; calls nothing.

use std::fmt::Write as _;

use super::words;
use crate::api::pace::Exhausted;
use crate::apply::{ApiMessage, Failure, Outcome, SectionOutcome, Status};
use crate::catalogue;
use crate::plan::Plan;

/// The progress line of a finished section.
#[must_use]
pub fn progress(outcome: &SectionOutcome) -> String {
    // Identical calls in a row (twenty POSTs of new versions) are counted, not repeated.
    let mut calls: Vec<(String, usize)> = Vec::new();
    for c in &outcome.calls {
        let what = c
            .action
            .as_ref()
            .map_or_else(|| format!("{} {}", c.method, c.path), String::clone);
        let call = match c.status {
            Some(status) => format!("{what} {status}"),
            None => format!("{what} (no answer)"),
        };
        match calls.last_mut() {
            Some((last, count)) if *last == call => *count += 1,
            _ => calls.push((call, 1)),
        }
    }
    let calls: Vec<String> = calls
        .into_iter()
        .map(|(call, count)| {
            if count == 1 {
                call
            } else {
                format!("{call} x{count}")
            }
        })
        .collect();
    let status = match outcome.status {
        Status::Applied => "applied",
        Status::Failed => "FAILED",
        Status::Skipped => "skipped",
    };
    if calls.is_empty() {
        format!("{}: {status}", outcome.section)
    } else {
        format!("{}: {status} ({})", outcome.section, calls.join(", "))
    }
}

/// A 404 to a write: the token was a site admin's when the plan read the live state, so "not
/// found" is not the story (TFE answers 404, never 403, to those who may not see a thing).
const NOT_FOUND_FOR_ADMIN: &str = "the API answered 404 although the token belonged to a site \
     administrator when the plan was made: this release of TFE may not have this endpoint, or \
     the account lost the site-admin role since";

/// The problems of failed and skipped sections, one line each, located in the files where the
/// plan knows the attribute's place.
#[must_use]
pub fn problems(outcome: &Outcome, plan: &Plan) -> String {
    let mut out = String::new();
    for section in &outcome.sections {
        let key = &section.section;
        for failed in &section.failures {
            let item = failed.item.as_deref();
            let name = words::item(key, item);
            let location = |attribute: &str| {
                plan.sections
                    .iter()
                    .find(|s| s.section == *key)
                    .and_then(|s| s.items.iter().find(|i| i.item.as_deref() == item))
                    .and_then(|i| i.attributes.iter().find(|a| a.name == attribute))
                    .map(|a| format!("{}: ", a.location))
                    .unwrap_or_default()
            };
            failure(&mut out, key, &name, &failed.failure, &location);
        }
    }
    out
}

fn failure(
    out: &mut String,
    key: &str,
    name: &str,
    failure: &Failure,
    location: &dyn Fn(&str) -> String,
) {
    match failure {
        Failure::Rejected { status, errors } => {
            rejected(out, key, name, *status, errors, location);
        }
        Failure::CredentialsRejected { errors } => {
            let meaning = catalogue::section(key)
                .and_then(|s| s.rejected_credentials)
                .unwrap_or("the credentials were rejected (401)");
            let detail: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
            let _ = writeln!(
                out,
                "{name}: {meaning}{}",
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(": {}", detail.join("; "))
                }
            );
        }
        Failure::NotJson {
            status,
            content_type,
        } => {
            let _ = writeln!(
                out,
                "{name}: the server answered {status} with {content_type}, not JSON:API (a proxy in the way?)"
            );
        }
        Failure::NoAnswer { message } => {
            let _ = writeln!(out, "{name}: {message}");
        }
        Failure::RateLimited(report) => {
            let _ = writeln!(
                out,
                "{name}: {}; lower --rps or raise --rate-limit-budget, then apply again",
                Exhausted::from(report)
            );
        }
        Failure::NotVerified { attributes } => {
            for m in attributes {
                let shown = match (&m.sent, &m.live) {
                    (Some(sent), Some(live)) => {
                        format!(": sent {sent}, the server holds {live}")
                    }
                    (Some(sent), None) => {
                        format!(": sent {sent}, the server does not return it")
                    }
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "{}{name}.{}: did not take{shown}",
                    location(&m.attribute),
                    m.attribute
                );
            }
        }
        Failure::StillPresent => {
            let _ = writeln!(
                out,
                "{name}: did not take: the delete was answered, but the server still has it"
            );
        }
        Failure::Absent => {
            let _ = writeln!(
                out,
                "{name}: did not take: the create was answered, but the server does not have it"
            );
        }
        Failure::Dependency { section } => {
            let _ = writeln!(out, "{name}: skipped: it needs `{section}`, which failed");
        }
    }
}

/// The lines of a refused call: one per JSON:API error, at its attribute where it names one.
fn rejected(
    out: &mut String,
    key: &str,
    name: &str,
    status: u16,
    errors: &[ApiMessage],
    location: &dyn Fn(&str) -> String,
) {
    match (status, errors) {
        // An item of a collection that is gone: it was deleted since the plan was made.
        (404, _) if name != key => {
            let _ = writeln!(
                out,
                "{name}: the API answered 404: the item is gone (deleted since the plan was made?)"
            );
        }
        (404, _) => {
            let _ = writeln!(out, "{name}: {NOT_FOUND_FOR_ADMIN}");
        }
        (_, errors) if !errors.is_empty() => {
            for e in errors {
                match &e.attribute {
                    Some(attr) => {
                        let _ = writeln!(
                            out,
                            "{}{name}.{attr}: the API refused it ({status}): {}",
                            location(attr),
                            e.message
                        );
                    }
                    None => {
                        let _ = writeln!(
                            out,
                            "{name}: the API refused the change ({status}): {}",
                            e.message
                        );
                    }
                }
            }
        }
        _ => {
            let _ = writeln!(out, "{name}: the API refused the change ({status})");
        }
    }
}

/// `Apply complete: 3 sections changed, 1 action run.` or the failure counts.
#[must_use]
pub fn summary(outcome: &Outcome) -> String {
    let s = &outcome.summary;
    let changed = plural(s.changed, "section", "changed");
    let actions = plural(s.actions, "action", "run");
    if s.failed == 0 && s.skipped == 0 {
        format!("Apply complete: {changed}, {actions}.")
    } else {
        format!(
            "Apply failed: {changed}, {actions}, {}, {}. Running apply again retries what is left.",
            plural(s.failed, "section", "failed"),
            plural(s.skipped, "section", "skipped")
        )
    }
}

fn plural(n: usize, noun: &str, verb: &str) -> String {
    if n == 1 {
        format!("1 {noun} {verb}")
    } else {
        format!("{n} {noun}s {verb}")
    }
}

/// The report as JSON with a final newline.
#[must_use]
pub fn json(outcome: &Outcome) -> String {
    let mut text = serde_json::to_string_pretty(outcome).unwrap_or_default();
    text.push('\n');
    text
}
