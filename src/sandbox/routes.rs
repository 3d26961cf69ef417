//! Routing and authorization of `/api/v2/`, built from the catalogue: every section path
//! (and the paths below it, for a collection's items) and every action path of
//! [`crate::catalogue::SECTIONS`], plus `ping` and `account/details`; and the service
//! discovery document outside `/api/v2/`. Answers 401 for a missing or unknown token, 404 for
//! what the token may not see (TFE never says 403) or the emulated release does not have;
//! then hands the request to the handler the section's kind chose, and keeps the new database
//! it returns (unless a fault says the change is acknowledged but not kept). Section-specific
//! behaviour is `specific`'s; this file must stay generic.

use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;

use super::document::{self, Ctx, section_available};
use super::installation;
use super::respond;
use super::server::{App, lock};
use super::specific::{self, Effect, Reply};
use super::state::Db;
use super::tokens::TokenKind;
use crate::catalogue::{self, ActionResponse, ActionSpec, SectionSpec};

/// A request to a section, as its handler sees it.
pub(crate) struct Request<'a> {
    pub spec: &'static SectionSpec,
    pub method: &'a Method,
    /// The path below the section's own (`""` for the section, `tool-…` for an item).
    pub rest: &'a str,
    /// The query string, if any (a list's paging and filters).
    pub query: Option<&'a str>,
    pub body: &'a [u8],
}

/// What a handler answers: the response, and the new database and side effects to keep
/// (kept before the response is sent). No `Debug`: the database holds secrets in clear.
pub(crate) struct Served {
    pub draft: Option<Db>,
    pub response: Response,
    pub effects: Vec<Effect>,
}

impl Served {
    /// A response that changes nothing.
    pub fn reply(response: Response) -> Self {
        Served {
            draft: None,
            response,
            effects: Vec::new(),
        }
    }
}

/// The handler of a section without a document of its own.
pub(crate) fn not_served(_: &Request<'_>, _: &Db, _: &Ctx) -> Served {
    Served::reply(respond::not_found())
}

enum Route<'p> {
    Ping,
    AccountDetails,
    Section(&'static SectionSpec, &'p str),
    Action(&'static SectionSpec, &'static ActionSpec),
}

fn resolve(path: &str) -> Option<Route<'_>> {
    let rest = path.strip_prefix("/api/v2/")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    match rest {
        "ping" => return Some(Route::Ping),
        "account/details" => return Some(Route::AccountDetails),
        _ => {}
    }
    for spec in catalogue::SECTIONS {
        if let Some(action) = spec.actions.iter().find(|a| a.path == rest) {
            return Some(Route::Action(spec, action));
        }
    }
    for spec in catalogue::SECTIONS {
        if spec.path == rest {
            return Some(Route::Section(spec, ""));
        }
        if let Some(item) = rest
            .strip_prefix(spec.path)
            .and_then(|r| r.strip_prefix('/'))
        {
            return Some(Route::Section(spec, item));
        }
    }
    None
}

/// Answers one API request (after faults and rate limiting). `keep` false: the change is
/// answered as done but not kept (an injected fault).
pub(crate) async fn dispatch(
    app: &App,
    method: &Method,
    uri: &axum::http::Uri,
    kind: Option<TokenKind>,
    body: &[u8],
    keep: bool,
) -> Response {
    let path = uri.path();
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
        Route::Section(spec, rest) => {
            if !section_available(spec, ctx.release) {
                return respond::not_found();
            }
            let reading = *method == Method::GET && specific::readable_by_any_user(spec.key);
            if kind != TokenKind::Admin && !reading {
                return respond::not_found();
            }
            let handler = spec.kind.sandbox();
            let request = Request {
                spec,
                method,
                rest,
                query: uri.query(),
                body,
            };
            let mut db = app.db.lock().await;
            let served = (handler.serve)(&request, &db, &ctx);
            if let Some(draft) = served.draft
                && keep
                && let Err(response) = app.commit(&mut db, draft).await
            {
                return response;
            }
            drop(db);
            if keep {
                let mut outbox = lock(&app.outbox);
                for effect in served.effects {
                    outbox.record(effect);
                }
            }
            served.response
        }
        Route::Action(spec, action) => {
            if !section_available(spec, ctx.release) || kind != TokenKind::Admin {
                return respond::not_found();
            }
            if *method != Method::POST {
                return respond::method_not_allowed(&["POST"]);
            }
            run_action(app, spec, action, body, keep).await
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

async fn run_action(
    app: &App,
    spec: &'static SectionSpec,
    action: &'static ActionSpec,
    body: &[u8],
    keep: bool,
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
    // Not kept: answered from the change, which is then dropped.
    let mut unkept = None;
    match done.db {
        Some(draft) if keep => {
            if let Err(response) = app.commit(&mut db, draft).await {
                return response;
            }
        }
        other => unkept = other,
    }
    if keep {
        let mut outbox = lock(&app.outbox);
        outbox.count_action(spec.key, action.name);
        if let Some(effect) = done.effect {
            outbox.record(effect);
        }
    }
    match done.reply {
        Reply::Document => {
            let shown = unkept.as_ref().unwrap_or(&db);
            respond::document(StatusCode::OK, &document::render(shown, &ctx, spec))
        }
        Reply::Empty(status) => {
            respond::empty(StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT))
        }
    }
}
