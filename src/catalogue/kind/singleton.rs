//! A settings document at a fixed path: GET returns it, PATCH merges the attributes sent.
//! One unkeyed item, always present: never created or deleted, except that a section whose
//! "off" switch destroys data (SCIM) is switched off by a DELETE, which needs
//! `--allow-destroy`. Pure.

use std::fmt::Write as _;

use schemars::SchemaGenerator;
use serde_json::{Value, json};

use super::{FileItem, FileSection, SectionKind};
use crate::api::Method;
use crate::catalogue::{Release, SectionSpec};
use crate::config::diagnostic::SettingPath;
use crate::config::yaml::{Key, Node, NodeValue};
use crate::desired::DesiredSection;
use crate::diff::{self, SectionDiff, Write};
use crate::live::{self, DocumentRead, Fetched, LiveError, LiveItem, LiveSection, Read, Scope};
use crate::plan::{self, BlockReason, Context, ItemPlan, Operation, SectionPlan, StepKind};

/// A settings document whose JSON:API id is `id` (`general`, `smtp`).
#[derive(Debug)]
pub struct Singleton {
    pub id: &'static str,
}

impl SectionKind for Singleton {
    fn document_id(&self) -> Option<&'static str> {
        Some(self.id)
    }

    fn verbs(&self, spec: &SectionSpec) -> String {
        if spec.disable_destroys.is_some() {
            format!("GET / PATCH / DELETE to disable, type `{}`", spec.json_type)
        } else {
            format!("GET / PATCH, type `{}`", spec.json_type)
        }
    }

    fn schema(&self, spec: &SectionSpec, generator: &mut SchemaGenerator) -> Value {
        let reference = (spec.schema)(generator).to_value();
        let mut description = spec.doc.to_owned();
        if let Some(release) = spec.since {
            let _ = write!(description, "\n\nAvailable from TFE {release}.");
        }
        json!({ "description": description, "allOf": [reference] })
    }

    fn file_section<'n>(&self, spec: &SectionSpec, key: &Key, node: &'n Node) -> FileSection<'n> {
        document_section(spec, key, node, false)
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
        Ok(match live::document_read(spec, fetched, release, false)? {
            DocumentRead::Found(document) => LiveSection::with_items(
                spec,
                vec![LiveItem {
                    key: None,
                    id: document.id,
                    attributes: document.attributes,
                }],
            ),
            DocumentRead::NotInRelease | DocumentRead::Missing => LiveSection::not_in_release(spec),
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
        let mut item = diff::compare_item(spec, None, desired.item(None), live.item(None), release);
        let disables = spec.disable_destroys.is_some()
            && item
                .changes
                .iter()
                .any(|c| spec.is_disable(c.attr.spec.name, &c.attr.value));
        if disables {
            // The DELETE resets everything else; the other changes would be moot.
            item.write = Write::Disable;
            item.changes
                .retain(|c| spec.is_disable(c.attr.spec.name, &c.attr.value));
        } else if !item.changes.is_empty() {
            item.write = Write::Update;
        }
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
            let push = context.options.push_secrets && !item.write_only.is_empty();
            let patch = (StepKind::Update, Method::Patch, spec.path.to_owned());
            match item.write {
                Write::Update => {
                    planned.operation = Operation::Update;
                    plan::write(&mut planned, spec, item, patch, Vec::new());
                }
                Write::None if push => {
                    planned.operation = Operation::Update;
                    plan::write(&mut planned, spec, item, patch, Vec::new());
                }
                Write::Disable => {
                    planned.operation = Operation::Disable;
                    let (attributes, expect) = plan::changes(item);
                    planned.attributes = attributes;
                    plan::bodyless(
                        &mut planned,
                        StepKind::Disable,
                        spec.path.to_owned(),
                        expect,
                    );
                    if !context.options.allow_destroy {
                        planned.blocked = Some(
                            BlockReason::NeedsAllowDestroy {
                                consequence: spec.disable_destroys.unwrap_or_default().to_owned(),
                            }
                            .into(),
                        );
                    }
                }
                Write::None | Write::Create | Write::Replace | Write::Delete => {
                    section.notes.extend(plan::write_only_notes(item));
                }
            }
            plan::actions(&mut planned, spec, item);
            section.push_item(planned);
        }
        section
    }

    fn export(&self, live: &LiveSection, out: &mut String) {
        let empty = serde_json::Map::new();
        let attributes = live.item(None).map_or(&empty, |i| &i.attributes);
        crate::export::document(out, live.spec, attributes);
    }

    fn sandbox(&self) -> crate::sandbox::Handler {
        crate::sandbox::Handler::SINGLETON
    }
}

/// The one item of a document section (a mapping of attributes); `null` is "no item" where
/// `null_means_none` (a policy), else a mistake.
pub(super) fn document_section<'n>(
    spec: &SectionSpec,
    key: &Key,
    node: &'n Node,
    null_means_none: bool,
) -> FileSection<'n> {
    let path = SettingPath::root().key(spec.key);
    let mut section = FileSection::default();
    match &node.value {
        NodeValue::Map(entries) => section.items.push(FileItem {
            key: None,
            pos: key.pos.clone(),
            path,
            entries,
        }),
        NodeValue::Null if null_means_none => section.prune = true,
        NodeValue::Null => section.problems.push((
            key.pos.clone(),
            path,
            format!(
                "`{}` is empty: give it attributes, or remove it to leave the section unmanaged",
                spec.key
            ),
        )),
        other => {
            let expected = if null_means_none {
                "a mapping of attributes, or null for no policy"
            } else {
                "a mapping of attributes"
            };
            section.problems.push((
                node.pos.clone(),
                path,
                format!("expected {expected}, found {}", other.type_name()),
            ));
        }
    }
    section
}
