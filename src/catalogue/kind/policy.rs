//! A policy (the site-wide data retention policy, reference §3): GET answers 404 when none is
//! set, POST creates or replaces it whole (204, no body), DELETE removes it. At most one
//! unkeyed item; `null` in the file means "no policy". The documented sample spells the
//! attribute in camelCase (`deleteOlderThanNDays`) where the clients use kebab-case: both are
//! read, here, for the live read and apply's verification alike. Pure.

use std::fmt::Write as _;

use schemars::SchemaGenerator;
use serde_json::{Map, Value, json};

use super::singleton::document_section;
use super::{FileSection, SectionKind};
use crate::api::Method;
use crate::catalogue::{Release, SectionSpec};
use crate::config::yaml::{Key, Node};
use crate::desired::DesiredSection;
use crate::diff::{self, SectionDiff, Write};
use crate::live::{self, DocumentRead, Fetched, LiveError, LiveItem, LiveSection, Read, Scope};
use crate::plan::{self, Context, ItemPlan, Operation, SectionPlan, StepKind};

/// A policy endpoint.
#[derive(Debug)]
pub struct Policy;

impl SectionKind for Policy {
    fn verbs(&self, spec: &SectionSpec) -> String {
        format!(
            "GET, 404 when unset / POST / DELETE, type `{}`; `null` = no policy",
            spec.json_type
        )
    }

    fn schema(&self, spec: &SectionSpec, generator: &mut SchemaGenerator) -> Value {
        let reference = (spec.schema)(generator).to_value();
        // Object-or-null on the definition itself (its object keywords ignore null), not an
        // anyOf: errors inside the policy keep their own paths.
        if let Some(name) = reference
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            && let Some(definition) = generator.definitions_mut().get_mut(name)
        {
            definition["type"] = json!(["object", "null"]);
        }
        json!({
            "description": format!("{}\n\n`null` means: no policy (deleted if one exists).", spec.doc),
            "allOf": [reference],
        })
    }

    fn file_section<'n>(&self, spec: &SectionSpec, key: &Key, node: &'n Node) -> FileSection<'n> {
        document_section(spec, key, node, true)
    }

    fn reads(&self, spec: &SectionSpec, _: Scope<'_>) -> Vec<Read> {
        vec![Read::Document {
            path: spec.path.to_owned(),
        }]
    }

    fn live(
        &self,
        spec: &'static SectionSpec,
        fetched: Vec<Fetched>,
        release: Option<Release>,
    ) -> Result<LiveSection, LiveError> {
        Ok(match live::document_read(spec, fetched, release, true)? {
            DocumentRead::Found(document) => LiveSection::with_items(
                spec,
                vec![LiveItem {
                    key: None,
                    id: document.id,
                    attributes: normalise(spec, document.attributes),
                }],
            ),
            DocumentRead::Missing => LiveSection::with_items(spec, Vec::new()),
            DocumentRead::NotInRelease => LiveSection::not_in_release(spec),
        })
    }

    fn diff<'a>(
        &self,
        desired: &'a DesiredSection,
        live: &LiveSection,
        release: Option<Release>,
    ) -> SectionDiff<'a> {
        let spec = desired.spec;
        let mut out = diff::section_diff(desired, live);
        if !live.available {
            return out;
        }
        let wanted = desired.item(None);
        let held = live.item(None);
        let mut item = diff::compare_item(spec, None, wanted, held, release);
        item.write = match (wanted, held) {
            (Some(_), None) => Write::Create,
            (Some(_), Some(_)) if !item.changes.is_empty() => Write::Replace,
            (None, Some(_)) if desired.prune => Write::Delete,
            _ => Write::None,
        };
        out.items.push(item);
        out
    }

    fn plan(&self, d: &SectionDiff<'_>, context: &Context<'_>) -> SectionPlan {
        let spec = d.spec;
        let mut section = SectionPlan::new(spec);
        for item in &d.items {
            section
                .notes
                .extend(plan::unsupported_notes(item, context.release));
            let mut planned = ItemPlan::of(item);
            match item.write {
                Write::Create | Write::Replace => {
                    let create = item.write == Write::Create;
                    planned.operation = if create {
                        Operation::Create
                    } else {
                        Operation::Replace
                    };
                    // A policy is written whole: the attributes that did not change too.
                    let unchanged: Vec<_> = item
                        .desired
                        .iter()
                        .flat_map(|d| &d.attributes)
                        .filter(|a| !item.changes.iter().any(|c| c.attr.spec.name == a.spec.name))
                        .filter(|a| !item.unsupported.iter().any(|u| u.spec.name == a.spec.name))
                        .map(plan::planned_value)
                        .collect();
                    let kind = if create {
                        StepKind::Create
                    } else {
                        StepKind::Replace
                    };
                    plan::write(
                        &mut planned,
                        spec,
                        item,
                        (kind, Method::Post, spec.path.to_owned()),
                        unchanged,
                    );
                }
                Write::Delete => {
                    planned.operation = Operation::Delete;
                    plan::bodyless(
                        &mut planned,
                        StepKind::Delete,
                        spec.path.to_owned(),
                        Vec::new(),
                    );
                }
                Write::None | Write::Update | Write::Disable => {}
            }
            section.push_item(planned);
        }
        section
    }

    fn export(&self, live: &LiveSection, out: &mut String) {
        match live.item(None) {
            Some(item) => crate::export::document(out, live.spec, &item.attributes),
            None => {
                let _ = writeln!(out, "{}: null", live.spec.key);
            }
        }
    }

    fn sandbox(&self) -> crate::sandbox::Handler {
        crate::sandbox::Handler::POLICY
    }
}

/// The documented sample's camelCase names under the attributes' own (kebab-case) names.
fn normalise(spec: &SectionSpec, mut attributes: Map<String, Value>) -> Map<String, Value> {
    for attr in spec.attributes {
        let camel = crate::catalogue::values::camel_case(attr.name);
        if !attributes.contains_key(attr.name)
            && let Some(value) = attributes.remove(&camel)
        {
            attributes.insert(attr.name.to_owned(), value);
        }
    }
    attributes
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::{Body, Response};

    fn answer(status: u16, body: Value) -> Vec<Fetched> {
        vec![Fetched::Document(Ok(Response {
            status,
            body: Body::Json(body),
            tfe_version: None,
            tfe_current_version: None,
        }))]
    }

    fn spec() -> &'static SectionSpec {
        match crate::catalogue::section("data-retention-policy") {
            Some(spec) => spec,
            None => panic!("no data retention policy in the catalogue"),
        }
    }

    #[test]
    fn the_documented_camel_case_is_read_as_the_attribute() {
        let body = json!({"data": {"id": "drp-1", "type": "data-retention-policy-delete-olders",
            "attributes": {"deleteOlderThanNDays": 90}}});
        let Ok(live) = Policy.live(spec(), answer(200, body), None) else {
            panic!("not read");
        };
        assert_eq!(live.attribute("delete-older-than-n-days"), Some(&json!(90)));
    }

    #[test]
    fn a_404_or_null_data_is_no_policy() {
        for (status, body) in [(404, json!({"errors": []})), (200, json!({"data": null}))] {
            let Ok(live) = Policy.live(spec(), answer(status, body), None) else {
                panic!("not read");
            };
            assert!(live.available && live.items.is_empty());
        }
    }
}
