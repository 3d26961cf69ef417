//! The HTTP server and the path every API request takes: control-plane requests go straight
//! to `control`; every other request gets, in order, an injected fault if one matches, the
//! rate limit, then `routes` (authentication, routing, the section handlers), the configured
//! latency, and an entry in the request log. Holds the shared state; knows nothing about any
//! particular section.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use axum::serve::{IncomingStream, Listener};
use serde_json::{Value, json};

use super::SandboxConfig;
use super::control::{self, Fault};
use super::document::Ctx;
use super::limiter::Limiter;
use super::outbox::Outbox;
use super::respond;
use super::routes;
use super::state::{self, Db};
use super::tls::TlsListener;
use super::tokens::Tokens;
use crate::catalogue::Release;

/// The largest request body read; TFE's settings documents are a few kilobytes.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// What may change while the sandbox runs (`POST /_sandbox/config`, `PUT /_sandbox/latency`).
#[derive(Debug, Clone)]
pub(crate) struct RunConfig {
    pub release: Release,
    pub hostname: String,
    pub rate_limit: u32,
    pub latency: Duration,
}

/// One entry of the request log. No `Debug`: bodies may hold secrets.
#[derive(Clone)]
pub(crate) struct Logged {
    seq: u64,
    /// When the request arrived, in milliseconds since the sandbox started: what a test
    /// needs to check a client's request rate.
    received_ms: f64,
    method: String,
    path: String,
    body: Value,
    status: Option<u16>,
}

impl Logged {
    pub fn to_json(&self) -> Value {
        json!({
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "status": self.status,
            "received-ms": self.received_ms,
        })
    }
}

/// The request log: every API request in the order received.
#[derive(Default)]
pub(crate) struct RequestLog {
    next: u64,
    pub entries: Vec<Logged>,
}

/// Everything the handlers share. No `Debug`: it holds tokens and secrets.
pub(crate) struct App {
    /// The emulated database. A tokio mutex: it is held across the state file's write, so
    /// that the file always follows the order of the changes.
    pub db: tokio::sync::Mutex<Db>,
    pub state_file: Option<PathBuf>,
    pub control: bool,
    pub tokens: Tokens,
    pub run: Mutex<RunConfig>,
    pub faults: Mutex<Vec<Fault>>,
    pub log: Mutex<RequestLog>,
    pub outbox: Mutex<Outbox>,
    limiter: Mutex<Limiter>,
    started: std::time::Instant,
}

/// Locks a mutex; a panic elsewhere while holding it leaves data that is still usable here.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl App {
    pub fn new(config: SandboxConfig, db: Db) -> Self {
        App {
            started: std::time::Instant::now(),
            db: tokio::sync::Mutex::new(db),
            state_file: config.state_file,
            control: config.control,
            tokens: Tokens::new(config.admin_token),
            run: Mutex::new(RunConfig {
                release: config.release,
                hostname: config.hostname,
                rate_limit: config.rate_limit,
                latency: Duration::ZERO,
            }),
            faults: Mutex::new(Vec::new()),
            log: Mutex::new(RequestLog::default()),
            outbox: Mutex::new(Outbox::default()),
            limiter: Mutex::new(Limiter::default()),
        }
    }

    /// The release and hostname a request is answered with.
    pub fn ctx(&self) -> Ctx {
        let run = lock(&self.run);
        Ctx {
            release: run.release,
            hostname: run.hostname.clone(),
        }
    }

    /// Keeps a new database: written to the state file first (when there is one), so that a
    /// change is never answered as done unless it is on disk. On a write failure the old
    /// database stays and the 500 to send is returned.
    pub async fn commit(
        &self,
        current: &mut tokio::sync::MutexGuard<'_, Db>,
        draft: Db,
    ) -> Result<(), Response> {
        if let Some(path) = &self.state_file
            && let Err(e) = state::save(path, &draft).await
        {
            let detail = format!(
                "cannot write the sandbox state file {}: {e}",
                path.display()
            );
            return Err(respond::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal server error",
                Some(&detail),
            ));
        }
        **current = draft;
        Ok(())
    }
}

/// The client's address, for any listener that knows it (plain TCP, or TLS over TCP).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(SocketAddr);

impl Connected<IncomingStream<'_, tokio::net::TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// Serves until `shutdown` resolves, then lets requests in flight finish.
pub(crate) async fn serve<L>(
    listener: L,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) where
    L: Listener<Addr = SocketAddr>,
    Peer: for<'a> Connected<IncomingStream<'a, L>>,
{
    let router = Router::new().fallback(handle).with_state(Arc::new(app));
    let service = router.into_make_service_with_connect_info::<Peer>();
    // `serve` only returns early when the listener fails, and then there is nothing to do.
    let _ = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await;
}

async fn handle(
    State(app): State<Arc<App>>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return respond::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload too large",
            Some("the request body could not be read or is larger than 4 MiB"),
        );
    };
    let path = parts.uri.path();
    if app.control && (path == "/_sandbox" || path.starts_with("/_sandbox/")) {
        return control::handle(&app, &parts.method, path, &body).await;
    }

    let seq = log_received(&app, &parts.method, &parts.uri, &body);
    let latency = lock(&app.run).latency;
    let response = api(&app, &parts.method, &parts.uri, &parts.headers, peer, &body).await;
    log_answered(&app, seq, response.status());
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    response
}

async fn api(
    app: &App,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    peer: SocketAddr,
    body: &Bytes,
) -> Response {
    if let Some(fault) = control::take_fault(app, method, uri) {
        return fault;
    }
    let token = bearer(headers);
    let kind = token.and_then(|t| app.tokens.kind_of(t));
    // Authenticated requests count against their token, the others against their IP.
    let key = match (token, kind) {
        (Some(token), Some(_)) => format!("token:{token}"),
        _ => format!("ip:{}", peer.ip()),
    };
    let limit = lock(&app.run).rate_limit;
    if let Err(reset) = lock(&app.limiter).check(&key, limit, Instant::now()) {
        return too_many_requests(limit, reset);
    }
    routes::dispatch(app, method, uri.path(), kind, body).await
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn too_many_requests(limit: u32, reset: Duration) -> Response {
    let mut response = respond::error(StatusCode::TOO_MANY_REQUESTS, "Too many requests", None);
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
    if let Ok(value) = HeaderValue::from_str(&format!("{:.3}", reset.as_secs_f64())) {
        headers.insert("x-ratelimit-reset", value);
    }
    response
}

fn log_received(app: &App, method: &Method, uri: &Uri, body: &Bytes) -> u64 {
    let body = serde_json::from_slice(body).unwrap_or(Value::Null);
    let path = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let mut log = lock(&app.log);
    let seq = log.next;
    log.next += 1;
    log.entries.push(Logged {
        seq,
        received_ms: app.started.elapsed().as_secs_f64() * 1000.0,
        method: method.as_str().to_owned(),
        path,
        body,
        status: None,
    });
    seq
}

fn log_answered(app: &App, seq: u64, status: StatusCode) {
    let mut log = lock(&app.log);
    // Searched from the end: the entry is recent, unless the log was cleared meanwhile.
    if let Some(entry) = log.entries.iter_mut().rev().find(|e| e.seq == seq) {
        entry.status = Some(status.as_u16());
    }
}
