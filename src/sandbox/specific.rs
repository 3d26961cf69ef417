//! The few behaviours of the emulated API that no catalogue row can express, each keyed by
//! section key (and attribute or action name): derived read-only values, SAML certificate
//! rotation and revocation, the SMTP test mail, Twilio's verify action, which section any
//! user may read, and the id of a policy. Everything else is generic and lives elsewhere; keep
//! this file small. Pure functions over the database; no locking, no I/O.

use serde_json::{Map, Value, json};

use super::document::{self, Ctx, Problem};
use super::state::Db;
use super::tokens::random_hex;
use super::values::is_blank;
use crate::catalogue::{ActionSpec, SectionSpec};

/// A side effect of a request, recorded in the outbox once the change is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    /// A test mail (SMTP PATCH with `test-email-address`).
    Mail { to: String },
    /// A test SMS (Twilio `verify`).
    Sms { to: String, from: String },
}

/// The sections that any authenticated user may read (reference §1.1: the UI needs the
/// general settings); writing them still needs a site administrator.
pub(crate) fn readable_by_any_user(section: &str) -> bool {
    section == "general"
}

/// Read-only attributes that are stored rather than derived, so `PUT /_sandbox/state` may set
/// them: the SAML certificate kept after a rotation.
pub(crate) fn stored_read_only(section: &str, attr: &str) -> bool {
    (section, attr) == ("saml", "old-idp-cert")
}

/// A fresh id for a policy of this section (`drp-…` for the data retention policy).
pub(crate) fn new_policy_id(section: &str) -> String {
    let prefix = match section {
        "data-retention-policy" => "drp",
        _ => "pol",
    };
    format!("{prefix}-{}", random_hex(8))
}

/// The value of a read-only attribute that the installation computes; `None` when the
/// attribute is stored (or unknown here). `sibling` reads another attribute of the section.
pub(crate) fn derived(
    section: &str,
    attr: &str,
    ctx: &Ctx,
    sibling: &dyn Fn(&str) -> Value,
) -> Option<Value> {
    let filled = |name: &str| !is_blank(&sibling(name));
    let value = match (section, attr) {
        // The sandbox has one administrator who may do everything.
        (_, "permissions") => json!({"can-read": true, "can-update": true, "can-destroy": true}),
        ("saml", "acs-consumer-url") => json!(format!("https://{}/users/saml/auth", ctx.hostname)),
        ("saml", "metadata-url") => json!(format!("https://{}/users/saml/metadata", ctx.hostname)),
        // "Always returns false" (reference §1.1); the emulated licence includes Stacks.
        ("general", "fair-run-queuing-enabled")
        | ("cost-estimation", "aws-instance-profile-enabled") => {
            json!(false)
        }
        ("general", "stacks-entitled") => json!(true),
        ("cost-estimation", "aws-enabled") => {
            json!(filled("aws-access-key-id") && filled("aws-secret-key"))
        }
        ("cost-estimation", "gcp-enabled") => json!(filled("gcp-credentials")),
        ("cost-estimation", "azure-enabled") => json!(
            [
                "azure-client-id",
                "azure-client-secret",
                "azure-subscription-id",
                "azure-tenant-id"
            ]
            .iter()
            .all(|name| filled(name))
        ),
        // The IdP pushes the groups; the sandbox names them after their id.
        ("scim", "site-admin-group-display-name") => {
            group_name(&sibling("site-admin-group-scim-id"))
        }
        ("scim", "site-auditor-group-display-name") => {
            group_name(&sibling("site-auditor-group-scim-id"))
        }
        _ => return None,
    };
    Some(value)
}

fn group_name(id: &Value) -> Value {
    match id.as_str() {
        Some(id) if !id.trim().is_empty() => json!(format!("group {id}")),
        _ => Value::Null,
    }
}

/// Section-specific consequences of a PATCH, once the attributes sent are merged into
/// `draft` (`before` is the state before the request).
pub(crate) fn after_merge(
    spec: &SectionSpec,
    ctx: &Ctx,
    before: &Db,
    draft: &mut Db,
    sent: &Map<String, Value>,
    problems: &mut Vec<Problem>,
    effects: &mut Vec<Effect>,
) {
    match spec.key {
        "saml" => {
            // A new certificate keeps the previous one for a rotation period.
            let old = current(before, ctx, spec, "idp-cert");
            if let Some(Value::String(new)) = sent.get("idp-cert")
                && !new.trim().is_empty()
                && !is_blank(&old)
                && old.as_str() != Some(new.as_str())
            {
                draft.store(spec.key, "old-idp-cert", old);
            }
        }
        "smtp" => {
            let Some(Value::String(to)) = sent.get("test-email-address") else {
                return;
            };
            if to.trim().is_empty() {
                return;
            }
            if current(draft, ctx, spec, "enabled") == Value::Bool(true) {
                effects.push(Effect::Mail { to: to.clone() });
            } else {
                problems.push(Problem::new(
                    "test-email-address",
                    "test-email-address cannot be used while SMTP is disabled: no test mail \
                     can be sent",
                ));
            }
        }
        _ => {}
    }
}

/// What an action did.
pub(crate) struct ActionDone {
    /// The new database, when the action changed it.
    pub db: Option<Db>,
    pub effect: Option<Effect>,
    pub reply: Reply,
}

/// How an action answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reply {
    /// The section's document, 200.
    Document,
    /// No body, with this status.
    Empty(u16),
}

/// Runs an action that has behaviour of its own; `None` for the others, which are generic
/// (counted, answered as the catalogue says). `Err` is a 400 detail.
pub(crate) fn action(
    spec: &SectionSpec,
    action: &ActionSpec,
    db: &Db,
    ctx: &Ctx,
    body: &[u8],
) -> Option<Result<ActionDone, String>> {
    match (spec.key, action.name) {
        ("saml", "revoke-old-certificate") => {
            let mut draft = db.clone();
            draft.unstore(spec.key, "old-idp-cert");
            Some(Ok(ActionDone {
                db: Some(draft),
                effect: None,
                reply: Reply::Document,
            }))
        }
        ("twilio", "verify") => Some(verify(spec, db, ctx, body)),
        _ => None,
    }
}

/// `POST twilio-settings/verify`: 400 when Twilio is disabled or no number is given, else a
/// test SMS and 200 with no body (seed 001).
fn verify(spec: &SectionSpec, db: &Db, ctx: &Ctx, body: &[u8]) -> Result<ActionDone, String> {
    let number = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| format!("the body is not valid JSON: {e}"))?;
        value
            .pointer("/data/attributes/test-number")
            .and_then(Value::as_str)
            .filter(|n| !n.trim().is_empty())
            .map(str::to_owned)
    };
    if current(db, ctx, spec, "enabled") != Value::Bool(true) {
        return Err("Twilio is not enabled".to_owned());
    }
    let Some(to) = number else {
        return Err("test-number is required".to_owned());
    };
    let from = current(db, ctx, spec, "from-number")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok(ActionDone {
        db: None,
        effect: Some(Effect::Sms { to, from }),
        reply: Reply::Empty(200),
    })
}

/// The effective value of one attribute of the section.
fn current(db: &Db, ctx: &Ctx, spec: &SectionSpec, attr: &str) -> Value {
    spec.attribute(attr)
        .map_or(Value::Null, |a| document::effective(db, ctx, spec, a))
}
