//! A collection of items keyed by a natural name (tool versions, keyed by the version
//! string): the list is read whole, following pagination; a listed item that does not exist
//! is created (POST), one that differs gets a PATCH of the differing attributes, and with
//! `prune: true` an unlisted one is deleted, unless the API would refuse (an official
//! version, one in use), which blocks the plan. Items are addressed by the API's id, which the
//! read gives; the file never names it. The section's own rules (the key's form, one form of
//! binaries per item, what an export writes) are the [`Collection`] value's fields. Pure.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use schemars::SchemaGenerator;
use serde_json::{Map, Value, json};

use super::{FileItem, FileSection, Refusal, SectionKind};
use crate::api::Method;
use crate::api::list::PAGE_SIZE;
use crate::catalogue::{Kind, Release, SectionSpec, suggest};
use crate::config::diagnostic::SettingPath;
use crate::config::yaml::{Key, Node, NodeValue, Pos};
use crate::desired::{DesiredItem, DesiredSection};
use crate::diff::{self, RuleViolation, SectionDiff, Write};
use crate::live::{self, Fetched, LiveError, LiveItem, LiveSection, Read, Scope};
use crate::plan::{
    self, BlockReason, Context, ItemPlan, Operation, PlannedValue, SectionPlan, StepKind,
};

/// A collection endpoint and the rules of its items.
#[derive(Debug)]
pub struct Collection {
    /// The key in the file under which the items are listed (`versions`).
    pub items_key: &'static str,
    /// The API attribute that holds an item's natural key (`version`).
    pub key_attr: &'static str,
    /// What a key looks like, for messages (`N.N.N or N.N.N-suffix, like 1.9.8`).
    pub key_form: &'static str,
    /// The JSON Schema pattern of a key (for editors; [`Self::key_valid`] decides).
    pub key_pattern: &'static str,
    pub key_valid: fn(&str) -> bool,
    /// The order of an export.
    pub key_order: fn(&str, &str) -> Ordering,
    /// Rules over one item, from the file alone.
    pub item_rules: fn(&Map<String, Value>) -> Vec<ItemProblem>,
    /// Rules over one item and the live item it would change (`None`: it is created).
    pub plan_rules: PlanRules,
    /// Why the API would refuse to delete a live item.
    pub refusal: fn(&Map<String, Value>) -> Option<Refusal>,
    /// The attributes of a live item an export writes (one form of a choice of forms).
    pub exported: fn(&Map<String, Value>) -> Map<String, Value>,
}

/// Rules over an item of the file and the live item it would change (`None`: created).
pub type PlanRules = fn(&Map<String, Value>, Option<&Map<String, Value>>) -> Vec<ItemProblem>;

/// A problem with one item: where in the item (empty: the item itself), and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemProblem {
    pub path: SettingPath,
    pub message: String,
}

impl Collection {
    /// Where an item is in the file.
    fn item_path(&self, spec: &SectionSpec, key: &str) -> SettingPath {
        SettingPath::root()
            .key(spec.key)
            .key(self.items_key)
            .key(key)
    }

    /// Every keyed set of the item with a key listed twice (`archs` with two linux/amd64).
    fn duplicate_entries(spec: &SectionSpec, item: &Map<String, Value>) -> Vec<ItemProblem> {
        let mut found = Vec::new();
        for attr in spec.attributes {
            let Kind::KeyedSet { key, .. } = attr.kind else {
                continue;
            };
            let Some(entries) = item.get(attr.name).and_then(Value::as_array) else {
                continue;
            };
            let mut seen = HashSet::new();
            for (index, entry) in entries.iter().enumerate() {
                let id: Vec<String> = key
                    .iter()
                    .map(|k| entry.get(*k).map_or_else(String::new, value_text))
                    .collect();
                if !seen.insert(id.clone()) {
                    found.push(ItemProblem {
                        path: SettingPath::root().key(attr.name).index(index),
                        message: format!(
                            "{} is listed twice in `{}`: each {} once",
                            id.join("/"),
                            attr.name,
                            key.join(" and ")
                        ),
                    });
                }
            }
        }
        found
    }
}

fn value_text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

impl SectionKind for Collection {
    fn verbs(&self, spec: &SectionSpec) -> String {
        format!(
            "GET, paginated / POST / PATCH and DELETE per item, type `{}`; keyed by `{}`",
            spec.json_type, self.key_attr
        )
    }

    fn item_depth(&self) -> usize {
        2
    }

    fn schema(&self, spec: &SectionSpec, generator: &mut SchemaGenerator) -> Value {
        let item = (spec.schema)(generator).to_value();
        let mut description = spec.doc.to_owned();
        if let Some(release) = spec.since {
            let _ = write!(description, "\n\nAvailable from TFE {release}.");
        }
        let mut properties = Map::new();
        properties.insert(
            "prune".to_owned(),
            json!({
                "type": "boolean",
                "default": false,
                "description": format!(
                    "Whether {} the file does not list are deleted (the API refuses to \
                     delete some: the plan shows those as blocked). Default: left alone.",
                    self.items_key
                ),
            }),
        );
        properties.insert(
            self.items_key.to_owned(),
            json!({
                "type": "object",
                "description": format!(
                    "The {} to manage, keyed by `{}` ({}): quote the key, a YAML number is \
                     not a version.",
                    self.items_key, self.key_attr, self.key_form
                ),
                "propertyNames": { "pattern": self.key_pattern },
                "additionalProperties": item,
            }),
        );
        json!({
            "description": description,
            "type": "object",
            "additionalProperties": false,
            "properties": properties,
        })
    }

    fn file_section<'n>(&self, spec: &SectionSpec, key: &Key, node: &'n Node) -> FileSection<'n> {
        let path = SettingPath::root().key(spec.key);
        let mut section = FileSection::default();
        let NodeValue::Map(entries) = &node.value else {
            let message = match &node.value {
                NodeValue::Null => format!(
                    "`{}` is empty: give it `{}` (and `prune`), or remove it to leave the \
                     section unmanaged",
                    spec.key, self.items_key
                ),
                other => format!(
                    "expected a mapping with `prune` and `{}`, found {}",
                    self.items_key,
                    other.type_name()
                ),
            };
            section.problems.push((key.pos.clone(), path, message));
            return section;
        };
        for (entry, value) in entries {
            if entry.name == "prune" {
                section.prune = value.value == NodeValue::Bool(true);
            } else if entry.name == self.items_key {
                self.items(spec, entry, value, &mut section);
            } else {
                let message = if (self.key_valid)(&entry.name) {
                    format!(
                        "`{}` belongs under `{}:` (the section holds `prune` and `{}`)",
                        entry.name, self.items_key, self.items_key
                    )
                } else if let Some(near) =
                    suggest(&entry.name, ["prune", self.items_key].into_iter())
                {
                    format!("unknown key `{}`; did you mean `{near}`?", entry.name)
                } else {
                    format!(
                        "unknown key `{}`; expected `prune` or `{}`",
                        entry.name, self.items_key
                    )
                };
                section
                    .problems
                    .push((entry.pos.clone(), path.key(&entry.name), message));
            }
        }
        section
    }

    fn item_problems(&self, spec: &SectionSpec, item: &Map<String, Value>) -> Vec<ItemProblem> {
        let mut found = (self.item_rules)(item);
        found.extend(Self::duplicate_entries(spec, item));
        found
    }

    fn reads(&self, spec: &SectionSpec, scope: Scope<'_>) -> Vec<Read> {
        // Items are read whole: prune, export and the check for a key held twice need every
        // one. A verifying read knows how many there are, and reads every page at once.
        let expected = match scope {
            Scope::Planned { items, live_count } => {
                live_count.unwrap_or(0) + u64::try_from(items.len()).unwrap_or(u64::MAX)
            }
            Scope::All | Scope::Desired(_) => 0,
        };
        vec![Read::List {
            path: spec.path.to_owned(),
            query: Vec::new(),
            expected_pages: expected.div_ceil(PAGE_SIZE).max(1),
        }]
    }

    fn live(
        &self,
        spec: &'static SectionSpec,
        fetched: Vec<Fetched>,
        release: Option<Release>,
    ) -> Result<LiveSection, LiveError> {
        let Some(resources) = live::list_read(spec, fetched, release)? else {
            return Ok(LiveSection::not_in_release(spec));
        };
        let mut seen = HashSet::new();
        let mut items = Vec::with_capacity(resources.len());
        for resource in resources {
            let id = resource.get("id").and_then(Value::as_str).unwrap_or("");
            // The id goes into the paths of PATCH and DELETE: only what TFE's ids are made of
            // (`tool-L4oe7rNwn7J4E5Yr`), never a `/`, `..` or `?` a server could slip in.
            if id.is_empty()
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(LiveError::BadId {
                    path: spec.path.to_owned(),
                });
            }
            // A list that moved while it was paged may show an item twice: the same id.
            if !seen.insert(id.to_owned()) {
                continue;
            }
            let attributes = resource
                .get("attributes")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let Some(key) = attributes.get(self.key_attr).and_then(Value::as_str) else {
                return Err(LiveError::NoKey {
                    path: spec.path.to_owned(),
                    attribute: self.key_attr,
                    id: id.to_owned(),
                });
            };
            items.push(LiveItem {
                key: Some(key.to_owned()),
                id: Some(id.to_owned()),
                attributes,
            });
        }
        Ok(LiveSection::with_items(spec, items))
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
        out.live_count = Some(u64::try_from(live.items.len()).unwrap_or(u64::MAX));
        let mut held: BTreeMap<&str, Vec<&LiveItem>> = BTreeMap::new();
        for item in &live.items {
            held.entry(item.key.as_deref().unwrap_or_default())
                .or_default()
                .push(item);
        }
        for item in &desired.items {
            let key = item.key.clone().unwrap_or_default();
            let matches = held.get(key.as_str()).map_or(&[][..], Vec::as_slice);
            if matches.len() > 1 {
                out.violations
                    .push(self.held_twice(spec, &key, matches, item.pos.clone()));
                continue;
            }
            let current = matches.first().copied();
            let mut compared =
                diff::compare_item(spec, Some(key.clone()), Some(item), current, release);
            self.check_item(
                spec,
                item,
                current,
                &compared.unsupported,
                release,
                &mut out,
            );
            compared.write = match current {
                None => Write::Create,
                Some(_) if !compared.changes.is_empty() => Write::Update,
                Some(_) => Write::None,
            };
            compared.unsupported.clear();
            out.items.push(compared);
        }
        if desired.prune {
            let mut unlisted: Vec<(&str, &Vec<&LiveItem>)> =
                held.iter().map(|(k, copies)| (*k, copies)).collect();
            unlisted.sort_by(|a, b| (self.key_order)(a.0, b.0));
            for (key, copies) in unlisted {
                if desired.item(Some(key)).is_some() {
                    continue;
                }
                if copies.len() > 1 {
                    out.violations
                        .push(self.held_twice(spec, key, copies, desired.pos.clone()));
                    continue;
                }
                let Some(current) = copies.first() else {
                    continue;
                };
                let mut gone =
                    diff::compare_item(spec, Some(key.to_owned()), None, Some(current), release);
                gone.write = Write::Delete;
                gone.refused = (self.refusal)(&current.attributes);
                out.items.push(gone);
            }
        }
        out
    }

    fn plan(&self, d: &SectionDiff<'_>, _: &Context<'_>) -> SectionPlan {
        let spec = d.spec;
        let mut section = SectionPlan::new(spec);
        section.live_count = d.live_count;
        for item in &d.items {
            let mut planned = ItemPlan::of(item);
            let key = item.key.clone().unwrap_or_default();
            let id = item
                .live
                .as_ref()
                .and_then(|l| l.id.clone())
                .unwrap_or_default();
            let at_id = format!("{}/{id}", spec.path);
            match item.write {
                Write::Create => {
                    planned.operation = Operation::Create;
                    plan::write(
                        &mut planned,
                        spec,
                        item,
                        (StepKind::Create, Method::Post, spec.path.to_owned()),
                        vec![PlannedValue::plain(self.key_attr, Value::from(key))],
                    );
                }
                Write::Update => {
                    planned.operation = Operation::Update;
                    plan::write(
                        &mut planned,
                        spec,
                        item,
                        (StepKind::Update, Method::Patch, at_id),
                        Vec::new(),
                    );
                }
                Write::Delete => {
                    planned.operation = Operation::Delete;
                    plan::bodyless(&mut planned, StepKind::Delete, at_id, Vec::new());
                    if let Some(refusal) = item.refused {
                        planned.blocked = Some(BlockReason::DeleteRefused { refusal }.into());
                    }
                }
                Write::None | Write::Replace | Write::Disable => {}
            }
            section.push_item(planned);
        }
        section
    }

    fn export(&self, live: &LiveSection, out: &mut String) {
        let spec = live.spec;
        let _ = writeln!(out, "{}:\n  prune: false", spec.key);
        let mut held: BTreeMap<&str, Vec<&LiveItem>> = BTreeMap::new();
        for item in &live.items {
            held.entry(item.key.as_deref().unwrap_or_default())
                .or_default()
                .push(item);
        }
        if held.is_empty() {
            let _ = writeln!(out, "  {}: {{}}", self.items_key);
            return;
        }
        let _ = writeln!(out, "  {}:", self.items_key);
        let mut keys: Vec<&str> = held.keys().copied().collect();
        keys.sort_by(|a, b| (self.key_order)(a, b));
        for key in keys {
            let copies = &held[key];
            let quoted = Value::from(key);
            if let [item] = copies.as_slice() {
                let _ = write!(out, "    {quoted}:");
                crate::export::item(out, spec, &(self.exported)(&item.attributes), 6);
            } else {
                // A map cannot hold the key twice, and the tool will not guess which one the
                // file means: left out, and said so.
                let _ = writeln!(
                    out,
                    "    # {quoted}: held {} times by the installation: not exported",
                    copies.len()
                );
            }
        }
    }

    fn sandbox(&self) -> crate::sandbox::Handler {
        crate::sandbox::Handler::collection(self.key_attr, self.key_valid, self.refusal)
    }
}

impl Collection {
    /// The items of the file under the items key.
    fn items<'n>(
        &self,
        spec: &SectionSpec,
        entry: &Key,
        value: &'n Node,
        section: &mut FileSection<'n>,
    ) {
        let base = SettingPath::root().key(spec.key).key(self.items_key);
        let NodeValue::Map(items) = &value.value else {
            let found = match &value.value {
                NodeValue::Null => "nothing".to_owned(),
                other => other.type_name().to_owned(),
            };
            section.problems.push((
                entry.pos.clone(),
                base,
                format!(
                    "expected a mapping of {} keyed by `{}` (or `{{}}` for none), found {found}",
                    self.items_key, self.key_attr
                ),
            ));
            return;
        };
        for (key, node) in items {
            let path = self.item_path(spec, &key.name);
            if !(self.key_valid)(&key.name) {
                section.problems.push((
                    key.pos.clone(),
                    path,
                    format!(
                        "`{}` is not a {}: expected {}",
                        key.name, self.key_attr, self.key_form
                    ),
                ));
                continue;
            }
            match &node.value {
                NodeValue::Map(entries) => section.items.push(FileItem {
                    key: Some(key.name.clone()),
                    pos: key.pos.clone(),
                    path,
                    entries,
                }),
                other => section.problems.push((
                    node.pos.clone(),
                    path,
                    format!(
                        "expected a mapping of attributes (`{{}}` to only require that it \
                         exists), found {}",
                        if matches!(other, NodeValue::Null) {
                            "nothing"
                        } else {
                            other.type_name()
                        }
                    ),
                )),
            }
        }
    }

    /// The item's own checks against the installation: attributes the release lacks, and
    /// the collection's rules with the live item.
    fn check_item(
        &self,
        spec: &SectionSpec,
        item: &DesiredItem,
        current: Option<&LiveItem>,
        unsupported: &[&crate::desired::DesiredAttr],
        release: Option<Release>,
        out: &mut SectionDiff<'_>,
    ) {
        let key = item.key.as_deref().unwrap_or_default();
        let path = self.item_path(spec, key);
        let running = release.map_or_else(|| "an unknown release".to_owned(), |r| r.to_string());
        for attr in unsupported {
            out.violations.push(RuleViolation {
                path: path.key(attr.spec.name).to_string(),
                message: format!(
                    "`{}` needs TFE {}; this installation runs {running}",
                    attr.spec.name,
                    attr.spec.since.map(|s| s.to_string()).unwrap_or_default()
                ),
                pos: attr.pos.clone(),
            });
        }
        let values: Map<String, Value> = item
            .attributes
            .iter()
            .map(|a| (a.spec.name.to_owned(), a.value.clone()))
            .collect();
        for problem in (self.plan_rules)(&values, current.map(|c| &c.attributes)) {
            let pos = problem
                .path
                .key_at(0)
                .and_then(|name| item.attribute(name))
                .map_or_else(|| item.pos.clone(), |a| a.pos.clone());
            out.violations.push(RuleViolation {
                path: path.join(&problem.path).to_string(),
                message: problem.message,
                pos,
            });
        }
    }

    /// An item the installation holds more than once: the file cannot say which one it means.
    fn held_twice(
        &self,
        spec: &SectionSpec,
        key: &str,
        copies: &[&LiveItem],
        pos: Pos,
    ) -> RuleViolation {
        let ids: Vec<&str> = copies.iter().filter_map(|c| c.id.as_deref()).collect();
        RuleViolation {
            path: self.item_path(spec, key).to_string(),
            message: format!(
                "the installation holds `{key}` {} times (ids {}); refusing to guess which one \
                 the file means: remove the extra copies first",
                copies.len(),
                ids.join(", ")
            ),
            pos,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn terraform() -> &'static SectionSpec {
        match crate::catalogue::section("terraform-versions") {
            Some(spec) => spec,
            None => panic!("no terraform-versions in the catalogue"),
        }
    }

    fn read(resources: &Value) -> Result<LiveSection, LiveError> {
        let items = resources.as_array().cloned().unwrap_or_default();
        terraform()
            .kind
            .live(terraform(), vec![Fetched::List(Ok(items))], None)
    }

    #[test]
    fn items_are_keyed_by_version_and_an_item_seen_twice_while_paging_counts_once() {
        let one = json!({"id": "tool-a1", "attributes": {"version": "1.9.8"}});
        let Ok(live) = read(&json!([one.clone(), one])) else {
            panic!("not read");
        };
        assert_eq!(live.items.len(), 1);
        assert_eq!(
            live.item(Some("1.9.8")).and_then(|i| i.id.as_deref()),
            Some("tool-a1")
        );
    }

    #[test]
    fn ids_that_could_leave_the_items_path_are_refused() {
        for id in ["../../account/details", "tool-1?x=1", "tool/2", ""] {
            let resource = json!([{"id": id, "attributes": {"version": "1.9.8"}}]);
            assert!(
                matches!(read(&resource), Err(LiveError::BadId { .. })),
                "{id:?}"
            );
        }
        let keyless = json!([{"id": "tool-a1", "attributes": {}}]);
        assert!(matches!(read(&keyless), Err(LiveError::NoKey { .. })));
    }
}
