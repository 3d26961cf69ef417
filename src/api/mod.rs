//! The only door to the TFE API: a small [`Api`] trait (a method, a path below `/api/v2/`, an
//! optional JSON body) with one HTTP implementation ([`http::HttpApi`]), JSON:API envelope
//! and error parsing ([`jsonapi`]). Retries and the client-side rate limit live behind it, so
//! `live` and `apply` only say what to call. Nothing here knows the settings.

pub mod http;
pub mod jsonapi;

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

/// Why a call could not get a response.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{method} {path}: cannot reach the server")]
    Transport {
        method: Method,
        path: String,
        #[source]
        source: reqwest::Error,
    },
    /// The TLS handshake failed on the server's certificate (untrusted, expired, for another
    /// name): not retried, the next attempt would meet the same certificate.
    #[error("{method} {path}: the server's TLS certificate is not accepted")]
    Certificate {
        method: Method,
        path: String,
        #[source]
        source: reqwest::Error,
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
    #[error("{method} {path}: still rate limited (429) after {attempts} attempts")]
    RateLimited {
        method: Method,
        path: String,
        attempts: usize,
    },
}

/// What `live` and `apply` need from the API.
pub trait Api: Sync {
    /// The secrets that must not come back out: the token and the desired state's secrets.
    /// Error responses are redacted already; a caller turning a successful document's text
    /// into report data redacts it with this.
    fn redactor(&self) -> &crate::redact::Redactor;

    /// Sends one request (retried and rate limited as the method allows) and returns the
    /// final response, whatever its status.
    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> impl Future<Output = Result<Response, ApiError>> + Send;
}
