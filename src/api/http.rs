//! The reqwest implementation of [`Api`]: bearer token, JSON:API content type, a User-Agent
//! with the version, TLS with the system roots (plus `--ca-cert`), timeouts, a client-side
//! rate limit, and retries (backon): 429 waits for `x-ratelimit-reset` / `Retry-After`; 5xx
//! and connection errors are retried for idempotent methods only, with bounded exponential
//! backoff and jitter. The token is sent, never logged: the header is marked sensitive.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

// tokio's clock: the same as std's, except that tests can pause it.
use tokio::time::Instant;

use backon::{ExponentialBuilder, Retryable as _};
use reqwest::header::{self, HeaderMap, HeaderValue};
use serde_json::Value;

use super::{Api, ApiError, Body, Method, Response};
use crate::bounded::{self, ReadError};
use crate::redact::Redactor;
use crate::secret::Secret;

/// How to reach the API.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The installation's address (`https://tfe.example.com`); the API is below `/api/v2/`.
    pub address: reqwest::Url,
    pub token: Secret,
    /// A PEM file of extra trusted CA certificates.
    pub ca_cert: Option<PathBuf>,
    /// Accept any certificate (`TFE_SSL_SKIP_VERIFY`).
    pub skip_verify: bool,
    /// At most this many requests in any one-second window.
    pub rps: u32,
    /// Per request, from connecting to the end of the body.
    pub timeout: Duration,
    /// Attempts per request, the first included.
    pub max_attempts: usize,
    /// The desired state's secrets; the token is added to them.
    pub redactor: Redactor,
}

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot read the CA certificate file {}", path.display())]
    CaCertRead {
        path: PathBuf,
        #[source]
        source: ReadError,
    },
    #[error("the CA certificate file {} is not a PEM bundle", path.display())]
    CaCertParse {
        path: PathBuf,
        #[source]
        source: reqwest::Error,
    },
    #[error(
        "the CA certificate file {} holds no certificate (no `-----BEGIN CERTIFICATE-----` block)",
        path.display()
    )]
    CaCertEmpty { path: PathBuf },
    #[error("the API token cannot be sent in an HTTP header (it has control characters)")]
    TokenHeader,
    #[error("cannot set up the HTTP client")]
    Client(#[source] reqwest::Error),
}

/// The HTTP client of the TFE API.
pub struct HttpApi {
    client: reqwest::Client,
    base: reqwest::Url,
    limiter: RateLimiter,
    timeout: Duration,
    max_attempts: usize,
    redactor: Redactor,
}

impl HttpApi {
    /// # Errors
    /// An unreadable CA file, a token that is not a header value, a TLS set-up failure.
    pub fn new(config: &HttpConfig) -> Result<Self, BuildError> {
        // reqwest is built without a default crypto provider; ring is ours. A second install
        // (tests start many clients) is refused harmlessly.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.token.expose()))
            .map_err(|_| BuildError::TokenHeader)?;
        auth.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, auth);
        let json_api = HeaderValue::from_static("application/vnd.api+json");
        headers.insert(header::CONTENT_TYPE, json_api.clone());
        headers.insert(header::ACCEPT, json_api);
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("tfe-admin/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(path) = &config.ca_cert {
            let pem = bounded::read_file(path, bounded::CA_BUNDLE).map_err(|source| {
                BuildError::CaCertRead {
                    path: path.clone(),
                    source,
                }
            })?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|source| {
                BuildError::CaCertParse {
                    path: path.clone(),
                    source,
                }
            })?;
            // A file with no certificate in it (`/etc/passwd`) parses as an empty bundle:
            // trusting nothing extra is not what was asked for.
            if certificates.is_empty() {
                return Err(BuildError::CaCertEmpty { path: path.clone() });
            }
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        if config.skip_verify {
            builder = builder.danger_accept_invalid_certs(true);
        }
        let client = builder.build().map_err(BuildError::Client)?;
        let mut base = config.address.clone();
        let path = format!("{}/api/v2/", base.path().trim_end_matches('/'));
        base.set_path(&path);
        Ok(HttpApi {
            client,
            base,
            limiter: RateLimiter::new(config.rps),
            timeout: config.timeout,
            max_attempts: config.max_attempts.max(1),
            redactor: config.redactor.with([config.token.expose()]),
        })
    }

    async fn once(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, Retry> {
        self.limiter.acquire().await;
        let url = self
            .base
            .join(path)
            .map_err(|_| Retry::final_error(RetryKind::BadPath))?;
        let verb = match method {
            Method::Get => reqwest::Method::GET,
            Method::Patch => reqwest::Method::PATCH,
            Method::Post => reqwest::Method::POST,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut request = self.client.request(verb, url);
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => return Err(Retry::transport(e, method)),
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header("x-ratelimit-reset")
            .or_else(|| header("retry-after"))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::from_secs_f64(s.min(60.0)));
        let tfe_version = header("x-tfe-version");
        let tfe_current_version = header("x-tfe-current-version");
        // Server text that may be printed is redacted here, at the door: the content type
        // (quoted when a body is not JSON:API) and every string of an error response (titles,
        // details, `meta`: a server may echo the request, secrets and all). A successful
        // document stays raw: the diff compares real values; its printed parts are redacted
        // where they become report data.
        let content_type = self
            .redactor
            .text(&header("content-type").unwrap_or_default());
        let bytes = read_body(response, method).await?;
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            Body::Empty
        } else {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(value) if (200..300).contains(&status) => Body::Json(value),
                Ok(value) => Body::Json(self.redactor.message_document(&value)),
                Err(_) => Body::Other { content_type },
            }
        };
        let response = Response {
            status,
            body,
            tfe_version,
            tfe_current_version,
        };
        if status == 429 {
            return Err(Retry {
                kind: RetryKind::Status(response),
                retryable: true,
                wait: retry_after,
            });
        }
        if status >= 500 && method.is_idempotent() {
            return Err(Retry {
                kind: RetryKind::Status(response),
                retryable: true,
                wait: None,
            });
        }
        Ok(response)
    }
}

impl Api for HttpApi {
    fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, ApiError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(5))
            .with_max_times(self.max_attempts - 1)
            .with_jitter();
        let mut attempts = 0usize;
        let outcome = (|| {
            attempts += 1;
            self.once(method, path, body)
        })
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(|e: &Retry| e.retryable)
        .adjust(|e: &Retry, delay| delay.map(|d| e.wait.map_or(d, |r| r + jitter())))
        .await;
        match outcome {
            Err(Retry {
                kind: RetryKind::Status(response),
                ..
            }) if response.status == 429 => Err(ApiError::RateLimited {
                method,
                path: path.to_owned(),
                attempts,
            }),
            // A final 5xx after the retries is the caller's to explain.
            Ok(response)
            | Err(Retry {
                kind: RetryKind::Status(response),
                ..
            }) => Ok(response),
            Err(Retry {
                kind: RetryKind::Transport(source),
                ..
            }) if source.is_timeout() => Err(ApiError::Timeout {
                method,
                path: path.to_owned(),
                timeout: self.timeout,
            }),
            Err(Retry {
                kind: RetryKind::Transport(source),
                ..
            }) if certificate_problem(&source) => Err(ApiError::Certificate {
                method,
                path: path.to_owned(),
                source,
            }),
            Err(Retry {
                kind: RetryKind::Transport(source),
                ..
            }) => Err(ApiError::Transport {
                method,
                path: path.to_owned(),
                source,
            }),
            Err(Retry {
                kind: RetryKind::TooLarge,
                ..
            }) => Err(ApiError::BodyTooLarge {
                method,
                path: path.to_owned(),
                limit: bounded::RESPONSE_BODY,
            }),
            Err(Retry {
                kind: RetryKind::BadPath,
                ..
            }) => Ok(Response {
                status: 404,
                body: Body::Empty,
                tfe_version: None,
                tfe_current_version: None,
            }),
        }
    }
}

/// The body, streamed and cut at [`bounded::RESPONSE_BODY`]: a server (or a proxy) may send
/// a gigabyte, and only the bytes actually received are counted.
async fn read_body(mut response: reqwest::Response, method: Method) -> Result<Vec<u8>, Retry> {
    let too_large = || Retry::final_error(RetryKind::TooLarge);
    let mut body = bounded::Collector::new(bounded::RESPONSE_BODY, response.content_length())
        .map_err(|_| too_large())?;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => body.push(&chunk).map_err(|_| too_large())?,
            Ok(None) => return Ok(body.finish()),
            Err(e) => return Err(Retry::transport(e, method)),
        }
    }
}

/// Whether the error is rustls refusing the server's certificate. Found by the type of an
/// error in the chain (rustls' own, possibly inside `io::Error`s, which the connectors nest),
/// never by its text.
fn certificate_problem(error: &reqwest::Error) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = next {
        if let Some(rustls::Error::InvalidCertificate(_)) = current.downcast_ref::<rustls::Error>()
        {
            return true;
        }
        // `io::Error::source` skips the error it wraps; `get_ref` is the way in.
        next = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
    }
    false
}

/// A failed attempt, and whether another may follow.
struct Retry {
    kind: RetryKind,
    retryable: bool,
    /// What the server asked us to wait.
    wait: Option<Duration>,
}

enum RetryKind {
    Status(Response),
    Transport(reqwest::Error),
    /// A path that does not join onto the base URL (never from the catalogue's paths).
    BadPath,
    /// A body beyond [`bounded::RESPONSE_BODY`]: not retried, the next would be as large.
    TooLarge,
}

impl Retry {
    fn transport(error: reqwest::Error, method: Method) -> Self {
        Retry {
            retryable: method.is_idempotent() && !certificate_problem(&error),
            kind: RetryKind::Transport(error),
            wait: None,
        }
    }

    fn final_error(kind: RetryKind) -> Self {
        Retry {
            kind,
            retryable: false,
            wait: None,
        }
    }
}

/// Up to 100 ms, so that clients told to wait the same time do not return together.
fn jitter() -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    Duration::from_millis(u64::from(nanos % 100))
}

/// At most `rps` requests start in any window of one second: each request waits until the
/// one `rps` places before it is a second old, plus a margin: the server counts arrivals,
/// and a first request delayed by connection set-up arrives later than it left.
/// Bursts up to `rps` go at once.
/// The limiter's window: one second and the margin.
const WINDOW: Duration = Duration::from_millis(1_050);

struct RateLimiter {
    rps: usize,
    starts: tokio::sync::Mutex<VecDeque<Instant>>,
}

impl RateLimiter {
    fn new(rps: u32) -> Self {
        let rps = usize::try_from(rps.max(1)).unwrap_or(usize::MAX);
        RateLimiter {
            rps,
            starts: tokio::sync::Mutex::new(VecDeque::with_capacity(rps.min(1024))),
        }
    }

    async fn acquire(&self) {
        let slot = {
            let mut starts = self.starts.lock().await;
            let now = Instant::now();
            let mut slot = now;
            if let Some(last) = starts.back() {
                slot = slot.max(*last);
            }
            if starts.len() >= self.rps
                && let Some(oldest) = starts.front()
            {
                slot = slot.max(*oldest + WINDOW);
            }
            starts.push_back(slot);
            while starts.len() > self.rps {
                starts.pop_front();
            }
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // On a paused clock: the times measured are the limiter's own, not a busy machine's.
    #[tokio::test(start_paused = true)]
    async fn the_limiter_never_lets_more_than_rps_start_in_a_second() {
        let limiter = RateLimiter::new(5);
        let start = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..12 {
            limiter.acquire().await;
            starts.push(start.elapsed());
        }
        for (i, t) in starts.iter().enumerate().skip(5) {
            let earlier = starts[i - 5];
            assert!(
                t.saturating_sub(earlier) >= Duration::from_millis(1_040),
                "{starts:?}"
            );
        }
        // The first burst goes at once.
        assert!(starts[4] < Duration::from_millis(100), "{starts:?}");
    }
}
