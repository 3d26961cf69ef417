//! The test control plane under `/_sandbox/`, served only when the sandbox was started with
//! it (otherwise those paths are 404 like any unknown path), on loopback, and to the admin
//! token only (`server` checks it before reading anything). JSON in and out, never rate
//! limited, never logged. It sets and reads the live state, reads and clears the request log,
//! injects faults and latency, shows the outbox and the tokens, and changes the release,
//! hostname and rate limit at run time. It must never be reachable when `control` is off.

use std::time::Duration;

use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::respond;
use super::server::{App, Logged, lock};
use super::state::Db;
use crate::catalogue::Release;

/// An injected failure: the next `count` requests matching `method` (any when absent) and
/// `path` (with or without the query) get this response instead of being processed; or, with
/// `not_kept`, are processed and answered as usual but their change is dropped (a server that
/// acknowledges a write it does not keep).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Fault {
    #[serde(default)]
    method: Option<String>,
    path: String,
    /// Required unless `not_kept`.
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    not_kept: bool,
    #[serde(default = "one")]
    count: u32,
    /// Sent as is: as JSON:API when it parses as JSON, else as `text/html` (a proxy's page).
    #[serde(default)]
    body: Option<String>,
    /// Seconds, sent as `Retry-After`.
    #[serde(default)]
    retry_after: Option<u64>,
}

fn one() -> u32 {
    1
}

impl Fault {
    fn matches(&self, method: &Method, uri: &Uri) -> bool {
        let method_matches = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()));
        let path_matches = self.path == uri.path()
            || uri
                .path_and_query()
                .is_some_and(|pq| pq.as_str() == self.path);
        method_matches && path_matches
    }

    fn response(&self) -> Response {
        let status = self
            .status
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = match &self.body {
            Some(body) if serde_json::from_str::<Value>(body).is_ok() => {
                respond::with_body(status, respond::JSON_API, body.clone().into_bytes())
            }
            Some(body) => respond::with_body(
                status,
                "text/html; charset=utf-8",
                body.clone().into_bytes(),
            ),
            None => respond::error(
                status,
                status.canonical_reason().unwrap_or("injected fault"),
                Some("injected by the sandbox control plane"),
            ),
        };
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }

    fn to_json(&self) -> Value {
        json!({
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "not_kept": self.not_kept,
            "count": self.count,
            "body": self.body,
            "retry_after": self.retry_after,
        })
    }
}

/// What a matching fault does to a request.
pub(crate) enum Taken {
    /// Answer this instead of processing the request.
    Respond(Response),
    /// Process and answer the request, but keep nothing it changes.
    NotKept,
}

/// What the first fault matching the request does, used up by one.
pub(crate) fn take_fault(app: &App, method: &Method, uri: &Uri) -> Option<Taken> {
    let mut faults = lock(&app.faults);
    let index = faults.iter().position(|f| f.matches(method, uri))?;
    let fault = &mut faults[index];
    let response = if fault.not_kept {
        Taken::NotKept
    } else {
        Taken::Respond(fault.response())
    };
    fault.count = fault.count.saturating_sub(1);
    if fault.count == 0 {
        faults.remove(index);
    }
    Some(response)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Latency {
    ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigChange {
    #[serde(default)]
    release: Option<String>,
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    rate_limit: Option<u32>,
}

const PATHS: &[(&str, &[&str])] = &[
    ("/_sandbox/tokens", &["GET"]),
    ("/_sandbox/state", &["GET", "PUT"]),
    ("/_sandbox/requests", &["GET", "DELETE"]),
    ("/_sandbox/faults", &["GET", "POST", "DELETE"]),
    ("/_sandbox/latency", &["GET", "PUT"]),
    ("/_sandbox/outbox", &["GET", "DELETE"]),
    ("/_sandbox/config", &["GET", "POST"]),
];

pub(crate) async fn handle(app: &App, method: &Method, path: &str, body: &[u8]) -> Response {
    let path = path.strip_suffix('/').unwrap_or(path);
    let Some((_, methods)) = PATHS.iter().find(|(p, _)| *p == path) else {
        return respond::control_error(StatusCode::NOT_FOUND, "no such control endpoint", &[]);
    };
    if !methods.contains(&method.as_str()) {
        let mut response =
            respond::control_error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed", &[]);
        if let Ok(allow) = HeaderValue::from_str(&methods.join(", ")) {
            response.headers_mut().insert(header::ALLOW, allow);
        }
        return response;
    }
    let ok = |value: &Value| respond::control(StatusCode::OK, value);
    let done = || respond::empty(StatusCode::NO_CONTENT);
    match (method.as_str(), path) {
        ("GET", "/_sandbox/tokens") => ok(&app.tokens.to_json()),
        ("GET", "/_sandbox/state") => ok(&app.db.lock().await.to_json()),
        ("PUT", "/_sandbox/state") => put_state(app, body).await,
        ("GET", "/_sandbox/requests") => {
            let log = lock(&app.log);
            ok(&Value::Array(
                log.entries.iter().map(Logged::to_json).collect(),
            ))
        }
        ("DELETE", "/_sandbox/requests") => {
            lock(&app.log).entries.clear();
            done()
        }
        ("GET", "/_sandbox/faults") => {
            let faults = lock(&app.faults);
            ok(&Value::Array(faults.iter().map(Fault::to_json).collect()))
        }
        ("POST", "/_sandbox/faults") => match parse::<Fault>(body) {
            Ok(fault)
                if !fault.not_kept && !fault.status.is_some_and(|s| (100..=599).contains(&s)) =>
            {
                bad("status must be 100 to 599 (or not_kept: true)")
            }
            Ok(fault) if !fault.path.starts_with('/') => {
                bad("path must be absolute, like /api/v2/admin/smtp-settings")
            }
            Ok(fault) if fault.count == 0 => bad("count must be at least 1"),
            Ok(fault) => {
                lock(&app.faults).push(fault);
                done()
            }
            Err(message) => bad(&message),
        },
        ("DELETE", "/_sandbox/faults") => {
            lock(&app.faults).clear();
            done()
        }
        ("GET", "/_sandbox/latency") => {
            let ms = lock(&app.run).latency.as_millis();
            ok(&json!({ "ms": u64::try_from(ms).unwrap_or(u64::MAX) }))
        }
        ("PUT", "/_sandbox/latency") => match parse::<Latency>(body) {
            Ok(latency) => {
                lock(&app.run).latency = Duration::from_millis(latency.ms);
                done()
            }
            Err(message) => bad(&message),
        },
        ("GET", "/_sandbox/outbox") => ok(&lock(&app.outbox).to_json()),
        ("DELETE", "/_sandbox/outbox") => {
            *lock(&app.outbox) = super::outbox::Outbox::default();
            done()
        }
        ("GET", "/_sandbox/config") => ok(&config_json(app)),
        ("POST", "/_sandbox/config") => match parse::<ConfigChange>(body) {
            Ok(change) => change_config(app, change),
            Err(message) => bad(&message),
        },
        _ => respond::control_error(StatusCode::NOT_FOUND, "no such control endpoint", &[]),
    }
}

fn bad(message: &str) -> Response {
    respond::control_error(StatusCode::BAD_REQUEST, message, &[])
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid request body: {e}"))
}

/// Replaces the whole live state; written to the state file like any change.
async fn put_state(app: &App, body: &[u8]) -> Response {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => return bad(&format!("invalid request body: {e}")),
    };
    let draft = match Db::from_json(&value) {
        Ok(db) => db,
        Err(problems) => {
            return respond::control_error(
                StatusCode::BAD_REQUEST,
                "the state does not fit the catalogue",
                &problems,
            );
        }
    };
    let mut db = app.db.lock().await;
    match app.commit(&mut db, draft).await {
        Ok(()) => respond::control(StatusCode::OK, &db.to_json()),
        Err(response) => response,
    }
}

fn config_json(app: &App) -> Value {
    let run = lock(&app.run);
    json!({
        "release": run.release.to_string(),
        "hostname": run.hostname,
        "rate_limit": run.rate_limit,
    })
}

fn change_config(app: &App, change: ConfigChange) -> Response {
    let release = match change.release.as_deref().map(Release::parse) {
        Some(None) => return bad("release must look like 2.1.0 or v202401-1"),
        Some(Some(release)) => Some(release),
        None => None,
    };
    if change
        .hostname
        .as_deref()
        .is_some_and(|h| h.trim().is_empty())
    {
        return bad("hostname must not be empty");
    }
    let mut run = lock(&app.run);
    if let Some(release) = release {
        run.release = release;
    }
    if let Some(hostname) = change.hostname {
        run.hostname = hostname;
    }
    if let Some(limit) = change.rate_limit {
        run.rate_limit = limit;
    }
    drop(run);
    respond::control(StatusCode::OK, &config_json(app))
}
