//! `twilio`: `/api/v2/admin/twilio-settings` (type `twilio-settings`, id `twilio`) and its
//! `verify` action. Seed 001; `auth-token` is never returned by GET. Data only.

use super::rules::required_when_enabled;
use super::{
    ActionResponse, ActionSpec, ActionWhen, AttrSpec, AttrView, Literal, SectionSpec, Singleton,
    Violation,
};

section_attributes! {
    /// Twilio settings (SMS for two-factor authentication).
    pub struct Twilio;
    const ATTRIBUTES;
    "enabled" enabled: bool = AttrSpec::rw(
        "Allows Twilio to be used. If true, all remaining attributes must have valid values.",
    )
    .default(Literal::Bool(false)),
    "account-sid" account_sid: String = AttrSpec::rw("The Twilio account id."),
    "auth-token" auth_token: String =
        AttrSpec::wo("The Twilio authentication token.").sensitive(),
    "from-number" from_number: String = AttrSpec::rw(
        "The Twilio registered phone number that will be used to send the message.",
    ),
    "test-number" test_number: String = AttrSpec::trigger(
        "The target phone number for a test SMS: after a change to this section, \
         `POST twilio-settings/verify` is called with it.",
    ),
}

pub static SECTION: SectionSpec = SectionSpec {
    key: "twilio",
    doc: "Twilio: the SMS provider TFE uses for two-factor authentication.",
    path: "admin/twilio-settings",
    json_type: "twilio-settings",
    kind: &Singleton { id: "twilio" },
    since: None,
    enabled_by: Some("enabled"),
    disable_destroys: None,
    rejected_credentials: None,
    after: &[],
    attributes: ATTRIBUTES,
    actions: &[ActionSpec {
        name: "verify",
        doc: "Sends a test SMS to `test-number` (400 when Twilio is disabled or no number is \
              given).",
        path: "admin/twilio-settings/verify",
        when: ActionWhen::AfterWrite {
            input: "test-number",
        },
        response: ActionResponse::Empty,
    }],
    rules,
    schema: Twilio::schema,
    parse: Twilio::parse,
};

fn rules(view: &dyn AttrView) -> Vec<Violation> {
    required_when_enabled(
        view,
        SECTION.key,
        &["account-sid", "auth-token", "from-number"],
    )
}
