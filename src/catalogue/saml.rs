//! `saml`: `/api/v2/admin/saml-settings` (type `saml-settings`, id `saml`) and its
//! `revoke-old-certificate` action. Seed 001 documents the first attributes; signing,
//! provider-type, site-auditor and the rest come from go-tfe and the provider (reference
//! §1.3). `private-key` is never returned. Data only.

use super::release::Release;
use super::rules::{required_when_enabled, required_when_true};
use super::values::{HttpsUrl, Pem, SamlProviderType, SignatureMethod};
use super::{
    ActionResponse, ActionSpec, ActionWhen, AttrSpec, AttrView, Literal, SectionSpec, Singleton,
    Violation,
};

section_attributes! {
    /// SAML single sign-on settings.
    pub struct Saml;
    const ATTRIBUTES;
    "enabled" enabled: bool = AttrSpec::rw(
        "Allows SAML to be used. If true, all remaining attributes must have valid values.",
    )
    .default(Literal::Bool(false)),
    "debug" debug: bool = AttrSpec::rw(
        "Enables a SAML debug dialog that allows an admin to see the SAMLResponse XML and \
         processed values during login.",
    )
    .default(Literal::Bool(false)),
    "idp-cert" idp_cert: Pem = AttrSpec::rw(
        "Identity Provider Certificate: the PEM encoded X.509 certificate as provided by the IdP \
         configuration. Changing it keeps the previous one as old-idp-cert.",
    ),
    "old-idp-cert" old_idp_cert: super::values::Nullable<Pem> = AttrSpec::ro(
        "The previous IdP certificate, kept for a rotation period until revoked.",
    ),
    "slo-endpoint-url" slo_endpoint_url: HttpsUrl = AttrSpec::rw(
        "Single Log Out URL: the HTTPS endpoint on your IdP for single logout requests.",
    ),
    "sso-endpoint-url" sso_endpoint_url: HttpsUrl = AttrSpec::rw(
        "Single Sign On URL: the HTTPS endpoint on your IdP for single sign-on requests.",
    ),
    "attr-username" attr_username: String = AttrSpec::rw(
        "Username Attribute Name: the SAML attribute that determines the user's username.",
    )
    .default(Literal::Str("Username")),
    "attr-groups" attr_groups: String = AttrSpec::rw(
        "Team Attribute Name: the SAML attribute that determines team membership.",
    )
    .default(Literal::Str("MemberOf")),
    "attr-site-admin" attr_site_admin: String = AttrSpec::rw(
        "The SAML attribute that grants site admin access. Overrides the Site Admin Role method.",
    )
    .default(Literal::Str("SiteAdmin")),
    "site-admin-role" site_admin_role: String = AttrSpec::rw(
        "The role, in the list sent in the Team Attribute Name attribute, that grants site admin \
         access.",
    )
    .default(Literal::Str("site-admins")),
    "attr-site-auditor" attr_site_auditor: String = AttrSpec::rw(
        "The SAML attribute that grants site auditor access.",
    )
    .since(Release::semver(2, 1, 0)),
    "site-auditor-role" site_auditor_role: String = AttrSpec::rw(
        "The role, in the list sent in the Team Attribute Name attribute, that grants site \
         auditor access.",
    )
    .since(Release::semver(2, 1, 0)),
    "sso-api-token-session-timeout" sso_api_token_session_timeout: u32 = AttrSpec::rw(
        "The Single Sign On session timeout in seconds. Defaults to 14 days.",
    )
    .default(Literal::Int(1_209_600))
    .min(1),
    "acs-consumer-url" acs_consumer_url: String = AttrSpec::ro(
        "The Assertion Consumer Service URL of this installation, for the IdP configuration.",
    ),
    "metadata-url" metadata_url: String = AttrSpec::ro(
        "The SAML metadata URL of this installation, for the IdP configuration.",
    ),
    "certificate" certificate: Pem = AttrSpec::rw(
        "The PEM encoded certificate TFE signs SAML requests with (the service provider \
         certificate).",
    )
    .default(Literal::Str("")),
    "private-key" private_key: Pem = AttrSpec::wo(
        "The PEM encoded private key of the service provider certificate. Never returned by the \
         API.",
    )
    .sensitive(),
    "authn-requests-signed" authn_requests_signed: bool = AttrSpec::rw(
        "Whether TFE signs the SAML authentication requests it sends (needs certificate and \
         private-key).",
    )
    .default(Literal::Bool(false)),
    "want-assertions-signed" want_assertions_signed: bool = AttrSpec::rw(
        "Whether TFE requires the IdP to sign SAML assertions (needs certificate and \
         private-key).",
    )
    .default(Literal::Bool(false)),
    "signature-signing-method" signature_signing_method: SignatureMethod = AttrSpec::rw(
        "The signature algorithm for signed requests: SHA1 or SHA256.",
    )
    .default(Literal::Str("SHA256")),
    "signature-digest-method" signature_digest_method: SignatureMethod = AttrSpec::rw(
        "The digest algorithm for signed requests: SHA1 or SHA256.",
    )
    .default(Literal::Str("SHA256")),
    "team-management-enabled" team_management_enabled: bool = AttrSpec::rw(
        "Whether team membership is managed through the SAML groups attribute.",
    )
    .default(Literal::Bool(false)),
    "provider-type" provider_type: SamlProviderType = AttrSpec::rw(
        "The identity provider product: okta, entra, saml (generic) or unknown. SCIM needs a \
         provider type other than unknown.",
    )
    .default(Literal::Str("unknown")),
    "max-message-size-in-bytes" max_message_size_in_bytes: u32 = AttrSpec::rw(
        "The largest SAML message TFE accepts, in bytes.",
    )
    .min(1),
    "permissions" permissions: serde_json::Map<String, serde_json::Value> =
        AttrSpec::ro("What the caller may do with these settings."),
    "revoke-old-idp-cert" revoke_old_idp_cert: bool = AttrSpec::outcome(
        "When true, the old IdP certificate must be gone: the plan calls \
         revoke-old-certificate whenever the live old-idp-cert is set.",
    ),
}

pub static SECTION: SectionSpec = SectionSpec {
    key: "saml",
    doc: "SAML single sign-on: the identity provider, its certificates, attribute mapping, \
          request signing and session timeout.",
    path: "admin/saml-settings",
    json_type: "saml-settings",
    kind: &Singleton { id: "saml" },
    since: None,
    enabled_by: Some("enabled"),
    disable_destroys: None,
    rejected_credentials: None,
    after: &[],
    attributes: ATTRIBUTES,
    actions: &[ActionSpec {
        name: "revoke-old-certificate",
        doc: "Revokes the old IdP certificate once the new one is known to work.",
        path: "admin/saml-settings/actions/revoke-old-certificate",
        when: ActionWhen::Outcome {
            outcome: "revoke-old-idp-cert",
            live_attr: "old-idp-cert",
        },
        response: ActionResponse::Document,
    }],
    rules,
    schema: Saml::schema,
    parse: Saml::parse,
};

fn rules(view: &dyn AttrView) -> Vec<Violation> {
    let mut found = required_when_enabled(
        view,
        SECTION.key,
        &["idp-cert", "slo-endpoint-url", "sso-endpoint-url"],
    );
    // The server demands both when either signing switch is on (provider issue #1106).
    for switch in ["want-assertions-signed", "authn-requests-signed"] {
        found.extend(required_when_true(
            view,
            SECTION.key,
            switch,
            &["certificate", "private-key"],
        ));
    }
    // One violation per attribute, even when both switches ask for it (`dedup_by` alone only
    // drops neighbours, and the two switches' violations interleave).
    let mut seen = Vec::new();
    found.retain(|v| {
        let first = !seen.contains(&v.attr);
        seen.push(v.attr);
        first
    });
    found
}
