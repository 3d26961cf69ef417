//! The live state as a desired-state file: every writable attribute with its live value, in
//! catalogue order, so that the file validates and plans to no changes against the same
//! installation, with no variable set. Read-only attributes and deprecated aliases are left
//! out; secrets (write-only or readable) become commented-out
//! `${env:TFE_ADMIN_<SECTION>_<ATTRIBUTE>}` lines with a one-line note, never values and
//! never active references; `${` in a value is escaped. Deterministic: the same state gives
//! the same bytes. Pure text rendering, no I/O.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::catalogue::{Access, AttrSpec, Kind, SectionSpec};
use crate::live::LiveState;

/// Where the export was read from, for the header.
pub struct Source<'a> {
    pub address: &'a str,
}

/// The environment variable an exported secret is referenced by.
#[must_use]
pub fn secret_variable(section: &SectionSpec, attr: &AttrSpec) -> String {
    format!("TFE_ADMIN_{}_{}", section.key, attr.name)
        .to_ascii_uppercase()
        .replace('-', "_")
}

/// Renders the live state of the sections it holds.
#[must_use]
pub fn render(live: &LiveState, source: &Source<'_>) -> String {
    let mut out = String::new();
    out.push_str("# yaml-language-server: $schema=tfe-admin.schema.json\n");
    let release = live
        .release
        .map_or_else(String::new, |r| format!(" (TFE {r})"));
    let _ = writeln!(
        out,
        "#\n# Exported by tfe-admin from {}{release}.\n\
         # Put the schema beside this file for editor support: tfe-admin schema -o tfe-admin.schema.json",
        source.address
    );
    let has_secrets = live.sections.iter().any(|s| {
        s.item(None).is_some() && s.spec.attributes.iter().any(|a| exported(a) && a.sensitive)
    });
    if has_secrets {
        out.push_str(
            "# Secrets are not in this file: each is a commented-out `${env:...}` line, so the file\n\
             # plans to no changes with no variable set. Uncomment a line (and set its variable)\n\
             # to manage that secret.\n",
        );
    }
    for section in &live.sections {
        let spec = section.spec;
        out.push('\n');
        comment(&mut out, "", spec.doc);
        if section.available {
            spec.kind.export(section, &mut out);
        } else {
            let _ = writeln!(out, "# {}: not available in this release", spec.key);
        }
    }
    out
}

/// Writes a settings document (the section's key and its attributes).
pub fn document(out: &mut String, spec: &SectionSpec, attributes: &Map<String, Value>) {
    let _ = write!(out, "{}:", spec.key);
    let after_key = out.len();
    out.push('\n');
    let mut wrote = false;
    for attr in spec.attributes.iter().filter(|a| exported(a)) {
        wrote |= attribute(out, spec, attr, attributes.get(attr.name), 2);
    }
    if !wrote {
        // An empty mapping, not null: null would mean "no policy" or be refused.
        // Right after the key: comment lines may follow it.
        out.insert_str(after_key, " {}");
    }
}

/// Writes the attributes of a collection item after its key (already written, without the
/// newline), `indent` spaces in: those it has, or `{}` when there is nothing to write.
pub fn item(out: &mut String, spec: &SectionSpec, attributes: &Map<String, Value>, indent: usize) {
    let after_key = out.len();
    out.push('\n');
    let mut wrote = false;
    for attr in spec.attributes.iter().filter(|a| exported(a)) {
        if let Some(value) = attributes.get(attr.name) {
            wrote |= attribute(out, spec, attr, Some(value), indent);
        }
    }
    if !wrote {
        // An empty mapping, not null: null would mean "no policy" or be refused.
        // Right after the key: comment lines may follow it.
        out.insert_str(after_key, " {}");
    }
}

/// Whether an attribute belongs in an exported file.
fn exported(attr: &AttrSpec) -> bool {
    matches!(attr.access, Access::ReadWrite | Access::WriteOnly) && attr.alias_of.is_none()
}

/// Writes one attribute; `false` when there is nothing to write.
fn attribute(
    out: &mut String,
    section: &SectionSpec,
    attr: &AttrSpec,
    value: Option<&Value>,
    indent: usize,
) -> bool {
    let pad = " ".repeat(indent);
    if attr.sensitive {
        // Never the value, and never an active reference: a reference would make every plan
        // of this file need the variable, and a placeholder value in it would overwrite the
        // real secret. The line is there to uncomment when the file should manage it.
        let why = if attr.access == Access::WriteOnly {
            "write-only secret, never read back"
        } else if value.is_some_and(|v| !v.is_null() && v.as_str() != Some("")) {
            "secret, set on the server"
        } else {
            "secret, not set on the server"
        };
        let _ = writeln!(
            out,
            "{pad}# {why}: uncomment the next line to manage it\n{pad}# {}: ${{env:{}}}",
            attr.name,
            secret_variable(section, attr)
        );
        return false;
    }
    let Some(value) = value else {
        let _ = writeln!(out, "{pad}# {}: not returned by the server", attr.name);
        return false;
    };
    if value.is_null() && !attr.nullable {
        // Unset, and null is not a value the file may hold for it.
        let _ = writeln!(out, "{pad}# {}: not set", attr.name);
        return false;
    }
    let text = match (attr.kind, value) {
        (Kind::KeyedSet { key, fields }, Value::Array(entries)) => {
            keyed_set(entries, key, fields, indent + 2)
        }
        _ => yaml_value(value, indent + 2),
    };
    let _ = writeln!(out, "{pad}{}:{text}", attr.name);
    true
}

/// A keyed set as one flow mapping per entry, fields in the catalogue's order, entries
/// sorted by their key fields: `- {os: "linux", arch: "amd64", url: "...", sha: "..."}`.
fn keyed_set(entries: &[Value], key: &[&str], fields: &[(&str, Kind)], indent: usize) -> String {
    if entries.is_empty() {
        return " []".to_owned();
    }
    let pad = " ".repeat(indent);
    let mut sorted: Vec<&Value> = entries.iter().collect();
    sorted.sort_by_key(|e| {
        key.iter()
            .map(|k| e.get(*k).map(ToString::to_string).unwrap_or_default())
            .collect::<Vec<_>>()
    });
    let mut text = String::new();
    for entry in sorted {
        let Some(object) = entry.as_object() else {
            let _ = write!(text, "\n{pad}-{}", yaml_value(entry, indent + 2));
            continue;
        };
        let mut names: Vec<&str> = fields
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| object.contains_key(*n))
            .collect();
        // Fields the catalogue does not know, after its own: kept, so the file plans clean.
        names.extend(
            object
                .keys()
                .map(String::as_str)
                .filter(|k| !fields.iter().any(|(n, _)| n == k)),
        );
        let parts: Vec<String> = names
            .iter()
            .map(|n| {
                let value = object.get(*n).cloned().unwrap_or(Value::Null);
                let value = match value {
                    Value::String(s) => Value::String(s.replace("${", "$${")),
                    other => other,
                };
                format!("{n}: {value}")
            })
            .collect();
        let _ = write!(text, "\n{pad}- {{{}}}", parts.join(", "));
    }
    text
}

/// A value after `key:`, including the leading space (or newline for block forms).
fn yaml_value(value: &Value, indent: usize) -> String {
    match value {
        Value::Null => " null".to_owned(),
        Value::Bool(b) => format!(" {b}"),
        Value::Number(n) => format!(" {n}"),
        Value::String(s) => string(s, indent),
        Value::Array(items) if items.is_empty() => " []".to_owned(),
        Value::Array(items) => {
            let pad = " ".repeat(indent);
            let mut text = String::new();
            for item in items {
                match item {
                    Value::Object(fields) if !fields.is_empty() => {
                        let mut first = true;
                        for (key, field) in fields {
                            let lead = if first {
                                format!("{pad}- ")
                            } else {
                                format!("{pad}  ")
                            };
                            first = false;
                            let _ = write!(text, "\n{lead}{key}:{}", yaml_value(field, indent + 4));
                        }
                    }
                    other => {
                        let _ = write!(text, "\n{pad}-{}", yaml_value(other, indent + 2));
                    }
                }
            }
            text
        }
        Value::Object(fields) if fields.is_empty() => " {}".to_owned(),
        Value::Object(fields) => {
            let pad = " ".repeat(indent);
            fields.iter().fold(String::new(), |mut text, (k, v)| {
                let _ = write!(text, "\n{pad}{k}:{}", yaml_value(v, indent + 2));
                text
            })
        }
    }
}

/// A string scalar: a literal block for clean multi-line text (PEM), else a double-quoted
/// JSON string, which YAML reads back exactly. `${` is escaped so that it is not taken for a
/// reference.
fn string(text: &str, indent: usize) -> String {
    let escaped = text.replace("${", "$${");
    let lines: Vec<&str> = escaped.split('\n').collect();
    let body = escaped.strip_suffix('\n').unwrap_or(&escaped);
    let block_safe = escaped.contains('\n')
        && !escaped.contains('\r')
        && !escaped.contains('\t')
        && !body.ends_with('\n')
        && !body.starts_with(' ')
        && !body.is_empty()
        && lines
            .iter()
            .all(|l| !l.ends_with(' ') && !l.chars().any(char::is_control));
    if block_safe {
        let chomp = if escaped.ends_with('\n') { "" } else { "-" };
        let pad = " ".repeat(indent);
        let mut out = format!(" |{chomp}");
        for line in body.split('\n') {
            if line.is_empty() {
                out.push('\n');
            } else {
                let _ = write!(out, "\n{pad}{line}");
            }
        }
        out
    } else {
        format!(" {}", Value::String(escaped))
    }
}

/// A `#` comment, wrapped at 92 columns.
fn comment(out: &mut String, indent: &str, text: &str) {
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + 2 + line.len() + 1 + word.len() > 92 {
            let _ = writeln!(out, "{indent}# {line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}# {line}");
    }
}

/// The sections `--section` names, in catalogue order; every file section when none is
/// named. Actions-only sections have nothing to export.
///
/// # Errors
/// A name that is not a section, with the closest one and the list of those that are.
pub fn sections(names: &[String]) -> Result<Vec<&'static SectionSpec>, UnknownSection> {
    let all: Vec<&'static SectionSpec> = crate::catalogue::file_sections().collect();
    for name in names {
        if !all.iter().any(|s| s.key == name) {
            let known: Vec<&'static str> = all.iter().map(|s| s.key).collect();
            return Err(UnknownSection {
                name: name.clone(),
                suggestion: crate::catalogue::suggest(name, known.iter().copied()),
                known,
            });
        }
    }
    Ok(all
        .into_iter()
        .filter(|s| names.is_empty() || names.iter().any(|n| n == s.key))
        .collect())
}

/// `--section NAME` names no section of the file format.
#[derive(Debug, thiserror::Error)]
#[error("unknown section `{name}`; the sections are: {}", known.join(", "))]
pub struct UnknownSection {
    pub name: String,
    /// The section it is closest to, if any is close.
    pub suggestion: Option<&'static str>,
    pub known: Vec<&'static str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_survive_a_round_trip_through_yaml() {
        for text in [
            "plain",
            "",
            "yes",
            "null",
            "123",
            "a: b # c",
            "<div>Login &amp; help</div>",
            "-----BEGIN CERTIFICATE-----\nMIIB\nAAAA\n-----END CERTIFICATE-----",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            "two\n\nparagraphs\n",
            " leading space\nline",
            "trailing \nspace",
            "tab\there",
            "crlf\r\nline",
            "\n",
            "quote \" and \\ backslash",
        ] {
            let yaml = format!("key:{}\n", string(text, 2));
            let parsed: std::collections::BTreeMap<String, String> =
                match serde_saphyr::from_str(&yaml) {
                    Ok(p) => p,
                    Err(e) => panic!("{yaml:?}: {e}"),
                };
            assert_eq!(parsed.get("key").map(String::as_str), Some(text), "{yaml}");
        }
    }

    #[test]
    fn a_section_with_nothing_to_write_is_an_empty_mapping_before_its_comments() {
        let Some(spec) = crate::catalogue::section("cost-estimation") else {
            panic!()
        };
        // A server that returns no attribute at all: every line is a comment.
        let live = LiveState {
            release: None,
            sections: vec![crate::live::LiveSection::with_items(
                spec,
                vec![crate::live::LiveItem {
                    key: None,
                    id: None,
                    attributes: serde_json::Map::new(),
                }],
            )],
        };
        let text = render(&live, &Source { address: "x" });
        assert!(text.contains("\ncost-estimation: {}\n  # "), "{text}");
        let parsed: std::collections::BTreeMap<String, serde_json::Value> =
            match serde_saphyr::from_str(&text) {
                Ok(p) => p,
                Err(e) => panic!("{text}: {e}"),
            };
        assert_eq!(parsed.get("cost-estimation"), Some(&serde_json::json!({})));
        assert!(!text.contains("\n  aws-secret-key:"), "{text}");
    }

    #[test]
    fn references_in_values_are_escaped() {
        assert_eq!(string("cost ${env:X}", 2), " \"cost $${env:X}\"");
    }

    #[test]
    fn secret_variables_are_named_after_section_and_attribute() {
        let Some(section) = crate::catalogue::section("cost-estimation") else {
            panic!()
        };
        let Some(attr) = section.attribute("aws-secret-key") else {
            panic!()
        };
        assert_eq!(
            secret_variable(section, attr),
            "TFE_ADMIN_COST_ESTIMATION_AWS_SECRET_KEY"
        );
    }
}
