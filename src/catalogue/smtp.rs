//! `smtp`: `/api/v2/admin/smtp-settings` (type `smtp-settings`, id `smtp`). Seed 001 plus the
//! XOAUTH2 attributes of go-tfe v2 (reference §1.5). `password` is never returned; whether GET
//! returns `client-secret` is undocumented, so it is treated as write-only too (the safe
//! choice: never compared, never shown). A 401 from the PATCH means the mail server rejected
//! the credentials. Data only.

use super::rules::{required_when, required_when_enabled};
use super::values::{Email, SmtpAuth};
use super::{AttrSpec, AttrView, Literal, SectionSpec, Singleton, Violation};

section_attributes! {
    /// SMTP settings (outgoing mail).
    pub struct Smtp;
    const ATTRIBUTES;
    "enabled" enabled: bool = AttrSpec::rw(
        "Allows SMTP to be used. If true, all remaining attributes must have valid values.",
    )
    .default(Literal::Bool(false)),
    "host" host: String = AttrSpec::rw("The host address of the SMTP server."),
    "port" port: u32 = AttrSpec::rw("The port of the SMTP server.").min(1).max(65_535),
    "sender" sender: Email = AttrSpec::rw("The desired sender address."),
    "auth" auth: SmtpAuth = AttrSpec::rw(
        "The authentication type: none, plain, login or xoauth2.",
    )
    .default(Literal::Str("none")),
    "username" username: String = AttrSpec::rw(
        "The username used to authenticate to the SMTP server. Only required if auth is login \
         or plain.",
    ),
    "password" password: String = AttrSpec::wo(
        "The password used to authenticate to the SMTP server. Only required if auth is login \
         or plain.",
    )
    .sensitive(),
    "client-id" client_id: String = AttrSpec::rw(
        "The OAuth 2.0 client id used with auth xoauth2.",
    ),
    "client-secret" client_secret: String = AttrSpec::wo(
        "The OAuth 2.0 client secret used with auth xoauth2.",
    )
    .sensitive(),
    "microsoft-tenant-id" microsoft_tenant_id: String = AttrSpec::rw(
        "The Microsoft Entra tenant id, for xoauth2 with Microsoft 365 mail.",
    ),
    "test-email-address" test_email_address: Email = AttrSpec::trigger(
        "The email address to send a test message to. Not persisted: sent only with a change to \
         this section, so that TFE sends a test mail (the change fails if delivery fails).",
    ),
    "permissions" permissions: serde_json::Map<String, serde_json::Value> =
        AttrSpec::ro("What the caller may do with these settings."),
}

pub static SECTION: SectionSpec = SectionSpec {
    key: "smtp",
    doc: "SMTP: the mail server TFE sends notifications and invitations through.",
    path: "admin/smtp-settings",
    json_type: "smtp-settings",
    kind: &Singleton { id: "smtp" },
    since: None,
    enabled_by: Some("enabled"),
    disable_destroys: None,
    rejected_credentials: Some(
        "the mail server rejected the SMTP credentials (a 401 from the SMTP settings, not a bad \
         API token)",
    ),
    after: &[],
    attributes: ATTRIBUTES,
    actions: &[],
    rules,
    schema: Smtp::schema,
    parse: Smtp::parse,
};

fn rules(view: &dyn AttrView) -> Vec<Violation> {
    let mut found = required_when_enabled(view, SECTION.key, &["host", "port", "sender"]);
    if view.get(SECTION.key, "enabled").is_true() {
        found.extend(required_when(
            view,
            SECTION.key,
            "auth",
            &["login", "plain"],
            &["username", "password"],
        ));
        // Assumption (the docs are silent): XOAUTH2 needs the client credentials.
        found.extend(required_when(
            view,
            SECTION.key,
            "auth",
            &["xoauth2"],
            &["client-id", "client-secret"],
        ));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::rules::tests::view;
    use serde_json::Value;

    #[test]
    fn login_needs_username_and_password_when_enabled() {
        let v = view(&[
            ("smtp", "enabled", Value::Bool(true)),
            ("smtp", "auth", Value::from("login")),
            ("smtp", "username", Value::from("")),
        ]);
        let found = rules(&v);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].attr, "username");
        assert_eq!(found[0].message, "must have a value when `auth` is `login`");
    }

    #[test]
    fn disabled_smtp_may_be_incomplete() {
        let v = view(&[
            ("smtp", "enabled", Value::Bool(false)),
            ("smtp", "auth", Value::from("login")),
            ("smtp", "username", Value::from("")),
            ("smtp", "host", Value::from("")),
        ]);
        assert!(rules(&v).is_empty());
    }
}
