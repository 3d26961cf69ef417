//! The plan: from a [`Diff`], the ordered API calls that reach the desired state, item by
//! item, with what each shows a reviewer. Each section's kind turns its diff into calls (a
//! PATCH of a document, a POST of a policy, a POST per new tool version); the helpers here
//! build the pieces every kind shares. The same plan is printed by `plan`, saved by `--out`
//! and carried out by `apply`, so what was shown is what is done. Notes, blocked reasons and
//! step kinds are data; `render` puts them into words. Sensitive values stay in memory only:
//! the serialised plan (JSON output, saved plan) holds their `${env:...}` references instead.
//! Pure: no I/O, nothing printed.

use std::fmt;
use std::time::SystemTime;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::Method;
use crate::catalogue::kind::Refusal;
use crate::catalogue::{self, ActionSpec, ActionWhen, Release, SectionSpec};
use crate::certificate::PemBlock;
use crate::desired::DesiredAttr;
use crate::diff::{Diff, ItemDiff};

/// The version of the plan's JSON format; see `schema/plan.schema.json`. 2: changes keyed by
/// item, typed notes and blocked reasons with a `code`, step kinds.
pub const FORMAT_VERSION: u32 = 2;

/// What the plan may do beyond the plain changes.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Send every write-only secret of the managed sections, changed or not.
    pub push_secrets: bool,
    /// Allow destructive changes (disabling SCIM).
    pub allow_destroy: bool,
    /// Actions named on the command line (`oidc.rotate-key`).
    pub actions: Vec<&'static ActionSpec>,
    /// The time certificates are judged at (expired, expiring); `None`: now.
    pub now: Option<SystemTime>,
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
    /// The version of this format (2).
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
    /// The items with calls to make or a reason not to, in order.
    pub items: Vec<ItemPlan>,
    /// Things worth knowing that change nothing (write-only secrets not sent, attributes or
    /// sections the release lacks).
    pub notes: Vec<Note>,
    /// How many items the live read found (collections only): apply's verifying read fetches
    /// that many pages at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_count: Option<u64>,
}

impl SectionPlan {
    /// A section plan with nothing in it yet.
    #[must_use]
    pub fn new(spec: &SectionSpec) -> Self {
        SectionPlan {
            section: spec.key.to_owned(),
            items: Vec::new(),
            notes: Vec::new(),
            live_count: None,
        }
    }

    /// Keeps the item if it has calls to make or a reason not to.
    pub fn push_item(&mut self, item: ItemPlan) {
        if !item.steps.is_empty() || item.blocked.is_some() {
            self.items.push(item);
        }
    }

    /// Whether the section writes anything (an action alone is not a write).
    #[must_use]
    pub fn writes(&self) -> bool {
        self.items
            .iter()
            .flat_map(|i| &i.steps)
            .any(|s| s.kind != StepKind::Action)
    }

    /// Every step of the section.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.items.iter().flat_map(|i| &i.steps)
    }
}

/// One item's part of the plan: a settings document, a policy, a tool version.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ItemPlan {
    /// The item's natural key (`"1.9.8"`); null for a section's only document.
    pub item: Option<String>,
    pub operation: Operation,
    /// Whether the item existed when the plan was made (apply refuses if that changed).
    pub exists: bool,
    /// The API's id of the live item the plan was made against, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_id: Option<String>,
    /// The attributes the write sends, as a reviewer sees them.
    pub attributes: Vec<AttributePlan>,
    /// The calls, in order: the write first, then its actions.
    pub steps: Vec<Step>,
    /// Why the item's steps will not run (a flag is missing, or the API would refuse).
    pub blocked: Option<Blocked>,
}

impl ItemPlan {
    /// The plan of an item before any call is added: what the live read found.
    #[must_use]
    pub fn of(item: &ItemDiff<'_>) -> Self {
        ItemPlan {
            item: item.key.clone(),
            operation: Operation::Unchanged,
            exists: item.live.is_some(),
            live_id: item.live.as_ref().and_then(|l| l.id.clone()),
            attributes: Vec::new(),
            steps: Vec::new(),
            blocked: None,
        }
    }
}

/// What happens to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    Update,
    Create,
    Replace,
    Delete,
    /// Switch the section off with a DELETE that destroys data (SCIM).
    Disable,
    /// Only actions.
    Actions,
    /// Nothing to write.
    Unchanged,
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
    /// For an attribute that holds certificates: the certificates of the live and the desired
    /// value, by their public facts. Also for a value that came from a reference, whose text
    /// is never shown: which certificate replaces which is what a reviewer approves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificates: Option<CertificateChange>,
    /// For a multi-line value that is shown (HTML, text, JSON text pretty-printed): which
    /// lines change, as the hunks of a unified diff of `before` and `after` (written by
    /// `render`; ignored when a saved plan is read back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<LineDiff>,
}

/// The certificates of an attribute before and after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct CertificateChange {
    /// The blocks of the live value; absent when the server did not return it or the item
    /// does not exist yet (empty: the live value holds no PEM block, as when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Vec<PemBlock>>,
    /// The blocks of the desired value (empty: it holds no PEM block, as when unset).
    pub after: Vec<PemBlock>,
}

/// A line diff: the hunks of a unified diff, three lines of context around each change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct LineDiff {
    pub hunks: Vec<Hunk>,
}

/// One hunk: `@@ -old-start,old-lines +new-start,new-lines @@` and its lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Hunk {
    /// The first line of the hunk in the live value (1-based; 0 when it has no line here).
    pub old_start: usize,
    pub old_lines: usize,
    /// The first line of the hunk in the desired value (1-based; 0 when it has no line here).
    pub new_start: usize,
    pub new_lines: usize,
    pub lines: Vec<DiffLine>,
}

/// One line of a hunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct DiffLine {
    pub op: LineOp,
    /// The line, with its line ending when it has one (the last line of a value may not).
    pub text: String,
}

/// What happens to a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LineOp {
    /// Context: in both values (for HTML, alike once entities are decoded; shown as desired).
    Equal,
    /// Only in the live value.
    Delete,
    /// Only in the desired value.
    Insert,
}

/// What a call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// Writes the differing attributes of an existing item (PATCH).
    Update,
    /// Creates an item (POST).
    Create,
    /// Writes an item whole (a policy's POST).
    Replace,
    /// Deletes an item.
    Delete,
    /// Switches the section off with a DELETE that destroys data.
    Disable,
    /// Runs an action.
    Action,
}

/// One API call.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Step {
    pub kind: StepKind,
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

impl PlannedValue {
    /// A value that comes from no file attribute (a collection item's key).
    #[must_use]
    pub fn plain(name: &str, value: Value) -> Self {
        PlannedValue {
            name: name.to_owned(),
            sensitive: false,
            value: Some(value),
            reference: None,
            reference_dir: None,
            secret: None,
        }
    }

    /// The value to send: the secret in memory, else the plain value.
    #[must_use]
    pub fn sent(&self) -> Option<&Value> {
        self.secret.as_ref().map(|s| &s.0).or(self.value.as_ref())
    }
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

/// Something worth knowing that changes nothing: a stable `code`, its data, and its words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Note {
    #[serde(flatten)]
    pub kind: NoteKind,
    /// The note in words (written by `render`; ignored when a saved plan is read back).
    #[serde(default)]
    pub message: String,
}

impl From<NoteKind> for Note {
    fn from(kind: NoteKind) -> Self {
        Note {
            kind,
            message: String::new(),
        }
    }
}

/// What a note is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum NoteKind {
    /// A write-only attribute cannot be compared, and nothing else of its item is written.
    #[serde(rename_all = "kebab-case")]
    WriteOnlyNotSent {
        item: Option<String>,
        attribute: String,
    },
    /// The attribute is newer than the installation's release: not sent.
    #[serde(rename_all = "kebab-case")]
    AttributeNotInRelease {
        item: Option<String>,
        attribute: String,
        since: String,
        running: Option<String>,
    },
    /// The section is newer than the installation's release: not planned.
    #[serde(rename_all = "kebab-case")]
    SectionNotInRelease {
        since: String,
        running: Option<String>,
    },
}

/// Why an item's steps will not run: a stable `code`, its data, and its words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Blocked {
    #[serde(flatten)]
    pub reason: BlockReason,
    /// The reason in words (written by `render`; ignored when a saved plan is read back).
    #[serde(default)]
    pub message: String,
}

impl From<BlockReason> for Blocked {
    fn from(reason: BlockReason) -> Self {
        Blocked {
            reason,
            message: String::new(),
        }
    }
}

/// What blocks an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum BlockReason {
    /// A change that destroys data needs `--allow-destroy`; what it destroys.
    NeedsAllowDestroy { consequence: String },
    /// The API refuses this delete; no flag lifts it.
    DeleteRefused { refusal: Refusal },
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
    /// Sections with something written.
    pub sections: usize,
    /// Attributes whose value changes (those of items created or deleted whole are counted as
    /// items instead).
    pub attributes: usize,
    pub actions: usize,
    /// Items held back until a flag allows them or the API would accept them.
    pub blocked: usize,
    /// Collection items to create, update and delete.
    pub create: usize,
    pub update: usize,
    pub delete: usize,
}

impl Plan {
    /// Whether carrying out the plan would call the API at all.
    #[must_use]
    pub fn has_changes(&self) -> bool {
        self.sections.iter().any(|s| s.steps().next().is_some())
    }

    /// Redacts the live values the plan shows and keeps (`before`, `expect`): they are server
    /// text. A shown value loses the secrets in it; a kept one that holds a secret is dropped,
    /// like a sensitive value, since the saved plan must not hold it (its staleness is then
    /// not checked).
    pub fn redact_live_values(&mut self, redactor: &crate::redact::Redactor) {
        for item in self.sections.iter_mut().flat_map(|s| s.items.iter_mut()) {
            for attr in &mut item.attributes {
                attr.before = attr.before.as_ref().map(|v| redactor.value(v));
                let live_certificates = attr
                    .certificates
                    .iter_mut()
                    .flat_map(|c| c.before.iter_mut().flatten());
                for block in live_certificates {
                    if let PemBlock::Certificate(cert) = block {
                        cert.subject = redactor.text(&cert.subject);
                        cert.issuer = redactor.text(&cert.issuer);
                    }
                }
            }
            for expectation in item.steps.iter_mut().flat_map(|s| s.expect.iter_mut()) {
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

    /// The first blocked item, with its section.
    #[must_use]
    pub fn blocked(&self) -> Option<(&SectionPlan, &ItemPlan)> {
        self.sections.iter().find_map(|s| {
            s.items
                .iter()
                .find(|i| i.blocked.is_some())
                .map(|item| (s, item))
        })
    }
}

/// Builds the plan of a diff: each section's kind plans its items; actions named on the
/// command line are added to their sections.
#[must_use]
pub fn build(
    diff: &Diff<'_>,
    address: &str,
    release: Option<Release>,
    options: &PlanOptions,
) -> Plan {
    let context = Context { release, options };
    let now = options.now.unwrap_or_else(SystemTime::now);
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
            Some(d) if !d.available => {
                let mut plan = SectionPlan::new(spec);
                plan.notes.push(
                    NoteKind::SectionNotInRelease {
                        since: spec.since.map(|s| s.to_string()).unwrap_or_default(),
                        running: release.map(|r| r.to_string()),
                    }
                    .into(),
                );
                plan
            }
            Some(d) => spec.kind.plan(d, &context),
            None if named.is_empty() => continue,
            None => SectionPlan::new(spec),
        };
        if !named.is_empty() {
            let position = plan.items.iter().position(|i| i.item.is_none());
            let index = position.unwrap_or_else(|| {
                plan.items.push(ItemPlan {
                    item: None,
                    operation: Operation::Actions,
                    exists: true,
                    live_id: None,
                    attributes: Vec::new(),
                    steps: Vec::new(),
                    blocked: None,
                });
                plan.items.len() - 1
            });
            for action in named {
                plan.items[index].steps.push(action_step(action, None));
            }
            if plan.items[index].operation == Operation::Unchanged {
                plan.items[index].operation = Operation::Actions;
            }
        }
        if let Some(d) = section_diff {
            describe_certificates(&mut plan, d, now);
        }
        if !plan.items.is_empty() || !plan.notes.is_empty() {
            sections.push(plan);
        }
    }
    let errors = diff
        .violations
        .iter()
        .map(|v| PlanError {
            path: v.path.clone(),
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

/// Adds, to every attribute of the section's plan that holds certificates, the certificates
/// of its live and desired values: read from the diff, which has the values the plan does not
/// keep (a desired value from a reference, a sensitive one's live value).
fn describe_certificates(
    plan: &mut SectionPlan,
    diff: &crate::diff::SectionDiff<'_>,
    now: SystemTime,
) {
    for item in &mut plan.items {
        let Some(item_diff) = diff.items.iter().find(|i| i.key == item.item) else {
            continue;
        };
        for attr in &mut item.attributes {
            let Some(spec) = diff.spec.attribute(&attr.name) else {
                continue;
            };
            if !spec.holds_certificates() {
                continue;
            }
            let Some(desired) = item_diff.desired.and_then(|d| d.attribute(&attr.name)) else {
                continue;
            };
            let read =
                |value: &Value| crate::certificate::read(value.as_str().unwrap_or_default(), now);
            let before = item_diff
                .changes
                .iter()
                .find(|c| c.attr.spec.name == attr.name)
                .and_then(|c| c.before.as_ref())
                .map(read);
            attr.certificates = Some(CertificateChange {
                before,
                after: read(&desired.value),
            });
        }
    }
}

/// What a kind plans with besides its diff.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub release: Option<Release>,
    pub options: &'a PlanOptions,
}

/// Notes for the attributes of an item that the release lacks.
#[must_use]
pub fn unsupported_notes(item: &ItemDiff<'_>, release: Option<Release>) -> Vec<Note> {
    item.unsupported
        .iter()
        .map(|attr| {
            NoteKind::AttributeNotInRelease {
                item: item.key.clone(),
                attribute: attr.spec.name.to_owned(),
                since: attr.spec.since.map(|s| s.to_string()).unwrap_or_default(),
                running: release.map(|r| r.to_string()),
            }
            .into()
        })
        .collect()
}

/// Notes for write-only attributes that are not sent (their item is not written).
#[must_use]
pub fn write_only_notes(item: &ItemDiff<'_>) -> Vec<Note> {
    item.write_only
        .iter()
        .map(|attr| {
            NoteKind::WriteOnlyNotSent {
                item: item.key.clone(),
                attribute: attr.spec.name.to_owned(),
            }
            .into()
        })
        .collect()
}

/// The changes of an item as a reviewer sees them, and as the staleness check expects them.
#[must_use]
pub fn changes(item: &ItemDiff<'_>) -> (Vec<AttributePlan>, Vec<Expectation>) {
    let attributes = item
        .changes
        .iter()
        .map(|c| attribute_plan(c.attr, AttributeRole::Change, c.before.as_ref()))
        .collect();
    let expect = item
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
    (attributes, expect)
}

/// A write of an item's changes, write-only secrets and sent triggers (`extra` first: a
/// collection item's key), as one call.
pub fn write(
    plan: &mut ItemPlan,
    spec: &SectionSpec,
    item: &ItemDiff<'_>,
    call: (StepKind, Method, String),
    extra: Vec<PlannedValue>,
) {
    let (kind, method, path) = call;
    let (mut attributes, expect) = changes(item);
    let sent: Vec<&DesiredAttr> = item
        .changes
        .iter()
        .map(|c| c.attr)
        .chain(item.write_only.iter().copied())
        .chain(
            item.triggers
                .iter()
                .copied()
                .filter(|t| is_sent_trigger(spec, t)),
        )
        .collect();
    attributes.extend(
        item.write_only
            .iter()
            .map(|a| attribute_plan(a, AttributeRole::WriteOnly, None)),
    );
    attributes.extend(
        item.triggers
            .iter()
            .filter(|t| is_sent_trigger(spec, t))
            .map(|a| attribute_plan(a, AttributeRole::Trigger, None)),
    );
    plan.attributes = attributes;
    let mut values = extra;
    values.extend(sent.iter().map(|a| planned_value(a)));
    plan.steps.push(Step {
        kind,
        method,
        path,
        action: None,
        body: Some(RequestBody {
            json_type: spec.json_type.to_owned(),
            attributes: values,
        }),
        expect,
    });
}

/// A call without a body (a DELETE), planned against `expect`.
pub fn bodyless(plan: &mut ItemPlan, kind: StepKind, path: String, expect: Vec<Expectation>) {
    plan.steps.push(Step {
        kind,
        method: Method::Delete,
        path,
        action: None,
        body: None,
        expect,
    });
}

/// The actions due after an item's own calls: outcome actions, and after-write actions
/// (twilio `verify`) when the item was written.
pub fn actions(plan: &mut ItemPlan, spec: &SectionSpec, item: &ItemDiff<'_>) {
    let written = !plan.steps.is_empty();
    for action in &item.actions {
        plan.steps.push(action_step(action, None));
    }
    for action in spec.actions {
        if let ActionWhen::AfterWrite { input } = action.when
            && written
            && let Some(trigger) = item.triggers.iter().find(|t| t.spec.name == input)
        {
            plan.steps.push(action_step(action, Some(trigger)));
            plan.attributes
                .push(attribute_plan(trigger, AttributeRole::Trigger, None));
        }
    }
    if plan.operation == Operation::Unchanged && !plan.steps.is_empty() {
        plan.operation = Operation::Actions;
    }
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
        kind: StepKind::Action,
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

/// A desired attribute as sent: a sensitive value only in memory.
#[must_use]
pub fn planned_value(attr: &DesiredAttr) -> PlannedValue {
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

/// A desired attribute as a reviewer sees it.
#[must_use]
pub fn attribute_plan(
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
        certificates: None,
        diff: None,
    }
}

fn summarise(sections: &[SectionPlan]) -> Summary {
    let mut summary = Summary::default();
    for section in sections {
        if section.writes() {
            summary.sections += 1;
        }
        for item in &section.items {
            if item.blocked.is_some() {
                summary.blocked += 1;
            }
            summary.actions += item
                .steps
                .iter()
                .filter(|s| s.kind == StepKind::Action)
                .count();
            let changed = item
                .attributes
                .iter()
                .filter(|a| a.role == AttributeRole::Change)
                .count();
            if item.item.is_none() {
                summary.attributes += changed;
                continue;
            }
            match item.operation {
                Operation::Create => summary.create += 1,
                Operation::Delete => summary.delete += 1,
                Operation::Update | Operation::Replace | Operation::Disable => {
                    summary.update += 1;
                    summary.attributes += changed;
                }
                Operation::Actions | Operation::Unchanged => {}
            }
        }
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
            .filter_map(|a| Some((a.name.clone(), a.sent()?.clone())))
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
    use crate::live::{LiveItem, LiveSection, LiveState};

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

    /// A live section: its one document, none (an unset policy), or not in the release.
    #[derive(Clone)]
    enum Doc {
        Document(Value),
        None,
        NotInRelease,
    }

    fn live(release: Option<Release>, docs: &[(&str, Doc)]) -> LiveState {
        LiveState {
            release,
            sections: docs
                .iter()
                .map(|(key, doc)| {
                    let spec = crate::catalogue::section(key).unwrap_or_else(|| panic!("{key}"));
                    match doc {
                        Doc::Document(value) => LiveSection::with_items(
                            spec,
                            vec![LiveItem {
                                key: None,
                                id: Some("x".to_owned()),
                                attributes: value.as_object().cloned().unwrap_or_default(),
                            }],
                        ),
                        Doc::None => LiveSection::with_items(spec, Vec::new()),
                        Doc::NotInRelease => LiveSection::not_in_release(spec),
                    }
                })
                .collect(),
        }
    }

    fn doc(value: &Value) -> Doc {
        Doc::Document(value.clone())
    }

    /// The one item of a section's plan.
    fn item(plan: &Plan, index: usize) -> &ItemPlan {
        &plan.sections[index].items[0]
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
            .flat_map(SectionPlan::steps)
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
                ..Summary::default()
            }
        );
        let step = &item(&plan, 0).steps[0];
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
        assert_eq!(
            plan.sections[0].notes[0].kind,
            NoteKind::WriteOnlyNotSent {
                item: None,
                attribute: "password".to_owned()
            }
        );
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
            item(&plan, 0).steps[0].action.as_deref(),
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
        let steps = &item(&plan, 0).steps;
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
        let none = live(None, &[("data-retention-policy", Doc::None)]);
        let plan = plan_of(&d, &none, &PlanOptions::default());
        assert_eq!(item(&plan, 0).operation, Operation::Create);
        assert_eq!(item(&plan, 0).steps[0].method, Method::Post);
        let other = live(
            None,
            &[(
                "data-retention-policy",
                doc(&json!({"delete-older-than-n-days": 30})),
            )],
        );
        assert_eq!(
            item(&plan_of(&d, &other, &PlanOptions::default()), 0).operation,
            Operation::Replace
        );
        let null = desired("data-retention-policy: null\n");
        let plan = plan_of(&null, &other, &PlanOptions::default());
        assert_eq!(item(&plan, 0).operation, Operation::Delete);
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
        let section = item(&plan, 0);
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
        assert!(item(&allowed, 0).blocked.is_none());
    }

    #[test]
    fn attributes_and_sections_newer_than_the_release_are_reported_not_sent() {
        let d =
            desired("saml:\n  attr-site-auditor: Auditor\n  debug: true\nscim:\n  paused: true\n");
        let l = live(
            Some(Release::semver(2, 0, 0)),
            &[
                ("saml", doc(&json!({"debug": false}))),
                ("scim", Doc::NotInRelease),
            ],
        );
        let plan = plan_of(&d, &l, &PlanOptions::default());
        assert_eq!(
            sent(&plan, "saml"),
            [json!({"data": {"type": "saml-settings", "attributes": {"debug": true}}})]
        );
        assert_eq!(
            plan.sections[0].notes[0].kind,
            NoteKind::AttributeNotInRelease {
                item: None,
                attribute: "attr-site-auditor".to_owned(),
                since: "2.1.0".to_owned(),
                running: Some("2.0.0".to_owned())
            }
        );
        assert!(plan.sections[1].items.is_empty());
        assert!(matches!(
            plan.sections[1].notes[0].kind,
            NoteKind::SectionNotInRelease { .. }
        ));
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
        assert!(!item(&plan, 0).attributes[0].before_known);
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
        assert_eq!(item(&plan, 0).operation, Operation::Actions);
        let Err(e) = named_actions(&["oidc.rotate".to_owned()]) else {
            panic!()
        };
        assert_eq!(
            e.to_string(),
            "unknown action `oidc.rotate`; the actions are: oidc.rotate-key, oidc.trim-key"
        );
    }
}
