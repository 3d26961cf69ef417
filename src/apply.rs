//! Carrying out a plan: the staleness check (every attribute a call changes must still have
//! the live value it was planned against), the calls themselves (independent sections at
//! once, a section's write before its actions, a section after the sections it depends on),
//! and verification (the returned or re-read document must hold what was sent). Talks to the
//! API through [`Api`] only; prints nothing: it returns an [`Outcome`] for `render`.

use std::time::Duration;

use futures_util::future::join_all;
use serde::Serialize;
use serde_json::Value;

use crate::api::pace::Exhausted;
use crate::api::{Api, ApiError, Body, ErrorObject, Method, jsonapi};
use crate::catalogue::{self, ActionResponse, SectionSpec, Shape};
use crate::diff::equivalent;
use crate::live::{self, LiveDoc, LiveError};
use crate::plan::{Plan, SectionPlan, Step};
use crate::redact::Redactor;

/// What happened to each section.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Outcome {
    pub format_version: u32,
    pub address: String,
    pub sections: Vec<SectionOutcome>,
    pub summary: OutcomeSummary,
}

/// What happened to one section.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SectionOutcome {
    pub section: String,
    pub status: Status,
    /// The calls made, in order, with their HTTP status.
    pub calls: Vec<Call>,
    /// Why it failed or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// How a section ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Applied,
    Failed,
    /// Not attempted: a section it depends on failed.
    Skipped,
}

/// One call made.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Call {
    pub method: Method,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The final HTTP status, when there was an answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

/// Why a section failed or was skipped.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Failure {
    /// The API refused a call (a 422 with its JSON:API errors, or another status).
    Rejected {
        status: u16,
        errors: Vec<ApiMessage>,
    },
    /// The SMTP PATCH answered 401: the mail server refused the SMTP credentials.
    MailCredentials { errors: Vec<ApiMessage> },
    /// An answer that is not JSON:API (an HTML page from a proxy).
    NotJson { status: u16, content_type: String },
    /// No answer (connection, timeout).
    NoAnswer { message: String },
    /// Still 429 when the run's rate-limit budget ran out: the server did nothing.
    RateLimited(RateLimited),
    /// The server accepted the write but does not hold what was sent.
    NotVerified { attributes: Vec<Mismatch> },
    /// A section this one depends on failed.
    Dependency { section: String },
}

/// How a write stayed rate limited.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RateLimited {
    /// 429 responses in the whole run.
    pub responses: u32,
    pub waited_seconds: f64,
    pub budget_seconds: f64,
    /// The wait the server asked for, when it was beyond what was left of the budget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asked_seconds: Option<f64>,
}

impl From<&Exhausted> for RateLimited {
    fn from(exhausted: &Exhausted) -> Self {
        RateLimited {
            responses: exhausted.seen,
            waited_seconds: exhausted.waited.as_secs_f64(),
            budget_seconds: exhausted.budget.as_secs_f64(),
            asked_seconds: exhausted.asked.map(|d| d.as_secs_f64()),
        }
    }
}

impl From<&RateLimited> for Exhausted {
    fn from(report: &RateLimited) -> Self {
        let duration = |s: f64| Duration::try_from_secs_f64(s).unwrap_or_default();
        Exhausted {
            seen: report.responses,
            waited: duration(report.waited_seconds),
            budget: duration(report.budget_seconds),
            limit: None,
            asked: report.asked_seconds.map(duration),
        }
    }
}

/// A JSON:API error, with the attribute its pointer names.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ApiMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    pub message: String,
}

/// An attribute that did not take.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Mismatch {
    pub attribute: String,
    /// What the server holds (absent when sensitive or not returned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<Value>,
    /// What was sent (absent when sensitive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent: Option<Value>,
}

/// The counts of the final line.
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct OutcomeSummary {
    /// Sections whose document was written.
    pub changed: usize,
    pub actions: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// The live state moved since the plan was made.
#[derive(Debug, thiserror::Error)]
pub enum StaleError {
    #[error(
        "the live settings changed since the plan was made: {}",
        moved.join(", ")
    )]
    Moved { moved: Vec<String> },
    #[error("cannot re-read the live settings")]
    Read(#[from] LiveError),
}

/// Re-reads the sections the plan writes and refuses if any attribute a call changes no
/// longer has the value it was planned against. Sensitive values are not in the plan, so
/// they cannot be checked.
///
/// # Errors
/// [`StaleError::Moved`] naming every attribute that moved; a failed read.
pub async fn check_fresh<A: Api>(api: &A, plan: &Plan) -> Result<(), StaleError> {
    let specs: Vec<&'static SectionSpec> = plan
        .sections
        .iter()
        .filter(|s| s.steps.iter().any(|step| step.action.is_none()))
        .filter_map(|s| catalogue::section(&s.section))
        .filter(|s| s.shape != Shape::ActionsOnly)
        .collect();
    if specs.is_empty() {
        return Ok(());
    }
    let state = live::read(api, &specs).await?;
    let mut moved = Vec::new();
    for section in &plan.sections {
        let Some(live_section) = state.section(&section.section) else {
            continue;
        };
        for step in section.steps.iter().filter(|s| s.action.is_none()) {
            for expected in &step.expect {
                let Some(value) = &expected.value else {
                    continue;
                };
                let Some(spec) = live_section.spec.attribute(&expected.name) else {
                    continue;
                };
                let now = live_section.doc.attribute(&expected.name);
                if !now.is_some_and(|now| equivalent(spec.kind, spec.blank_is_unset(), now, value))
                {
                    // The value now is server text.
                    let now = now.map_or_else(
                        || "not returned".to_owned(),
                        |v| api.redactor().value(v).to_string(),
                    );
                    moved.push(format!(
                        "{}.{} was {} and is now {now}",
                        section.section, expected.name, value,
                    ));
                }
            }
        }
    }
    if moved.is_empty() {
        Ok(())
    } else {
        Err(StaleError::Moved { moved })
    }
}

/// Carries out the plan: every section at once, except that a section waits for the
/// sections it depends on (catalogue `after`) and is skipped if one of them failed. The
/// client's `--rps` limit bounds the request rate. `progress` is told each section's result
/// as it happens.
pub async fn apply<A: Api>(
    api: &A,
    plan: &Plan,
    progress: &(dyn Fn(&SectionOutcome) + Sync),
) -> Outcome {
    let sections: Vec<&SectionPlan> = plan
        .sections
        .iter()
        .filter(|s| !s.steps.is_empty())
        .collect();
    // One channel per section: its final status, once known.
    let channels: Vec<_> = sections
        .iter()
        .map(|_| tokio::sync::watch::channel(None::<Status>))
        .collect();
    let runs = sections.iter().enumerate().map(|(index, section)| {
        let channels = &channels;
        let sections = &sections;
        async move {
            let mut failed_dependency = None;
            for dependency in dependencies(section) {
                let Some(position) = sections.iter().position(|s| s.section == dependency) else {
                    continue;
                };
                let mut receiver = channels[position].1.clone();
                let settled = receiver.wait_for(Option::is_some).await.map(|s| *s);
                if !matches!(settled, Ok(Some(Status::Applied))) {
                    failed_dependency = Some(dependency);
                    break;
                }
            }
            let outcome = match failed_dependency {
                Some(dependency) => SectionOutcome {
                    section: section.section.clone(),
                    status: Status::Skipped,
                    calls: Vec::new(),
                    failure: Some(Failure::Dependency {
                        section: dependency.to_owned(),
                    }),
                },
                None => run_section(api, section).await,
            };
            progress(&outcome);
            let _ = channels[index].0.send(Some(outcome.status));
            outcome
        }
    });
    let done = join_all(runs).await;
    let mut summary = OutcomeSummary::default();
    for outcome in &done {
        match outcome.status {
            Status::Applied => {}
            Status::Failed => summary.failed += 1,
            Status::Skipped => summary.skipped += 1,
        }
        let writes = outcome
            .calls
            .iter()
            .filter(|c| c.action.is_none() && c.status.is_some());
        if outcome.status == Status::Applied && writes.count() > 0 {
            summary.changed += 1;
        }
        summary.actions += outcome
            .calls
            .iter()
            .filter(|c| c.action.is_some() && c.status.is_some_and(|s| (200..300).contains(&s)))
            .count();
    }
    Outcome {
        format_version: crate::plan::FORMAT_VERSION,
        address: plan.address.clone(),
        sections: done,
        summary,
    }
}

fn dependencies(section: &SectionPlan) -> Vec<&'static str> {
    catalogue::section(&section.section).map_or_else(Vec::new, |s| s.after.to_vec())
}

/// One section's calls, in order; the first failure ends the section.
async fn run_section<A: Api>(api: &A, section: &SectionPlan) -> SectionOutcome {
    let mut outcome = SectionOutcome {
        section: section.section.clone(),
        status: Status::Applied,
        calls: Vec::new(),
        failure: None,
    };
    for step in &section.steps {
        let result = call(api, &section.section, step).await;
        outcome.calls.push(Call {
            method: step.method,
            path: step.path.clone(),
            action: step.action.clone(),
            status: result.as_ref().map_or_else(|f| f.1, |r| Some(r.status)),
        });
        let verified = match result {
            Ok(answer) => verify(api, &section.section, step, answer).await,
            Err((failure, _)) => Err(failure),
        };
        if let Err(failure) = verified {
            outcome.status = Status::Failed;
            outcome.failure = Some(failure);
            break;
        }
    }
    outcome
}

/// A successful answer.
struct Answer {
    status: u16,
    body: Body,
}

async fn call<A: Api>(
    api: &A,
    section: &str,
    step: &Step,
) -> Result<Answer, (Failure, Option<u16>)> {
    let body = step.body.as_ref().map(crate::plan::RequestBody::to_json);
    let response = match api.call(step.method, &step.path, body.as_ref()).await {
        Ok(response) => response,
        // An answer, and a clear one: the server did nothing.
        Err(ApiError::RateLimited { exhausted, .. }) => {
            return Err((Failure::RateLimited((&exhausted).into()), Some(429)));
        }
        Err(e) => return Err((no_answer(&e, api.redactor()), None)),
    };
    let status = response.status;
    if response.is_success() {
        return Ok(Answer {
            status,
            body: response.body,
        });
    }
    let errors: Vec<ApiMessage> = response.errors().iter().map(api_message).collect();
    let failure = match (&response.body, section, step.method, status) {
        (Body::Other { content_type }, ..) => Failure::NotJson {
            status,
            content_type: content_type.clone(),
        },
        (_, "smtp", Method::Patch, 401) => Failure::MailCredentials { errors },
        _ => Failure::Rejected { status, errors },
    };
    Err((failure, Some(status)))
}

fn api_message(error: &ErrorObject) -> ApiMessage {
    ApiMessage {
        attribute: error.attribute().map(str::to_owned),
        message: error.message(),
    }
}

fn no_answer(error: &ApiError, redactor: &Redactor) -> Failure {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Failure::NoAnswer {
        message: redactor.text(&message),
    }
}

/// Checks that the server holds what a call sent: the returned document, or a re-read.
async fn verify<A: Api>(
    api: &A,
    section: &str,
    step: &Step,
    answer: Answer,
) -> Result<(), Failure> {
    let Some(spec) = catalogue::section(section) else {
        return Ok(());
    };
    if let Some(action) = &step.action {
        // Only outcome actions have a state to check (revoke: old-idp-cert is gone).
        let returns_document = spec
            .actions
            .iter()
            .any(|a| a.name == action && a.response == ActionResponse::Document);
        if returns_document
            && let catalogue::ActionWhen::Outcome { live_attr, .. } = spec
                .actions
                .iter()
                .find(|a| a.name == action)
                .map_or(catalogue::ActionWhen::Named, |a| a.when)
        {
            let doc = document_after(api, spec, &answer).await?;
            let held = doc.attribute(live_attr);
            if held.is_some_and(|v| !v.is_null() && v != "") {
                return Err(Failure::NotVerified {
                    attributes: vec![Mismatch {
                        attribute: live_attr.to_owned(),
                        live: None,
                        sent: None,
                    }],
                });
            }
        }
        return Ok(());
    }
    let doc = document_after(api, spec, &answer).await?;
    if step.method == Method::Delete {
        let gone = match spec.shape {
            Shape::Policy => doc == LiveDoc::NoPolicy,
            _ => doc.attribute("enabled") == Some(&Value::Bool(false)),
        };
        return if gone {
            Ok(())
        } else {
            Err(Failure::NotVerified {
                attributes: vec![Mismatch {
                    attribute: if spec.shape == Shape::Policy {
                        "(policy)".to_owned()
                    } else {
                        "enabled".to_owned()
                    },
                    live: None,
                    sent: None,
                }],
            })
        };
    }
    let Some(body) = &step.body else {
        return Ok(());
    };
    let mut mismatches = Vec::new();
    for planned in &body.attributes {
        let Some(attr) = spec.attribute(&planned.name) else {
            continue;
        };
        // Write-only and trigger attributes are never returned.
        if attr.access != catalogue::Access::ReadWrite {
            continue;
        }
        let sent = planned
            .secret
            .as_ref()
            .map(|s| &s.0)
            .or(planned.value.as_ref());
        let Some(sent) = sent else { continue };
        let live = doc.attribute(&planned.name);
        if !live.is_some_and(|l| equivalent(attr.kind, attr.blank_is_unset(), sent, l)) {
            mismatches.push(Mismatch {
                attribute: planned.name.clone(),
                live: if planned.sensitive {
                    None
                } else {
                    live.map(|l| api.redactor().value(l))
                },
                sent: if planned.sensitive {
                    None
                } else {
                    Some(sent.clone())
                },
            });
        }
    }
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(Failure::NotVerified {
            attributes: mismatches,
        })
    }
}

/// The section's document after a call: the one returned, else a fresh GET.
async fn document_after<A: Api>(
    api: &A,
    spec: &SectionSpec,
    answer: &Answer,
) -> Result<LiveDoc, Failure> {
    if let Body::Json(body) = &answer.body
        && answer.status != 204
        && let Some(doc) = jsonapi::document(body)
    {
        return Ok(LiveDoc::Document(doc.attributes));
    }
    let response = api
        .call(Method::Get, spec.path, None)
        .await
        .map_err(|e| no_answer(&e, api.redactor()))?;
    match (response.status, &response.body) {
        (404, _) if spec.shape == Shape::Policy => Ok(LiveDoc::NoPolicy),
        (200..=299, Body::Json(body))
            if spec.shape == Shape::Policy && body.get("data").is_some_and(Value::is_null) =>
        {
            Ok(LiveDoc::NoPolicy)
        }
        (200..=299, Body::Json(body)) => jsonapi::document(body)
            .map(|d| LiveDoc::Document(d.attributes))
            .ok_or(Failure::Rejected {
                status: response.status,
                errors: Vec::new(),
            }),
        (status, Body::Other { content_type }) => Err(Failure::NotJson {
            status,
            content_type: content_type.clone(),
        }),
        (status, _) => Err(Failure::Rejected {
            status,
            errors: response.errors().iter().map(api_message).collect(),
        }),
    }
}
