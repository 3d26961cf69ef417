//! The words of the plan's typed data: notes, blocked reasons, item names. Every renderer
//! (text, markdown, the `message` fields of the JSON plan) and the error report take their
//! wording from here, so a note reads the same everywhere. Pure text.

use crate::catalogue::kind::Refusal;
use crate::plan::{BlockReason, NoteKind};

/// How an item is named: `terraform-versions["1.9.8"]`, or the section for its only document.
#[must_use]
pub fn item(section: &str, item: Option<&str>) -> String {
    match item {
        Some(key) => format!("{section}[{key:?}]"),
        None => section.to_owned(),
    }
}

/// A note in words.
#[must_use]
pub fn note(kind: &NoteKind) -> String {
    let running = |r: &Option<String>| {
        r.as_deref()
            .map_or_else(|| "an unknown release".to_owned(), str::to_owned)
    };
    match kind {
        NoteKind::WriteOnlyNotSent { attribute, .. } => format!(
            "`{attribute}` is write-only: it cannot be compared, and is sent only with a change \
             to this section or with --push-secrets"
        ),
        NoteKind::AttributeNotInRelease {
            attribute,
            since,
            running: r,
            ..
        } => format!(
            "`{attribute}` needs TFE {since}; this installation runs {}: not sent",
            running(r)
        ),
        NoteKind::SectionNotInRelease { since, running: r } => format!(
            "the section needs TFE {since}; this installation runs {}: not planned",
            running(r)
        ),
    }
}

/// A blocked reason in words.
#[must_use]
pub fn blocked(reason: &BlockReason) -> String {
    match reason {
        BlockReason::NeedsAllowDestroy { consequence } => {
            format!("the DELETE that switches it off {consequence}: it needs --allow-destroy")
        }
        BlockReason::DeleteRefused { refusal } => format!(
            "the API refuses to delete it: {}",
            match refusal {
                Refusal::Official =>
                    "it is an official version, shipped with the installation".to_owned(),
                Refusal::InUse { workspaces } => format!(
                    "{} {} it",
                    count(*workspaces, "workspace"),
                    if *workspaces == 1 { "uses" } else { "use" }
                ),
            }
        ),
    }
}

fn count(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_named_by_key() {
        assert_eq!(
            item("terraform-versions", Some("1.9.8")),
            "terraform-versions[\"1.9.8\"]"
        );
        assert_eq!(item("general", None), "general");
    }

    #[test]
    fn refusals_say_why_with_the_workspace_count() {
        let used = BlockReason::DeleteRefused {
            refusal: Refusal::InUse { workspaces: 3 },
        };
        assert_eq!(
            blocked(&used),
            "the API refuses to delete it: 3 workspaces use it"
        );
    }
}
