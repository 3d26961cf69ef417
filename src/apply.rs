//! Carrying out a plan: the staleness check (every item a call touches must still exist or
//! not as planned, and every attribute it changes must still have the live value it was
//! planned against), the calls themselves (independent sections at once, a section after the
//! sections whose writes it depends on, a section's items at once, an item's write before its
//! actions), and verification: after its calls, every touched section is read again with a GET
//! (a write's response is no proof that the server kept anything), turned into live state by
//! the section's kind exactly as the plan's read was, and compared with what was sent. Talks
//! to the API through [`Api`] only; prints nothing: it returns an [`Outcome`] for `render`.

use std::fmt;
use std::time::Duration;

use futures_util::future::join_all;
use serde::Serialize;
use serde_json::Value;

use crate::api::pace::Exhausted;
use crate::api::{Api, ApiError, Body, ErrorObject, Method};
use crate::catalogue::{self, Access, ActionWhen, Release, SectionSpec};
use crate::diff::{equivalent, is_blank};
use crate::live::{self, LiveError, LiveSection, Scope};
use crate::plan::{ItemPlan, Operation, Plan, SectionPlan, Step, StepKind};
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
    /// The calls made, in order per item, with their HTTP status.
    pub calls: Vec<Call>,
    /// Why items failed, or why the section was skipped.
    pub failures: Vec<ItemFailure>,
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
    /// The item the call was for (null: the section's only document).
    pub item: Option<String>,
    pub method: Method,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The final HTTP status, when there was an answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

/// Why an item failed (or, with no item, the whole section).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ItemFailure {
    pub item: Option<String>,
    #[serde(flatten)]
    pub failure: Failure,
}

/// Why an item failed or a section was skipped.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Failure {
    /// The API refused a call (a 422 with its JSON:API errors, or another status).
    Rejected {
        status: u16,
        errors: Vec<ApiMessage>,
    },
    /// A 401 from a write whose section says what that means (SMTP: the mail server refused
    /// the SMTP credentials, not the API token).
    CredentialsRejected { errors: Vec<ApiMessage> },
    /// An answer that is not JSON:API (an HTML page from a proxy).
    NotJson { status: u16, content_type: String },
    /// No answer (connection, timeout).
    NoAnswer { message: String },
    /// Still 429 when the run's rate-limit budget ran out: the server did nothing.
    RateLimited(RateLimited),
    /// The verifying read shows values other than those sent.
    NotVerified { attributes: Vec<Mismatch> },
    /// The verifying read still shows an item that was deleted.
    StillPresent,
    /// The verifying read does not show an item that was created.
    Absent,
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
    /// What was sent (absent when sensitive, or for an action's outcome).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent: Option<Value>,
}

/// The counts of the final line.
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct OutcomeSummary {
    /// Sections with something written.
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
        moved.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    Moved { moved: Vec<Moved> },
    #[error("cannot re-read the live settings")]
    Read(#[from] LiveError),
}

/// One thing that moved: where, and from what to what.
#[derive(Debug, Clone, PartialEq)]
pub struct Moved {
    pub section: String,
    pub item: Option<String>,
    pub change: MovedChange,
}

/// How it moved.
#[derive(Debug, Clone, PartialEq)]
pub enum MovedChange {
    /// An attribute the plan changes no longer has the value it was planned against.
    Attribute {
        name: String,
        planned: Value,
        now: Option<Value>,
    },
    /// The item was planned as absent and now exists.
    Appeared,
    /// The item was planned as existing and is now gone.
    Disappeared,
    /// The item was deleted and created again: another id.
    Replaced { planned: String, now: String },
}

impl fmt::Display for Moved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = match &self.item {
            Some(item) => format!("{}[{item:?}]", self.section),
            None => self.section.clone(),
        };
        match &self.change {
            MovedChange::Attribute { name, planned, now } => write!(
                f,
                "{place}.{name} was {planned} and is now {}",
                now.as_ref()
                    .map_or_else(|| "not returned".to_owned(), Value::to_string)
            ),
            MovedChange::Appeared => write!(f, "{place} did not exist and now does"),
            MovedChange::Disappeared => write!(f, "{place} existed and is now gone"),
            MovedChange::Replaced { planned, now } => {
                write!(f, "{place} was {planned} and is now another item, {now}")
            }
        }
    }
}

/// The release a plan was made against.
fn release_of(plan: &Plan) -> Option<Release> {
    plan.release.as_deref().and_then(Release::parse)
}

/// The keys of the items a section plan writes.
fn written_items(section: &SectionPlan) -> Vec<Option<String>> {
    section
        .items
        .iter()
        .filter(|i| i.steps.iter().any(|s| s.kind != StepKind::Action))
        .map(|i| i.item.clone())
        .collect()
}

/// Re-reads the sections the plan writes and refuses if any item it touches appeared,
/// disappeared or was replaced, or any attribute a call changes no longer has the value it
/// was planned against. Sensitive values are not in the plan, so they cannot be checked.
///
/// # Errors
/// [`StaleError::Moved`] naming everything that moved; a failed read.
pub async fn check_fresh<A: Api>(api: &A, plan: &Plan) -> Result<(), StaleError> {
    let touched: Vec<(&SectionPlan, &'static SectionSpec, Vec<Option<String>>)> = plan
        .sections
        .iter()
        .filter_map(|s| {
            let spec = catalogue::section(&s.section)?;
            let items = written_items(s);
            (!items.is_empty()).then_some((s, spec, items))
        })
        .collect();
    if touched.is_empty() {
        return Ok(());
    }
    let scoped: Vec<(&'static SectionSpec, Scope<'_>)> = touched
        .iter()
        .map(|(section, spec, items)| {
            (
                *spec,
                Scope::Planned {
                    items,
                    live_count: section.live_count,
                },
            )
        })
        .collect();
    let state = live::read(api, &scoped).await?;
    let mut moved = Vec::new();
    for (section, spec, _) in &touched {
        let Some(now) = state.section(spec.key) else {
            continue;
        };
        for item in &section.items {
            if item.steps.iter().all(|s| s.kind == StepKind::Action) {
                continue;
            }
            moved.extend(item_moved(section, item, now, api.redactor()));
        }
    }
    if moved.is_empty() {
        Ok(())
    } else {
        Err(StaleError::Moved { moved })
    }
}

fn item_moved(
    section: &SectionPlan,
    item: &ItemPlan,
    now: &LiveSection,
    redactor: &Redactor,
) -> Vec<Moved> {
    let at = |change| Moved {
        section: section.section.clone(),
        item: item.item.clone(),
        change,
    };
    let live = now.item(item.item.as_deref());
    match (item.exists, live) {
        (false, Some(_)) => return vec![at(MovedChange::Appeared)],
        (true, None) => return vec![at(MovedChange::Disappeared)],
        (false, None) => return Vec::new(),
        (true, Some(_)) => {}
    }
    let Some(live) = live else {
        return Vec::new();
    };
    if item.item.is_some()
        && let (Some(planned), Some(current)) = (&item.live_id, &live.id)
        && planned != current
    {
        return vec![at(MovedChange::Replaced {
            planned: planned.clone(),
            now: current.clone(),
        })];
    }
    let mut moved = Vec::new();
    for step in item.steps.iter().filter(|s| s.kind != StepKind::Action) {
        for expected in &step.expect {
            let Some(value) = &expected.value else {
                continue;
            };
            let Some(spec) = now.spec.attribute(&expected.name) else {
                continue;
            };
            let current = live.attributes.get(&expected.name);
            if !current.is_some_and(|c| equivalent(spec.kind, spec.blank_is_unset(), c, value)) {
                moved.push(at(MovedChange::Attribute {
                    name: expected.name.clone(),
                    planned: value.clone(),
                    // The value now is server text.
                    now: current.map(|v| redactor.value(v)),
                }));
            }
        }
    }
    moved
}

/// Carries out the plan: every section at once, except that a section waits for the
/// writes of the sections it depends on (catalogue `after`) and is skipped if one of them
/// failed. Within a section every item at once; then one verifying read of the section.
/// The client's `--rps` limit bounds the request rate. `progress` is told each section's
/// result as it happens.
pub async fn apply<A: Api>(
    api: &A,
    plan: &Plan,
    progress: &(dyn Fn(&SectionOutcome) + Sync),
) -> Outcome {
    let release = release_of(plan);
    let sections: Vec<&SectionPlan> = plan
        .sections
        .iter()
        .filter(|s| s.steps().next().is_some())
        .collect();
    // One channel per section: whether its calls succeeded, once known (before verification:
    // a dependent section needs the writes, not the proof).
    let channels: Vec<_> = sections
        .iter()
        .map(|_| tokio::sync::watch::channel(None::<bool>))
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
                if !matches!(settled, Ok(Some(true))) {
                    failed_dependency = Some(dependency);
                    break;
                }
            }
            let outcome = match failed_dependency {
                Some(dependency) => {
                    let _ = channels[index].0.send(Some(false));
                    SectionOutcome {
                        section: section.section.clone(),
                        status: Status::Skipped,
                        calls: Vec::new(),
                        failures: vec![ItemFailure {
                            item: None,
                            failure: Failure::Dependency {
                                section: dependency.to_owned(),
                            },
                        }],
                    }
                }
                None => run_section(api, section, release, &channels[index].0).await,
            };
            progress(&outcome);
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
        let succeeded = |c: &&Call| c.status.is_some_and(|s| (200..300).contains(&s));
        if outcome
            .calls
            .iter()
            .filter(succeeded)
            .any(|c| c.action.is_none())
        {
            summary.changed += 1;
        }
        summary.actions += outcome
            .calls
            .iter()
            .filter(succeeded)
            .filter(|c| c.action.is_some())
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

/// One section: its items at once (each item's calls in order, the first failure ending the
/// item), then one verifying read of the items whose calls succeeded.
async fn run_section<A: Api>(
    api: &A,
    section: &SectionPlan,
    release: Option<Release>,
    written: &tokio::sync::watch::Sender<Option<bool>>,
) -> SectionOutcome {
    let spec = catalogue::section(&section.section);
    let runs = section
        .items
        .iter()
        .filter(|i| !i.steps.is_empty())
        .map(|item| run_item(api, spec, item));
    let ran: Vec<(&ItemPlan, Vec<Call>, Option<Failure>)> = join_all(runs).await;
    let mut outcome = SectionOutcome {
        section: section.section.clone(),
        status: Status::Applied,
        calls: Vec::new(),
        failures: Vec::new(),
    };
    let mut done = Vec::new();
    for (item, calls, failure) in ran {
        outcome.calls.extend(calls);
        match failure {
            Some(failure) => outcome.failures.push(ItemFailure {
                item: item.item.clone(),
                failure,
            }),
            None => done.push(item),
        }
    }
    let _ = written.send(Some(outcome.failures.is_empty()));
    if let Some(spec) = spec {
        outcome
            .failures
            .extend(verify(api, spec, section, &done, release).await);
    }
    if !outcome.failures.is_empty() {
        outcome.status = Status::Failed;
    }
    outcome
}

async fn run_item<'p, A: Api>(
    api: &A,
    spec: Option<&'static SectionSpec>,
    item: &'p ItemPlan,
) -> (&'p ItemPlan, Vec<Call>, Option<Failure>) {
    let mut calls = Vec::new();
    for step in &item.steps {
        let result = call(api, spec, step).await;
        calls.push(Call {
            item: item.item.clone(),
            method: step.method,
            path: step.path.clone(),
            action: step.action.clone(),
            status: result.as_ref().map_or_else(|f| f.1, |s| Some(*s)),
        });
        if let Err((failure, _)) = result {
            return (item, calls, Some(failure));
        }
    }
    (item, calls, None)
}

/// Makes one call; its status when it succeeded.
async fn call<A: Api>(
    api: &A,
    spec: Option<&'static SectionSpec>,
    step: &Step,
) -> Result<u16, (Failure, Option<u16>)> {
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
        return Ok(status);
    }
    let errors: Vec<ApiMessage> = response.errors().iter().map(api_message).collect();
    let explained = spec.is_some_and(|s| s.rejected_credentials.is_some());
    let failure = match &response.body {
        Body::Other { content_type } => Failure::NotJson {
            status,
            content_type: content_type.clone(),
        },
        _ if status == 401 && explained && step.kind != StepKind::Action => {
            Failure::CredentialsRejected { errors }
        }
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

/// Reads the section again (one read for all its items) and checks every item whose calls
/// succeeded: a deleted item is gone, a written one holds every read-write value sent, an
/// outcome action reached its outcome.
async fn verify<A: Api>(
    api: &A,
    spec: &'static SectionSpec,
    section: &SectionPlan,
    done: &[&ItemPlan],
    release: Option<Release>,
) -> Vec<ItemFailure> {
    let checked: Vec<&ItemPlan> = done
        .iter()
        .copied()
        .filter(|item| {
            item.steps
                .iter()
                .any(|s| s.kind != StepKind::Action || outcome_of(spec, s).is_some())
        })
        .collect();
    if checked.is_empty() {
        return Vec::new();
    }
    let keys: Vec<Option<String>> = checked.iter().map(|i| i.item.clone()).collect();
    let scope = Scope::Planned {
        items: &keys,
        live_count: section.live_count,
    };
    let now = match live::reread(api, spec, scope, release).await {
        Ok(now) => now,
        Err(e) => {
            let failure = reread_failure(&e, api.redactor());
            return checked
                .iter()
                .map(|item| ItemFailure {
                    item: item.item.clone(),
                    failure: failure.clone(),
                })
                .collect();
        }
    };
    checked
        .iter()
        .filter_map(|item| {
            verify_item(spec, item, &now, api.redactor()).map(|failure| ItemFailure {
                item: item.item.clone(),
                failure,
            })
        })
        .collect()
}

fn verify_item(
    spec: &SectionSpec,
    item: &ItemPlan,
    now: &LiveSection,
    redactor: &Redactor,
) -> Option<Failure> {
    let live = now.item(item.item.as_deref());
    if item.operation == Operation::Delete {
        return live.map(|_| Failure::StillPresent);
    }
    let Some(live) = live else {
        return Some(Failure::Absent);
    };
    let check = |name: &str, sent: &Value, sensitive: bool| -> Option<Mismatch> {
        let attr = spec.attribute(name)?;
        // Write-only and trigger attributes are never returned.
        if attr.access != Access::ReadWrite {
            return None;
        }
        let held = live.attributes.get(name);
        if held.is_some_and(|h| equivalent(attr.kind, attr.blank_is_unset(), sent, h)) {
            return None;
        }
        Some(Mismatch {
            attribute: name.to_owned(),
            // What the server holds is server text.
            live: if sensitive {
                None
            } else {
                held.map(|h| redactor.value(h))
            },
            sent: (!sensitive).then(|| sent.clone()),
        })
    };
    let mut mismatches = Vec::new();
    for step in &item.steps {
        match (&step.body, step.kind) {
            (Some(body), StepKind::Update | StepKind::Create | StepKind::Replace) => {
                mismatches.extend(
                    body.attributes
                        .iter()
                        .filter_map(|p| check(&p.name, p.sent()?, p.sensitive)),
                );
            }
            (_, StepKind::Disable) => {
                mismatches.extend(
                    item.attributes
                        .iter()
                        .filter_map(|a| check(&a.name, a.after.as_ref()?, a.sensitive)),
                );
            }
            _ => {}
        }
        if let Some(live_attr) = outcome_of(spec, step)
            && live.attributes.get(live_attr).is_some_and(|v| !is_blank(v))
        {
            mismatches.push(Mismatch {
                attribute: live_attr.to_owned(),
                live: None,
                sent: None,
            });
        }
    }
    (!mismatches.is_empty()).then_some(Failure::NotVerified {
        attributes: mismatches,
    })
}

/// The live attribute an outcome action clears (`old-idp-cert` for `revoke-old-certificate`).
fn outcome_of(spec: &SectionSpec, step: &Step) -> Option<&'static str> {
    let name = step.action.as_deref()?;
    match spec.actions.iter().find(|a| a.name == name)?.when {
        ActionWhen::Outcome { live_attr, .. } => Some(live_attr),
        ActionWhen::Named | ActionWhen::AfterWrite { .. } => None,
    }
}

fn reread_failure(error: &LiveError, redactor: &Redactor) -> Failure {
    match error {
        LiveError::Api(e) => no_answer(e, redactor),
        LiveError::Status { status, errors, .. } => Failure::Rejected {
            status: *status,
            errors: errors.iter().map(api_message).collect(),
        },
        LiveError::NotJson {
            status,
            content_type,
            ..
        } => Failure::NotJson {
            status: *status,
            content_type: content_type.clone(),
        },
        other => Failure::NoAnswer {
            message: redactor.text(&format!("the verifying read failed: {other}")),
        },
    }
}
