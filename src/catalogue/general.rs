//! `general`: `/api/v2/admin/general-settings` (type `general-settings`, id `general`).
//! Seed 001 documents the first ten attributes; the rest come from go-tfe's clients
//! (reference §1.1). Data only.

use super::values::Duration;
use super::{AttrSpec, Literal, SectionSpec, Singleton};

section_attributes! {
    /// General settings of the installation.
    pub struct General;
    const ATTRIBUTES;
    "limit-user-organization-creation" limit_user_organization_creation: bool = AttrSpec::rw(
        "When set to true, limits the ability to create organizations to users with the \
         site-admin permission only.",
    )
    .default(Literal::Bool(true)),
    "api-rate-limiting-enabled" api_rate_limiting_enabled: bool = AttrSpec::rw(
        "Whether or not rate limiting is enabled for API requests.",
    )
    .default(Literal::Bool(true)),
    "api-rate-limit" api_rate_limit: u32 = AttrSpec::rw(
        "The number of allowable API requests per second for any client. This value cannot be \
         less than 30.",
    )
    .default(Literal::Int(30))
    .min(30),
    "send-passing-statuses-for-untriggered-speculative-plans"
    send_passing_statuses_for_untriggered_speculative_plans: bool = AttrSpec::rw(
        "When set to true, workspaces automatically send passing commit statuses for any pull \
         requests that don't affect their tracked files.",
    )
    .default(Literal::Bool(false)),
    "allow-speculative-plans-on-pull-requests-from-forks"
    allow_speculative_plans_on_pull_requests_from_forks: bool = AttrSpec::rw(
        "When set to false, speculative plans are not run on pull requests from forks of a \
         repository (GitHub.com, GitHub.com (OAuth), GitHub Enterprise, Bitbucket Cloud, Azure \
         DevOps Server, Azure DevOps Services).",
    )
    .default(Literal::Bool(false))
    .since(super::Release::monthly(202_005, 1)),
    "default-remote-state-access" default_remote_state_access: bool = AttrSpec::rw(
        "Determines the default value for the global-remote-state attribute on new workspaces.",
    )
    .default(Literal::Bool(true)),
    "plan-timeout" plan_timeout: Duration = AttrSpec::rw(
        "Default maximum run time for Terraform plans. Can be overridden on a per-organization \
         basis. Specify a duration with a decimal number and a unit suffix.",
    )
    .default(Literal::Str("2h")),
    "apply-timeout" apply_timeout: Duration = AttrSpec::rw(
        "Default maximum run time for Terraform applies. Can be overridden on a \
         per-organization basis. Specify a duration with a decimal number and a unit suffix.",
    )
    .default(Literal::Str("24h")),
    "terraform-build-worker-plan-timeout" terraform_build_worker_plan_timeout: Duration =
        AttrSpec::rw("Deprecated. Please use plan-timeout instead.")
            .default(Literal::Str("2h"))
            .alias_of("plan-timeout"),
    "terraform-build-worker-apply-timeout" terraform_build_worker_apply_timeout: Duration =
        AttrSpec::rw("Deprecated. Please use apply-timeout instead.")
            .default(Literal::Str("24h"))
            .alias_of("apply-timeout"),
    "require-two-factor-for-admins" require_two_factor_for_admins: bool = AttrSpec::rw(
        "Whether site administrators must use two-factor authentication (undocumented in the \
         API reference; returned and accepted by the API).",
    ),
    "limit-organizations-per-user" limit_organizations_per_user: bool = AttrSpec::rw(
        "Whether the number of organizations a user may create is limited by \
         default-organizations-per-user-ceiling.",
    ),
    "default-organizations-per-user-ceiling" default_organizations_per_user_ceiling: u32 =
        AttrSpec::rw("The default maximum number of organizations a user may create.").min(0),
    "limit-workspaces-per-organization" limit_workspaces_per_organization: bool = AttrSpec::rw(
        "Whether the number of workspaces per organization is limited by \
         default-workspaces-per-organization-ceiling.",
    ),
    "default-workspaces-per-organization-ceiling"
    default_workspaces_per_organization_ceiling: u32 =
        AttrSpec::rw("The default maximum number of workspaces in an organization.").min(0),
    "fair-run-queuing-enabled" fair_run_queuing_enabled: bool = AttrSpec::ro(
        "Deprecated; the API always returns false.",
    ),
    "agents-enabled" agents_enabled: bool = AttrSpec::rw(
        "Whether HCP Terraform agents may be used on this installation.",
    ),
    "agent-polling-retry-after" agent_polling_retry_after: u32 = AttrSpec::rw(
        "How many seconds agents wait between polls for work.",
    )
    .min(1),
    "automatic-assessment-interval" automatic_assessment_interval: u32 = AttrSpec::rw(
        "How many hours pass between automatic health assessments of a workspace.",
    )
    .min(1),
    "maximum-concurrent-assessments" maximum_concurrent_assessments: u32 = AttrSpec::rw(
        "The maximum number of health assessments that run at the same time.",
    )
    .min(1),
    "enable-public-registration" enable_public_registration: bool = AttrSpec::rw(
        "Whether anyone may sign up for an account (Terraform Enterprise only).",
    ),
    "stacks-enabled" stacks_enabled: bool = AttrSpec::rw(
        "Whether Terraform Stacks are enabled (Terraform Enterprise only).",
    ),
    "stacks-entitled" stacks_entitled: bool = AttrSpec::ro(
        "Whether the licence entitles the installation to Terraform Stacks.",
    ),
}

pub static SECTION: SectionSpec = SectionSpec {
    key: "general",
    doc: "General settings: API rate limiting, organization creation, speculative plans, run \
          timeouts, organization and workspace limits, agents, health assessments, stacks.",
    path: "admin/general-settings",
    json_type: "general-settings",
    kind: &Singleton { id: "general" },
    since: None,
    enabled_by: None,
    disable_destroys: None,
    rejected_credentials: None,
    after: &[],
    attributes: ATTRIBUTES,
    actions: &[],
    rules: super::rules::none,
    schema: General::schema,
    parse: General::parse,
};
