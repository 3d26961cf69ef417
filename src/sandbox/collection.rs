//! Collections (the tool versions, reference §2), driven by the catalogue: `GET` of the list
//! with pagination as documented (`page[number]`, `page[size]` default 20 and at most 100,
//! `meta.pagination` and `links`; a page past the end is an empty page), `filter[version]`
//! (exact) and `search[version]` (substring, ignored beside a filter); `POST` (201 with the
//! document; 422 on a key already taken or a bad value); `GET`, `PATCH` (200) and `DELETE`
//! (204; 422 for an item the API refuses to delete: official or in use) of one item by id.
//! What is particular to tool versions (`url`/`sha` as a view of the amd64 binary) is
//! `specific`'s. Pure: a request and the database in, a response and a new database out.

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::ItemRules;
use super::document::{Ctx, Problem, attr_available};
use super::respond;
use super::routes::{Request, Served};
use super::specific;
use super::state::{Db, Item};
use super::values;
use crate::catalogue::{Access, SectionSpec};

/// The page size when none is asked for, and the largest one served (seed 002).
const DEFAULT_PAGE_SIZE: usize = 20;
const MAX_PAGE_SIZE: usize = 100;

pub(crate) fn serve(request: &Request<'_>, db: &Db, ctx: &Ctx) -> Served {
    let spec = request.spec;
    let Some(rules) = spec.kind.sandbox().items else {
        return Served::reply(respond::not_found());
    };
    let items = db.items(spec.key);
    if request.rest.is_empty() {
        return match *request.method {
            Method::GET => Served::reply(list(spec, &rules, ctx, &items, request.query)),
            Method::POST => create(spec, &rules, ctx, db, items.to_vec(), request.body),
            _ => Served::reply(respond::method_not_allowed(&["GET", "POST"])),
        };
    }
    let Some(index) = items.iter().position(|i| i.id == request.rest) else {
        return Served::reply(respond::not_found());
    };
    match *request.method {
        Method::GET => Served::reply(respond::document(
            StatusCode::OK,
            &json!({ "data": resource(spec, ctx, &items[index]) }),
        )),
        Method::PATCH => update(spec, &rules, ctx, db, items.to_vec(), index, request.body),
        Method::DELETE => delete(spec, &rules, db, items.to_vec(), index),
        _ => Served::reply(respond::method_not_allowed(&["GET", "PATCH", "DELETE"])),
    }
}

/// One item as a JSON:API resource object: what the release has of it.
fn resource(spec: &SectionSpec, ctx: &Ctx, item: &Item) -> Value {
    let mut attributes = Map::new();
    for (name, value) in &item.attributes {
        let shown = spec
            .attribute(name)
            .is_none_or(|a| attr_available(a, ctx.release));
        if shown {
            attributes.insert(name.clone(), value.clone());
        }
    }
    if let Some(permissions) = specific::derived(spec.key, "permissions", ctx, &|_| Value::Null) {
        attributes.insert("permissions".to_owned(), permissions);
    }
    json!({
        "id": item.id,
        "type": spec.json_type,
        "attributes": attributes,
        "links": { "self": format!("/api/v2/{}/{}", spec.path, item.id) },
    })
}

fn list(
    spec: &SectionSpec,
    rules: &ItemRules,
    ctx: &Ctx,
    items: &[Item],
    query: Option<&str>,
) -> axum::response::Response {
    let query: Vec<(String, String)> = query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let get = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let filter_name = format!("filter[{}]", rules.key_attr);
    let search_name = format!("search[{}]", rules.key_attr);
    let key_of = |item: &Item| {
        item.attributes
            .get(rules.key_attr)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let selected: Vec<&Item> = items
        .iter()
        .filter(|item| match (get(&filter_name), get(&search_name)) {
            // The filter takes precedence over the search.
            (Some(exact), _) => key_of(item) == exact,
            (None, Some(part)) => key_of(item).to_lowercase().contains(&part.to_lowercase()),
            (None, None) => true,
        })
        .collect();
    let number = |name: &str| {
        get(name)
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|n| *n > 0)
    };
    let size = number("page[size]")
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .min(MAX_PAGE_SIZE);
    let page = number("page[number]").unwrap_or(1);
    let total = selected.len();
    let pages = total.div_ceil(size).max(1);
    let start = page.saturating_sub(1).saturating_mul(size).min(total);
    let end = start.saturating_add(size).min(total);
    let data: Vec<Value> = selected[start..end]
        .iter()
        .map(|item| resource(spec, ctx, item))
        .collect();
    let link = |n: usize| {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in query.iter().filter(|(n, _)| !n.starts_with("page[")) {
            pairs.append_pair(name, value);
        }
        pairs.append_pair("page[number]", &n.to_string());
        pairs.append_pair("page[size]", &size.to_string());
        format!(
            "https://{}/api/v2/{}?{}",
            ctx.hostname,
            spec.path,
            pairs.finish()
        )
    };
    let prev = (page > 1).then(|| page - 1);
    let next = (page < pages).then(|| page + 1);
    respond::document(
        StatusCode::OK,
        &json!({
            "data": data,
            "links": {
                "self": link(page),
                "first": link(1),
                "prev": prev.map(link),
                "next": next.map(link),
                "last": link(pages),
            },
            "meta": { "pagination": {
                "current-page": page,
                "prev-page": prev,
                "next-page": next,
                "total-pages": pages,
                "total-count": total,
            }},
        }),
    )
}

/// `data.attributes` of a write, or the 400 to answer.
fn attributes_of(body: &[u8]) -> Result<Map<String, Value>, Box<axum::response::Response>> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Box::new(respond::bad_request(&format!(
            "the body is not valid JSON: {e}"
        )))
    })?;
    match value.pointer("/data/attributes") {
        Some(Value::Object(attributes)) => Ok(attributes.clone()),
        _ => Err(Box::new(respond::bad_request(
            "the body must be a JSON:API document with a data.attributes object",
        ))),
    }
}

/// The attributes a write sets: the known read-write ones the release has, each checked.
/// Unknown, read-only and too-new ones are ignored, as TFE does.
fn accepted(
    spec: &SectionSpec,
    rules: &ItemRules,
    ctx: &Ctx,
    sent: &Map<String, Value>,
    problems: &mut Vec<Problem>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in sent {
        if name == rules.key_attr {
            continue;
        }
        let Some(attr) = spec.attribute(name) else {
            continue;
        };
        if attr.access != Access::ReadWrite || !attr_available(attr, ctx.release) {
            continue;
        }
        match values::check(spec, attr, value) {
            Ok(()) => {
                out.insert(name.clone(), value.clone());
            }
            Err(why) => problems.push(Problem::new(name, format!("{name} {why}"))),
        }
    }
    out
}

/// Checks a new key: given, well formed, not taken by another item.
fn check_key(
    rules: &ItemRules,
    items: &[Item],
    except: Option<&str>,
    key: Option<&Value>,
    problems: &mut Vec<Problem>,
) {
    let name = rules.key_attr;
    match key.and_then(Value::as_str) {
        Some(key) if !(rules.key_valid)(key) => {
            problems.push(Problem::new(name, format!("{name} is invalid")));
        }
        Some(key) => {
            let taken = items.iter().any(|i| {
                Some(i.id.as_str()) != except
                    && i.attributes.get(name).and_then(Value::as_str) == Some(key)
            });
            if taken {
                problems.push(Problem::new(name, format!("{name} has already been taken")));
            }
        }
        None => problems.push(Problem::new(name, format!("{name} can't be blank"))),
    }
}

fn create(
    spec: &SectionSpec,
    rules: &ItemRules,
    ctx: &Ctx,
    db: &Db,
    mut items: Vec<Item>,
    body: &[u8],
) -> Served {
    let sent = match attributes_of(body) {
        Ok(sent) => sent,
        Err(response) => return Served::reply(*response),
    };
    let mut problems = Vec::new();
    check_key(rules, &items, None, sent.get(rules.key_attr), &mut problems);
    let values = accepted(spec, rules, ctx, &sent, &mut problems);
    let archs_in_release = spec
        .attribute("archs")
        .is_some_and(|a| attr_available(a, ctx.release));
    if problems.is_empty() {
        problems.extend(specific::new_item_problems(spec.key, &values));
    }
    if !problems.is_empty() {
        return Served::reply(respond::unprocessable(&problems));
    }
    // The documented defaults, then what was sent.
    let mut attributes = Map::new();
    for attr in spec
        .attributes
        .iter()
        .filter(|a| a.access == Access::ReadWrite && attr_available(a, ctx.release))
    {
        if let Some(default) = attr.default {
            attributes.insert(attr.name.to_owned(), default.to_json());
        }
    }
    attributes.insert(
        rules.key_attr.to_owned(),
        sent.get(rules.key_attr).cloned().unwrap_or(Value::Null),
    );
    attributes.extend(values.clone());
    specific::item_written(spec.key, &values, &mut attributes, archs_in_release);
    specific::item_created(spec.key, &mut attributes);
    let item = Item {
        id: specific::new_item_id(),
        attributes,
    };
    let response = respond::document(
        StatusCode::CREATED,
        &json!({ "data": resource(spec, ctx, &item) }),
    );
    items.push(item);
    let mut draft = db.clone();
    draft.set_items(spec.key, items);
    Served {
        draft: Some(draft),
        response,
        effects: Vec::new(),
    }
}

fn update(
    spec: &SectionSpec,
    rules: &ItemRules,
    ctx: &Ctx,
    db: &Db,
    mut items: Vec<Item>,
    index: usize,
    body: &[u8],
) -> Served {
    let sent = match attributes_of(body) {
        Ok(sent) => sent,
        Err(response) => return Served::reply(*response),
    };
    let mut problems = Vec::new();
    if sent.contains_key(rules.key_attr) {
        check_key(
            rules,
            &items,
            Some(&items[index].id),
            sent.get(rules.key_attr),
            &mut problems,
        );
    }
    let values = accepted(spec, rules, ctx, &sent, &mut problems);
    if !problems.is_empty() {
        return Served::reply(respond::unprocessable(&problems));
    }
    if let Some(conflict) =
        specific::item_update_conflict(spec.key, &items[index].attributes, &values)
    {
        return Served::reply(respond::error(
            StatusCode::CONFLICT,
            "conflict",
            Some(&conflict),
        ));
    }
    let archs_in_release = spec
        .attribute("archs")
        .is_some_and(|a| attr_available(a, ctx.release));
    let item = &mut items[index];
    if let Some(key) = sent.get(rules.key_attr) {
        item.attributes
            .insert(rules.key_attr.to_owned(), key.clone());
    }
    item.attributes.extend(values.clone());
    specific::item_written(spec.key, &values, &mut item.attributes, archs_in_release);
    let response = respond::document(
        StatusCode::OK,
        &json!({ "data": resource(spec, ctx, item) }),
    );
    let mut draft = db.clone();
    draft.set_items(spec.key, items);
    Served {
        draft: Some(draft),
        response,
        effects: Vec::new(),
    }
}

fn delete(
    spec: &SectionSpec,
    rules: &ItemRules,
    db: &Db,
    mut items: Vec<Item>,
    index: usize,
) -> Served {
    if (rules.refusal)(&items[index].attributes).is_some() {
        return Served::reply(respond::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable entity",
            Some("cannot be removed (it is official or is in use)"),
        ));
    }
    items.remove(index);
    let mut draft = db.clone();
    draft.set_items(spec.key, items);
    Served {
        draft: Some(draft),
        response: respond::empty(StatusCode::NO_CONTENT),
        effects: Vec::new(),
    }
}
