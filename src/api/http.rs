//! The reqwest implementation of [`Api`]: bearer token, JSON:API content type, a User-Agent
//! with the version, TLS with the system roots (plus `--ca-cert`), timeouts, the run's rate
//! limit ([`Pacer`]), and retries: a 429 is always retried (the server did nothing) within the
//! run's budget; 5xx and broken connections are retried for idempotent methods only, with
//! bounded exponential backoff and jitter (backon); a refused connection at most briefly; an
//! unknown host or a TLS failure not at all. Connection failures are classified by type,
//! never by message text. The token is sent, never logged: the header is marked sensitive.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use backon::{BackoffBuilder as _, ExponentialBuilder};
use reqwest::header::{self, HeaderMap, HeaderValue};
use serde_json::Value;

use super::pace::{self, Pacer};
use super::{
    AddressOrigin, Api, ApiError, Body, CertificateProblem, ConnectFailure, Endpoint, Method,
    Response,
};
use crate::bounded::{self, ReadError};
use crate::redact::Redactor;
use crate::secret::Secret;

/// How to reach the API.
#[derive(Clone)]
pub struct HttpConfig {
    /// The installation's address (`https://tfe.example.com`); the API is below `/api/v2/`.
    pub address: reqwest::Url,
    pub token: Secret,
    /// A PEM file of extra trusted CA certificates.
    pub ca_cert: Option<PathBuf>,
    /// Accept any certificate (`TFE_SSL_SKIP_VERIFY`).
    pub skip_verify: bool,
    /// Where `address` came from, for messages about it.
    pub origin: AddressOrigin,
    /// At most this many requests in any one-second window.
    pub rps: u32,
    /// Per request, from connecting to the end of the body.
    pub timeout: Duration,
    /// Attempts per request on 5xx and broken connections, the first included.
    pub max_attempts: usize,
    /// How long the whole run may wait on 429s.
    pub rate_limit_budget: Duration,
    /// Told when the run waits on or slows down for the server's rate limit.
    pub observer: Option<pace::Observer>,
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
    endpoint: Endpoint,
    pacer: Pacer,
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
            .connect_timeout(connect_timeout(config.timeout))
            .timeout(config.timeout)
            .dns_resolver(Resolver)
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
            endpoint: Endpoint {
                address: config.address.as_str().trim_end_matches('/').to_owned(),
                origin: config.origin,
            },
            pacer: Pacer::new(
                config.rps,
                config.rate_limit_budget,
                config.observer.clone(),
            ),
            timeout: config.timeout,
            max_attempts: config.max_attempts.max(1),
            redactor: config.redactor.with([config.token.expose()]),
        })
    }

    /// One attempt.
    async fn once(&self, method: Method, path: &str, body: Option<&Value>) -> Attempt {
        let Ok(url) = self.base.join(path) else {
            // A path that does not join onto the base URL (never from the catalogue's paths).
            return Attempt::Answered(Response {
                status: 404,
                body: Body::Empty,
                tfe_version: None,
                tfe_current_version: None,
            });
        };
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
            Err(e) => return Attempt::Failed(e),
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let signal = (status == 429).then(|| pace::Signal {
            retry_after: wait_of(
                header("x-ratelimit-reset").as_deref(),
                header("retry-after").as_deref(),
            ),
            limit: header("x-ratelimit-limit").and_then(|v| v.trim().parse().ok()),
        });
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
        let bytes = match read_body(response).await {
            Ok(bytes) => bytes,
            Err(BodyError::TooLarge) => return Attempt::TooLarge,
            Err(BodyError::Transport(e)) => return Attempt::Failed(e),
        };
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
        match signal {
            Some(signal) => Attempt::RateLimited(signal),
            None => Attempt::Answered(response),
        }
    }
}

impl Api for HttpApi {
    fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, ApiError> {
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(5))
            .with_max_times(self.max_attempts - 1)
            .with_jitter()
            .build();
        let mut refused = 0u32;
        let mut blind_429s = 0u32;
        loop {
            let started = self.pacer.acquire().await;
            let error = match self.once(method, path, body).await {
                Attempt::RateLimited(signal) => {
                    // The server did nothing: retried whatever the method, within the budget.
                    self.pacer
                        .rate_limited(started, signal, blind_429s)
                        .map_err(|exhausted| ApiError::RateLimited {
                            method,
                            path: path.to_owned(),
                            exhausted,
                        })?;
                    if signal.retry_after.is_none() {
                        blind_429s += 1;
                    }
                    continue;
                }
                Attempt::Answered(response) => {
                    if response.status < 500 || !method.is_idempotent() {
                        return Ok(response);
                    }
                    match backoff.next() {
                        Some(delay) => {
                            tokio::time::sleep(delay).await;
                            continue;
                        }
                        // A final 5xx after the retries is the caller's to explain.
                        None => return Ok(response),
                    }
                }
                // Not retried: the next would be as large.
                Attempt::TooLarge => {
                    return Err(ApiError::BodyTooLarge {
                        method,
                        path: path.to_owned(),
                        limit: bounded::RESPONSE_BODY,
                    });
                }
                Attempt::Failed(error) => error,
            };
            let failure = self.classify(method, path, &error);
            let delay = match &failure {
                // Nothing listens: no request was sent, so any method may try again, twice,
                // quickly (a server restarting); not worth seconds.
                ApiError::Unreachable {
                    cause: ConnectFailure::Refused,
                    ..
                } if refused < 2 => {
                    refused += 1;
                    Some(Duration::from_millis(100) * refused)
                }
                // Unknown hosts and TLS failures do not heal in seconds; a timeout has already
                // taken its time.
                ApiError::Unreachable { .. } | ApiError::Timeout { .. } => None,
                // Broken after the request may have reached the server.
                _ if !method.is_idempotent() => None,
                _ => backoff.next(),
            };
            match delay {
                Some(delay) => tokio::time::sleep(delay).await,
                None => return Err(failure),
            }
        }
    }
}

impl HttpApi {
    /// What a transport error means, from the types in its chain.
    fn classify(&self, method: Method, path: &str, error: &reqwest::Error) -> ApiError {
        if error.is_timeout() {
            return if error.is_connect() {
                self.unreachable(ConnectFailure::TimedOut {
                    timeout: connect_timeout(self.timeout),
                })
            } else {
                ApiError::Timeout {
                    method,
                    path: path.to_owned(),
                    timeout: self.timeout,
                }
            };
        }
        let mut innermost = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            if let Some(unknown) = cause.downcast_ref::<UnknownHost>() {
                return self.unreachable(ConnectFailure::UnknownHost {
                    host: unknown.host.clone(),
                });
            }
            if let Some(io) = cause.downcast_ref::<std::io::Error>() {
                if let Some(tls) = rustls_error(io) {
                    return self.unreachable(tls_failure(tls));
                }
                match io.kind() {
                    std::io::ErrorKind::ConnectionRefused => {
                        return self.unreachable(ConnectFailure::Refused);
                    }
                    std::io::ErrorKind::TimedOut if error.is_connect() => {
                        return self.unreachable(ConnectFailure::TimedOut {
                            timeout: connect_timeout(self.timeout),
                        });
                    }
                    _ => {}
                }
            }
            if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
                return self.unreachable(tls_failure(tls));
            }
            innermost = cause.to_string();
            source = cause.source();
        }
        if error.is_connect() {
            self.unreachable(ConnectFailure::Other { detail: innermost })
        } else {
            ApiError::Connection {
                method,
                path: path.to_owned(),
                detail: innermost,
            }
        }
    }

    fn unreachable(&self, cause: ConnectFailure) -> ApiError {
        ApiError::Unreachable {
            endpoint: self.endpoint.clone(),
            cause,
        }
    }
}

/// How one attempt ended.
enum Attempt {
    /// Any status but 429.
    Answered(Response),
    RateLimited(pace::Signal),
    /// A body beyond [`bounded::RESPONSE_BODY`].
    TooLarge,
    Failed(reqwest::Error),
}

enum BodyError {
    TooLarge,
    Transport(reqwest::Error),
}

/// The body, streamed and cut at [`bounded::RESPONSE_BODY`]: a server (or a proxy) may send
/// a gigabyte, and only the bytes actually received are counted.
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, BodyError> {
    let mut body = bounded::Collector::new(bounded::RESPONSE_BODY, response.content_length())
        .map_err(|_| BodyError::TooLarge)?;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => body.push(&chunk).map_err(|_| BodyError::TooLarge)?,
            Ok(None) => return Ok(body.finish()),
            Err(e) => return Err(BodyError::Transport(e)),
        }
    }
}

/// How long a 429 asks to wait: the larger of `x-ratelimit-reset` (TFE: decimal seconds) and
/// `Retry-After` (seconds, or an HTTP date). Nonsense (negative, not a number, a date in the
/// past) counts as not said; absurdly large values are kept, and the budget refuses them.
fn wait_of(reset: Option<&str>, retry_after: Option<&str>) -> Option<Duration> {
    let seconds = |text: &str| {
        text.trim()
            .parse::<f64>()
            .ok()
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
    };
    let date = |text: &str| {
        httpdate::parse_http_date(text.trim())
            .ok()
            .and_then(|at| at.duration_since(std::time::SystemTime::now()).ok())
    };
    let reset = reset.and_then(seconds);
    let retry_after = retry_after.and_then(|v| seconds(v).or_else(|| date(v)));
    reset.max(retry_after)
}

/// The connection phase gets at most 10 s of the request's timeout.
fn connect_timeout(timeout: Duration) -> Duration {
    timeout.min(Duration::from_secs(10))
}

/// The rustls error an I/O error carries, if any (rustls reports through `io::Error`).
fn rustls_error(io: &std::io::Error) -> Option<&rustls::Error> {
    let mut inner: &(dyn std::error::Error + 'static) = io.get_ref()?;
    loop {
        if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        inner = match inner.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref()?,
            None => inner.source()?,
        };
    }
}

fn tls_failure(error: &rustls::Error) -> ConnectFailure {
    use rustls::CertificateError as C;
    let problem = match error {
        rustls::Error::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => {
            CertificateProblem::UnknownIssuer
        }
        rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        ) => CertificateProblem::WrongName,
        rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
            CertificateProblem::Expired
        }
        rustls::Error::InvalidCertificate(other) => CertificateProblem::Other {
            detail: format!("{other:?}"),
        },
        other => {
            return ConnectFailure::Tls {
                detail: other.to_string(),
            };
        }
    };
    ConnectFailure::Certificate { problem }
}

/// The system resolver (getaddrinfo, through tokio), with a failure of its own type, so that
/// "unknown host" is told from other connection failures by type rather than by message.
struct Resolver;

/// The host name did not resolve.
#[derive(Debug, thiserror::Error)]
#[error("cannot resolve {host}")]
struct UnknownHost {
    host: String,
    #[source]
    source: std::io::Error,
}

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map(Iterator::collect::<Vec<SocketAddr>>);
            match found {
                Ok(addresses) => {
                    let boxed: reqwest::dns::Addrs = Box::new(addresses.into_iter());
                    Ok(boxed)
                }
                Err(source) => Err(Box::new(UnknownHost { host, source })
                    as Box<dyn std::error::Error + Send + Sync>),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_the_larger_of_the_two_headers_and_nonsense_is_ignored() {
        let ms = |d: Option<Duration>| d.map(|d| d.as_millis());
        assert_eq!(ms(wait_of(Some("0.250"), None)), Some(250));
        assert_eq!(ms(wait_of(None, Some("3"))), Some(3000));
        assert_eq!(ms(wait_of(Some("0.5"), Some("2"))), Some(2000));
        assert_eq!(ms(wait_of(Some("-1"), Some("soon"))), None);
        assert_eq!(ms(wait_of(Some("NaN"), Some("inf"))), None);
        // Kept as said: the budget refuses it, no overflow.
        assert_eq!(ms(wait_of(None, Some("3600"))), Some(3_600_000));
        assert_eq!(wait_of(None, Some("1e300")), None);
        // An HTTP date in the past is no wait; one in the future is.
        assert_eq!(wait_of(None, Some("Sun, 06 Nov 1994 08:49:37 GMT")), None);
        let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(30));
        let wait = wait_of(None, Some(&later)).map_or(0, |d| d.as_secs());
        assert!((28..=30).contains(&wait), "{wait}");
    }
}
