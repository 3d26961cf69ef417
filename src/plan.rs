//! The plan: from a [`Diff`], the ordered API calls that reach the desired state, with what
//! each shows a reviewer. The same plan is printed by `plan`, saved by `--out` and carried out
//! by `apply`, so what was shown is what is done. Sensitive values stay in memory only: the
//! serialised plan (JSON output, saved plan) holds their `${env:...}` references instead.
//! Pure: no I/O, nothing printed.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::Method;
use crate::catalogue::{self, ActionSpec, ActionWhen, Release, SectionSpec};
use crate::desired::DesiredAttr;
use crate::diff::{Diff, SectionDiff, Write};

/// The version of the plan's JSON format; see `schema/plan.schema.json`.
pub const FORMAT_VERSION: u32 = 1;

/// What the plan may do beyond the plain changes.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Send every write-only secret of the managed sections, changed or not.
    pub push_secrets: bool,
    /// Allow destructive changes (disabling SCIM).
    pub allow_destroy: bool,
    /// Actions named on the command line (`oidc.rotate-key`).
    pub actions: Vec<&'static ActionSpec>,
}

/// Why an `--action` name is not one.
#[derive(Debug, thiserror::Error)]
#[error("unknown action `{name}`; the actions are: {}", known.join(", "))]
pub struct UnknownAction {
    pub name: String,
    pub known: Vec<String>,
}

/// Resolves `SECTION.ACTION` names of actions that run only when named.
///
/// # Errors
/// A name that is not such an action.
pub fn named_actions(names: &[String]) -> Result<Vec<&'static ActionSpec>, UnknownAction> {
    let catalogue_actions = || {
        catalogue::SECTIONS.iter().flat_map(|s| {
            s.actions
                .iter()
                .filter(|a| a.when == ActionWhen::Named)
                .map(move |a| (format!("{}.{}", s.key, a.name), a))
        })
    };
    names
        .iter()
        .map(|name| {
            catalogue_actions()
                .find(|(full, _)| full == name)
                .map(|(_, a)| a)
                .ok_or_else(|| UnknownAction {
                    name: name.clone(),
                    known: catalogue_actions().map(|(full, _)| full).collect(),
                })
        })
        .collect()
}

/// The whole plan.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Plan {
    /// The version of this format (1).
    pub format_version: u32,
    /// The address the plan was made against.
    pub address: String,
    /// The TFE release the installation reported, if it did.
    pub release: Option<String>,
    /// Every managed section with something to do or to say, in apply order.
    pub sections: Vec<SectionPlan>,
    /// Rules of the API that the desired state, laid over the live one, would break: a plan
    /// with any is not applicable.
    pub errors: Vec<PlanError>,
    pub summary: Summary,
}

/// One section's part of the plan.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct SectionPlan {
    /// The section key (`general`).
    pub section: String,
    pub operation: Operation,
    /// The attributes the write sends, as a reviewer sees them.
    pub attributes: Vec<AttributePlan>,
    /// The calls, in order: the write first, then its actions.
    pub steps: Vec<Step>,
    /// Things worth knowing that change nothing (write-only secrets not sent, attributes the
    /// release lacks).
    pub notes: Vec<String>,
    /// Why the section's steps will not run without a flag (`--allow-destroy`).
    pub blocked: Option<String>,
}

/// What happens to a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    Update,
    Create,
    Replace,
    Delete,
    /// Disable SCIM (destroys SCIM groups and tokens).
    Disable,
    /// Only actions.
    Actions,
    /// Nothing to write.
    Unchanged,
    /// The installation's release does not have the section.
    Unsupported,
}

/// How an attribute takes part in the write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AttributeRole {
    /// Its value differs from the live one.
    Change,
    /// Write-only: cannot be compared; sent with the section's write.
    WriteOnly,
    /// Not persisted: sent with the write to trigger a side effect.
    Trigger,
}

/// One attribute of a write.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct AttributePlan {
    pub name: String,
    pub role: AttributeRole,
    pub sensitive: bool,
    /// The live value (absent when sensitive, write-only, or not returned by the server).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// Whether the server returned a live value at all.
    pub before_known: bool,
    /// The desired value (absent when sensitive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// The `${env:...}` / `${file:...}` text the value comes from, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Where the file sets it (`FILE:LINE:COL`).
    pub location: String,
}

/// One API call.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Step {
    pub method: Method,
    /// Path below `/api/v2/`.
    pub path: String,
    /// The action's name, for an action call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The JSON:API request body, if the call has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<RequestBody>,
    /// The live values this call was planned against (for the staleness check of apply).
    pub expect: Vec<Expectation>,
}

/// A request body: the JSON:API type and the attributes to send.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct RequestBody {
    #[serde(rename = "type")]
    pub json_type: String,
    pub attributes: Vec<PlannedValue>,
}

/// A value to send. A sensitive one is serialised as its reference only; the value itself
/// is kept in memory for `apply -f` and re-read from the reference by `apply PLANFILE`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct PlannedValue {
    pub name: String,
    pub sensitive: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The directory `${file:...}` references resolve from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_dir: Option<String>,
    #[serde(skip)]
    #[schemars(skip)]
    pub secret: Option<SecretValue>,
}

/// A sensitive value in memory: never printed, never serialised.
#[derive(Clone, PartialEq)]
pub struct SecretValue(pub Value);

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(sensitive)")
    }
}

/// A live value a call was planned against.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Expectation {
    pub name: String,
    /// The live value; absent for a sensitive attribute (never stored) or when the server did
    /// not return one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// A rule the combined state would break.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct PlanError {
    /// `section.attribute`.
    pub path: String,
    pub message: String,
    pub location: String,
}

/// The counts of the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Summary {
    /// Sections whose document is written.
    pub sections: usize,
    /// Attributes whose value changes.
    pub attributes: usize,
    pub actions: usize,
    /// Sections held back until a flag allows them.
    pub blocked: usize,
}

impl Plan {
    /// Whether carrying out the plan would call the API at all.
    #[must_use]
    pub fn has_changes(&self) -> bool {
        self.sections.iter().any(|s| !s.steps.is_empty())
    }

    /// Redacts the live values the plan shows and keeps (`before`, `expect`): they are server
    /// text. A shown value loses the secrets in it; a kept one that holds a secret is dropped,
    /// like a sensitive value, since the saved plan must not hold it (its staleness is then
    /// not checked).
    pub fn redact_live_values(&mut self, redactor: &crate::redact::Redactor) {
        for section in &mut self.sections {
            for attr in &mut section.attributes {
                attr.before = attr.before.as_ref().map(|v| redactor.value(v));
            }
            for expectation in section.steps.iter_mut().flat_map(|s| s.expect.iter_mut()) {
                if expectation
                    .value
                    .as_ref()
                    .is_some_and(|v| redactor.contains_secret(v))
                {
                    expectation.value = None;
                }
            }
        }
    }
}

/// Builds the plan of a diff.
#[must_use]
pub fn build(
    diff: &Diff<'_>,
    address: &str,
    release: Option<Release>,
    options: &PlanOptions,
) -> Plan {
    let mut sections: Vec<SectionPlan> = Vec::new();
    for spec in catalogue::SECTIONS {
        let section_diff = diff.sections.iter().find(|d| d.spec.key == spec.key);
        let named: Vec<&'static ActionSpec> = options
            .actions
            .iter()
            .copied()
            .filter(|a| spec.actions.iter().any(|own| std::ptr::eq(own, *a)))
            .collect();
        let mut plan = match section_diff {
            Some(d) => section_plan(d, release, options),
            None if named.is_empty() => continue,
            None => empty_section(spec),
        };
        for action in named {
            plan.steps.push(action_step(action, None));
        }
        if plan.operation == Operation::Unchanged && !plan.steps.is_empty() {
            plan.operation = Operation::Actions;
        }
        if !plan.steps.is_empty() || !plan.notes.is_empty() || plan.blocked.is_some() {
            sections.push(plan);
        }
    }
    let errors = diff
        .violations
        .iter()
        .map(|v| PlanError {
            path: format!("{}.{}", v.section, v.attr),
            message: v.message.clone(),
            location: v.pos.to_string(),
        })
        .collect();
    let summary = summarise(&sections);
    Plan {
        format_version: FORMAT_VERSION,
        address: address.to_owned(),
        release: release.map(|r| r.to_string()),
        sections,
        errors,
        summary,
    }
}

fn empty_section(spec: &SectionSpec) -> SectionPlan {
    SectionPlan {
        section: spec.key.to_owned(),
        operation: Operation::Unchanged,
        attributes: Vec::new(),
        steps: Vec::new(),
        notes: Vec::new(),
        blocked: None,
    }
}

fn section_plan(
    d: &SectionDiff<'_>,
    release: Option<Release>,
    options: &PlanOptions,
) -> SectionPlan {
    let spec = d.spec;
    let mut plan = empty_section(spec);
    let running = release.map_or_else(|| "an unknown release".to_owned(), |r| r.to_string());
    for attr in &d.unsupported {
        let since = attr.spec.since.map(|s| s.to_string()).unwrap_or_default();
        plan.notes.push(format!(
            "`{}` needs TFE {since}; this installation runs {running}: not sent",
            attr.spec.name
        ));
    }
    let expect: Vec<Expectation> = d
        .changes
        .iter()
        .map(|c| Expectation {
            name: c.attr.spec.name.to_owned(),
            value: if c.attr.is_sensitive() {
                None
            } else {
                c.before.clone()
            },
        })
        .collect();
    let changes: Vec<AttributePlan> = d
        .changes
        .iter()
        .map(|c| attribute_plan(c.attr, AttributeRole::Change, c.before.as_ref()))
        .collect();
    let push_secrets = options.push_secrets && !d.write_only.is_empty();
    match d.write {
        Write::NotInRelease => {
            plan.operation = Operation::Unsupported;
            let since = spec.since.map(|s| s.to_string()).unwrap_or_default();
            plan.notes.push(format!(
                "the section needs TFE {since}; this installation runs {running}: not planned"
            ));
            return plan;
        }
        Write::Patch => patch(&mut plan, d, changes, expect),
        Write::None if push_secrets => patch(&mut plan, d, changes, expect),
        Write::None => {
            for attr in &d.write_only {
                plan.notes.push(format!(
                    "`{}` is write-only: it cannot be compared, and is sent only with a change to \
                     this section or with --push-secrets",
                    attr.spec.name
                ));
            }
        }
        Write::CreatePolicy | Write::ReplacePolicy => post_policy(&mut plan, d, changes, expect),
        Write::DeletePolicy => {
            plan.operation = Operation::Delete;
            plan.steps.push(Step {
                method: Method::Delete,
                path: spec.path.to_owned(),
                action: None,
                body: None,
                expect: Vec::new(),
            });
        }
        Write::DisableScim => {
            plan.operation = Operation::Disable;
            plan.attributes = changes;
            plan.steps.push(Step {
                method: Method::Delete,
                path: spec.path.to_owned(),
                action: None,
                body: None,
                expect,
            });
            if !options.allow_destroy {
                plan.blocked = Some(
                    "disabling SCIM deletes every SCIM group, membership and token: it needs \
                     --allow-destroy"
                        .to_owned(),
                );
            }
        }
    }
    let written = !plan.steps.is_empty();
    for action in &d.actions {
        plan.steps.push(action_step(action, None));
    }
    // After-write actions (twilio verify) run only when the section was written.
    for action in spec.actions {
        if let ActionWhen::AfterWrite { input } = action.when
            && written
            && let Some(trigger) = d.triggers.iter().find(|t| t.spec.name == input)
        {
            plan.steps.push(action_step(action, Some(trigger)));
            plan.attributes
                .push(attribute_plan(trigger, AttributeRole::Trigger, None));
        }
    }
    plan
}

/// The POST of a policy: every desired attribute (a policy is written whole).
fn post_policy(
    plan: &mut SectionPlan,
    d: &SectionDiff<'_>,
    changes: Vec<AttributePlan>,
    expect: Vec<Expectation>,
) {
    let create = d.write == Write::CreatePolicy;
    plan.operation = if create {
        Operation::Create
    } else {
        Operation::Replace
    };
    let all: Vec<&DesiredAttr> = d.desired.attributes.iter().flatten().collect();
    plan.attributes = if create {
        all.iter()
            .map(|a| attribute_plan(a, AttributeRole::Change, None))
            .collect()
    } else {
        changes
    };
    plan.steps.push(Step {
        method: Method::Post,
        path: d.spec.path.to_owned(),
        action: None,
        body: Some(body(d.spec, &all)),
        expect,
    });
}

/// The PATCH of a section: its changes, its write-only secrets and its triggers.
fn patch(
    plan: &mut SectionPlan,
    d: &SectionDiff<'_>,
    changes: Vec<AttributePlan>,
    expect: Vec<Expectation>,
) {
    let spec = d.spec;
    plan.operation = Operation::Update;
    let sent: Vec<&DesiredAttr> = d
        .changes
        .iter()
        .map(|c| c.attr)
        .chain(d.write_only.iter().copied())
        .chain(
            d.triggers
                .iter()
                .copied()
                .filter(|t| is_sent_trigger(spec, t)),
        )
        .collect();
    let mut attrs = changes;
    attrs.extend(
        d.write_only
            .iter()
            .map(|a| attribute_plan(a, AttributeRole::WriteOnly, None)),
    );
    attrs.extend(
        d.triggers
            .iter()
            .filter(|t| is_sent_trigger(spec, t))
            .map(|a| attribute_plan(a, AttributeRole::Trigger, None)),
    );
    plan.attributes = attrs;
    plan.steps.push(Step {
        method: Method::Patch,
        path: spec.path.to_owned(),
        action: None,
        body: Some(body(spec, &sent)),
        expect,
    });
}

/// Whether a trigger rides in the section's own write (smtp `test-email-address`) rather
/// than in an after-write action's body (twilio `test-number`).
fn is_sent_trigger(spec: &SectionSpec, attr: &DesiredAttr) -> bool {
    !spec.actions.iter().any(|a| {
        a.when
            == (ActionWhen::AfterWrite {
                input: attr.spec.name,
            })
    })
}

fn action_step(action: &'static ActionSpec, input: Option<&DesiredAttr>) -> Step {
    Step {
        method: Method::Post,
        path: action.path.to_owned(),
        action: Some(action.name.to_owned()),
        body: input.map(|attr| RequestBody {
            json_type: String::new(),
            attributes: vec![planned_value(attr)],
        }),
        expect: Vec::new(),
    }
}

fn body(spec: &SectionSpec, attrs: &[&DesiredAttr]) -> RequestBody {
    RequestBody {
        json_type: spec.json_type.to_owned(),
        attributes: attrs.iter().map(|a| planned_value(a)).collect(),
    }
}

fn planned_value(attr: &DesiredAttr) -> PlannedValue {
    let sensitive = attr.is_sensitive();
    PlannedValue {
        name: attr.spec.name.to_owned(),
        sensitive,
        value: (!sensitive).then(|| attr.value.clone()),
        reference: attr.template.clone(),
        reference_dir: attr
            .template
            .as_ref()
            .filter(|t| t.contains("${file:"))
            .and(attr.base_dir.as_ref())
            .map(|d| d.display().to_string()),
        secret: sensitive.then(|| SecretValue(attr.value.clone())),
    }
}

fn attribute_plan(
    attr: &DesiredAttr,
    role: AttributeRole,
    before: Option<&Value>,
) -> AttributePlan {
    let sensitive = attr.is_sensitive();
    AttributePlan {
        name: attr.spec.name.to_owned(),
        role,
        sensitive,
        before: if sensitive { None } else { before.cloned() },
        before_known: before.is_some(),
        after: (!sensitive).then(|| attr.value.clone()),
        reference: attr.template.clone(),
        location: attr.pos.to_string(),
    }
}

fn summarise(sections: &[SectionPlan]) -> Summary {
    let mut summary = Summary::default();
    for section in sections {
        if section.blocked.is_some() {
            summary.blocked += 1;
        }
        if section.steps.iter().any(|s| s.action.is_none()) {
            summary.sections += 1;
        }
        summary.attributes += section
            .attributes
            .iter()
            .filter(|a| a.role == AttributeRole::Change)
            .count();
        summary.actions += section.steps.iter().filter(|s| s.action.is_some()).count();
    }
    summary
}

impl RequestBody {
    /// The JSON:API document to send, secrets included (from memory).
    #[must_use]
    pub fn to_json(&self) -> Value {
        let attributes: Map<String, Value> = self
            .attributes
            .iter()
            .filter_map(|a| {
                let value = a
                    .secret
                    .as_ref()
                    .map(|s| s.0.clone())
                    .or_else(|| a.value.clone())?;
                Some((a.name.clone(), value))
            })
            .collect();
        if self.json_type.is_empty() {
            serde_json::json!({ "data": { "attributes": attributes } })
        } else {
            crate::api::jsonapi::request(&self.json_type, attributes)
        }
    }
}

/// The JSON Schema of the plan document (`schema/plan.schema.json`).
#[must_use]
pub fn json_schema_text() -> String {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<Plan>();
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::*;
    use crate::catalogue::Release;
    use crate::config::{validate, yaml};
    use crate::desired::DesiredState;
    use crate::live::{LiveDoc, LiveSection, LiveState};

    fn desired(text: &str) -> DesiredState {
        let root = match yaml::parse(&Arc::from("t.yaml"), text) {
            Ok(root) => root,
            Err(e) => panic!("{e}"),
        };
        let outcome = validate::validate(&root, true, &[]);
        match outcome.state {
            Some(state) => state,
            None => panic!("{:?}", outcome.diagnostics),
        }
    }

    fn live(release: Option<Release>, docs: &[(&str, LiveDoc)]) -> LiveState {
        LiveState {
            release,
            sections: docs
                .iter()
                .map(|(key, doc)| LiveSection {
                    spec: crate::catalogue::section(key).unwrap_or_else(|| panic!("{key}")),
                    doc: doc.clone(),
                })
                .collect(),
        }
    }

    fn doc(value: &Value) -> LiveDoc {
        LiveDoc::Document(value.as_object().cloned().unwrap_or_default())
    }

    fn plan_of(desired: &DesiredState, live: &LiveState, options: &PlanOptions) -> Plan {
        build(
            &crate::diff::diff(desired, live),
            "https://tfe.example.com",
            live.release,
            options,
        )
    }

    fn sent(plan: &Plan, section: &str) -> Vec<Value> {
        plan.sections
            .iter()
            .filter(|s| s.section == section)
            .flat_map(|s| s.steps.iter())
            .filter_map(|step| step.body.as_ref().map(RequestBody::to_json))
            .collect()
    }

    #[test]
    fn only_differing_attributes_are_sent() {
        let d =
            desired("general:\n  api-rate-limit: 50\n  plan-timeout: 120m\n  apply-timeout: 24h\n");
        let l = live(
            None,
            &[(
                "general",
                doc(&json!({"api-rate-limit": 30, "plan-timeout": "2h", "apply-timeout": "24h"})),
            )],
        );
        let plan = plan_of(&d, &l, &PlanOptions::default());
        assert_eq!(
            sent(&plan, "general"),
            [json!({"data": {"type": "general-settings", "attributes": {"api-rate-limit": 50}}})]
        );
        assert_eq!(
            plan.summary,
            Summary {
                sections: 1,
                attributes: 1,
                actions: 0,
                blocked: 0
            }
        );
        let step = &plan.sections[0].steps[0];
        assert_eq!(step.expect[0].value, Some(json!(30)));
    }

    #[test]
    fn nothing_differs_nothing_is_planned() {
        let d = desired("general:\n  plan-timeout: 120m\n");
        let l = live(None, &[("general", doc(&json!({"plan-timeout": "2h"})))]);
        let plan = plan_of(&d, &l, &PlanOptions::default());
        assert!(!plan.has_changes());
        assert!(plan.sections.is_empty());
    }

    #[test]
    fn write_only_secrets_ride_with_a_change_or_with_push_secrets() {
        let d = desired(
            "smtp:\n  host: b\n  password: s3cret\n  test-email-address: ops@example.com\n",
        );
        let changed = live(None, &[("smtp", doc(&json!({"host": "a"})))]);
        let plan = plan_of(&d, &changed, &PlanOptions::default());
        assert_eq!(
            sent(&plan, "smtp"),
            [json!({"data": {"type": "smtp-settings", "attributes": {
                "host": "b", "password": "s3cret", "test-email-address": "ops@example.com"}}})]
        );
        // The serialised plan never holds the secret.
        assert!(!crate::render::json(&plan).contains("s3cret"));

        let same = live(None, &[("smtp", doc(&json!({"host": "b"})))]);
        let plan = plan_of(&d, &same, &PlanOptions::default());
        assert!(!plan.has_changes());
        assert!(plan.sections[0].notes[0].contains("`password` is write-only"));
        let pushed = plan_of(
            &d,
            &same,
            &PlanOptions {
                push_secrets: true,
                ..PlanOptions::default()
            },
        );
        assert_eq!(
            sent(&pushed, "smtp"),
            [json!({"data": {"type": "smtp-settings", "attributes": {
                "password": "s3cret", "test-email-address": "ops@example.com"}}})]
        );
    }

    #[test]
    fn revoke_is_planned_only_while_an_old_certificate_is_held() {
        let d = desired("saml:\n  revoke-old-idp-cert: true\n");
        let held = live(
            None,
            &[(
                "saml",
                doc(&json!({"old-idp-cert": "-----BEGIN CERTIFICATE-----x"})),
            )],
        );
        let plan = plan_of(&d, &held, &PlanOptions::default());
        assert_eq!(
            plan.sections[0].steps[0].action.as_deref(),
            Some("revoke-old-certificate")
        );
        let none = live(None, &[("saml", doc(&json!({"old-idp-cert": null})))]);
        assert!(!plan_of(&d, &none, &PlanOptions::default()).has_changes());
    }

    #[test]
    fn twilio_verify_follows_a_twilio_write_only() {
        let d = desired("twilio:\n  from-number: '+1555'\n  test-number: '+1666'\n");
        let changed = live(None, &[("twilio", doc(&json!({"from-number": "+1444"})))]);
        let plan = plan_of(&d, &changed, &PlanOptions::default());
        let steps = &plan.sections[0].steps;
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].method, Method::Patch);
        assert_eq!(steps[1].action.as_deref(), Some("verify"));
        assert_eq!(
            sent(&plan, "twilio"),
            [
                json!({"data": {"type": "twilio-settings", "attributes": {"from-number": "+1555"}}}),
                json!({"data": {"attributes": {"test-number": "+1666"}}}),
            ]
        );
        let same = live(None, &[("twilio", doc(&json!({"from-number": "+1555"})))]);
        assert!(!plan_of(&d, &same, &PlanOptions::default()).has_changes());
    }

    #[test]
    fn policies_are_created_replaced_and_deleted() {
        let d = desired("data-retention-policy:\n  delete-older-than-n-days: 90\n");
        let none = live(None, &[("data-retention-policy", LiveDoc::NoPolicy)]);
        let plan = plan_of(&d, &none, &PlanOptions::default());
        assert_eq!(plan.sections[0].operation, Operation::Create);
        assert_eq!(plan.sections[0].steps[0].method, Method::Post);
        let other = live(
            None,
            &[(
                "data-retention-policy",
                doc(&json!({"delete-older-than-n-days": 30})),
            )],
        );
        assert_eq!(
            plan_of(&d, &other, &PlanOptions::default()).sections[0].operation,
            Operation::Replace
        );
        let null = desired("data-retention-policy: null\n");
        let plan = plan_of(&null, &other, &PlanOptions::default());
        assert_eq!(plan.sections[0].operation, Operation::Delete);
        assert!(!plan_of(&null, &none, &PlanOptions::default()).has_changes());
    }

    #[test]
    fn disabling_scim_is_shown_and_blocked_without_allow_destroy() {
        let d = desired("scim:\n  enabled: false\n  paused: true\n");
        let on = live(
            None,
            &[("scim", doc(&json!({"enabled": true, "paused": false})))],
        );
        let plan = plan_of(&d, &on, &PlanOptions::default());
        let section = &plan.sections[0];
        assert_eq!(section.operation, Operation::Disable);
        assert_eq!(section.steps[0].method, Method::Delete);
        assert!(section.blocked.is_some());
        assert_eq!(
            section.attributes.len(),
            1,
            "paused is moot once SCIM is deleted"
        );
        let allowed = plan_of(
            &d,
            &on,
            &PlanOptions {
                allow_destroy: true,
                ..PlanOptions::default()
            },
        );
        assert!(allowed.sections[0].blocked.is_none());
    }

    #[test]
    fn attributes_and_sections_newer_than_the_release_are_reported_not_sent() {
        let d =
            desired("saml:\n  attr-site-auditor: Auditor\n  debug: true\nscim:\n  paused: true\n");
        let l = live(
            Some(Release::semver(2, 0, 0)),
            &[
                ("saml", doc(&json!({"debug": false}))),
                ("scim", LiveDoc::NotInRelease),
            ],
        );
        let plan = plan_of(&d, &l, &PlanOptions::default());
        assert_eq!(
            sent(&plan, "saml"),
            [json!({"data": {"type": "saml-settings", "attributes": {"debug": true}}})]
        );
        assert!(
            plan.sections[0].notes[0].contains("needs TFE 2.1.0; this installation runs 2.0.0")
        );
        assert_eq!(plan.sections[1].operation, Operation::Unsupported);
    }

    #[test]
    fn rules_see_the_file_laid_over_the_live_state() {
        let d = desired("smtp:\n  enabled: true\n");
        let l = live(
            None,
            &[(
                "smtp",
                doc(&json!({"enabled": false, "host": "", "port": 25, "sender": "a@b.c"})),
            )],
        );
        let plan = plan_of(&d, &l, &PlanOptions::default());
        assert_eq!(plan.errors.len(), 1);
        assert_eq!(plan.errors[0].path, "smtp.host");
        assert_eq!(plan.errors[0].location, "t.yaml:2:12");
    }

    #[test]
    fn missing_live_attributes_are_unknown_changes_not_crashes() {
        let d = desired("general:\n  stacks-enabled: true\n");
        let l = live(None, &[("general", doc(&json!({})))]);
        let plan = plan_of(&d, &l, &PlanOptions::default());
        assert!(!plan.sections[0].attributes[0].before_known);
    }

    #[test]
    fn named_actions_resolve_and_unknown_ones_are_listed() {
        let Ok(actions) = named_actions(&["oidc.rotate-key".to_owned()]) else {
            panic!()
        };
        let plan = plan_of(
            &desired("{}\n"),
            &live(None, &[]),
            &PlanOptions {
                actions,
                ..PlanOptions::default()
            },
        );
        assert_eq!(plan.sections[0].section, "oidc");
        assert_eq!(plan.sections[0].operation, Operation::Actions);
        let Err(e) = named_actions(&["oidc.rotate".to_owned()]) else {
            panic!()
        };
        assert_eq!(
            e.to_string(),
            "unknown action `oidc.rotate`; the actions are: oidc.rotate-key, oidc.trim-key"
        );
    }
}
