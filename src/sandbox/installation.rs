//! What the emulated installation says about itself, release by release: the `ping` headers
//! (reference §0 and §7) and the service discovery document at
//! `/.well-known/terraform.json`. The per-release facts are the tables below and nowhere else;
//! the handlers only ask for the headers or the document of a release. Pure data plus the two
//! functions that read it; nothing here knows about requests or state.
//!
//! What the sources settle: TFE reports its monthly name in `X-TFE-Version` (absent before
//! v202208-3) and, once it moved to semver, the number in `X-TFE-Current-Version` (absent
//! before 1.0.3); discovery maps `tfe.v2`, `tfe.v2.1` and `tfe.v2.2` to `/api/v2/` (the
//! provider requires `tfe.v2.2`, terrasnek reads `tfe.v2` and `modules.v1`).
//! What they do not: which monthly name each semver release reports (the table pairs 1.0.0
//! with `v202507-1`, the name the contract gives as the example, and later releases with a
//! plausible month), and whether older releases lacked some discovery keys (the sandbox
//! serves the same document for every release).

use serde_json::{Map, Value};

use crate::catalogue::Release;

/// The path of the service discovery document; answered without a token, like `ping`.
pub(crate) const DISCOVERY_PATH: &str = "/.well-known/terraform.json";

/// `TFP-API-Version`: the version of the API's JSON shape that the sandbox follows.
const API_VERSION: &str = "2.6";

/// `TFP-AppName`: HCP Terraform reports "HCP Terraform"; clients tell the two apart by it.
const APP_NAME: &str = "Terraform Enterprise";

/// The first release that sends `X-TFE-Version` (go-tfe's `tfe.go`).
const NAME_HEADER_SINCE: Release = Release::monthly(202_208, 3);

/// The first release that sends `X-TFE-Current-Version` (go-tfe's `tfe.go`).
const NUMBER_HEADER_SINCE: Release = Release::semver(1, 0, 3);

/// The monthly name a semver release reports in `X-TFE-Version`: each release reports the
/// name of the newest row at or below it. Assumed, see the module documentation.
const MONTHLY_NAMES: &[(Release, Release)] = &[
    (Release::semver(1, 0, 0), Release::monthly(202_507, 1)),
    (Release::semver(1, 1, 0), Release::monthly(202_510, 1)),
    (Release::semver(2, 0, 0), Release::monthly(202_603, 1)),
    (Release::semver(2, 1, 0), Release::monthly(202_609, 1)),
];

/// The services TFE advertises (relative URLs resolve against the discovery document's own
/// URL). Only what a client of the admin API reads: `login.v1`, `motd.v1` and `versions.v1`
/// would point clients at things the sandbox does not serve.
const SERVICES: &[(&str, &str)] = &[
    ("modules.v1", "/api/registry/v1/modules/"),
    ("providers.v1", "/api/registry/v1/providers/"),
    ("state.v2", "/api/v2/"),
    ("tfe.v2", "/api/v2/"),
    ("tfe.v2.1", "/api/v2/"),
    ("tfe.v2.2", "/api/v2/"),
];

/// The headers of `GET /api/v2/ping` for a release and a rate limit, in a fixed order.
pub(crate) fn ping_headers(release: Release, rate_limit: u32) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        ("tfp-api-version", API_VERSION.to_owned()),
        ("tfp-appname", APP_NAME.to_owned()),
        ("x-ratelimit-limit", rate_limit.to_string()),
    ];
    if let Some(name) = monthly_name(release).filter(|name| *name >= NAME_HEADER_SINCE) {
        headers.push(("x-tfe-version", name.to_string()));
    }
    if matches!(release, Release::Semver { .. }) && release >= NUMBER_HEADER_SINCE {
        headers.push(("x-tfe-current-version", release.to_string()));
    }
    headers
}

/// The name a release goes by in `X-TFE-Version`: its own for a monthly release, the table's
/// for a semver one (`None` below the table's first row).
fn monthly_name(release: Release) -> Option<Release> {
    match release {
        Release::Monthly { .. } => Some(release),
        Release::Semver { .. } => MONTHLY_NAMES
            .iter()
            .rev()
            .find(|(number, _)| *number <= release)
            .map(|(_, name)| *name),
    }
}

/// The service discovery document (the same for every release, see above).
pub(crate) fn discovery() -> Value {
    let services: Map<String, Value> = SERVICES
        .iter()
        .map(|(key, url)| ((*key).to_owned(), Value::from(*url)))
        .collect();
    Value::Object(services)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(release: Release, name: &str) -> Option<String> {
        ping_headers(release, 30)
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    #[test]
    fn semver_releases_report_a_monthly_name_and_their_number() {
        let cases = [
            ("2.1.0", Some("v202609-1"), Some("2.1.0")),
            ("2.1.3", Some("v202609-1"), Some("2.1.3")),
            ("2.0.0", Some("v202603-1"), Some("2.0.0")),
            ("1.0.3", Some("v202507-1"), Some("1.0.3")),
            // The number header came with 1.0.3.
            ("1.0.0", Some("v202507-1"), None),
            ("v202507-1", Some("v202507-1"), None),
            ("v202401-1", Some("v202401-1"), None),
            // Neither header before v202208-3.
            ("v202208-2", None, None),
            ("v202001-1", None, None),
        ];
        for (text, name, number) in cases {
            let Some(release) = Release::parse(text) else {
                panic!("{text}");
            };
            assert_eq!(header(release, "x-tfe-version").as_deref(), name, "{text}");
            assert_eq!(
                header(release, "x-tfe-current-version").as_deref(),
                number,
                "{text}"
            );
            assert_eq!(header(release, "x-ratelimit-limit").as_deref(), Some("30"));
        }
    }

    #[test]
    fn the_monthly_names_are_in_release_order() {
        for pair in MONTHLY_NAMES.windows(2) {
            assert!(pair[0].0 < pair[1].0 && pair[0].1 < pair[1].1, "{pair:?}");
        }
    }

    #[test]
    fn discovery_maps_every_tfe_api_version_to_api_v2() {
        let doc = discovery();
        for key in ["tfe.v2", "tfe.v2.1", "tfe.v2.2"] {
            assert_eq!(doc[key], Value::from("/api/v2/"), "{key}");
        }
        assert_eq!(doc["modules.v1"], Value::from("/api/registry/v1/modules/"));
    }
}
