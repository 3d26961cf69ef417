//! `data-retention-policy`: `/api/v2/admin/data-retention-policy-settings`, TFE v202401-1 and
//! later (reference §3). Not a singleton written by PATCH: GET answers 404 when no policy is set, POST
//! creates or replaces the policy, DELETE removes it; the site-wide level accepts only the
//! `data-retention-policy-delete-olders` type. `data-retention-policy: null` in the file means
//! "no policy". The per-artifact attributes announced for TFE 2.1.0 are left out until their
//! wire names are confirmed. Data only.

use super::{AttrSpec, Policy, Release, SectionSpec};

section_attributes! {
    /// The site-wide data retention policy.
    pub struct DataRetentionPolicy;
    const ATTRIBUTES;
    "delete-older-than-n-days" delete_older_than_n_days: u32 = AttrSpec::rw(
        "Backing data (state versions, configuration versions, run logs) older than this many \
         days is deleted, for every organization that has no policy of its own.",
    )
    .min(1),
}

pub static SECTION: SectionSpec = SectionSpec {
    key: "data-retention-policy",
    doc: "The site-wide data retention policy: how long TFE keeps backing data. Without a \
          policy (null) organizations keep all backing data.",
    path: "admin/data-retention-policy-settings",
    json_type: "data-retention-policy-delete-olders",
    kind: &Policy,
    since: Some(Release::monthly(202_401, 1)),
    enabled_by: None,
    disable_destroys: None,
    rejected_credentials: None,
    after: &[],
    attributes: ATTRIBUTES,
    actions: &[],
    rules: super::rules::none,
    schema: DataRetentionPolicy::schema,
    parse: DataRetentionPolicy::parse,
};
