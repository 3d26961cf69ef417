//! Validation of the merged document: the catalogue's structure (sections, attributes,
//! read-only and deprecated keys, literal secrets), the generated JSON Schema (jsonschema) and
//! the API's completeness rules, every problem reported in one pass. Builds the
//! [`DesiredState`] when nothing is wrong. Pure: no I/O, no network.

use std::sync::OnceLock;
use std::time::SystemTime;

use serde_json::{Map, Value};

use super::diagnostic::{Diagnostic, Found, Reason, SettingPath, Step};
use super::schema::desired_state_schema;
use super::yaml::{Key, Node, NodeValue, Pos};
use crate::catalogue::{self, Access, AttrSpec, AttrView, Kind, Known, SECTIONS, SectionSpec};
use crate::certificate::{self, PemBlock, Validity};
use crate::desired::{DesiredAttr, DesiredItem, DesiredSection, DesiredState};

/// What validation found: problems (errors and warnings), and the state if there is no error.
pub struct Outcome {
    pub diagnostics: Vec<Diagnostic>,
    pub state: Option<DesiredState>,
}

/// Validates a merged document whose root is a mapping. `already_reported` are paths with a
/// problem found earlier (interpolation): nothing more is said about them.
#[must_use]
pub fn validate(
    root: &Node,
    allow_literal_secrets: bool,
    already_reported: &[SettingPath],
) -> Outcome {
    let mut v = Validator {
        diagnostics: Vec::new(),
        reported: already_reported.to_vec(),
        allow_literal_secrets,
        now: SystemTime::now(),
    };
    let NodeValue::Map(entries) = &root.value else {
        v.error(
            &root.pos,
            SettingPath::root(),
            Reason::RootNotAMapping {
                found: root.value.type_name(),
            },
        );
        return v.finish(None);
    };
    for (key, node) in entries {
        v.check_section(key, node);
    }
    let json = v.json_of(root, &SettingPath::root());
    v.check_schema(root, &json);
    v.check_items(root, entries, &json);
    v.check_rules(root, &json);
    let state = v.build_state(entries, &json);
    v.finish(Some(state))
}

struct Validator {
    diagnostics: Vec<Diagnostic>,
    /// Paths already reported: later checks say nothing more about them.
    reported: Vec<SettingPath>,
    allow_literal_secrets: bool,
    /// The time certificates are judged at.
    now: SystemTime,
}

impl Validator {
    fn error(&mut self, pos: &Pos, path: SettingPath, reason: Reason) {
        self.reported.push(path.clone());
        self.diagnostics.push(Diagnostic::error(pos, path, reason));
    }

    fn is_reported(&self, path: &SettingPath) -> bool {
        self.reported.iter().any(|r| path.starts_with(r))
    }

    fn finish(mut self, state: Option<DesiredState>) -> Outcome {
        self.diagnostics.sort_by(|a, b| a.pos.cmp(&b.pos));
        let has_errors = self.diagnostics.iter().any(Diagnostic::is_error);
        Outcome {
            diagnostics: self.diagnostics,
            state: if has_errors { None } else { state },
        }
    }

    fn check_section(&mut self, key: &Key, node: &Node) {
        let path = SettingPath::root().key(&key.name);
        let Some(spec) = catalogue::section(&key.name) else {
            self.error(&key.pos, path, unknown_section(&key.name));
            return;
        };
        let file = spec.kind.file_section(spec, key, node);
        for (pos, path, message) in file.problems {
            self.error(&pos, path, Reason::Catalogue { message });
        }
        for item in &file.items {
            for (attr_key, value) in item.entries {
                self.check_attribute(spec, item.entries, attr_key, value, &item.path);
            }
        }
    }

    fn check_attribute(
        &mut self,
        spec: &'static SectionSpec,
        siblings: &[(Key, Node)],
        key: &Key,
        node: &Node,
        section_path: &SettingPath,
    ) {
        let path = section_path.key(&key.name);
        let Some(attr) = spec.attribute(&key.name) else {
            self.error(&key.pos, path, unknown_attribute(spec, &key.name));
            return;
        };
        match attr.access {
            Access::ReadOnly => {
                self.error(
                    &key.pos,
                    path,
                    Reason::ReadOnly {
                        attribute: attr.name,
                    },
                );
                return;
            }
            Access::ReadWrite | Access::WriteOnly | Access::Trigger | Access::Outcome => {}
        }
        if let Some(target) = attr.alias_of {
            if siblings.iter().any(|(k, _)| k.name == target) {
                self.error(
                    &key.pos,
                    path,
                    Reason::AliasAndTarget {
                        alias: attr.name,
                        target,
                    },
                );
                return;
            }
            self.diagnostics.push(Diagnostic::warning(
                &key.pos,
                path.clone(),
                Reason::Deprecated { target },
            ));
        }
        if self.is_reported(&path) {
            return;
        }
        if let NodeValue::Str(text) = &node.value {
            if attr.sensitive
                && text.template.is_none()
                && !text.value.is_empty()
                && !self.allow_literal_secrets
            {
                self.reported.push(path.clone());
                self.diagnostics
                    .push(Diagnostic::error(&node.pos, path, Reason::LiteralSecret));
                return;
            }
            if attr.kind == Kind::Duration
                && crate::catalogue::values::is_duration_too_long(&text.value)
            {
                self.error(&node.pos, path, Reason::DurationTooLong);
                return;
            }
            // Shape checks the API may not make: warnings, so that whatever the API stores
            // (the seeds' own samples are neither PEM nor JSON) can still be written back.
            let warning = match attr.kind {
                Kind::JsonText if !text.value.is_empty() => {
                    match serde_json::from_str::<Value>(&text.value) {
                        Ok(Value::Object(_)) => None,
                        Ok(_) => Some(Reason::JsonNotAnObject),
                        // serde_json's message names a position, never the content.
                        Err(e) => Some(Reason::JsonInvalid {
                            error: e.to_string(),
                        }),
                    }
                }
                Kind::Pem
                    if !text.value.trim().is_empty() && !text.value.contains("-----BEGIN ") =>
                {
                    Some(Reason::NotPem)
                }
                _ => None,
            };
            if let Some(message) = warning {
                self.diagnostics
                    .push(Diagnostic::warning(&node.pos, path.clone(), message));
            }
            if attr.holds_certificates() {
                self.check_certificates(&node.pos, &path, &text.value);
            }
        }
    }

    /// Warnings about the certificates of a value: one that expires within
    /// [`certificate::EXPIRY_WARNING_DAYS`] days or has expired (TFE would take it, and SAML
    /// logins would then fail), a block that is not a readable certificate, a key where a
    /// certificate belongs. Its public facts may be named, even for a value from a reference;
    /// its text never is.
    fn check_certificates(&mut self, pos: &Pos, path: &SettingPath, text: &str) {
        for block in certificate::read(text, self.now) {
            let message = match block {
                PemBlock::Certificate(cert) => match cert.validity {
                    Validity::Expired => Reason::CertificateExpired {
                        subject: cert.subject,
                        not_after: cert.not_after,
                    },
                    Validity::Expiring { days_left } => Reason::CertificateExpiring {
                        subject: cert.subject,
                        not_after: cert.not_after,
                        days_left,
                    },
                    Validity::Valid | Validity::NotYetValid => continue,
                },
                PemBlock::Unreadable => Reason::CertificateUnreadable,
                PemBlock::Other { label } => Reason::NotACertificate { label },
                PemBlock::NotPem if text.contains("-----BEGIN ") => Reason::PemUnterminated,
                // Said already: "does not look like PEM text".
                PemBlock::NotPem => continue,
            };
            self.diagnostics
                .push(Diagnostic::warning(pos, path.clone(), message));
        }
    }

    /// The JSON value of a node; non-finite numbers are reported and become null.
    fn json_of(&mut self, node: &Node, path: &SettingPath) -> Value {
        match &node.value {
            NodeValue::Null => Value::Null,
            NodeValue::Bool(b) => Value::Bool(*b),
            NodeValue::Int(i) => Value::from(*i),
            NodeValue::Float(f) => serde_json::Number::from_f64(*f).map_or_else(
                || {
                    self.error(&node.pos, path.clone(), Reason::NotFinite);
                    Value::Null
                },
                Value::Number,
            ),
            NodeValue::Str(text) => Value::String(text.value.clone()),
            NodeValue::Seq(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.json_of(item, &path.index(i)))
                    .collect(),
            ),
            NodeValue::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), self.json_of(v, &path.key(&k.name))))
                    .collect::<Map<String, Value>>(),
            ),
        }
    }

    fn check_schema(&mut self, root: &Node, json: &Value) {
        let Some(validator) = schema_validator() else {
            self.error(&root.pos, SettingPath::root(), Reason::SchemaDoesNotCompile);
            return;
        };
        let mut found = Vec::new();
        for error in validator.iter_errors(json) {
            let mut path = SettingPath::root();
            for segment in error.instance_path() {
                path = match segment {
                    jsonschema::paths::LocationSegment::Property(p) => path.key(&p),
                    jsonschema::paths::LocationSegment::Index(i) => path.index(i),
                };
            }
            // Keys of a collection were checked by its kind, at the key itself, in words.
            if let jsonschema::error::ValidationErrorKind::PropertyNames { .. } = error.kind() {
                continue;
            }
            // Unknown keys were reported by the structure check, at the key itself.
            if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } =
                error.kind()
            {
                for name in unexpected {
                    let key_path = path.key(name);
                    if self.is_reported(&key_path) || found.iter().any(|(p, _)| *p == key_path) {
                        continue;
                    }
                    let Some((key, _)) = find_entry(root, &path, name) else {
                        continue;
                    };
                    let allowed = allowed_keys(validator_schema_keys(&path));
                    let message = Reason::UnknownKey {
                        name: name.clone(),
                        suggestion: catalogue::suggest(name, allowed.iter().map(String::as_str))
                            .map(str::to_owned),
                        allowed,
                    };
                    found.push((key_path, (key.pos.clone(), message)));
                }
                continue;
            }
            if self.is_reported(&path) || found.iter().any(|(p, _)| *p == path) {
                continue;
            }
            let Some(node) = find(root, &path) else {
                continue;
            };
            let message = schema_message(error.kind(), &path, node);
            found.push((path, (node.pos.clone(), message)));
        }
        for (path, (pos, message)) in found {
            self.error(&pos, path, message);
        }
    }

    /// The rules each kind has for one item (a collection's: one form of binaries per
    /// version, a reason only when deprecated, each architecture once).
    fn check_items(&mut self, root: &Node, entries: &[(Key, Node)], json: &Value) {
        for (key, node) in entries {
            let Some(spec) = catalogue::section(&key.name) else {
                continue;
            };
            let file = spec.kind.file_section(spec, key, node);
            for item in &file.items {
                let Some(Value::Object(values)) = json_at(json, &item.path) else {
                    continue;
                };
                for problem in spec.kind.item_problems(spec, values) {
                    let path = item.path.join(&problem.path);
                    if self.is_reported(&path) {
                        continue;
                    }
                    let pos = find(root, &path).map_or_else(|| item.pos.clone(), |n| n.pos.clone());
                    self.error(
                        &pos,
                        path,
                        Reason::Catalogue {
                            message: problem.message,
                        },
                    );
                }
            }
        }
    }

    fn check_rules(&mut self, root: &Node, json: &Value) {
        let view = FileView(json);
        for spec in catalogue::file_sections() {
            for violation in (spec.rules)(&view) {
                let section_path = SettingPath::root().key(violation.section);
                let path = section_path.key(violation.attr);
                if self.is_reported(&path) || self.is_reported(&section_path) {
                    continue;
                }
                let pos = find(root, &path)
                    .or_else(|| find(root, &section_path.key("enabled")))
                    .or_else(|| find(root, &section_path))
                    .map_or_else(|| root.pos.clone(), |n| n.pos.clone());
                self.error(
                    &pos,
                    path,
                    Reason::Catalogue {
                        message: violation.message,
                    },
                );
            }
        }
    }

    fn build_state(&mut self, entries: &[(Key, Node)], json: &Value) -> DesiredState {
        let mut sections = Vec::new();
        for spec in SECTIONS {
            let Some((key, node)) = entries.iter().find(|(k, _)| k.name == spec.key) else {
                continue;
            };
            let path = SettingPath::root().key(spec.key);
            if self.is_reported(&path) {
                continue;
            }
            // A section with a problem is not built; the typed check below is a safety net
            // for a valid-looking one, not a second report.
            if self.reported.iter().any(|r| r.starts_with(&path)) {
                continue;
            }
            let file = spec.kind.file_section(spec, key, node);
            let mut items = Vec::with_capacity(file.items.len());
            for item in &file.items {
                let item_json = json_at(json, &item.path).cloned().unwrap_or(Value::Null);
                if let Err(e) = (spec.parse)(item_json.clone()) {
                    self.error(
                        &item.pos,
                        item.path.clone(),
                        Reason::DoesNotFit {
                            section: spec.key,
                            error: e.to_string(),
                        },
                    );
                    continue;
                }
                let attributes = item
                    .entries
                    .iter()
                    .filter_map(|(k, n)| {
                        let attr: &'static AttrSpec = spec.attribute(&k.name)?;
                        let template = match &n.value {
                            NodeValue::Str(text) => text.template.clone(),
                            _ => None,
                        };
                        Some(DesiredAttr {
                            spec: attr,
                            value: item_json.get(&k.name).cloned().unwrap_or(Value::Null),
                            pos: n.pos.clone(),
                            template,
                            base_dir: None,
                        })
                    })
                    .collect();
                items.push(DesiredItem {
                    key: item.key.clone(),
                    pos: item.pos.clone(),
                    attributes,
                });
            }
            sections.push(DesiredSection {
                spec,
                pos: key.pos.clone(),
                items,
                prune: file.prune,
            });
        }
        DesiredState { sections }
    }
}

/// The compiled schema, built once per process.
fn schema_validator() -> Option<&'static jsonschema::Validator> {
    static VALIDATOR: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            jsonschema::options()
                .should_validate_formats(true)
                .build(&desired_state_schema())
                .ok()
        })
        .as_ref()
}

/// The offline view of the rules: what the file says, nothing else.
struct FileView<'a>(&'a Value);

impl AttrView for FileView<'_> {
    fn get(&self, section: &str, attr: &str) -> Known<'_> {
        self.0
            .get(section)
            .and_then(|s| s.get(attr))
            .map_or(Known::Unknown, Known::Set)
    }
}

/// The key and value named `name` in the mapping at `path`.
fn find_entry<'a>(root: &'a Node, path: &SettingPath, name: &str) -> Option<&'a (Key, Node)> {
    let NodeValue::Map(entries) = &find(root, path)?.value else {
        return None;
    };
    entries.iter().find(|(k, _)| k.name == name)
}

/// The properties the schema allows for the object at `path` (for suggestions): the schema
/// walked along the path, through `$ref`, `allOf`, `properties`, `additionalProperties` and
/// `items`.
fn validator_schema_keys(path: &SettingPath) -> Option<Value> {
    fn resolve<'s>(schema: &'s Value, mut node: &'s Value) -> Option<&'s Value> {
        for _ in 0..8 {
            if let Some(name) = node
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
            {
                node = schema.get("$defs")?.get(name)?;
            } else if let Some(first) = node.get("allOf").and_then(|a| a.get(0)) {
                node = first;
            } else {
                return Some(node);
            }
        }
        None
    }
    let schema = desired_state_schema();
    let mut node = resolve(&schema, &schema)?;
    for step in path.steps() {
        let next = match step {
            Step::Key(name) => node
                .get("properties")
                .and_then(|p| p.get(name))
                .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()))?,
            Step::Index(_) => node.get("items")?,
        };
        node = resolve(&schema, next)?;
    }
    node.get("properties").cloned()
}

/// The value at a path of the document's JSON.
fn json_at<'a>(json: &'a Value, path: &SettingPath) -> Option<&'a Value> {
    let mut value = json;
    for step in path.steps() {
        value = match step {
            Step::Key(name) => value.get(name)?,
            Step::Index(i) => value.get(i)?,
        };
    }
    Some(value)
}

fn allowed_keys(properties: Option<Value>) -> Vec<String> {
    properties
        .and_then(|p| p.as_object().map(|o| o.keys().cloned().collect()))
        .unwrap_or_default()
}

/// The node at a path, if the document has one there.
fn find<'a>(root: &'a Node, path: &SettingPath) -> Option<&'a Node> {
    let mut node = root;
    for step in path.steps() {
        node = match (&node.value, step) {
            (NodeValue::Map(entries), Step::Key(name)) => {
                &entries.iter().find(|(k, _)| k.name == name)?.1
            }
            (NodeValue::Seq(items), Step::Index(i)) => items.get(i)?,
            _ => return None,
        };
    }
    Some(node)
}

fn unknown_section(name: &str) -> Reason {
    let known: Vec<&'static str> = catalogue::file_sections().map(|s| s.key).collect();
    Reason::UnknownSection {
        name: name.to_owned(),
        suggestion: catalogue::suggest(name, known.iter().copied()),
        owner: catalogue::file_sections()
            .find(|s| s.attribute(name).is_some())
            .map(|s| s.key),
        known,
    }
}

fn unknown_attribute(spec: &'static SectionSpec, name: &str) -> Reason {
    Reason::UnknownAttribute {
        name: name.to_owned(),
        section: spec.key,
        suggestion: catalogue::suggest(name, spec.file_attributes().map(|a| a.name)),
        owner: catalogue::file_sections()
            .find(|s| {
                s.key != spec.key
                    && s.attribute(name)
                        .is_some_and(|a| a.access != Access::ReadOnly)
            })
            .map(|s| s.key),
    }
}

/// The attribute a path points into, if it is `section.[item.]attribute...`, and whether the
/// path is the attribute itself (not something inside it).
fn attribute_at(path: &SettingPath) -> Option<(&'static AttrSpec, bool)> {
    let spec = catalogue::section(path.section()?)?;
    let depth = 1 + spec.kind.item_depth();
    let attr = spec.attribute(path.key_at(depth)?)?;
    Some((attr, path.depth() == depth + 1))
}

/// The kind of the value at a path: an attribute's, or a field's of a keyed set's entry
/// (`archs[0].url`).
fn kind_at(path: &SettingPath) -> Option<Kind> {
    let (attr, here) = attribute_at(path)?;
    if here {
        return Some(attr.kind);
    }
    let depth = path.depth();
    attr.kind.field(path.key_at(depth - 1)?)
}

/// A person's wording of a JSON Schema error. Values are quoted only when they are neither
/// sensitive nor interpolated.
fn schema_message(
    kind: &jsonschema::error::ValidationErrorKind,
    path: &SettingPath,
    node: &Node,
) -> Reason {
    use jsonschema::error::ValidationErrorKind as K;
    let attr_here = attribute_at(path).and_then(|(attr, here)| here.then_some(attr));
    let kind_here = kind_at(path);
    let found = shown_value(attr_here, node);
    match kind {
        K::Type { .. } | K::AnyOf { .. } => {
            let expected = attr_here.map_or_else(
                || match kind {
                    K::Type {
                        kind: jsonschema::error::TypeKind::Single(t),
                    } => type_phrase(t.as_str()).to_owned(),
                    _ => "another type".to_owned(),
                },
                expected_for,
            );
            let quote = matches!(
                (&node.value, kind_here),
                (
                    NodeValue::Int(_) | NodeValue::Float(_) | NodeValue::Bool(_),
                    Some(Kind::Text | Kind::Html),
                )
            );
            Reason::Type {
                expected,
                found: node.value.type_name(),
                quote,
            }
        }
        K::Minimum { limit } | K::ExclusiveMinimum { limit } => Reason::AtLeast {
            limit: limit.to_string(),
            found,
        },
        K::Maximum { limit } | K::ExclusiveMaximum { limit } => Reason::AtMost {
            limit: limit.to_string(),
            found,
        },
        K::Enum { options } => Reason::OneOf {
            options: options
                .as_array()
                .map(|o| {
                    o.iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            found,
        },
        K::MinItems { .. } => Reason::NoEntries,
        K::Pattern { .. } => match kind_here {
            Some(Kind::Sha256) => Reason::NotASha256 { found },
            Some(Kind::Duration) => Reason::NotADuration { found },
            Some(Kind::Url {
                schemes,
                allow_blank,
            }) => Reason::NotAUrl {
                prefixes: catalogue::values::scheme_prefixes(schemes),
                allow_blank,
                found,
            },
            Some(Kind::Email) => Reason::NotAnEmail { found },
            _ => Reason::NotOfTheForm { found },
        },
        K::Format { format } if format == "email" => Reason::NotAnEmail { found },
        K::Format { format } => Reason::NotAFormat {
            format: format.clone(),
            found,
        },
        K::AdditionalProperties { unexpected } => Reason::UnknownKeys {
            names: unexpected.clone(),
        },
        K::Required { property } => Reason::Missing {
            property: property.as_str().unwrap_or_default().to_owned(),
        },
        K::Not { .. } | K::FalseSchema => Reason::NotAllowedHere,
        _ => Reason::SchemaMismatch,
    }
}

/// The value as it may be quoted in a message: never a sensitive or interpolated one.
fn shown_value(attr: Option<&AttrSpec>, node: &Node) -> Option<Found> {
    if attr.is_some_and(|a| a.sensitive) {
        return None;
    }
    match &node.value {
        NodeValue::Str(text) if text.template.is_none() => {
            Some(Found::Text(text.value.chars().take(60).collect()))
        }
        NodeValue::Int(i) => Some(Found::Number(i.to_string())),
        NodeValue::Float(f) => Some(Found::Number(f.to_string())),
        _ => None,
    }
}

/// How a message names a JSON Schema type.
fn type_phrase(json_type: &str) -> &'static str {
    match json_type {
        "boolean" => "a boolean (true or false)",
        "integer" => "an integer",
        "number" => "a number",
        "string" => "a string",
        "array" => "a list",
        "object" => "a mapping",
        "null" => "null",
        _ => "another type",
    }
}

fn expected_for(attr: &AttrSpec) -> String {
    let base = match attr.kind {
        Kind::Bool => "a boolean (true or false)".to_owned(),
        Kind::Integer => "an integer".to_owned(),
        Kind::Enum(values) => format!("one of: {}", values.join(", ")),
        Kind::List => "a list".to_owned(),
        Kind::KeyedSet { fields, .. } => {
            let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
            format!("a list of {{{}}} entries", names.join(", "))
        }
        Kind::Object => "a mapping".to_owned(),
        Kind::Duration => "a duration string like 2h or 90m".to_owned(),
        Kind::Text
        | Kind::Html
        | Kind::Pem
        | Kind::Url { .. }
        | Kind::Email
        | Kind::JsonText
        | Kind::Sha256 => "a string".to_owned(),
    };
    if attr.nullable {
        format!("{base} or null")
    } else {
        base
    }
}
