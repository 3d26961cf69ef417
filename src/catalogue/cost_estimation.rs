//! `cost-estimation`: `/api/v2/admin/cost-estimation-settings` (type
//! `cost-estimation-settings`, id `cost-estimation`). Seed 001; the `*-enabled` flags come from
//! go-tfe's v1 struct (reference §1.2). Unusually, GET returns the secret keys in clear: they
//! are compared, never printed. Data only.

use super::values::JsonText;
use super::{AttrSpec, AttrView, Literal, SectionSpec, Singleton, Violation};

section_attributes! {
    /// Cost estimation settings.
    pub struct CostEstimation;
    const ATTRIBUTES;
    "enabled" enabled: bool = AttrSpec::rw(
        "Allows organizations to opt-in to the Cost Estimation feature. When true, at least one \
         complete set of credentials (AWS, GCP or Azure) must be set.",
    )
    .default(Literal::Bool(false)),
    "aws-access-key-id" aws_access_key_id: String = AttrSpec::rw(
        "An AWS Access Key ID that the Cost Estimation feature will use to authorize to AWS's \
         Pricing API.",
    ),
    "aws-secret-key" aws_secret_key: String = AttrSpec::rw(
        "An AWS Secret Key that the Cost Estimation feature will use to authorize to AWS's \
         Pricing API.",
    )
    .sensitive(),
    "gcp-credentials" gcp_credentials: JsonText = AttrSpec::rw(
        "A JSON string containing GCP credentials that the Cost Estimation feature will use to \
         authorize to the Google Cloud Platform's Pricing API: the contents of a JSON key of a \
         GCP service account.",
    )
    .sensitive(),
    "azure-client-id" azure_client_id: String = AttrSpec::rw(
        "An Azure Client ID that the Cost Estimation feature will use to authorize to Azure's \
         RateCard API.",
    ),
    "azure-client-secret" azure_client_secret: String = AttrSpec::rw(
        "An Azure Client Secret that the Cost Estimation feature will use to authorize to \
         Azure's RateCard API.",
    )
    .sensitive(),
    "azure-subscription-id" azure_subscription_id: String = AttrSpec::rw(
        "An Azure Subscription ID that the Cost Estimation feature will use to authorize to \
         Azure's RateCard API.",
    ),
    "azure-tenant-id" azure_tenant_id: String = AttrSpec::rw(
        "An Azure Tenant ID that the Cost Estimation feature will use to authorize to Azure's \
         RateCard API.",
    ),
    "aws-enabled" aws_enabled: bool = AttrSpec::ro("Whether AWS credentials are configured."),
    "gcp-enabled" gcp_enabled: bool = AttrSpec::ro("Whether GCP credentials are configured."),
    "azure-enabled" azure_enabled: bool =
        AttrSpec::ro("Whether Azure credentials are configured."),
    "aws-instance-profile-enabled" aws_instance_profile_enabled: bool =
        AttrSpec::ro("Whether the AWS instance profile is used instead of keys."),
}

pub static SECTION: SectionSpec = SectionSpec {
    key: "cost-estimation",
    doc: "Cost estimation: the cloud pricing API credentials TFE uses to estimate the cost of \
          planned changes.",
    path: "admin/cost-estimation-settings",
    json_type: "cost-estimation-settings",
    kind: &Singleton {
        id: "cost-estimation",
    },
    since: None,
    enabled_by: Some("enabled"),
    disable_destroys: None,
    rejected_credentials: None,
    after: &[],
    attributes: ATTRIBUTES,
    actions: &[],
    rules,
    schema: CostEstimation::schema,
    parse: CostEstimation::parse,
};

const CREDENTIAL_SETS: &[&[&str]] = &[
    &["aws-access-key-id", "aws-secret-key"],
    &["gcp-credentials"],
    &[
        "azure-client-id",
        "azure-client-secret",
        "azure-subscription-id",
        "azure-tenant-id",
    ],
];

/// `enabled: true` needs one complete credential set. A set with any unknown member could
/// still be complete, so only a state where every set has a blank member breaks the rule.
fn rules(view: &dyn AttrView) -> Vec<Violation> {
    if !view.get(SECTION.key, "enabled").is_true() {
        return Vec::new();
    }
    let all_broken = CREDENTIAL_SETS.iter().all(|set| {
        set.iter()
            .any(|attr| view.get(SECTION.key, attr).is_blank())
    });
    if all_broken {
        vec![Violation {
            section: SECTION.key,
            attr: "enabled",
            message: "needs one complete set of credentials: aws-access-key-id and \
                      aws-secret-key, or gcp-credentials, or the four azure-* attributes"
                .to_owned(),
        }]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::rules::tests::view;
    use serde_json::Value;

    #[test]
    fn enabled_needs_one_complete_credential_set() {
        let empty = view(&[
            ("cost-estimation", "enabled", Value::Bool(true)),
            ("cost-estimation", "aws-secret-key", Value::from("")),
            ("cost-estimation", "gcp-credentials", Value::from("")),
            ("cost-estimation", "azure-tenant-id", Value::from("")),
        ]);
        assert_eq!(rules(&empty).len(), 1);
        let gcp_unknown = view(&[
            ("cost-estimation", "enabled", Value::Bool(true)),
            ("cost-estimation", "aws-secret-key", Value::from("")),
            ("cost-estimation", "azure-tenant-id", Value::from("")),
        ]);
        assert!(rules(&gcp_unknown).is_empty());
    }
}
