//! Singleton settings documents, driven by the catalogue: what GET returns (stored value,
//! else documented default, else an empty value; derived read-only values; never write-only,
//! trigger or outcome attributes; only what the emulated release has), and what PATCH does
//! (check each attribute sent, merge only those, a `null` setting one back to unset, ignore
//! unknown and read-only ones, then let the section's own completeness rules judge the merged
//! state). Pure: no locking, no I/O.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use axum::http::{Method, StatusCode};

use super::respond;
use super::routes::{Request, Served};
use super::specific::{self, Effect};
use super::state::{Db, Table};
use super::values;
use crate::catalogue::{self, Access, AttrSpec, AttrView, Known, Release, SectionSpec};

/// What a request sees of the run-time configuration.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub release: Release,
    pub hostname: String,
}

/// A 422 entry: the JSON pointer into the request it is about and a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub pointer: String,
    pub detail: String,
}

impl Problem {
    /// A problem with the attribute `attr` (`/data/attributes/<attr>`).
    pub fn new(attr: &str, detail: impl Into<String>) -> Self {
        Problem {
            pointer: format!("/data/attributes/{attr}"),
            detail: detail.into(),
        }
    }

    /// A problem elsewhere in the document (`/data/type`).
    pub fn at(pointer: &str, detail: impl Into<String>) -> Self {
        Problem {
            pointer: pointer.to_owned(),
            detail: detail.into(),
        }
    }
}

/// Whether the emulated release has the section.
pub(crate) fn section_available(spec: &SectionSpec, release: Release) -> bool {
    spec.since.is_none_or(|since| since <= release)
}

/// Whether the emulated release has the attribute.
pub(crate) fn attr_available(attr: &AttrSpec, release: Release) -> bool {
    attr.since.is_none_or(|since| since <= release)
}

/// The value GET shows for an attribute (aliases show their target's value).
pub(crate) fn effective(db: &Db, ctx: &Ctx, spec: &SectionSpec, attr: &AttrSpec) -> Value {
    let attr = attr
        .alias_of
        .and_then(|target| spec.attribute(target))
        .unwrap_or(attr);
    if attr.access == Access::ReadOnly {
        let sibling = |name: &str| {
            spec.attribute(name)
                .map_or(Value::Null, |a| stored_or_default(db, spec, a))
        };
        if let Some(value) = specific::derived(spec.key, attr.name, ctx, &sibling) {
            return value;
        }
    }
    stored_or_default(db, spec, attr)
}

fn stored_or_default(db: &Db, spec: &SectionSpec, attr: &AttrSpec) -> Value {
    if let Some(value) = db.stored(spec.key, attr.name) {
        return value.clone();
    }
    attr.unset_value()
}

/// Whether GET returns the attribute.
fn returned(attr: &AttrSpec, release: Release) -> bool {
    matches!(attr.access, Access::ReadWrite | Access::ReadOnly) && attr_available(attr, release)
}

/// The JSON:API document of a singleton section.
pub(crate) fn render(db: &Db, ctx: &Ctx, spec: &SectionSpec) -> Value {
    let id = spec.kind.document_id().unwrap_or(spec.key);
    let attributes: Map<String, Value> = spec
        .attributes
        .iter()
        .filter(|a| returned(a, ctx.release))
        .map(|a| (a.name.to_owned(), effective(db, ctx, spec, a)))
        .collect();
    json!({
        "data": {
            "id": id,
            "type": spec.json_type,
            "attributes": attributes,
        }
    })
}

/// The settings as the catalogue's rules see them: every attribute's effective value, and for
/// write-only ones `"set"` when a value is stored, else `""` (the rules only ask "blank?").
pub(crate) struct View {
    /// Section key -> attribute name -> value.
    values: HashMap<&'static str, HashMap<&'static str, Value>>,
}

impl View {
    pub fn new(db: &Db, ctx: &Ctx) -> Self {
        let mut values = HashMap::new();
        for spec in catalogue::SECTIONS
            .iter()
            .filter(|s| s.kind.sandbox().table == Table::Settings)
        {
            for attr in spec.attributes {
                let value = match attr.access {
                    Access::ReadWrite | Access::ReadOnly => effective(db, ctx, spec, attr),
                    Access::WriteOnly => Value::from(if db.is_set(spec.key, attr.name) {
                        "set"
                    } else {
                        ""
                    }),
                    Access::Trigger | Access::Outcome => continue,
                };
                values
                    .entry(spec.key)
                    .or_insert_with(HashMap::new)
                    .insert(attr.name, value);
            }
        }
        View { values }
    }
}

impl AttrView for View {
    fn get(&self, section: &str, attr: &str) -> Known<'_> {
        self.values
            .get(section)
            .and_then(|attrs| attrs.get(attr))
            .map_or(Known::Unknown, Known::Set)
    }
}

/// Serves a settings document: GET, PATCH (merging the attributes sent), and, where
/// switching the section off destroys data (SCIM), DELETE: back to the never-configured
/// state, answered with the document; idempotent.
pub(crate) fn serve(request: &Request<'_>, db: &Db, ctx: &Ctx) -> Served {
    let spec = request.spec;
    if !request.rest.is_empty() {
        return Served::reply(respond::not_found());
    }
    let destroys = spec.disable_destroys.is_some();
    match *request.method {
        Method::GET => Served::reply(respond::document(StatusCode::OK, &render(db, ctx, spec))),
        Method::PATCH => {
            let sent = match patch_attributes(request.body) {
                Ok(sent) => sent,
                Err(detail) => return Served::reply(respond::bad_request(&detail)),
            };
            match patch(db, ctx, spec, &sent) {
                Ok(patched) => Served {
                    response: respond::document(StatusCode::OK, &render(&patched.db, ctx, spec)),
                    draft: Some(patched.db),
                    effects: patched.effects,
                },
                Err(problems) => Served::reply(respond::unprocessable(&problems)),
            }
        }
        Method::DELETE if destroys => {
            let mut draft = db.clone();
            draft.reset_section(spec.key);
            Served {
                response: respond::document(StatusCode::OK, &render(&draft, ctx, spec)),
                draft: Some(draft),
                effects: Vec::new(),
            }
        }
        _ if destroys => Served::reply(respond::method_not_allowed(&["GET", "PATCH", "DELETE"])),
        _ => Served::reply(respond::method_not_allowed(&["GET", "PATCH"])),
    }
}

/// `data.attributes` of a PATCH body; `data.type` is not checked (go-tfe sends `""`).
fn patch_attributes(body: &[u8]) -> Result<Map<String, Value>, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not valid JSON: {e}"))?;
    match value.pointer("/data/attributes") {
        Some(Value::Object(attributes)) => Ok(attributes.clone()),
        _ => Err("the body must be a JSON:API document with a data.attributes object".to_owned()),
    }
}

/// What a successful PATCH leads to. No `Debug`: the database holds secrets in clear.
pub(crate) struct Patched {
    pub db: Db,
    pub effects: Vec<Effect>,
}

/// Applies a PATCH's attributes to a copy of the database; every problem found, or the new
/// database and its side effects. Nothing is kept when there is any problem.
pub(crate) fn patch(
    db: &Db,
    ctx: &Ctx,
    spec: &'static SectionSpec,
    sent: &Map<String, Value>,
) -> Result<Patched, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut accepted: Vec<(&'static AttrSpec, &Value)> = Vec::new();
    for (name, value) in sent {
        // Unknown, read-only, outcome and too-new attributes are ignored, as TFE does.
        let Some(attr) = spec.attribute(name) else {
            continue;
        };
        if !attr_available(attr, ctx.release)
            || matches!(attr.access, Access::ReadOnly | Access::Outcome)
        {
            continue;
        }
        match values::check(spec, attr, value) {
            Ok(()) => accepted.push((attr, value)),
            Err(why) => problems.push(Problem::new(name, format!("{name} {why}"))),
        }
    }
    // Only a PATCH that would disable is refused: a disabled section's own document, sent
    // back unchanged by a read-modify-write client, changes nothing (assumption: the docs say
    // "PATCH enabled: false is a 422" without saying whether that holds while disabled).
    if let (Some(switch), Some(_)) = (spec.enabled_by, spec.disable_destroys)
        && sent.get(switch) == Some(&Value::Bool(false))
        && spec
            .attribute(switch)
            .is_some_and(|a| effective(db, ctx, spec, a) == Value::Bool(true))
    {
        problems.push(Problem::new(
            switch,
            format!(
                "{} can only be disabled with DELETE /api/v2/{}, which removes its data",
                spec.key, spec.path
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let mut draft = db.clone();
    // Deprecated aliases first, so that the current name wins when both are sent.
    accepted.sort_by_key(|(attr, _)| attr.alias_of.is_none());
    for (attr, value) in &accepted {
        match attr.access {
            // Null sets an attribute back to unset (where `values::check` let it through):
            // GET then shows its default or empty value, as if it had never been written.
            // A nullable attribute keeps the null, which is its unset value anyway.
            Access::ReadWrite if value.is_null() && !attr.nullable => {
                draft.unstore(spec.key, attr.alias_of.unwrap_or(attr.name));
            }
            Access::ReadWrite => {
                draft.store(
                    spec.key,
                    attr.alias_of.unwrap_or(attr.name),
                    (*value).clone(),
                );
            }
            Access::WriteOnly => draft.set_write_only(spec.key, attr.name, value.as_str()),
            Access::ReadOnly | Access::Trigger | Access::Outcome => {}
        }
    }
    let mut effects = Vec::new();
    specific::after_merge(spec, ctx, db, &mut draft, sent, &mut problems, &mut effects);

    let view = View::new(&draft, ctx);
    for violation in (spec.rules)(&view) {
        problems.push(Problem::new(
            violation.attr,
            format!("{} {}", violation.attr, violation.message),
        ));
    }
    if problems.is_empty() {
        Ok(Patched { db: draft, effects })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Ctx {
        Ctx {
            release: Release::semver(2, 1, 0),
            hostname: "example.com".to_owned(),
        }
    }

    fn spec(key: &str) -> &'static SectionSpec {
        match catalogue::section(key) {
            Some(s) => s,
            None => panic!("no section {key}"),
        }
    }

    fn attrs(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn a_fresh_general_document_has_the_documented_defaults() {
        let doc = render(&Db::default(), &ctx(), spec("general"));
        let a = &doc["data"]["attributes"];
        assert_eq!(a["api-rate-limit"], json!(30));
        assert_eq!(a["plan-timeout"], json!("2h"));
        assert_eq!(a["terraform-build-worker-apply-timeout"], json!("24h"));
        assert_eq!(a["stacks-entitled"], json!(true));
        assert_eq!(doc["data"]["id"], json!("general"));
    }

    #[test]
    fn aliases_write_through_to_their_target() {
        let sent = attrs(json!({"terraform-build-worker-plan-timeout": "3h"}));
        let Ok(patched) = patch(&Db::default(), &ctx(), spec("general"), &sent) else {
            panic!("refused");
        };
        let doc = render(&patched.db, &ctx(), spec("general"));
        assert_eq!(doc["data"]["attributes"]["plan-timeout"], json!("3h"));
        let both =
            attrs(json!({"plan-timeout": "4h", "terraform-build-worker-plan-timeout": "3h"}));
        let Ok(patched) = patch(&Db::default(), &ctx(), spec("general"), &both) else {
            panic!("refused");
        };
        assert_eq!(
            patched.db.stored("general", "plan-timeout"),
            Some(&json!("4h"))
        );
    }

    #[test]
    fn write_only_values_count_for_the_rules_but_are_never_shown() {
        let sent = attrs(json!({
            "enabled": true, "account-sid": "AC1", "from-number": "555", "auth-token": "tok"
        }));
        let Ok(patched) = patch(&Db::default(), &ctx(), spec("twilio"), &sent) else {
            panic!("refused");
        };
        let doc = render(&patched.db, &ctx(), spec("twilio"));
        assert!(doc["data"]["attributes"].get("auth-token").is_none());
        let without = attrs(json!({"enabled": true, "account-sid": "AC1", "from-number": "555"}));
        let Err(problems) = patch(&Db::default(), &ctx(), spec("twilio"), &without) else {
            panic!("accepted twilio without an auth token");
        };
        assert_eq!(problems[0].pointer, "/data/attributes/auth-token");
    }
}
