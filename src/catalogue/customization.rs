//! `customization`: `/api/v2/admin/customization-settings` (type `customization-settings`, id
//! `customization`), TFE v202003-1 and later. Seed 001 plus the URL and avatar attributes of
//! go-tfe v2 (reference §1.7). `avatar-sources` is replaced whole by a PATCH. Data only.

use super::values::{AvatarSource, Email, Html, SupportUrl, WebUrl};
use super::{AttrSpec, Literal, Release, SectionSpec, Singleton};

section_attributes! {
    /// Customization settings (texts and links shown in the UI).
    pub struct Customization;
    const ATTRIBUTES;
    "support-email-address" support_email_address: Email = AttrSpec::rw(
        "The deprecated support address for outgoing emails. The default, \
         support@hashicorp.com, is not a functional address.",
    )
    .default(Literal::Str("support@hashicorp.com")),
    "support-url-address" support_url_address: WebUrl = AttrSpec::rw(
        "The support link shown in the UI, used when no support e-mail address is set.",
    ),
    "login-help" login_help: Html = AttrSpec::rw(
        "The login help text presented to users on the login page.",
    )
    .default(Literal::Str("")),
    "footer" footer: Html = AttrSpec::rw("Custom footer content that is added to the application.")
        .default(Literal::Str("")),
    "error" error: Html = AttrSpec::rw(
        "Error instruction content that is presented to users upon unexpected errors.",
    )
    .default(Literal::Str("")),
    "new-user" new_user: Html = AttrSpec::rw(
        "New user instructions that are presented when the user is not yet attached to an \
         organization.",
    )
    .default(Literal::Str("")),
    "internal-documentation-url" internal_documentation_url: WebUrl = AttrSpec::rw(
        "A link to your internal documentation, shown in the UI (http or https; blank for the \
         default).",
    )
    .default(Literal::Str("")),
    "internal-tutorials-url" internal_tutorials_url: WebUrl = AttrSpec::rw(
        "A link to your internal tutorials, shown in the UI (http or https; blank for the \
         default).",
    )
    .default(Literal::Str("")),
    "internal-support-url" internal_support_url: SupportUrl = AttrSpec::rw(
        "A link to your internal support, shown in the UI (http, https or mailto; blank for the \
         default).",
    )
    .default(Literal::Str("")),
    "avatar-sources" avatar_sources: Vec<AvatarSource> = AttrSpec::rw(
        "The ordered sources of user avatars (saml, gravatar), each enabled or not; initials \
         are the implicit fallback. A change replaces the whole list (Terraform Enterprise \
         only).",
    ),
}

pub static SECTION: SectionSpec = SectionSpec {
    key: "customization",
    doc: "Customization: the support address, login help, footer, error and new-user texts, \
          internal links and avatar sources shown in the UI.",
    path: "admin/customization-settings",
    json_type: "customization-settings",
    kind: &Singleton {
        id: "customization",
    },
    since: Some(Release::monthly(202_003, 1)),
    enabled_by: None,
    disable_destroys: None,
    rejected_credentials: None,
    after: &[],
    attributes: ATTRIBUTES,
    actions: &[],
    rules: super::rules::none,
    schema: Customization::schema,
    parse: Customization::parse,
};
