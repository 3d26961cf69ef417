//! The only door to the TFE API: a small [`Api`] trait (a method, a path below `/api/v2/`, an
//! optional JSON body) with one HTTP implementation ([`http::HttpApi`]), JSON:API envelope
//! and error parsing ([`jsonapi`]), and the reading of paginated lists with query parameters
//! ([`list`]). Retries and the client-side rate limit ([`pace`]) live behind it, so `live`
//! and `apply` only say what to call. Nothing here knows the settings.

pub mod http;
pub mod jsonapi;
pub mod list;
pub mod pace;

use std::fmt;
use std::future::Future;
use std::time::Duration;

use serde_json::Value;

pub use jsonapi::ErrorObject;

/// The HTTP methods the tool uses.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Patch,
    Post,
    Delete,
}

impl Method {
    /// Whether repeating the request cannot do more than doing it once: GET, PATCH of a
    /// settings document (it sets values), DELETE of a singleton. Those are retried on 5xx
    /// and connection errors; a POST (an action) only on 429, which guarantees it did not run.
    #[must_use]
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Method::Post)
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Patch => "PATCH",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A response, whatever its status: the caller decides what a status means (a 404 from the
/// data retention policy means "none").
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Body,
    /// `X-TFE-Version` (monthly releases).
    pub tfe_version: Option<String>,
    /// `X-TFE-Current-Version` (semver releases).
    pub tfe_current_version: Option<String>,
}

/// A response body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Empty,
    Json(Value),
    /// Not JSON (an HTML page from a proxy): only its content type is kept.
    Other {
        content_type: String,
    },
}

impl Response {
    #[must_use]
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The JSON:API errors of an error response (empty when the body has none).
    #[must_use]
    pub fn errors(&self) -> Vec<ErrorObject> {
        match &self.body {
            Body::Json(value) => jsonapi::errors(value),
            _ => Vec::new(),
        }
    }
}

/// Where the address of the API came from: messages about the address name it, so that the
/// user knows what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressOrigin {
    /// `--address`.
    Flag,
    /// `TFE_ADDRESS`.
    TfeAddress,
    /// `TFE_HOSTNAME`.
    TfeHostname,
    /// The embedded sandbox.
    Sandbox,
}

impl fmt::Display for AddressOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressOrigin::Flag => "--address",
            AddressOrigin::TfeAddress => "TFE_ADDRESS",
            AddressOrigin::TfeHostname => "TFE_HOSTNAME",
            AddressOrigin::Sandbox => "the built-in sandbox",
        })
    }
}

/// The installation an [`Api`] talks to, as the user gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The address, without `/api/v2` and without a trailing `/`.
    pub address: String,
    pub origin: AddressOrigin,
}

/// Why no connection could be made. One cause, in words: the connector's own chain of
/// errors says nothing more a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectFailure {
    #[error("connection refused")]
    Refused,
    #[error("the host name {host} does not resolve")]
    UnknownHost { host: String },
    #[error("no connection within {} s", timeout.as_secs())]
    TimedOut { timeout: Duration },
    /// Not retried: the next attempt would meet the same certificate.
    #[error("the server's TLS certificate is not accepted ({problem})")]
    Certificate { problem: CertificateProblem },
    #[error("the TLS handshake failed ({detail})")]
    Tls { detail: String },
    #[error("{detail}")]
    Other { detail: String },
}

/// Why the server's certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateProblem {
    #[error("not signed by a trusted certificate authority")]
    UnknownIssuer,
    #[error("not valid for this host name")]
    WrongName,
    #[error("expired")]
    Expired,
    #[error("{detail}")]
    Other { detail: String },
}

/// Why a call could not get a response.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("cannot connect to {} (the address from {})", endpoint.address, endpoint.origin)]
    Unreachable {
        endpoint: Endpoint,
        #[source]
        cause: ConnectFailure,
    },
    /// The connection broke after it was made (reset, closed mid-answer).
    #[error("{method} {path}: the connection failed: {detail}")]
    Connection {
        method: Method,
        path: String,
        detail: String,
    },
    #[error("{method} {path}: no answer within {}s", timeout.as_secs_f64())]
    Timeout {
        method: Method,
        path: String,
        timeout: Duration,
    },
    #[error(
        "{method} {path}: the response body is larger than {limit}, the most this tool reads \
         (a proxy or a misbehaving server?)"
    )]
    BodyTooLarge {
        method: Method,
        path: String,
        limit: crate::bounded::Limit,
    },
    #[error("{method} {path}: {exhausted}")]
    RateLimited {
        method: Method,
        path: String,
        exhausted: pace::Exhausted,
    },
}

impl ApiError {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            ApiError::Unreachable { endpoint, cause } => Some(unreachable_hint(endpoint, cause)),
            ApiError::RateLimited { exhausted, .. } => {
                let rate = exhausted.limit.map_or_else(
                    || "lower the request rate with --rps N".to_owned(),
                    |limit| {
                        format!("lower the request rate with --rps {limit} (the server's limit)")
                    },
                );
                Some(format!(
                    "{rate}, or allow a longer wait with --rate-limit-budget SECONDS; TFE's limit \
                     is per user, so other tools using the same account share it"
                ))
            }
            ApiError::Timeout { .. } => Some(
                "the server is slow or a proxy holds the request: try again, or raise --timeout"
                    .to_owned(),
            ),
            ApiError::Connection { .. } | ApiError::BodyTooLarge { .. } => None,
        }
    }
}

fn unreachable_hint(endpoint: &Endpoint, cause: &ConnectFailure) -> String {
    let origin = endpoint.origin;
    match cause {
        ConnectFailure::Refused => format!(
            "nothing accepts connections there: check the port in {origin}, and that TFE is \
             running and reachable from this machine"
        ),
        ConnectFailure::UnknownHost { .. } => {
            format!("check the host name in {origin} (a typo? a name only a VPN's DNS knows?)")
        }
        ConnectFailure::TimedOut { .. } => format!(
            "check that the host in {origin} is reachable from this machine (a firewall or a \
             proxy in the way?)"
        ),
        ConnectFailure::Certificate {
            problem: CertificateProblem::UnknownIssuer,
        } => "trust the certificate's CA with --ca-cert FILE or TFE_CA_CERT (a self-signed \
              certificate is its own CA)"
            .to_owned(),
        ConnectFailure::Certificate {
            problem: CertificateProblem::WrongName,
        } => format!("use in {origin} the host name the certificate names"),
        ConnectFailure::Certificate {
            problem: CertificateProblem::Expired,
        } => "the certificate must be renewed on the server".to_owned(),
        ConnectFailure::Certificate { .. } => {
            "trust the certificate's CA with --ca-cert FILE or TFE_CA_CERT (a self-signed \
             certificate is its own CA), and use the host name the certificate names"
                .to_owned()
        }
        ConnectFailure::Tls { .. } => format!(
            "check the scheme and the port in {origin}: https:// needs a port that speaks TLS \
             (the sandbox serves http://)"
        ),
        ConnectFailure::Other { .. } => {
            format!("check {origin}, and that the server is reachable from this machine")
        }
    }
}

/// What `live` and `apply` need from the API.
pub trait Api: Sync {
    /// The secrets that must not come back out: the token and the desired state's secrets.
    /// Error responses are redacted already; a caller turning a successful document's text
    /// into report data redacts it with this.
    fn redactor(&self) -> &crate::redact::Redactor;

    /// Where the API is, for messages about the address.
    fn endpoint(&self) -> &Endpoint;

    /// Sends one request (retried and rate limited as the method allows) and returns the
    /// final response, whatever its status.
    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> impl Future<Output = Result<Response, ApiError>> + Send;
}
