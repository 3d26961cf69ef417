//! `oidc`: `/api/v2/admin/oidc-settings` has no document, only two actions on the signing key
//! of dynamic provider credentials. Neither has state to compare, so they run only when named:
//! `--action oidc.rotate-key`, `--action oidc.trim-key`. Data only.

use super::{ActionResponse, ActionSpec, ActionWhen, ActionsOnly, SectionSpec};

pub static SECTION: SectionSpec = SectionSpec {
    key: "oidc",
    doc: "OIDC signing key of dynamic provider credentials: actions only.",
    path: "admin/oidc-settings",
    json_type: "oidc-settings",
    kind: &ActionsOnly,
    since: None,
    enabled_by: None,
    disable_destroys: None,
    rejected_credentials: None,
    after: &[],
    attributes: &[],
    actions: &[
        ActionSpec {
            name: "rotate-key",
            doc: "Rotates the OIDC signing key (it rotates by itself every 90 days; use on a \
                  suspected leak). Resets the rotation timer, not the trim timer.",
            path: "admin/oidc-settings/actions/rotate-key",
            when: ActionWhen::Named,
            response: ActionResponse::Empty,
        },
        ActionSpec {
            name: "trim-key",
            doc: "Trims old versions of the OIDC signing key (done by itself 30 days after a \
                  rotation; use after rotate-key on a suspected leak).",
            path: "admin/oidc-settings/actions/trim-key",
            when: ActionWhen::Named,
            response: ActionResponse::Empty,
        },
    ],
    rules: super::rules::none,
    schema: no_schema,
    parse: no_document,
};

fn no_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!(false)
}

#[allow(
    clippy::unnecessary_wraps,
    reason = "the signature of SectionSpec::parse"
)]
fn no_document(_: serde_json::Value) -> Result<(), serde_json::Error> {
    Ok(())
}
