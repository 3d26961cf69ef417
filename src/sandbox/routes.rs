//! Routing and authorization of `/api/v2/`, built from the catalogue: every singleton and
//! policy section path and every action path of [`crate::catalogue::SECTIONS`], plus `ping`
//! and `account/details`; and the service discovery document outside `/api/v2/`. Answers 401 for a missing or unknown token, 404 for what the token
//! may not see (TFE never says 403) or the emulated release does not have, 405 for a wrong
//! method on a known path; then hands the request to the section's handler. Section-specific
//! behaviour is `specific`'s; this file must stay generic.

use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};

use super::document::{self, section_available};
use super::installation;
use super::policy;
use super::respond;
use super::server::{App, lock};
use super::specific::{self, Reply};
use super::tokens::TokenKind;
use crate::catalogue::{self, ActionResponse, ActionSpec, SectionSpec, Shape};

enum Route {
    Ping,
    AccountDetails,
    Section(&'static SectionSpec),
    Action(&'static SectionSpec, &'static ActionSpec),
}

fn resolve(path: &str) -> Option<Route> {
    let rest = path.strip_prefix("/api/v2/")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    match rest {
        "ping" => return Some(Route::Ping),
        "account/details" => return Some(Route::AccountDetails),
        _ => {}
    }
    for spec in catalogue::SECTIONS {
        if spec.path == rest && !matches!(spec.shape, Shape::ActionsOnly) {
            return Some(Route::Section(spec));
        }
        if let Some(action) = spec.actions.iter().find(|a| a.path == rest) {
            return Some(Route::Action(spec, action));
        }
    }
    None
}

/// Answers one API request (after faults and rate limiting).
pub(crate) async fn dispatch(
    app: &App,
    method: &Method,
    path: &str,
    kind: Option<TokenKind>,
    body: &[u8],
) -> Response {
    // Service discovery answers without a token: clients read it before they have one.
    if path == installation::DISCOVERY_PATH {
        return if matches!(*method, Method::GET | Method::HEAD) {
            respond::json(StatusCode::OK, &installation::discovery())
        } else {
            respond::method_not_allowed(&["GET"])
        };
    }
    if !path.starts_with("/api/v2/") {
        return respond::not_found();
    }
    let route = resolve(path);
    // `ping` answers without a token: clients call it to learn the release.
    if let Some(Route::Ping) = route {
        return if matches!(*method, Method::GET | Method::HEAD) {
            ping(app)
        } else {
            respond::method_not_allowed(&["GET"])
        };
    }
    let Some(kind) = kind else {
        return respond::unauthorized();
    };
    let Some(route) = route else {
        return respond::not_found();
    };
    let ctx = app.ctx();
    match route {
        Route::Ping => ping(app),
        Route::AccountDetails => {
            if *method == Method::GET {
                respond::document(
                    StatusCode::OK,
                    &app.tokens.account_details(kind, &ctx.hostname),
                )
            } else {
                respond::method_not_allowed(&["GET"])
            }
        }
        Route::Section(spec) => {
            if !section_available(spec, ctx.release) {
                return respond::not_found();
            }
            let reading = *method == Method::GET && specific::readable_by_any_user(spec.key);
            if kind != TokenKind::Admin && !reading {
                return respond::not_found();
            }
            match spec.shape {
                Shape::Singleton { .. } => singleton(app, spec, method, body).await,
                Shape::Policy => policy::handle(app, spec, method, body).await,
                Shape::ActionsOnly => respond::not_found(),
            }
        }
        Route::Action(spec, action) => {
            if !section_available(spec, ctx.release) || kind != TokenKind::Admin {
                return respond::not_found();
            }
            if *method != Method::POST {
                return respond::method_not_allowed(&["POST"]);
            }
            run_action(app, spec, action, body).await
        }
    }
}

fn ping(app: &App) -> Response {
    let (release, rate_limit) = {
        let run = lock(&app.run);
        (run.release, run.rate_limit)
    };
    let mut response = respond::empty(StatusCode::NO_CONTENT);
    let headers = response.headers_mut();
    for (name, value) in installation::ping_headers(release, rate_limit) {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    response
}

async fn singleton(
    app: &App,
    spec: &'static SectionSpec,
    method: &Method,
    body: &[u8],
) -> Response {
    let ctx = app.ctx();
    match *method {
        Method::GET => {
            let db = app.db.lock().await;
            respond::document(StatusCode::OK, &document::render(&db, &ctx, spec))
        }
        Method::PATCH => {
            let sent = match patch_attributes(body) {
                Ok(sent) => sent,
                Err(detail) => return respond::bad_request(&detail),
            };
            let mut db = app.db.lock().await;
            let patched = match document::patch(&db, &ctx, spec, &sent) {
                Ok(patched) => patched,
                Err(problems) => return respond::unprocessable(&problems),
            };
            if let Err(response) = app.commit(&mut db, patched.db).await {
                return response;
            }
            let mut outbox = lock(&app.outbox);
            for effect in patched.effects {
                outbox.record(effect);
            }
            drop(outbox);
            respond::document(StatusCode::OK, &document::render(&db, &ctx, spec))
        }
        // Disabling a section whose disable destroys data (SCIM) is a DELETE: back to the
        // never-configured state, answered with the document; idempotent.
        Method::DELETE if spec.destructive_disable => {
            let mut db = app.db.lock().await;
            let mut draft = db.clone();
            draft.reset_section(spec.key);
            if let Err(response) = app.commit(&mut db, draft).await {
                return response;
            }
            respond::document(StatusCode::OK, &document::render(&db, &ctx, spec))
        }
        _ if spec.destructive_disable => respond::method_not_allowed(&["GET", "PATCH", "DELETE"]),
        _ => respond::method_not_allowed(&["GET", "PATCH"]),
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

async fn run_action(
    app: &App,
    spec: &'static SectionSpec,
    action: &'static ActionSpec,
    body: &[u8],
) -> Response {
    let ctx = app.ctx();
    let mut db = app.db.lock().await;
    let done = match specific::action(spec, action, &db, &ctx, body) {
        Some(Ok(done)) => done,
        Some(Err(detail)) => return respond::bad_request(&detail),
        // No behaviour of its own: counted, and answered as the catalogue says.
        None => specific::ActionDone {
            db: None,
            effect: None,
            reply: match action.response {
                ActionResponse::Document => Reply::Document,
                ActionResponse::Empty => Reply::Empty(204),
            },
        },
    };
    if let Some(draft) = done.db
        && let Err(response) = app.commit(&mut db, draft).await
    {
        return response;
    }
    let mut outbox = lock(&app.outbox);
    outbox.count_action(spec.key, action.name);
    if let Some(effect) = done.effect {
        outbox.record(effect);
    }
    drop(outbox);
    match done.reply {
        Reply::Document => respond::document(StatusCode::OK, &document::render(&db, &ctx, spec)),
        Reply::Empty(status) => {
            respond::empty(StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT))
        }
    }
}
