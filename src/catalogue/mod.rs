//! The catalogue: one description per admin settings endpoint, read by every other stage.
//!
//! Each section lives in its own file and declares, once, its YAML key, API path, JSON:API
//! type, kind (a settings document, a policy, a collection of items, actions only), typed
//! attribute struct, attribute metadata (access, sensitivity, kind, release, aliases,
//! documented default), actions, the API's own completeness rules and the behaviour that
//! would otherwise be spelled out in a stage (which attribute enables the section, what
//! disabling it destroys, what a 401 from its write means). [`SECTIONS`] names them all;
//! schema, validation, diff, plan, apply, export, the sandbox and the README table iterate
//! that list. Adding an endpoint is a new file here plus one line in [`SECTIONS`]; adding a
//! kind of endpoint is a new implementation of [`kind::SectionKind`], which every stage calls.
//!
//! Nothing here does I/O: this module is data plus pure functions over it (the kinds
//! describe reads and writes; `live` and `apply` carry them out).

#[macro_use]
mod macros;

pub mod docs;
pub mod kind;
pub mod release;
pub mod rules;
pub mod values;

mod cost_estimation;
mod customization;
mod data_retention;
mod general;
mod oidc;
mod saml;
mod scim;
mod smtp;
mod tool_versions;
mod twilio;

use schemars::{Schema, SchemaGenerator};
use serde_json::Value;

pub use kind::{ActionsOnly, Collection, Policy, SectionKind, Singleton};
pub use release::Release;
pub use rules::{AttrView, Known, Violation};

pub use cost_estimation::CostEstimation;
pub use customization::Customization;
pub use data_retention::DataRetentionPolicy;
pub use general::General;
pub use saml::Saml;
pub use scim::Scim;
pub use smtp::Smtp;
pub use twilio::Twilio;

/// Every settings endpoint the tool knows, in apply order (SAML before SCIM: SCIM needs SAML).
pub static SECTIONS: &[&SectionSpec] = &[
    &general::SECTION,
    &cost_estimation::SECTION,
    &saml::SECTION,
    &smtp::SECTION,
    &twilio::SECTION,
    &customization::SECTION,
    &scim::SECTION,
    &data_retention::SECTION,
    &tool_versions::TERRAFORM,
    &tool_versions::SENTINEL,
    &tool_versions::OPA,
    &oidc::SECTION,
];

/// Looks a section up by its YAML key (`general`, `data-retention-policy`, ...).
#[must_use]
pub fn section(key: &str) -> Option<&'static SectionSpec> {
    SECTIONS.iter().copied().find(|s| s.key == key)
}

/// The sections that may appear in a desired-state file (every one but the actions-only ones).
pub fn file_sections() -> impl Iterator<Item = &'static SectionSpec> {
    SECTIONS.iter().copied().filter(|s| s.kind.in_file())
}

/// One admin settings endpoint.
pub struct SectionSpec {
    /// The key in the desired-state file, also the name used in output (`general`).
    pub key: &'static str,
    /// What the section is for, one paragraph: the schema description and README text.
    pub doc: &'static str,
    /// Path below `/api/v2/` (`admin/general-settings`).
    pub path: &'static str,
    /// The JSON:API `data.type` of the document (for a policy: the only accepted policy type).
    pub json_type: &'static str,
    /// How the endpoint is read and written: every stage calls it (see [`kind`]).
    pub kind: &'static dyn SectionKind,
    /// The first TFE release that has the endpoint, where known.
    pub since: Option<Release>,
    /// The boolean attribute that switches the section on (`enabled`), if it has one.
    pub enabled_by: Option<&'static str>,
    /// Switching the section off can only be done by a DELETE that destroys data (SCIM); what
    /// it destroys, in words a reviewer reads ("removes every SCIM group, membership and
    /// token"). Such a change needs `--allow-destroy`.
    pub disable_destroys: Option<&'static str>,
    /// What a 401 from a write of this section means when it is not the API token's fault
    /// (SMTP: the mail server refused the SMTP credentials).
    pub rejected_credentials: Option<&'static str>,
    /// Sections whose writes must succeed before this one's are sent (SCIM needs SAML).
    pub after: &'static [&'static str],
    /// Every attribute of the document, plus the tool's own trigger and outcome keys.
    pub attributes: &'static [AttrSpec],
    /// Action endpoints that belong to this section.
    pub actions: &'static [ActionSpec],
    /// The API's completeness rules for this section (see [`rules`]).
    pub rules: fn(&dyn AttrView) -> Vec<Violation>,
    /// The JSON Schema of the section's typed attribute struct.
    pub schema: fn(&mut SchemaGenerator) -> Schema,
    /// Deserialises an attribute object into the typed struct, proving it well-formed.
    pub parse: fn(Value) -> Result<(), serde_json::Error>,
}

impl std::fmt::Debug for SectionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SectionSpec")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl SectionSpec {
    /// The attribute with this API name, if the section has one.
    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<&'static AttrSpec> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The attributes a user may write in the file (everything but read-only ones).
    pub fn file_attributes(&self) -> impl Iterator<Item = &'static AttrSpec> {
        self.attributes
            .iter()
            .filter(|a| !matches!(a.access, Access::ReadOnly))
    }

    /// Whether the value is the section's "off" switch set to off (`enabled: false`).
    #[must_use]
    pub fn is_disable(&self, attr: &str, value: &Value) -> bool {
        self.enabled_by == Some(attr) && *value == Value::Bool(false)
    }
}

/// What the API does with an attribute, and so what the tool may do with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Returned by GET, accepted by PATCH: compared and reconciled.
    ReadWrite,
    /// Returned by GET, never accepted: an error in the file.
    ReadOnly,
    /// Accepted by PATCH, never returned by GET: cannot be compared, sent with a section
    /// change or with `--push-secrets`.
    WriteOnly,
    /// Not persisted by the API: sent with a change of the section to trigger a side effect
    /// (a test mail, a test SMS). Never causes a change on its own.
    Trigger,
    /// Not an API attribute: an outcome the tool reaches with an action
    /// (`saml.revoke-old-idp-cert`).
    Outcome,
}

impl Access {
    /// The word used in the schema, the README and messages.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Access::ReadWrite => "read-write",
            Access::ReadOnly => "read-only",
            Access::WriteOnly => "write-only",
            Access::Trigger => "trigger",
            Access::Outcome => "outcome",
        }
    }
}

/// The value space of an attribute: how it is validated, compared and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Integer,
    /// Free text.
    Text,
    /// A Go duration (`90m`, `2h`, `1h30m`), compared as a duration.
    Duration,
    /// PEM text, compared modulo whitespace.
    Pem,
    /// HTML text shown in the UI; the API may return it escaped.
    Html,
    /// A URL with one of these schemes; `allow_blank` accepts `""` (meaning "use the default").
    Url {
        schemes: &'static [&'static str],
        allow_blank: bool,
    },
    /// An e-mail address.
    Email,
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
    /// A string holding a JSON document (GCP credentials).
    JsonText,
    /// An ordered list that the API replaces whole (customization `avatar-sources`).
    List,
    /// A list of objects that the API replaces whole, compared as a set keyed by the `key`
    /// fields (tool version `archs`, keyed by `os` and `arch`); each field has its own kind.
    KeyedSet {
        key: &'static [&'static str],
        fields: &'static [(&'static str, Kind)],
    },
    /// A SHA-256 checksum: 64 hexadecimal characters, compared without regard to case.
    Sha256,
    /// A JSON object returned by the API (`permissions`); read-only.
    Object,
}

impl Kind {
    /// A short name for messages and the README.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Kind::Bool => "boolean",
            Kind::Integer => "integer",
            Kind::Text | Kind::Html => "string",
            Kind::Duration => "duration",
            Kind::Pem => "PEM",
            Kind::Url { .. } => "URL",
            Kind::Email => "e-mail",
            Kind::Enum(_) => "enum",
            Kind::JsonText => "JSON string",
            Kind::List => "list",
            Kind::KeyedSet { .. } => "set",
            Kind::Sha256 => "SHA-256",
            Kind::Object => "object",
        }
    }

    /// The kind of a field of a [`Kind::KeyedSet`]'s objects.
    #[must_use]
    pub fn field(self, name: &str) -> Option<Kind> {
        match self {
            Kind::KeyedSet { fields, .. } => {
                fields.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
            }
            _ => None,
        }
    }
}

/// A documented default, kept as a constant so the sandbox can serve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Str(&'static str),
}

impl Literal {
    /// The JSON value of the literal.
    #[must_use]
    pub fn to_json(self) -> Value {
        match self {
            Literal::Null => Value::Null,
            Literal::Bool(b) => Value::Bool(b),
            Literal::Int(i) => Value::from(i),
            Literal::Str(s) => Value::from(s),
        }
    }
}

/// One attribute of a settings document. Built with the `const fn` builders below inside the
/// `section_attributes!` macro, which fills in `name`, `kind` and `nullable` from the field.
#[derive(Debug, Clone, Copy)]
pub struct AttrSpec {
    /// The API's attribute name, also the key in the file.
    pub name: &'static str,
    /// The API documentation of the attribute (schema description).
    pub doc: &'static str,
    pub access: Access,
    /// A secret: never printed, never stored, a literal in the file is refused.
    pub sensitive: bool,
    pub kind: Kind,
    /// `null` is a meaningful value (SCIM group ids: unlink).
    pub nullable: bool,
    /// The first release that has the attribute, where known.
    pub since: Option<Release>,
    /// Deprecated alias of another attribute of the same section.
    pub alias_of: Option<&'static str>,
    /// The documented default.
    pub default: Option<Literal>,
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl AttrSpec {
    const fn new(access: Access, doc: &'static str) -> Self {
        AttrSpec {
            name: "",
            doc,
            access,
            sensitive: false,
            kind: Kind::Text,
            nullable: false,
            since: None,
            alias_of: None,
            default: None,
            min: None,
            max: None,
        }
    }

    /// Readable and writable.
    #[must_use]
    pub const fn rw(doc: &'static str) -> Self {
        Self::new(Access::ReadWrite, doc)
    }

    /// Returned, never accepted.
    #[must_use]
    pub const fn ro(doc: &'static str) -> Self {
        Self::new(Access::ReadOnly, doc)
    }

    /// Accepted, never returned.
    #[must_use]
    pub const fn wo(doc: &'static str) -> Self {
        Self::new(Access::WriteOnly, doc)
    }

    /// Sent to trigger a side effect, never persisted.
    #[must_use]
    pub const fn trigger(doc: &'static str) -> Self {
        Self::new(Access::Trigger, doc)
    }

    /// An outcome reached with an action.
    #[must_use]
    pub const fn outcome(doc: &'static str) -> Self {
        Self::new(Access::Outcome, doc)
    }

    #[must_use]
    pub const fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    #[must_use]
    pub const fn since(mut self, release: Release) -> Self {
        self.since = Some(release);
        self
    }

    #[must_use]
    pub const fn alias_of(mut self, name: &'static str) -> Self {
        self.alias_of = Some(name);
        self
    }

    #[must_use]
    pub const fn default(mut self, value: Literal) -> Self {
        self.default = Some(value);
        self
    }

    #[must_use]
    pub const fn min(mut self, min: i64) -> Self {
        self.min = Some(min);
        self
    }

    #[must_use]
    pub const fn max(mut self, max: i64) -> Self {
        self.max = Some(max);
        self
    }

    /// Filled in by the macro from the field.
    #[doc(hidden)]
    #[must_use]
    pub const fn field(mut self, name: &'static str, kind: Kind, nullable: bool) -> Self {
        self.name = name;
        self.kind = kind;
        self.nullable = nullable;
        self
    }

    /// What GET shows for the attribute while nothing was ever stored: the documented
    /// default, else the empty value of its kind. `null` where null is meaningful and for
    /// numbers (no number is a safe guess); `false`, `""`, `[]` or `{}` otherwise: seed 001's
    /// samples show `""` for texts nobody set (customization) and never a null string except
    /// a certificate that is gone (`old-idp-cert`).
    #[must_use]
    pub fn unset_value(&self) -> Value {
        if let Some(default) = self.default {
            return default.to_json();
        }
        if self.nullable {
            return Value::Null;
        }
        match self.kind {
            Kind::Bool => Value::Bool(false),
            Kind::Integer => Value::Null,
            Kind::List | Kind::KeyedSet { .. } => Value::Array(Vec::new()),
            Kind::Object => Value::Object(serde_json::Map::new()),
            Kind::Sha256
            | Kind::Text
            | Kind::Html
            | Kind::Pem
            | Kind::Email
            | Kind::JsonText
            | Kind::Duration
            | Kind::Url { .. }
            | Kind::Enum(_) => Value::String(String::new()),
        }
    }

    /// Whether the API takes `null` for the attribute in a write, meaning "back to unset"
    /// (its [`unset_value`](Self::unset_value)). Clients send it: go-tfe sends
    /// `"plan-timeout": null` for every option left unset, and a read-modify-write client
    /// sends back the `null` GET showed (an unset `port`). The documentation is silent on
    /// what TFE does with it; the assumption is that null clears any number or text, and
    /// that a boolean or a list has no unset state to go back to (no sample shows one null).
    #[must_use]
    pub fn accepts_null(&self) -> bool {
        self.nullable
            || !matches!(
                self.kind,
                Kind::Bool | Kind::List | Kind::KeyedSet { .. } | Kind::Object
            )
    }

    /// Whether `null` and `""` both mean "not set" for the attribute, so that the diff never
    /// shows a change between them: the nullable attributes, and the optional texts, whose
    /// unset value is `""` while an installation may well answer `null` for them (go-tfe v2
    /// models every one as a pointer). Not an attribute with a non-empty default: a `null`
    /// `attr-username` is `"Username"`, not `""`.
    #[must_use]
    pub fn blank_is_unset(&self) -> bool {
        self.nullable || matches!(self.unset_value(), Value::String(s) if s.is_empty())
    }

    /// Whether the attribute holds certificates, read for their public facts (subject,
    /// issuer, fingerprint, validity): a PEM attribute that is not secret. A secret one holds
    /// a private key, which is never decoded.
    #[must_use]
    pub fn holds_certificates(&self) -> bool {
        self.kind == Kind::Pem && !self.sensitive
    }

    /// Whether the attribute is sent to the API in a section write.
    #[must_use]
    pub fn is_sent(&self) -> bool {
        matches!(
            self.access,
            Access::ReadWrite | Access::WriteOnly | Access::Trigger
        )
    }
}

/// An action endpoint (a POST that does something rather than set a value).
#[derive(Debug, Clone, Copy)]
pub struct ActionSpec {
    /// Short name, unique within the section (`revoke-old-certificate`).
    pub name: &'static str,
    pub doc: &'static str,
    /// Path below `/api/v2/`.
    pub path: &'static str,
    pub when: ActionWhen,
    /// What a successful call returns.
    pub response: ActionResponse,
}

/// When the plan includes an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionWhen {
    /// Only when named with `--action SECTION.NAME` (no readable state to compare).
    Named,
    /// When the outcome attribute is `true` in the file and the live attribute
    /// `live_attr` is not null (saml `revoke-old-idp-cert` / `old-idp-cert`).
    Outcome {
        outcome: &'static str,
        live_attr: &'static str,
    },
    /// After the section was written, when the trigger attribute `input` is given; the
    /// attribute is sent as the action's body (twilio `verify` with `test-number`).
    AfterWrite { input: &'static str },
}

/// What a successful action call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionResponse {
    /// The section's settings document.
    Document,
    /// No body (200 or 204).
    Empty,
}

/// Implemented by every Rust type used for an attribute: ties the type to its [`Kind`].
pub trait AttrValue {
    const KIND: Kind;
    const NULLABLE: bool = false;
}

impl AttrValue for bool {
    const KIND: Kind = Kind::Bool;
}

impl AttrValue for u32 {
    const KIND: Kind = Kind::Integer;
}

impl AttrValue for u64 {
    const KIND: Kind = Kind::Integer;
}

impl AttrValue for String {
    const KIND: Kind = Kind::Text;
}

impl AttrValue for serde_json::Map<String, Value> {
    const KIND: Kind = Kind::Object;
}

/// Applies the catalogue's metadata to the schema schemars generated for a section struct:
/// descriptions, documented defaults, ranges, patterns and formats, access annotations.
/// Called from the structs' `#[schemars(transform)]`, so the schema has one source.
pub fn annotate_schema(schema: &mut Schema, attributes: &[AttrSpec]) {
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    for attr in attributes {
        let Some(property) = properties.get_mut(attr.name) else {
            continue;
        };
        if !property.is_object() {
            continue;
        }
        values::annotate_property(property, attr);
    }
}

/// All the keys a section accepts in the file, for "did you mean" suggestions.
#[must_use]
pub fn suggest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let normal = |s: &str| s.to_ascii_lowercase().replace('_', "-");
    let wanted = normal(word);
    candidates
        .map(|c| (c, strsim::damerau_levenshtein(&wanted, &normal(c))))
        .filter(|(c, d)| *d <= (c.len() / 3).max(2))
        .min_by_key(|(_, d)| *d)
        .map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_keys_and_paths_are_unique() {
        let mut keys: Vec<_> = SECTIONS.iter().map(|s| s.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), SECTIONS.len());
        let mut paths: Vec<_> = SECTIONS.iter().map(|s| s.path).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), SECTIONS.len());
    }

    #[test]
    fn every_attribute_is_named_documented_and_unique() {
        for section in SECTIONS {
            let mut names: Vec<_> = section.attributes.iter().map(|a| a.name).collect();
            assert!(names.iter().all(|n| !n.is_empty()), "{}", section.key);
            names.sort_unstable();
            let count = names.len();
            names.dedup();
            assert_eq!(names.len(), count, "duplicate attribute in {}", section.key);
            for attr in section.attributes {
                assert!(
                    !attr.doc.is_empty(),
                    "{}.{} has no doc",
                    section.key,
                    attr.name
                );
                if let Some(target) = attr.alias_of {
                    assert!(section.attribute(target).is_some(), "{}", attr.name);
                }
            }
        }
    }

    #[test]
    fn write_only_and_sensitive_attributes_match_the_reference() {
        let write_only: Vec<String> = SECTIONS
            .iter()
            .flat_map(|s| {
                s.attributes
                    .iter()
                    .filter(|a| a.access == Access::WriteOnly)
                    .map(move |a| format!("{}.{}", s.key, a.name))
            })
            .collect();
        assert_eq!(
            write_only,
            [
                "saml.private-key",
                "smtp.password",
                "smtp.client-secret",
                "twilio.auth-token"
            ]
        );
        for (section, attr) in [
            ("cost-estimation", "aws-secret-key"),
            ("cost-estimation", "gcp-credentials"),
            ("cost-estimation", "azure-client-secret"),
            ("saml", "private-key"),
            ("smtp", "password"),
            ("smtp", "client-secret"),
            ("twilio", "auth-token"),
        ] {
            let spec = section_attr(section, attr);
            assert!(spec.sensitive, "{section}.{attr}");
        }
    }

    #[test]
    fn deprecated_timeouts_are_aliases() {
        assert_eq!(
            section_attr("general", "terraform-build-worker-plan-timeout").alias_of,
            Some("plan-timeout")
        );
        assert_eq!(
            section_attr("general", "terraform-build-worker-apply-timeout").alias_of,
            Some("apply-timeout")
        );
    }

    #[test]
    fn suggestions_find_typos_and_snake_case() {
        let names = [
            "api-rate-limit",
            "api-rate-limiting-enabled",
            "plan-timeout",
        ];
        assert_eq!(
            suggest("api-rate-limt", names.iter().copied()),
            Some("api-rate-limit")
        );
        assert_eq!(
            suggest("plan_timeout", names.iter().copied()),
            Some("plan-timeout")
        );
        assert_eq!(suggest("zzzz", names.iter().copied()), None);
    }

    #[test]
    fn unset_values_and_what_null_means() {
        use serde_json::json;
        // (attribute, unset value, null accepted in a write, null and "" alike)
        let rows = [
            ("smtp", "host", json!(""), true, true),
            ("smtp", "port", Value::Null, true, false),
            ("smtp", "enabled", json!(false), false, false),
            ("smtp", "auth", json!("none"), true, false),
            ("general", "plan-timeout", json!("2h"), true, false),
            (
                "general",
                "agent-polling-retry-after",
                Value::Null,
                true,
                false,
            ),
            ("saml", "idp-cert", json!(""), true, true),
            ("saml", "attr-username", json!("Username"), true, false),
            ("saml", "certificate", json!(""), true, true),
            ("scim", "site-admin-group-scim-id", Value::Null, true, true),
            ("customization", "avatar-sources", json!([]), false, false),
            ("twilio", "account-sid", json!(""), true, true),
        ];
        for (section, name, unset, null_ok, blank) in rows {
            let attr = section_attr(section, name);
            assert_eq!(attr.unset_value(), unset, "{section}.{name}");
            assert_eq!(attr.accepts_null(), null_ok, "{section}.{name}");
            assert_eq!(attr.blank_is_unset(), blank, "{section}.{name}");
        }
    }

    fn section_attr(section: &str, attr: &str) -> &'static AttrSpec {
        let Some(spec) = super::section(section).and_then(|s| s.attribute(attr)) else {
            panic!("{section}.{attr} missing from the catalogue");
        };
        spec
    }
}
