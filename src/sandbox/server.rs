//! The HTTP server and the path every API request takes. Connections are served by hyper with
//! a header read timeout (a client that connects and says nothing is dropped). Every request
//! is authenticated from its headers first: the control plane answers only the admin token,
//! and the body of a request without a known token is never read, parsed or kept. Then an API
//! request gets, in order, an injected fault if one matches, the rate limit, `routes`
//! (routing, authorization, the section handlers), the configured latency, and an entry in
//! the bounded request log (values of sensitive attributes replaced). Holds the shared state;
//! knows nothing about any particular section.

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use axum::serve::Listener;
use axum::{Extension, Router};
use futures_util::StreamExt as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use serde_json::{Value, json};

use super::SandboxConfig;
use super::control::{self, Fault};
use super::document::Ctx;
use super::limiter::Limiter;
use super::outbox::Outbox;
use super::respond;
use super::routes;
use super::state::{self, Db, DbGuard, Store};
use super::tokens::{TokenKind, Tokens};
use crate::bounded;
use crate::catalogue::{self, Release};

/// Connections served at once. A silent one holds a slot until the header timeout closes it.
const MAX_CONNECTIONS: usize = 1024;

/// The request log keeps the last this many requests: a sandbox left running under load
/// must not grow without end.
pub(crate) const LOG_CAPACITY: usize = 1000;

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

/// The request log: the last [`LOG_CAPACITY`] API requests, in the order received.
#[derive(Default)]
pub(crate) struct RequestLog {
    next: u64,
    pub entries: VecDeque<Logged>,
}

/// Everything the handlers share. No `Debug`: it holds tokens and secrets.
pub(crate) struct App {
    /// The emulated database. Its lock is held across the state file's write, so that the
    /// file always follows the order of the changes, also across processes.
    pub db: Store,
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
            db: Store::new(db, config.state_file.clone()),
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
    pub async fn commit(&self, current: &mut DbGuard<'_>, draft: Db) -> Result<(), Response> {
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

/// Serves until `shutdown` resolves, then lets requests in flight finish. A connection that
/// has not sent a whole request head within `header_timeout` (also between requests on a
/// kept-alive connection) is closed, and at most [`MAX_CONNECTIONS`] are served at once:
/// thousands of silent connections must neither stay open nor cost memory.
pub(crate) async fn serve<L>(
    mut listener: L,
    app: Arc<App>,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) where
    L: Listener<Addr = SocketAddr>,
{
    let router = Router::new().fallback(handle).with_state(app);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // Beyond the bound, connections wait in the kernel's backlog: memory stays bounded
        // however many a client opens.
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => permit,
            () = &mut shutdown => break,
        };
        let Ok(permit) = permit else { break };
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let service = router.clone().layer(Extension(ConnectInfo(Peer(peer))));
        let connection = http.serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _permit = permit;
            // A connection ends in an error when the client goes away or times out: nothing
            // to tell anyone.
            let _ = connection.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Whether a path is the control plane's.
fn is_control(path: &str) -> bool {
    path == "/_sandbox" || path.starts_with("/_sandbox/")
}

async fn handle(
    State(app): State<Arc<App>>,
    Extension(ConnectInfo(Peer(peer))): Extension<ConnectInfo<Peer>>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    let token = bearer(&parts.headers);
    let kind = token.and_then(|t| app.tokens.kind_of(t));
    if app.control && is_control(path) {
        // It shows every token and replaces the whole state: the admin token only, and
        // nothing read before that is known.
        if kind != Some(TokenKind::Admin) {
            return respond::control_unauthorized();
        }
        return match read_body(&parts.headers, body).await {
            Ok(body) => control::handle(&app, &parts.method, path, &body).await,
            Err(response) => response,
        };
    }
    // A request without a known token is answered from its head alone (401, a fault, `ping`,
    // discovery): its body is never read, so unauthenticated uploads cost nothing.
    let body = if kind.is_some() {
        match read_body(&parts.headers, body).await {
            Ok(body) => body,
            Err(response) => return response,
        }
    } else {
        Bytes::new()
    };
    let seq = log_received(&app, &parts.method, &parts.uri, &body);
    let latency = lock(&app.run).latency;
    let response = api(&app, &parts.method, &parts.uri, token, kind, peer, &body).await;
    log_answered(&app, seq, response.status());
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    response
}

/// The request body, up to [`bounded::REQUEST_BODY`], counting the bytes that arrive.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    let too_large = || {
        respond::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload too large",
            Some(&format!(
                "the request body is larger than {}",
                bounded::REQUEST_BODY
            )),
        )
    };
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut collected =
        bounded::Collector::new(bounded::REQUEST_BODY, announced).map_err(|_| too_large())?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|_| respond::bad_request("the request body could not be read"))?;
        collected.push(&chunk).map_err(|_| too_large())?;
    }
    Ok(Bytes::from(collected.finish()))
}

async fn api(
    app: &App,
    method: &Method,
    uri: &Uri,
    token: Option<&str>,
    kind: Option<TokenKind>,
    peer: SocketAddr,
    body: &Bytes,
) -> Response {
    let keep = match control::take_fault(app, method, uri) {
        Some(control::Taken::Respond(response)) => return response,
        Some(control::Taken::NotKept) => false,
        None => true,
    };
    // Authenticated requests count against their token, the others against their IP.
    let key = match (token, kind) {
        (Some(token), Some(_)) => format!("token:{token}"),
        _ => format!("ip:{}", peer.ip()),
    };
    let limit = lock(&app.run).rate_limit;
    // Tokio's clock, which a paused test clock moves: the window is tested without waiting.
    let now = tokio::time::Instant::now().into_std();
    if let Err(reset) = lock(&app.limiter).check(&key, limit, now) {
        return too_many_requests(limit, reset);
    }
    routes::dispatch(app, method, uri, kind, body, keep).await
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
    let body = without_secrets(serde_json::from_slice(body).unwrap_or(Value::Null));
    let path = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let mut log = lock(&app.log);
    let seq = log.next;
    log.next += 1;
    if log.entries.len() >= LOG_CAPACITY {
        log.entries.pop_front();
    }
    log.entries.push_back(Logged {
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

/// A logged body with the value of every sensitive attribute (passwords, keys, tokens: any
/// attribute the catalogue marks sensitive) replaced by `"(sensitive)"`: the log shows that a
/// secret was sent, never what it was.
fn without_secrets(mut body: Value) -> Value {
    if let Some(attributes) = body
        .pointer_mut("/data/attributes")
        .and_then(Value::as_object_mut)
    {
        for (name, value) in attributes.iter_mut() {
            let sensitive = catalogue::SECTIONS
                .iter()
                .flat_map(|s| s.attributes.iter())
                .any(|a| a.name == name && a.sensitive);
            if sensitive && !value.is_null() {
                *value = Value::from(crate::redact::REDACTED);
            }
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "sandbox-test-admin-token-0123456789";

    /// An in-memory sandbox with its control plane on, and a way to send it a request
    /// without a network: the same path every request takes, on the test's (paused) clock.
    fn app(rate_limit: u32) -> Arc<App> {
        let mut config = SandboxConfig::new(TOKEN);
        config.control = true;
        config.rate_limit = rate_limit;
        Arc::new(App::new(config, Db::default()))
    }

    async fn send(app: &Arc<App>, method: &str, path: &str, body: &str) -> Response {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()));
        let Ok(request) = request else {
            panic!("bad request {method} {path}")
        };
        let peer = Peer(SocketAddr::from(([127, 0, 0, 1], 40_000)));
        handle(
            State(Arc::clone(app)),
            Extension(ConnectInfo(peer)),
            request,
        )
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn latency_delays_api_responses_only() {
        let app = app(0);
        let put = send(&app, "PUT", "/_sandbox/latency", r#"{"ms": 300}"#).await;
        assert!(put.status().is_success(), "{}", put.status());
        let timed = |method: &'static str, path: &'static str| {
            let app = Arc::clone(&app);
            async move {
                let started = tokio::time::Instant::now();
                let status = send(&app, method, path, "").await.status();
                (status, started.elapsed())
            }
        };
        assert_eq!(
            timed("GET", "/api/v2/admin/general-settings").await,
            (StatusCode::OK, Duration::from_millis(300))
        );
        // The control plane is never slowed down: tests read and set state at once.
        assert_eq!(
            timed("GET", "/_sandbox/state").await,
            (StatusCode::OK, Duration::ZERO)
        );
        send(&app, "PUT", "/_sandbox/latency", r#"{"ms": 0}"#).await;
        assert_eq!(
            timed("GET", "/api/v2/admin/general-settings").await,
            (StatusCode::OK, Duration::ZERO)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_frees_a_slot_once_its_reset_has_passed() {
        let app = app(5);
        for _ in 0..5 {
            let ok = send(&app, "GET", "/api/v2/admin/general-settings", "").await;
            assert_eq!(ok.status(), StatusCode::OK);
            tokio::time::advance(Duration::from_millis(100)).await;
        }
        let refused = send(&app, "GET", "/api/v2/admin/general-settings", "").await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        let reset: f64 = refused
            .headers()
            .get("x-ratelimit-reset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1.0);
        // The first of the five leaves the window 500 ms from now.
        assert!((reset - 0.5).abs() < 0.01, "reset {reset}");
        tokio::time::advance(Duration::from_millis(499)).await;
        let early = send(&app, "GET", "/api/v2/admin/general-settings", "").await;
        assert_eq!(
            early.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "a slot freed early"
        );
        tokio::time::advance(Duration::from_millis(1)).await;
        let freed = send(&app, "GET", "/api/v2/admin/general-settings", "").await;
        assert_eq!(
            freed.status(),
            StatusCode::OK,
            "waiting the reset frees a slot"
        );
    }
}
