//! The semantic diff of the desired and the live state, item by item (each section's kind
//! decides what its items' differences mean: a PATCH, a create, a delete): which managed
//! attributes differ, compared as the API means them (`120m` equals `2h`, PEM modulo
//! whitespace, HTML entities decoded, JSON text as JSON, null and "" alike where both mean
//! unset), which write-only secrets
//! and triggers ride along, which outcome actions are due, what the release lacks, and which
//! completeness rules the combined state would break. Pure: no I/O, nothing printed.

use serde_json::Value;

use crate::catalogue::{
    Access, ActionSpec, ActionWhen, AttrSpec, AttrView, Kind, Known, Release, SectionSpec, values,
};
use crate::config::yaml::Pos;
use crate::desired::{DesiredAttr, DesiredItem, DesiredSection, DesiredState};
use crate::live::{LiveItem, LiveSection, LiveState};

/// The differences, section by section, in catalogue (apply) order.
#[derive(Debug)]
pub struct Diff<'a> {
    pub sections: Vec<SectionDiff<'a>>,
    /// Rules the desired state, laid over the live one, would break.
    pub violations: Vec<RuleViolation>,
}

/// What differs in one managed section, item by item.
#[derive(Debug)]
pub struct SectionDiff<'a> {
    pub spec: &'static SectionSpec,
    pub desired: &'a DesiredSection,
    /// False when the installation's release does not have the section.
    pub available: bool,
    /// Every item the files list or the live state holds that has something to do or say,
    /// in the order of the file, then the live items to delete.
    pub items: Vec<ItemDiff<'a>>,
    /// How many items the live read found (collections): the verifying read of apply reads
    /// that many again at once.
    pub live_count: Option<u64>,
    /// What the section's kind found wrong with the items (collected into [`Diff::violations`]).
    pub violations: Vec<RuleViolation>,
}

/// What differs in one item (a settings document, a policy, a tool version).
#[derive(Debug)]
pub struct ItemDiff<'a> {
    /// The natural key; `None` for a section's only document.
    pub key: Option<String>,
    /// What the files ask for (`None`: the item is to be deleted).
    pub desired: Option<&'a DesiredItem>,
    /// What the installation has (`None`: the item does not exist).
    pub live: Option<LiveItem>,
    pub write: Write,
    /// Attributes whose desired value differs from the live one.
    pub changes: Vec<Change<'a>>,
    /// Write-only attributes: they cannot be compared.
    pub write_only: Vec<&'a DesiredAttr>,
    /// Trigger attributes: sent with a write of the item, never a change on their own.
    pub triggers: Vec<&'a DesiredAttr>,
    /// Attributes the installation's release does not have.
    pub unsupported: Vec<&'a DesiredAttr>,
    /// Outcome actions that are due (`revoke-old-certificate`).
    pub actions: Vec<&'static ActionSpec>,
    /// Why the API would refuse the delete (an official tool version, one in use).
    pub refused: Option<crate::catalogue::kind::Refusal>,
}

impl ItemDiff<'_> {
    /// Whether there is anything to do or say about the item.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.write == Write::None
            && self.changes.is_empty()
            && self.write_only.is_empty()
            && self.unsupported.is_empty()
            && self.actions.is_empty()
    }
}

/// What happens to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// Nothing differs (write-only attributes may still be pushed).
    None,
    /// Write the changed attributes of an existing item (PATCH).
    Update,
    /// Create the item (POST).
    Create,
    /// Write an existing item whole (a policy's POST).
    Replace,
    /// Delete the item.
    Delete,
    /// Switch the section off with a DELETE that destroys data (SCIM).
    Disable,
}

/// One differing attribute.
#[derive(Debug)]
pub struct Change<'a> {
    pub attr: &'a DesiredAttr,
    /// The live value it was compared with; `None` when the server did not return it (or the
    /// item does not exist).
    pub before: Option<Value>,
}

/// A rule of the API broken by the combined state (a completeness rule, an item the
/// installation holds twice, a new item without what it needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleViolation {
    /// Where in the file, as `section.attribute` or `section.versions["1.9.8"].url`.
    pub path: String,
    pub message: String,
    /// Where the file sets the attribute, else the section.
    pub pos: Pos,
}

/// Compares what the files ask for with what the installation has: each section's kind
/// decides what its differences mean.
#[must_use]
pub fn diff<'a>(desired: &'a DesiredState, live: &LiveState) -> Diff<'a> {
    let mut sections: Vec<SectionDiff<'a>> = desired
        .sections
        .iter()
        .filter_map(|section| {
            let live_section = live.section(section.spec.key)?;
            Some(section.spec.kind.diff(section, live_section, live.release))
        })
        .collect();
    let mut violations = violations(desired, live);
    for section in &mut sections {
        violations.append(&mut section.violations);
    }
    Diff {
        sections,
        violations,
    }
}

/// An empty diff of a section: what a kind starts from.
#[must_use]
pub fn section_diff<'a>(desired: &'a DesiredSection, live: &LiveSection) -> SectionDiff<'a> {
    SectionDiff {
        spec: desired.spec,
        desired,
        available: live.available,
        items: Vec::new(),
        live_count: None,
        violations: Vec::new(),
    }
}

/// Compares one item attribute by attribute: the changes, the write-only secrets and
/// triggers that ride along, what the release lacks, and the outcome actions that are due.
/// `write` is left to the kind. With no live item every read-write attribute is a change.
#[must_use]
pub fn compare_item<'a>(
    spec: &'static SectionSpec,
    key: Option<String>,
    desired: Option<&'a DesiredItem>,
    live: Option<&LiveItem>,
    release: Option<Release>,
) -> ItemDiff<'a> {
    let mut out = ItemDiff {
        key,
        desired,
        live: live.cloned(),
        write: Write::None,
        changes: Vec::new(),
        write_only: Vec::new(),
        triggers: Vec::new(),
        unsupported: Vec::new(),
        actions: Vec::new(),
        refused: None,
    };
    let Some(desired) = desired else {
        return out;
    };
    for attr in &desired.attributes {
        if attr
            .spec
            .since
            .zip(release)
            .is_some_and(|(since, r)| r < since)
        {
            out.unsupported.push(attr);
            continue;
        }
        match attr.spec.access {
            Access::ReadWrite => {
                let before = live.and_then(|l| live_value(l, attr.spec));
                let same = before.is_some_and(|b| {
                    equivalent(attr.spec.kind, attr.spec.blank_is_unset(), &attr.value, b)
                });
                if !same {
                    out.changes.push(Change {
                        attr,
                        before: before.cloned(),
                    });
                }
            }
            Access::WriteOnly => out.write_only.push(attr),
            Access::Trigger => out.triggers.push(attr),
            // Outcomes become actions below; read-only ones were refused by validation.
            Access::Outcome | Access::ReadOnly => {}
        }
    }
    for action in spec.actions {
        if let ActionWhen::Outcome { outcome, live_attr } = action.when
            && desired
                .attribute(outcome)
                .is_some_and(|a| a.value == Value::Bool(true))
            && live
                .and_then(|l| l.attributes.get(live_attr))
                .is_some_and(|v| !is_blank(v))
        {
            out.actions.push(action);
        }
    }
    out
}

/// The live value an attribute is compared with: its own, or for a deprecated alias the
/// value of the attribute it stands for when the server no longer returns the alias.
fn live_value<'l>(item: &'l LiveItem, spec: &AttrSpec) -> Option<&'l Value> {
    item.attributes
        .get(spec.name)
        .or_else(|| spec.alias_of.and_then(|target| item.attributes.get(target)))
}

/// Whether a desired and a live value mean the same to the API. `blank_is_unset` (from
/// [`AttrSpec::blank_is_unset`]) makes `null` and `""` equal: an optional text that one
/// installation answers as `null` and another as `""` must not show as a change on every run.
#[must_use]
pub fn equivalent(kind: Kind, blank_is_unset: bool, desired: &Value, live: &Value) -> bool {
    if desired == live {
        return true;
    }
    if blank_is_unset && is_blank(desired) && is_blank(live) {
        return true;
    }
    match (kind, desired, live) {
        (Kind::Duration, Value::String(a), Value::String(b)) => {
            values::parse_duration(a).is_some_and(|a| Some(a) == values::parse_duration(b))
        }
        (Kind::Pem, Value::String(a), Value::String(b)) => {
            let squeeze = |s: &str| s.split_whitespace().collect::<String>();
            squeeze(a) == squeeze(b)
        }
        (Kind::Html, Value::String(a), Value::String(b)) => decode_html(a) == decode_html(b),
        (Kind::JsonText, Value::String(a), Value::String(b)) => {
            match (
                serde_json::from_str::<Value>(a),
                serde_json::from_str::<Value>(b),
            ) {
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            }
        }
        (Kind::Integer, Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Kind::Sha256, Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
        (Kind::KeyedSet { key, fields }, Value::Array(a), Value::Array(b)) => {
            same_set(key, fields, a, b)
        }
        _ => false,
    }
}

/// Whether two lists of objects hold the same entries, in any order: each desired entry has a
/// live one with the same key fields whose every field the desired entry gives is equivalent.
fn same_set(key: &[&str], fields: &[(&str, Kind)], desired: &[Value], live: &[Value]) -> bool {
    let key_of = |entry: &Value| -> Vec<Option<Value>> {
        key.iter().map(|k| entry.get(*k).cloned()).collect()
    };
    desired.len() == live.len()
        && desired.iter().all(|wanted| {
            let Some(held) = live.iter().find(|held| key_of(held) == key_of(wanted)) else {
                return false;
            };
            let Some(wanted) = wanted.as_object() else {
                return wanted == held;
            };
            wanted.iter().all(|(name, value)| {
                let kind = fields
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(Kind::Text, |(_, k)| *k);
                held.get(name)
                    .is_some_and(|h| equivalent(kind, false, value, h))
            })
        })
}

/// Null, or the empty string: what an API returns for "not set".
#[must_use]
pub fn is_blank(value: &Value) -> bool {
    value.is_null() || value.as_str().is_some_and(str::is_empty)
}

/// The text a browser shows for HTML source: every named and numeric character reference
/// decoded as the HTML standard says (all of its named entities, `&nbsp;`, `&hellip;`, the
/// legacy ones written without `;`, numbers out of range as U+FFFD), each once: `&amp;lt;` is
/// `&lt;`, not `<`. An API may store HTML escaped or not; what the user sees is what counts.
#[must_use]
pub fn decode_html(text: &str) -> String {
    htmlize::unescape(text).into_owned()
}

/// The rules of every managed section, over the files laid on the live state.
fn violations(desired: &DesiredState, live: &LiveState) -> Vec<RuleViolation> {
    let view = CombinedView { desired, live };
    let mut found = Vec::new();
    for section in &desired.sections {
        let Some(item) = section.item(None) else {
            continue;
        };
        for violation in (section.spec.rules)(&view) {
            if violation.section != section.spec.key {
                continue;
            }
            let pos = item
                .attribute(violation.attr)
                .or_else(|| section.spec.enabled_by.and_then(|e| item.attribute(e)))
                .map_or_else(|| section.pos.clone(), |a| a.pos.clone());
            found.push(RuleViolation {
                path: format!("{}.{}", violation.section, violation.attr),
                message: violation.message,
                pos,
            });
        }
    }
    found
}

/// The state the installation will have: the file's value where it sets one, else the live
/// value (unknown for write-only attributes, which GET never returns).
struct CombinedView<'a> {
    desired: &'a DesiredState,
    live: &'a LiveState,
}

impl AttrView for CombinedView<'_> {
    fn get(&self, section: &str, attr: &str) -> Known<'_> {
        if let Some(value) = self
            .desired
            .section(section)
            .and_then(|s| s.attribute(attr))
            .map(|a| &a.value)
        {
            return Known::Set(value);
        }
        let Some(live) = self.live.section(section) else {
            return Known::Unknown;
        };
        let write_only = live
            .spec
            .attribute(attr)
            .is_some_and(|a| a.access == Access::WriteOnly);
        if write_only {
            return Known::Unknown;
        }
        live.attribute(attr).map_or(Known::Unknown, Known::Set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_compare_as_durations() {
        assert!(equivalent(
            Kind::Duration,
            false,
            &json!("120m"),
            &json!("2h")
        ));
        assert!(equivalent(
            Kind::Duration,
            false,
            &json!("1h30m"),
            &json!("90m")
        ));
        assert!(!equivalent(
            Kind::Duration,
            false,
            &json!("3h"),
            &json!("2h")
        ));
        assert!(!equivalent(
            Kind::Duration,
            false,
            &json!("2h"),
            &json!("garbage")
        ));
    }

    #[test]
    fn pem_compares_modulo_whitespace() {
        let a = "-----BEGIN CERTIFICATE-----\nMIIB\nAAAA\n-----END CERTIFICATE-----\n";
        let b = "-----BEGIN CERTIFICATE-----\r\nMIIBAAAA\r\n-----END CERTIFICATE-----";
        assert!(equivalent(Kind::Pem, false, &json!(a), &json!(b)));
        assert!(!equivalent(
            Kind::Pem,
            false,
            &json!(a),
            &json!("-----BEGIN X-----")
        ));
    }

    #[test]
    fn html_entities_are_decoded_before_comparing() {
        assert!(equivalent(
            Kind::Html,
            false,
            &json!("<div>Login & help</div>"),
            &json!("&lt;div&gt;Login &amp; help&lt;/div&gt;")
        ));
        assert!(equivalent(
            Kind::Html,
            false,
            &json!("it's"),
            &json!("it&#39;s")
        ));
        assert!(equivalent(
            Kind::Html,
            false,
            &json!("<a>"),
            &json!("&#x3C;a&#x3e;")
        ));
        assert_eq!(decode_html("a & b &unknown; &"), "a & b &unknown; &");
    }

    #[test]
    fn keyed_sets_compare_in_any_order_and_checksums_in_any_case() {
        let Some(spec) = crate::catalogue::section("terraform-versions") else {
            panic!()
        };
        let Some(archs) = spec.attribute("archs") else {
            panic!()
        };
        let amd = json!({"os": "linux", "arch": "amd64", "url": "https://a", "sha": "ABCD"});
        let arm = json!({"os": "linux", "arch": "arm64", "url": "https://b", "sha": "ef01"});
        let amd_lower = json!({"os": "linux", "arch": "amd64", "url": "https://a", "sha": "abcd"});
        assert!(equivalent(
            archs.kind,
            false,
            &json!([amd.clone(), arm.clone()]),
            &json!([arm.clone(), amd_lower])
        ));
        assert!(!equivalent(
            archs.kind,
            false,
            &json!([amd.clone()]),
            &json!([amd.clone(), arm])
        ));
        let moved = json!({"os": "linux", "arch": "amd64", "url": "https://c", "sha": "ABCD"});
        assert!(!equivalent(
            archs.kind,
            false,
            &json!([amd]),
            &json!([moved])
        ));
    }

    #[test]
    fn every_named_and_numeric_entity_is_decoded() {
        for (escaped, plain) in [
            ("a&nbsp;b", "a\u{a0}b"),
            ("it&#39;s", "it's"),
            ("it&#x27;s", "it's"),
            ("wait&hellip;", "wait\u{2026}"),
            (
                "&copy; 2024 &mdash; &euro;5 &laquo;x&raquo;",
                "\u{a9} 2024 \u{2014} \u{20ac}5 \u{ab}x\u{bb}",
            ),
            ("&NotNestedGreaterGreater;", "\u{2aa2}\u{338}"),
        ] {
            assert_eq!(decode_html(escaped), plain, "{escaped}");
            assert!(
                equivalent(Kind::Html, false, &json!(escaped), &json!(plain)),
                "{escaped}"
            );
        }
    }

    #[test]
    fn entity_edge_cases_decode_as_a_browser_does() {
        // Unknown names stay as they are.
        assert_eq!(decode_html("&unknown; &zzz &"), "&unknown; &zzz &");
        // The legacy entities need no semicolon; others do.
        assert_eq!(decode_html("&amp &lt &copy2024"), "& < \u{a9}2024");
        assert_eq!(decode_html("&hellip"), "&hellip");
        // Numbers out of range, zero and surrogates are the replacement character; the
        // C1 range is read as Windows-1252, as browsers do.
        assert_eq!(decode_html("&#x110000;"), "\u{fffd}");
        assert_eq!(decode_html("&#99999999999999999999;"), "\u{fffd}");
        assert_eq!(decode_html("&#0;"), "\u{fffd}");
        assert_eq!(decode_html("&#xD800;"), "\u{fffd}");
        assert_eq!(decode_html("&#x80;"), "\u{20ac}");
        // A numeric reference without its semicolon still counts.
        assert_eq!(decode_html("&#65&#x42"), "AB");
        // Decoded once: an escaped entity stays an entity.
        assert_eq!(decode_html("&amp;lt;"), "&lt;");
        assert!(!equivalent(
            Kind::Html,
            false,
            &json!("&amp;lt;"),
            &json!("<")
        ));
    }

    #[test]
    fn json_text_compares_as_json() {
        assert!(equivalent(
            Kind::JsonText,
            false,
            &json!(r#"{"a": 1, "b": [1,2]}"#),
            &json!(r#"{"b":[1,2],"a":1}"#)
        ));
    }

    #[test]
    fn null_and_empty_are_alike_only_where_null_means_something() {
        assert!(equivalent(Kind::Text, true, &Value::Null, &json!("")));
        assert!(!equivalent(Kind::Text, false, &Value::Null, &json!("")));
        assert!(equivalent(Kind::Integer, false, &json!(30), &json!(30.0)));
    }
}
