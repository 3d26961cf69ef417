//! `scim`: `/api/v2/admin/scim-settings` (type `scim-settings`, id `scim`), first documented
//! for TFE 2.0 (reference §1.4). PATCH can enable but never disable: `enabled: false` is a
//! DELETE that wipes SCIM groups and tokens, so it needs `--allow-destroy`. Enabling needs SAML
//! enabled with a provider type other than unknown. Data only.

use super::values::Nullable;
use super::{AttrSpec, AttrView, Known, Release, SectionSpec, Singleton, Violation};

section_attributes! {
    /// SCIM provisioning settings.
    pub struct Scim;
    const ATTRIBUTES;
    "enabled" enabled: bool = AttrSpec::rw(
        "Whether SCIM provisioning is enabled. Setting it to false disables SCIM with a DELETE \
         that removes all SCIM groups, memberships and tokens: it needs --allow-destroy.",
    ),
    "paused" paused: bool = AttrSpec::rw(
        "When true, provisioning calls to /scim/v2/Users and /scim/v2/Groups are refused (403).",
    ),
    "site-admin-group-scim-id" site_admin_group_scim_id: Nullable<String> = AttrSpec::rw(
        "The SCIM id of the group whose members are site admins; null unlinks the group and \
         revokes the site admin role it granted.",
    ),
    "site-admin-group-display-name" site_admin_group_display_name: Nullable<String> =
        AttrSpec::ro("The display name of the site admin group."),
    "site-auditor-group-scim-id" site_auditor_group_scim_id: Nullable<String> = AttrSpec::rw(
        "The SCIM id of the group whose members are site auditors; null unlinks it.",
    )
    .since(Release::semver(2, 1, 0)),
    "site-auditor-group-display-name" site_auditor_group_display_name: Nullable<String> =
        AttrSpec::ro("The display name of the site auditor group.")
            .since(Release::semver(2, 1, 0)),
    "permissions" permissions: serde_json::Map<String, serde_json::Value> =
        AttrSpec::ro("What the caller may do with these settings."),
}

pub static SECTION: SectionSpec = SectionSpec {
    key: "scim",
    doc: "SCIM: user and group provisioning from the identity provider, and the groups that \
          grant the site admin and site auditor roles.",
    path: "admin/scim-settings",
    json_type: "scim-settings",
    kind: &Singleton { id: "scim" },
    // Assumption: the 2.0.x documentation tree is the first to describe SCIM.
    since: Some(Release::semver(2, 0, 0)),
    enabled_by: Some("enabled"),
    disable_destroys: Some("removes every SCIM group, membership and token"),
    rejected_credentials: None,
    after: &["saml"],
    attributes: ATTRIBUTES,
    actions: &[],
    rules,
    schema: Scim::schema,
    parse: Scim::parse,
};

fn rules(view: &dyn AttrView) -> Vec<Violation> {
    if !view.get(SECTION.key, "enabled").is_true() {
        return Vec::new();
    }
    let mut found = Vec::new();
    if let Known::Set(serde_json::Value::Bool(false)) = view.get("saml", "enabled") {
        found.push(Violation {
            section: SECTION.key,
            attr: "enabled",
            message: "SCIM needs SAML: `saml.enabled` must be true".to_owned(),
        });
    }
    if view.get("saml", "provider-type").as_str() == Some("unknown") {
        found.push(Violation {
            section: SECTION.key,
            attr: "enabled",
            message: "SCIM needs `saml.provider-type` to be okta, entra or saml, not unknown"
                .to_owned(),
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::rules::tests::view;
    use serde_json::Value;

    #[test]
    fn scim_needs_saml_with_a_provider_type() {
        let v = view(&[
            ("scim", "enabled", Value::Bool(true)),
            ("saml", "enabled", Value::Bool(false)),
            ("saml", "provider-type", Value::from("unknown")),
        ]);
        assert_eq!(rules(&v).len(), 2);
        let ok = view(&[("scim", "enabled", Value::Bool(true))]);
        assert!(rules(&ok).is_empty());
    }
}
