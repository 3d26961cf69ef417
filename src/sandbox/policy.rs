//! Policy sections (the site-wide data retention policy, reference §3),
//! driven by the catalogue: GET answers 404 when no policy is set, else the document with a
//! null `target`; POST creates or replaces the policy (204, as documented) and needs the
//! section's `json_type` and every read-write attribute, kebab-case or camelCase; DELETE
//! removes it (204, also when there is none). Nothing endpoint-specific beyond the id prefix.

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::document::{Ctx, Problem, attr_available};
use super::respond;
use super::routes::{Request, Served};
use super::specific;
use super::state::{Db, Policy};
use super::values::{self, camel_case};
use crate::catalogue::{Access, SectionSpec};

/// Serves a policy: GET (404 when none), POST (create or replace, 204), DELETE (204, also
/// when there is none).
pub(crate) fn serve(request: &Request<'_>, db: &Db, ctx: &Ctx) -> Served {
    let spec = request.spec;
    if !request.rest.is_empty() {
        return Served::reply(respond::not_found());
    }
    match *request.method {
        Method::GET => Served::reply(if let Some(policy) = db.policy(spec.key) {
            respond::document(StatusCode::OK, &render(spec, ctx, policy))
        } else {
            let detail = format!("no {} is set", spec.key.replace('-', " "));
            respond::error(StatusCode::NOT_FOUND, "not found", Some(&detail))
        }),
        Method::POST => {
            let value: Value = match serde_json::from_slice(request.body) {
                Ok(value) => value,
                Err(e) => {
                    return Served::reply(respond::bad_request(&format!(
                        "the body is not valid JSON: {e}"
                    )));
                }
            };
            let Some(data) = value.get("data").and_then(Value::as_object) else {
                return Served::reply(respond::bad_request(
                    "the body must be a JSON:API document with a data object",
                ));
            };
            let attributes = match read(spec, ctx, data) {
                Ok(attributes) => attributes,
                Err(problems) => return Served::reply(respond::unprocessable(&problems)),
            };
            let id = db
                .policy(spec.key)
                .map_or_else(|| specific::new_policy_id(spec.key), |p| p.id.clone());
            let mut draft: Db = db.clone();
            draft.set_policy(spec.key, Some(Policy { id, attributes }));
            Served {
                draft: Some(draft),
                response: respond::empty(StatusCode::NO_CONTENT),
                effects: Vec::new(),
            }
        }
        Method::DELETE => {
            if db.policy(spec.key).is_none() {
                return Served::reply(respond::empty(StatusCode::NO_CONTENT));
            }
            let mut draft = db.clone();
            draft.set_policy(spec.key, None);
            Served {
                draft: Some(draft),
                response: respond::empty(StatusCode::NO_CONTENT),
                effects: Vec::new(),
            }
        }
        _ => Served::reply(respond::method_not_allowed(&["GET", "POST", "DELETE"])),
    }
}

fn render(spec: &SectionSpec, ctx: &Ctx, policy: &Policy) -> Value {
    let attributes: Map<String, Value> = policy
        .attributes
        .iter()
        .filter(|(name, _)| {
            spec.attribute(name)
                .is_some_and(|a| attr_available(a, ctx.release))
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    json!({
        "data": {
            "id": policy.id,
            "type": spec.json_type,
            "attributes": attributes,
            // The site-wide policy belongs to no organization or workspace.
            "relationships": { "target": { "data": null } },
        }
    })
}

/// The attributes of a POST: the type must be the section's, every read-write attribute
/// the release has must be present (the policy is replaced whole) and valid.
fn read(
    spec: &SectionSpec,
    ctx: &Ctx,
    data: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<Problem>> {
    let kind = data.get("type").and_then(Value::as_str).unwrap_or_default();
    if kind != spec.json_type {
        return Err(vec![Problem::at(
            "/data/type",
            format!(
                "type must be {}: the only policy type of the site-wide level",
                spec.json_type
            ),
        )]);
    }
    let empty = Map::new();
    let sent = data
        .get("attributes")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut problems = Vec::new();
    let mut attributes = Map::new();
    for attr in spec
        .attributes
        .iter()
        .filter(|a| a.access == Access::ReadWrite && attr_available(a, ctx.release))
    {
        let value = sent
            .get(attr.name)
            .or_else(|| sent.get(&camel_case(attr.name)));
        match value {
            None | Some(Value::Null) => {
                problems.push(Problem::new(
                    attr.name,
                    format!("{} is required", attr.name),
                ));
            }
            Some(value) => match values::check(spec, attr, value) {
                Ok(()) => {
                    attributes.insert(attr.name.to_owned(), value.clone());
                }
                Err(why) => problems.push(Problem::new(attr.name, format!("{} {why}", attr.name))),
            },
        }
    }
    if problems.is_empty() {
        Ok(attributes)
    } else {
        Err(problems)
    }
}
