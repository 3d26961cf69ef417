//! Reading the live state: the preflight (`account/details`: is this a site admin's user
//! token? `ping`: which release?) and every managed section's reads, all at once. Each
//! section's kind says what to read ([`Read`]: a document, a whole paginated list) and turns
//! the answers into a [`LiveSection`] of items (one unkeyed item for a settings document, none
//! for an unset policy, one per natural key for a collection). That same conversion serves
//! apply's staleness check and its verifying read: one function per kind from a response to
//! live state. Talks to the API through [`Api`] only, and only with GET.

use futures_util::future::join_all;
use serde_json::{Map, Value};

use crate::api::list::{self, ListError};
use crate::api::{Api, ApiError, Body, Endpoint, ErrorObject, Method, Response, jsonapi};
use crate::catalogue::{Release, SectionSpec};
use crate::desired::DesiredSection;
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

/// One section as read: its items, or "this release does not have it".
#[derive(Debug, Clone)]
pub struct LiveSection {
    pub spec: &'static SectionSpec,
    /// False when the installation's release does not have the section (a 404 the catalogue
    /// explains).
    pub available: bool,
    /// A settings document is one unkeyed item; an unset policy has none; a collection has one
    /// per item, keyed by its natural name.
    pub items: Vec<LiveItem>,
}

impl LiveSection {
    /// A section with these items.
    #[must_use]
    pub fn with_items(spec: &'static SectionSpec, items: Vec<LiveItem>) -> Self {
        LiveSection {
            spec,
            available: true,
            items,
        }
    }

    /// The section of a release that does not have it.
    #[must_use]
    pub fn not_in_release(spec: &'static SectionSpec) -> Self {
        LiveSection {
            spec,
            available: false,
            items: Vec::new(),
        }
    }

    /// The item with this key (`None`: the unkeyed item of a document section).
    #[must_use]
    pub fn item(&self, key: Option<&str>) -> Option<&LiveItem> {
        self.items.iter().find(|i| i.key.as_deref() == key)
    }

    /// An attribute of the unkeyed item (a settings document's attribute).
    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<&Value> {
        self.item(None).and_then(|i| i.attributes.get(name))
    }
}

/// One live item: a settings document, a policy, a tool version.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveItem {
    /// The natural key (`"1.9.8"`); `None` for a section's only document.
    pub key: Option<String>,
    /// The API's id (`tool-L4oe7rNwn7J4E5Yr`), where the API gives one.
    pub id: Option<String>,
    /// The attributes as returned (unknown ones kept, missing ones absent).
    pub attributes: Map<String, Value>,
}

/// One read a kind asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// `GET path`, whatever it answers.
    Document { path: String },
    /// Every page of the list at `path` with `query`; `expected_pages` of them at once.
    List {
        path: String,
        query: Vec<(String, String)>,
        expected_pages: u64,
    },
}

/// The answer to a [`Read`], in the same order.
#[derive(Debug)]
pub enum Fetched {
    Document(Result<Response, ApiError>),
    List(Result<Vec<Value>, ListError>),
}

/// What part of a section a read is for.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Everything the token can see (export).
    All,
    /// What the files manage (plan).
    Desired(&'a DesiredSection),
    /// The items a plan touches (apply's staleness check and verification), and how many
    /// items the section had when planned (to read a whole list in one round trip).
    Planned {
        items: &'a [Option<String>],
        live_count: Option<u64>,
    },
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
    #[error("{path} lists an item without its `{attribute}` (id {id})")]
    NoKey {
        path: String,
        attribute: &'static str,
        id: String,
    },
    #[error(
        "{path} lists an item whose id is not one TFE gives (empty, or with characters other \
         than letters, digits, `-` and `_`): refusing to put it in a request path"
    )]
    BadId { path: String },
    #[error(transparent)]
    List(ListError),
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

fn said(errors: &[ErrorObject]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        let parts: Vec<String> = errors.iter().map(ErrorObject::message).collect();
        format!(" (the server said: {})", parts.join("; "))
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

/// Reads the preflight and every given section, all at once.
///
/// # Errors
/// A token that is not a site admin's user token, an API failure, a body that is not JSON:API,
/// an item the installation holds twice.
pub async fn read<A: Api>(
    api: &A,
    sections: &[(&'static SectionSpec, Scope<'_>)],
) -> Result<LiveState, LiveError> {
    let reads = sections
        .iter()
        .map(|(spec, scope)| fetch(api, spec.kind.reads(spec, *scope)));
    let (account, ping, fetched) = tokio::join!(
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
    for ((spec, _), fetched) in sections.iter().zip(fetched) {
        state.sections.push(spec.kind.live(spec, fetched, release)?);
    }
    Ok(state)
}

/// Reads one section again, without the preflight (apply's verification: the token and the
/// release were checked by the plan's read).
///
/// # Errors
/// As [`read`].
pub async fn reread<A: Api>(
    api: &A,
    spec: &'static SectionSpec,
    scope: Scope<'_>,
    release: Option<Release>,
) -> Result<LiveSection, LiveError> {
    let fetched = fetch(api, spec.kind.reads(spec, scope)).await;
    spec.kind.live(spec, fetched, release)
}

/// Carries out reads, all at once; the answers come back in the same order.
pub async fn fetch<A: Api>(api: &A, reads: Vec<Read>) -> Vec<Fetched> {
    join_all(reads.into_iter().map(|read| async move {
        match read {
            Read::Document { path } => Fetched::Document(api.call(Method::Get, &path, None).await),
            Read::List {
                path,
                query,
                expected_pages,
            } => Fetched::List(list::read_all(api, &path, &query, expected_pages).await),
        }
    }))
    .await
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

/// What a document read found, for the kinds.
#[derive(Debug)]
pub enum DocumentRead {
    /// The document (`data` an object).
    Found(jsonapi::Document),
    /// A 404 or `{"data": null}`: nothing there (an unset policy).
    Missing,
    /// A 404 from a release older than the section.
    NotInRelease,
}

/// Interprets the answer to a section's one document read: success with a document, a 404
/// the release explains, a 404 or `data: null` that `missing_ok` accepts as "nothing there";
/// anything else is an error naming the path.
///
/// # Errors
/// A failed call, a status that is none of the above, a body that is not a document.
pub fn document_read(
    spec: &SectionSpec,
    fetched: Vec<Fetched>,
    release: Option<Release>,
    missing_ok: bool,
) -> Result<DocumentRead, LiveError> {
    let path = spec.path;
    let response = match fetched.into_iter().next() {
        Some(Fetched::Document(response)) => response?,
        // A kind that asked for one document gets one; anything else is a bug there.
        _ => {
            return Err(LiveError::NoDocument {
                path: path.to_owned(),
                status: 0,
            });
        }
    };
    match response.status {
        200..=299 => {}
        // Before "missing": a release without the section answers 404 too.
        404 if not_in_release(spec, release) => return Ok(DocumentRead::NotInRelease),
        404 if missing_ok => return Ok(DocumentRead::Missing),
        // The account was found to be a site admin's: "not found" is not the story.
        404 => {
            return Err(LiveError::AdminEndpointMissing {
                path: path.to_owned(),
                release,
                errors: response.errors(),
            });
        }
        401 => return Err(LiveError::Unauthorized),
        status => return Err(error_for(path, status, &response)),
    }
    let Body::Json(body) = &response.body else {
        return Err(error_for(path, response.status, &response));
    };
    if missing_ok && body.get("data").is_some_and(Value::is_null) {
        return Ok(DocumentRead::Missing);
    }
    jsonapi::document(body)
        .map(DocumentRead::Found)
        .ok_or(LiveError::NoDocument {
            path: path.to_owned(),
            status: response.status,
        })
}

/// Interprets the answer to a section's one list read: every resource object, or "this
/// release does not have the list" (a 404 on its first page the catalogue explains).
///
/// # Errors
/// A page that failed or was not a list; a list longer than the tool reads.
pub fn list_read(
    spec: &SectionSpec,
    fetched: Vec<Fetched>,
    release: Option<Release>,
) -> Result<Option<Vec<Value>>, LiveError> {
    let Some(Fetched::List(result)) = fetched.into_iter().next() else {
        return Err(LiveError::NoDocument {
            path: spec.path.to_owned(),
            status: 0,
        });
    };
    match result {
        Ok(items) => Ok(Some(items)),
        Err(ListError::Status { page, response, .. }) => {
            if page == 1 && response.status == 404 && not_in_release(spec, release) {
                return Ok(None);
            }
            if response.status == 401 {
                return Err(LiveError::Unauthorized);
            }
            if page == 1 && response.status == 404 {
                return Err(LiveError::AdminEndpointMissing {
                    path: spec.path.to_owned(),
                    release,
                    errors: response.errors(),
                });
            }
            let path = format!("{} (page {page})", spec.path);
            Err(error_for(&path, response.status, &response))
        }
        Err(ListError::Api(e)) => Err(LiveError::Api(e)),
        Err(other) => Err(LiveError::List(other)),
    }
}

/// Whether the installation's release is older than the section.
fn not_in_release(spec: &SectionSpec, release: Option<Release>) -> bool {
    matches!((spec.since, release), (Some(since), Some(r)) if r < since)
}

/// The error for a status a read did not expect.
#[must_use]
pub fn error_for(path: &str, status: u16, response: &Response) -> LiveError {
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
