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
    matches!(
        (section, attr),
        ("saml", "old-idp-cert")
            | (
                "terraform-versions" | "sentinel-versions" | "opa-versions",
                "usage" | "created-at"
            )
    )
}

/// A fresh id for a collection item, as TFE makes them (`tool-…`).
pub(crate) fn new_item_id() -> String {
    format!("tool-{}", random_hex(8))
}

/// Whether a text is an item id as TFE makes them: letters, digits, `-` and `_`.
pub(crate) fn is_item_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
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

/// The tool-version collections, whose binaries are `archs` with `url`/`sha` as a view of the
/// linux/amd64 entry (reference §2.3).
fn is_tool_versions(section: &str) -> bool {
    matches!(
        section,
        "terraform-versions" | "sentinel-versions" | "opa-versions"
    )
}

/// What makes a create refused beyond each value's own check: a tool version needs its
/// binaries (`archs`, or `url` and `sha`), and when both forms are sent the amd64 entry must
/// be `url` and `sha` (the status of "neither" is undocumented for these kinds; 422 assumed).
pub(crate) fn new_item_problems(section: &str, sent: &Map<String, Value>) -> Vec<Problem> {
    if !is_tool_versions(section) {
        return Vec::new();
    }
    let archs = sent.get("archs").and_then(Value::as_array);
    let (url, sha) = (sent.get("url"), sent.get("sha"));
    match archs {
        None if url.is_none() || sha.is_none() => {
            vec![Problem::new("archs", "archs (or url and sha) is required")]
        }
        Some(archs) if url.is_some() || sha.is_some() => {
            let amd64 = archs.iter().find(|a| amd64(a));
            let matches = amd64.is_some_and(|a| {
                url.is_none_or(|u| a.get("url") == Some(u))
                    && sha.is_none_or(|s| a.get("sha") == Some(s))
            });
            if matches {
                Vec::new()
            } else {
                vec![Problem::new(
                    "url",
                    "url and sha must be those of the linux/amd64 entry of archs",
                )]
            }
        }
        _ => Vec::new(),
    }
}

fn amd64(entry: &Value) -> bool {
    entry.get("os").and_then(Value::as_str).unwrap_or("linux") == "linux"
        && entry.get("arch").and_then(Value::as_str).unwrap_or("amd64") == "amd64"
}

/// What a write of a tool version's binaries does beyond storing what was sent: `archs`
/// entries get the documented defaults (`os` linux, `arch` amd64) and top-level `url`/`sha`
/// become the amd64 entry's (empty without one); `url`/`sha` sent alone replace `archs` with
/// that one amd64 entry, dropping every other architecture, as the API does.
pub(crate) fn item_written(
    section: &str,
    sent: &Map<String, Value>,
    item: &mut Map<String, Value>,
    archs_in_release: bool,
) {
    if !is_tool_versions(section) {
        return;
    }
    if let Some(Value::Array(archs)) = sent.get("archs") {
        let archs: Vec<Value> = archs
            .iter()
            .map(|entry| {
                let mut entry = entry.as_object().cloned().unwrap_or_default();
                entry.entry("os").or_insert_with(|| Value::from("linux"));
                entry.entry("arch").or_insert_with(|| Value::from("amd64"));
                Value::Object(entry)
            })
            .collect();
        let view = archs.iter().find(|a| amd64(a));
        let field = |name: &str| {
            view.and_then(|a| a.get(name))
                .cloned()
                .unwrap_or_else(|| Value::from(""))
        };
        item.insert("url".to_owned(), field("url"));
        item.insert("sha".to_owned(), field("sha"));
        item.insert("archs".to_owned(), Value::Array(archs));
    } else if (sent.contains_key("url") || sent.contains_key("sha")) && archs_in_release {
        let mut entry = Map::new();
        entry.insert("os".to_owned(), Value::from("linux"));
        entry.insert("arch".to_owned(), Value::from("amd64"));
        entry.insert(
            "url".to_owned(),
            item.get("url").cloned().unwrap_or(Value::Null),
        );
        entry.insert(
            "sha".to_owned(),
            item.get("sha").cloned().unwrap_or(Value::Null),
        );
        item.insert("archs".to_owned(), Value::Array(vec![Value::Object(entry)]));
    }
}

/// What a new item holds that nobody sends: a tool version's `usage` and `created-at`.
pub(crate) fn item_created(section: &str, item: &mut Map<String, Value>) {
    if is_tool_versions(section) {
        item.insert("usage".to_owned(), Value::from(0));
        item.insert("created-at".to_owned(), Value::from(now_rfc3339()));
    }
}

/// A change the API refuses with 409: disabling a tool version that workspaces use
/// (documented for the newest kind; assumed for these).
pub(crate) fn item_update_conflict(
    section: &str,
    current: &Map<String, Value>,
    sent: &Map<String, Value>,
) -> Option<String> {
    let used = current.get("usage").and_then(Value::as_u64).unwrap_or(0);
    (is_tool_versions(section) && sent.get("enabled") == Some(&Value::Bool(false)) && used > 0)
        .then(|| format!("the version is used by {used} workspaces and cannot be disabled"))
}

/// Now, as TFE writes times: `2025-01-01T12:00:00.000Z`.
fn now_rfc3339() -> String {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = since.as_secs();
    let days = i64::try_from(seconds / 86_400).unwrap_or(0);
    let rest = seconds % 86_400;
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}
