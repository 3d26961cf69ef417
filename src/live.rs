//! Reading the live settings: the preflight (`account/details`: is this a site admin's user
//! token? `ping`: which release?) and a GET of every managed section, all at once. The
//! answers become a [`LiveState`]; a 404 from the data retention policy means "no policy".
//! Talks to the API through [`Api`] only, and only with GET.

use futures_util::future::join_all;
use serde_json::{Map, Value};

use crate::api::{Api, ApiError, Body, Endpoint, ErrorObject, Method, Response, jsonapi};
use crate::catalogue::{Release, SectionSpec, Shape};
use crate::redact::Redactor;

/// What the installation has now.
#[derive(Debug, Clone, Default)]
pub struct LiveState {
    /// The release `ping` reported, if it did.
    pub release: Option<Release>,
    pub sections: Vec<LiveSection>,
}

impl LiveState {
    #[must_use]
    pub fn section(&self, key: &str) -> Option<&LiveSection> {
        self.sections.iter().find(|s| s.spec.key == key)
    }
}

/// One section as read.
#[derive(Debug, Clone)]
pub struct LiveSection {
    pub spec: &'static SectionSpec,
    pub doc: LiveDoc,
}

/// What a section's GET said.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveDoc {
    /// The document's attributes (unknown ones kept, missing ones absent).
    Document(Map<String, Value>),
    /// The data retention policy is not set (404).
    NoPolicy,
    /// The installation's release does not have the section (404, and the catalogue says why).
    NotInRelease,
}

impl LiveDoc {
    /// The attribute's live value, if the document has it.
    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<&Value> {
        match self {
            LiveDoc::Document(attributes) => attributes.get(name),
            LiveDoc::NoPolicy | LiveDoc::NotInRelease => None,
        }
    }
}

/// Why the live state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("the API token was rejected (401 Unauthorized)")]
    Unauthorized,
    #[error(
        "the token belongs to {username}, a service account (a team or organization token): \
         the admin API accepts only a site administrator's user token"
    )]
    ServiceAccount { username: String },
    #[error("the token belongs to {username}, who is not a site administrator")]
    NotAdmin { username: String },
    #[error(
        "the token cannot read its own account (GET account/details answered {status}): it is \
         not a user's token; the admin API accepts only a site administrator's user token"
    )]
    AccountUnreadable { status: u16 },
    #[error(
        "{} (the address from {}) is not a Terraform Enterprise API: GET {}/api/v2/ping \
         answered 404",
        endpoint.address,
        endpoint.origin,
        endpoint.address
    )]
    NotTfe { endpoint: Endpoint },
    /// A 404 from an admin endpoint, after account/details said the token is a site admin's.
    #[error(
        "GET {path} answered 404 although the token belongs to a site administrator: {} may \
         not have this endpoint, or the account lost the site-admin role since{}",
        release.map_or_else(|| "this release of TFE".to_owned(), |r| format!("TFE {r}")),
        said(errors)
    )]
    AdminEndpointMissing {
        path: String,
        release: Option<Release>,
        /// What the server said (redacted at the door).
        errors: Vec<ErrorObject>,
    },
    #[error("GET {path} answered {status}{}", describe(errors))]
    Status {
        path: String,
        status: u16,
        errors: Vec<ErrorObject>,
    },
    #[error(
        "GET {path} answered {status} with {content_type}, not JSON:API (a proxy or load \
         balancer in the way?)"
    )]
    NotJson {
        path: String,
        status: u16,
        content_type: String,
    },
    #[error("GET {path} answered {status} without a JSON:API document")]
    NoDocument { path: String, status: u16 },
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl LiveError {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        let text = match self {
            LiveError::Api(e) => return e.hint(),
            LiveError::NotTfe { endpoint } => {
                return Some(format!(
                    "set {} to the installation's own address, like https://tfe.example.com \
                     (the API is below /api/v2/ of it)",
                    endpoint.origin
                ));
            }
            LiveError::AdminEndpointMissing { .. } => Some(
                "check that the installation's release has this setting (the API documentation \
                 gives the release that added it), and that the account is still a site \
                 administrator (Admin > Users)",
            ),
            LiveError::Unauthorized => Some(
                "check TFE_TOKEN (or the credentials file entry for this host): it may be \
                 expired or revoked, or belong to another installation",
            ),
            LiveError::ServiceAccount { .. } | LiveError::AccountUnreadable { .. } => Some(
                "team and organization tokens can never use the admin API; create a user token \
                 on a site administrator's account (User Settings > Tokens)",
            ),
            LiveError::NotAdmin { .. } => Some(
                "use a token of a site administrator, or ask one to grant the role (Admin > \
                 Users)",
            ),
            LiveError::NotJson { .. } => Some(
                "check that the address points at Terraform Enterprise itself, not at a login \
                 page or proxy",
            ),
            _ => None,
        };
        text.map(str::to_owned)
    }
}

fn describe(errors: &[ErrorObject]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        let parts: Vec<String> = errors.iter().map(ErrorObject::message).collect();
        format!(": {}", parts.join("; "))
    }
}

fn said(errors: &[ErrorObject]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        let parts: Vec<String> = errors.iter().map(ErrorObject::message).collect();
        format!(" (the server said: {})", parts.join("; "))
    }
}

/// Reads the preflight and every given section concurrently.
///
/// # Errors
/// A token that is not a site admin's user token, an API failure, a body that is not JSON:API.
pub async fn read<A: Api>(
    api: &A,
    sections: &[&'static SectionSpec],
) -> Result<LiveState, LiveError> {
    let reads = sections
        .iter()
        .map(|spec| api.call(Method::Get, spec.path, None));
    let (account, ping, documents) = tokio::join!(
        api.call(Method::Get, "account/details", None),
        api.call(Method::Get, "ping", None),
        join_all(reads)
    );
    let account = account?;
    // Before the account: when ping is missing, the address is wrong, not the token.
    if matches!(&ping, Ok(r) if r.status == 404) {
        return Err(LiveError::NotTfe {
            endpoint: api.endpoint().clone(),
        });
    }
    check_account(&account, api.redactor())?;
    let release = ping.ok().and_then(|r| release_of(&r));
    let mut state = LiveState {
        release,
        sections: Vec::with_capacity(sections.len()),
    };
    for (spec, response) in sections.iter().copied().zip(documents) {
        let response = response?;
        let doc = section_doc(spec, &response, release)?;
        state.sections.push(LiveSection { spec, doc });
    }
    Ok(state)
}

/// The release from ping's headers: the semver `X-TFE-Current-Version` first.
#[must_use]
pub fn release_of(response: &Response) -> Option<Release> {
    response
        .tfe_current_version
        .as_deref()
        .and_then(Release::parse)
        .or_else(|| response.tfe_version.as_deref().and_then(Release::parse))
}

fn check_account(response: &Response, redactor: &Redactor) -> Result<(), LiveError> {
    match response.status {
        200..=299 => {}
        401 => return Err(LiveError::Unauthorized),
        status @ (403 | 404) => return Err(LiveError::AccountUnreadable { status }),
        status => return Err(error_for("account/details", status, response)),
    }
    let Body::Json(body) = &response.body else {
        return Err(error_for("account/details", response.status, response));
    };
    let Some(account) = jsonapi::document(body) else {
        return Err(LiveError::NoDocument {
            path: "account/details".to_owned(),
            status: response.status,
        });
    };
    let flag = |name: &str| account.attributes.get(name).and_then(Value::as_bool);
    // Printed in the error: server text.
    let username = redactor.text(
        account
            .attributes
            .get("username")
            .and_then(Value::as_str)
            .unwrap_or("an unknown account"),
    );
    if flag("is-service-account") == Some(true) {
        return Err(LiveError::ServiceAccount { username });
    }
    // Older releases call it is-site-admin.
    match flag("is-admin").or_else(|| flag("is-site-admin")) {
        Some(true) => Ok(()),
        _ => Err(LiveError::NotAdmin { username }),
    }
}

fn section_doc(
    spec: &'static SectionSpec,
    response: &Response,
    release: Option<Release>,
) -> Result<LiveDoc, LiveError> {
    let path = spec.path;
    match response.status {
        200..=299 => {}
        // Before "no policy": a release without the section answers 404 too.
        404 if matches!((spec.since, release), (Some(since), Some(r)) if r < since) => {
            return Ok(LiveDoc::NotInRelease);
        }
        404 if spec.shape == Shape::Policy => return Ok(LiveDoc::NoPolicy),
        // The account was just found to be a site admin's: "not found" is not the story.
        404 => {
            return Err(LiveError::AdminEndpointMissing {
                path: path.to_owned(),
                release,
                errors: response.errors(),
            });
        }
        401 => return Err(LiveError::Unauthorized),
        status => return Err(error_for(path, status, response)),
    }
    let Body::Json(body) = &response.body else {
        return Err(error_for(path, response.status, response));
    };
    // A policy endpoint may also say "none" with `{"data": null}`.
    if spec.shape == Shape::Policy && body.get("data").is_some_and(Value::is_null) {
        return Ok(LiveDoc::NoPolicy);
    }
    jsonapi::document(body)
        .map(|d| LiveDoc::Document(normalise_policy(spec, d.attributes)))
        .ok_or(LiveError::NoDocument {
            path: path.to_owned(),
            status: response.status,
        })
}

/// The policy's documented sample uses camelCase; the clients use kebab-case. Accept both.
fn normalise_policy(spec: &SectionSpec, mut attributes: Map<String, Value>) -> Map<String, Value> {
    if spec.shape == Shape::Policy
        && !attributes.contains_key("delete-older-than-n-days")
        && let Some(days) = attributes.remove("deleteOlderThanNDays")
    {
        attributes.insert("delete-older-than-n-days".to_owned(), days);
    }
    attributes
}

fn error_for(path: &str, status: u16, response: &Response) -> LiveError {
    match &response.body {
        Body::Other { content_type } => LiveError::NotJson {
            path: path.to_owned(),
            status,
            content_type: if content_type.is_empty() {
                "a body of no stated type".to_owned()
            } else {
                content_type.clone()
            },
        },
        _ => LiveError::Status {
            path: path.to_owned(),
            status,
            errors: response.errors(),
        },
    }
}
