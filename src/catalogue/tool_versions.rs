//! `terraform-versions`, `sentinel-versions`, `opa-versions`: the tool versions an
//! installation offers, `/api/v2/admin/{terraform,sentinel,opa}-versions` (reference §2).
//! Collections keyed by the version string; each item is created (POST), updated (PATCH of the
//! differing attributes, `archs` always whole) or, with `prune: true`, deleted. The API refuses
//! to delete an official version or one in use. `url` and `sha` are the older amd64-only form
//! of `archs` (a PATCH of them would drop every other architecture): one form per item. The
//! Sentinel and OPA endpoints appeared in TFE v202311-1, `archs` in v202506-1. Data only.

use std::cmp::Ordering;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::kind::{Collection, ItemProblem, Refusal};
use super::values::{Nullable, RequiredHttpsUrl, Sha256};
use super::{AttrSpec, AttrValue, Kind, Literal, Release, SectionSpec};
use crate::config::diagnostic::SettingPath;

/// The CPU architectures the API knows (go-tfe v2's enum, from the platform's `OpenAPI` document).
const ARCHES: &[&str] = &["amd64", "arm64", "s390x"];

/// The fields of an `archs` entry and their kinds.
const ARCH_FIELDS: &[(&str, Kind)] = &[
    ("os", Kind::Text),
    ("arch", Kind::Enum(ARCHES)),
    (
        "url",
        Kind::Url {
            schemes: &["https"],
            allow_blank: false,
        },
    ),
    ("sha", Kind::Sha256),
];

/// A CPU architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ArchName {
    #[serde(rename = "amd64")]
    Amd64,
    #[serde(rename = "arm64")]
    Arm64,
    #[serde(rename = "s390x")]
    S390x,
}

/// One binary of a tool version: where TFE downloads it for an operating system and CPU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(inline, transform = ToolArch::annotate_schema)]
pub struct ToolArch {
    /// The operating system (TFE runs `linux`).
    pub os: String,
    /// The CPU architecture.
    pub arch: ArchName,
    /// Where TFE downloads the zip file (https).
    pub url: RequiredHttpsUrl,
    /// The SHA-256 of the zip file (64 hexadecimal characters).
    pub sha: Sha256,
}

impl ToolArch {
    fn annotate_schema(schema: &mut schemars::Schema) {
        super::values::annotate_fields(schema, ARCH_FIELDS);
    }
}

impl AttrValue for Vec<ToolArch> {
    const KIND: Kind = Kind::KeyedSet {
        key: &["os", "arch"],
        fields: ARCH_FIELDS,
    };
}

section_attributes! {
    /// A tool version (Terraform, Sentinel or OPA).
    pub struct ToolVersion;
    const ATTRIBUTES;
    "archs" archs: Vec<ToolArch> = AttrSpec::rw(
        "The binaries of this version, one per operating system and CPU architecture: `os`, \
         `arch` (amd64, arm64, s390x), `url` (https) and `sha` (the SHA-256 of the zip file). \
         Replaces `url` and `sha`; give one form or the other.",
    )
    .since(Release::monthly(202_506, 1)),
    "url" url: RequiredHttpsUrl = AttrSpec::rw(
        "The older form: the URL of the linux/amd64 zip file (give `sha` with it, and no \
         `archs`). The API documentation marks it soon to be deprecated.",
    ),
    "sha" sha: Sha256 = AttrSpec::rw(
        "The older form: the SHA-256 of the linux/amd64 zip file (with `url`).",
    ),
    "enabled" enabled: bool = AttrSpec::rw(
        "Whether workspaces may select this version (a version in use cannot be disabled).",
    )
    .default(Literal::Bool(true)),
    "beta" beta: bool = AttrSpec::rw(
        "A beta version: only organizations with access to beta tools may use it.",
    )
    .default(Literal::Bool(false)),
    "official" official: bool = AttrSpec::rw(
        "An official version, as shipped with the installation: the API refuses to delete it.",
    )
    .default(Literal::Bool(false)),
    "deprecated" deprecated: bool = AttrSpec::rw(
        "A deprecated version: workspaces using it are warned.",
    )
    .default(Literal::Bool(false)),
    "deprecated-reason" deprecated_reason: Nullable<String> = AttrSpec::rw(
        "Why the version is deprecated (only with `deprecated: true`).",
    )
    .default(Literal::Null),
    "usage" usage: u64 = AttrSpec::ro("How many workspaces use this version."),
    "created-at" created_at: String = AttrSpec::ro("When the version was added."),
    "permissions" permissions: serde_json::Map<String, serde_json::Value> =
        AttrSpec::ro("What the caller may do with this version."),
}

/// The kind of the three tool-version collections.
static TOOL_VERSIONS: Collection = Collection {
    items_key: "versions",
    key_attr: "version",
    key_form: "N.N.N or N.N.N-suffix, like 1.9.8 or 0.12.20-beta1",
    key_pattern: r"^[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z][0-9A-Za-z.-]*)?$",
    key_valid: is_version,
    key_order: version_order,
    item_rules,
    plan_rules,
    refusal,
    exported,
};

/// One of the three sections: they differ only in their names and release.
const fn tool(
    key: &'static str,
    doc: &'static str,
    path: &'static str,
    since: Option<Release>,
) -> SectionSpec {
    SectionSpec {
        key,
        doc,
        path,
        // The JSON:API type is the path's last segment (reference §2.1).
        json_type: key,
        kind: &TOOL_VERSIONS,
        since,
        enabled_by: None,
        disable_destroys: None,
        rejected_credentials: None,
        after: &[],
        attributes: ATTRIBUTES,
        actions: &[],
        rules: super::rules::none,
        schema: ToolVersion::schema,
        parse: ToolVersion::parse,
    }
}

pub static TERRAFORM: SectionSpec = tool(
    "terraform-versions",
    "Terraform versions: the Terraform releases workspaces may select, and where TFE downloads \
     each one (air-gapped installations add every release by hand).",
    "admin/terraform-versions",
    None,
);

pub static SENTINEL: SectionSpec = tool(
    "sentinel-versions",
    "Sentinel versions: the Sentinel releases policy checks may use, and where TFE downloads \
     each one.",
    "admin/sentinel-versions",
    Some(Release::monthly(202_311, 1)),
);

pub static OPA: SectionSpec = tool(
    "opa-versions",
    "OPA versions: the Open Policy Agent releases policy checks may use, and where TFE \
     downloads each one.",
    "admin/opa-versions",
    Some(Release::monthly(202_311, 1)),
);

/// `N.N.N` with an optional `-suffix` (`0.12.20-beta1`).
fn is_version(key: &str) -> bool {
    let (core, suffix) = key.split_once('-').unwrap_or((key, ""));
    let numbers: Vec<&str> = core.split('.').collect();
    let core_ok = numbers.len() == 3
        && numbers
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let suffix_ok = !key.contains('-')
        || (suffix
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
            && suffix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'));
    core_ok && suffix_ok
}

/// Versions in release order: by number, a pre-release (`-suffix`) before its release.
fn version_order(a: &str, b: &str) -> Ordering {
    let parts = |v: &str| {
        let (core, suffix) = v.split_once('-').map_or((v, None), |(c, s)| (c, Some(s)));
        let numbers: Vec<u64> = core.split('.').map(|n| n.parse().unwrap_or(0)).collect();
        (numbers, suffix.map(str::to_owned))
    };
    let (na, sa) = parts(a);
    let (nb, sb) = parts(b);
    na.cmp(&nb)
        .then_with(|| match (&sa, &sb) {
            (None, None) => Ordering::Equal,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(x), Some(y)) => x.cmp(y),
        })
        .then_with(|| a.cmp(b))
}

fn at(attr: &str) -> SettingPath {
    SettingPath::root().key(attr)
}

fn set(item: &Map<String, Value>, attr: &str) -> bool {
    item.get(attr).is_some_and(|v| !v.is_null())
}

/// The rules of one item, from the file alone.
fn item_rules(item: &Map<String, Value>) -> Vec<ItemProblem> {
    let mut found = Vec::new();
    if set(item, "archs") {
        for attr in ["url", "sha"].into_iter().filter(|a| set(item, a)) {
            found.push(ItemProblem {
                path: at(attr),
                message: format!(
                    "give either `archs` or `url` and `sha`, not both: `{attr}` is the older \
                     form of the linux/amd64 entry of `archs`"
                ),
            });
        }
    } else {
        for (given, missing) in [("url", "sha"), ("sha", "url")] {
            if set(item, given) && !set(item, missing) {
                found.push(ItemProblem {
                    path: at(given),
                    message: format!(
                        "`{given}` needs `{missing}` beside it (the older form is both), or \
                         use `archs`"
                    ),
                });
            }
        }
    }
    if set(item, "deprecated-reason") && item.get("deprecated") != Some(&Value::Bool(true)) {
        found.push(ItemProblem {
            path: at("deprecated-reason"),
            message: "`deprecated-reason` needs `deprecated: true` in the same version (the \
                      API keeps a reason only for a deprecated version)"
                .to_owned(),
        });
    }
    found
}

/// The rules of one item against the installation: a new version needs a download location,
/// and `url`/`sha` must not overwrite architectures the installation holds.
fn plan_rules(item: &Map<String, Value>, live: Option<&Map<String, Value>>) -> Vec<ItemProblem> {
    let Some(live) = live else {
        return if set(item, "archs") || (set(item, "url") && set(item, "sha")) {
            Vec::new()
        } else {
            vec![ItemProblem {
                path: SettingPath::root(),
                message: "a new version needs `archs` (or `url` and `sha`): where TFE \
                          downloads it"
                    .to_owned(),
            }]
        };
    };
    let others = live
        .get("archs")
        .and_then(Value::as_array)
        .map_or(0, |archs| {
            archs
                .iter()
                .filter(|a| {
                    a.get("os") != Some(&Value::from("linux"))
                        || a.get("arch") != Some(&Value::from("amd64"))
                })
                .count()
        });
    if !set(item, "archs") && (set(item, "url") || set(item, "sha")) && others > 0 {
        return vec![ItemProblem {
            path: at(if set(item, "url") { "url" } else { "sha" }),
            message: format!(
                "the installation holds {} for this version beside linux/amd64; `url` and `sha` \
                 would replace them all with linux/amd64 alone: list every binary under `archs` \
                 instead",
                if others == 1 {
                    "1 other architecture".to_owned()
                } else {
                    format!("{others} other architectures")
                }
            ),
        }];
    }
    Vec::new()
}

/// Why the API would refuse to delete this version.
fn refusal(live: &Map<String, Value>) -> Option<Refusal> {
    if live.get("official") == Some(&Value::Bool(true)) {
        return Some(Refusal::Official);
    }
    match live.get("usage").and_then(Value::as_u64) {
        Some(workspaces) if workspaces > 0 => Some(Refusal::InUse { workspaces }),
        _ => None,
    }
}

/// What an export writes of a live version: one form of the binaries (`archs` when the
/// installation has them, else `url` and `sha`), and a reason only for a deprecated version.
fn exported(live: &Map<String, Value>) -> Map<String, Value> {
    let mut out = live.clone();
    let has_archs = live
        .get("archs")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if has_archs {
        out.remove("url");
        out.remove("sha");
    } else {
        out.remove("archs");
    }
    if live.get("deprecated") != Some(&Value::Bool(true)) {
        out.remove("deprecated-reason");
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: &Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn versions_are_n_n_n_with_an_optional_suffix() {
        for good in [
            "1.9.8",
            "0.12.20-beta1",
            "1.10.0-alpha20240619",
            "10.0.0-rc.1",
        ] {
            assert!(is_version(good), "{good}");
        }
        for bad in [
            "1.9", "1.9.8.1", "v1.9.8", "1.9.x", "1.9.8-", "1.9.8-!", "", "1..8",
        ] {
            assert!(!is_version(bad), "{bad}");
        }
    }

    #[test]
    fn versions_sort_in_release_order() {
        let mut versions = vec!["1.10.0", "1.9.8", "1.10.0-rc1", "0.12.31", "1.2.0"];
        versions.sort_by(|a, b| version_order(a, b));
        assert_eq!(
            versions,
            ["0.12.31", "1.2.0", "1.9.8", "1.10.0-rc1", "1.10.0"]
        );
    }

    #[test]
    fn one_form_per_item_and_a_reason_only_when_deprecated() {
        let both = object(&json!({"archs": [], "url": "https://x", "sha": "a"}));
        assert_eq!(item_rules(&both).len(), 2);
        let half = object(&json!({"url": "https://x"}));
        assert_eq!(item_rules(&half)[0].path.to_string(), "url");
        let reason = object(&json!({"deprecated-reason": "old"}));
        assert_eq!(item_rules(&reason)[0].path.to_string(), "deprecated-reason");
        let fine = object(&json!({"deprecated": true, "deprecated-reason": "old"}));
        assert!(item_rules(&fine).is_empty());
    }

    #[test]
    fn deletes_of_official_or_used_versions_are_refused() {
        assert_eq!(
            refusal(&object(&json!({"official": true}))),
            Some(Refusal::Official)
        );
        assert_eq!(
            refusal(&object(&json!({"official": false, "usage": 3}))),
            Some(Refusal::InUse { workspaces: 3 })
        );
        assert_eq!(
            refusal(&object(&json!({"official": false, "usage": 0}))),
            None
        );
    }

    #[test]
    fn url_and_sha_never_overwrite_other_architectures() {
        let live = object(&json!({"archs": [
            {"os": "linux", "arch": "amd64", "url": "https://a", "sha": "1"},
            {"os": "linux", "arch": "arm64", "url": "https://b", "sha": "2"}]}));
        let file = object(&json!({"url": "https://c", "sha": "3"}));
        assert_eq!(plan_rules(&file, Some(&live)).len(), 1);
        assert_eq!(
            plan_rules(&object(&json!({"enabled": false})), None).len(),
            1
        );
    }
}
