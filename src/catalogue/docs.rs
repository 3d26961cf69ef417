//! The settings reference of the README, rendered from the catalogue so that it cannot drift
//! from the code (a test compares it with README.md). Pure text rendering.

use std::fmt::Write as _;

use super::{Access, Kind, Literal, SectionSpec, file_sections};

/// The README's settings reference, between its markers.
#[must_use]
pub fn settings_reference() -> String {
    let mut out = String::new();
    for section in file_sections() {
        write_section(&mut out, section);
    }
    out
}

fn write_section(out: &mut String, section: &SectionSpec) {
    let _ = writeln!(out, "### `{}`\n", section.key);
    let _ = write!(out, "{} `/api/v2/{}`", section.doc, section.path);
    let _ = write!(out, " ({})", section.kind.verbs(section));
    if let Some(release) = section.since {
        let _ = write!(out, "; TFE {release} and later");
    }
    out.push_str(".\n\n");
    out.push_str("| attribute | type | access | default | notes |\n|---|---|---|---|---|\n");
    for attr in section.attributes {
        let mut notes = Vec::new();
        if attr.sensitive {
            notes.push("sensitive".to_owned());
        }
        if attr.nullable {
            notes.push("null allowed".to_owned());
        }
        if let Some(target) = attr.alias_of {
            notes.push(format!("deprecated alias of `{target}`"));
        }
        if let Some(release) = attr.since {
            notes.push(format!("TFE {release}+"));
        }
        match (attr.min, attr.max) {
            (Some(min), Some(max)) => notes.push(format!("{min}..{max}")),
            (Some(min), None) => notes.push(format!(">= {min}")),
            (None, Some(max)) => notes.push(format!("<= {max}")),
            (None, None) => {}
        }
        let kind = match attr.kind {
            Kind::Enum(values) => values.join(" \\| "),
            Kind::Url { schemes, .. } => format!("URL ({})", schemes.join(", ")),
            other => other.label().to_owned(),
        };
        let access = match attr.access {
            Access::ReadOnly => "read-only (not in the file)",
            other => other.label(),
        };
        let default = attr.default.map_or_else(String::new, |d| match d {
            Literal::Str("") => "`\"\"`".to_owned(),
            other => format!("`{}`", other.to_json()),
        });
        let _ = writeln!(
            out,
            "| `{}` | {kind} | {access} | {default} | {} |",
            attr.name,
            notes.join(", ")
        );
    }
    for action in section.actions {
        let _ = writeln!(
            out,
            "\nAction `{}` (`POST /api/v2/{}`): {}",
            action.name, action.path, action.doc
        );
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_file_section_is_documented() {
        let text = super::settings_reference();
        for section in super::file_sections() {
            assert!(text.contains(&format!("### `{}`", section.key)));
            for attr in section.attributes {
                assert!(
                    text.contains(&format!("| `{}` |", attr.name)),
                    "{}",
                    attr.name
                );
            }
        }
    }
}
