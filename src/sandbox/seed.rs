//! What a fresh installation's collections hold: the tool versions TFE ships, marked
//! `official` (which the API refuses to delete), each with its linux/amd64 binary and, for the
//! releases that have one, linux/arm64. A sample of the real lists, so that a plan against the
//! sandbox looks like one against a new installation. The checksums are placeholders derived
//! from the URL (the sandbox never downloads anything): they have the form of a SHA-256, not
//! the value. The ids are derived from the version, so the same fresh state always reads the
//! same. Pure data.

use serde_json::{Map, Value, json};

use super::state::Item;

const TERRAFORM: &[&str] = &[
    "0.11.15", "0.12.31", "0.13.7", "0.14.11", "0.15.5", "1.0.11", "1.1.9", "1.2.9", "1.3.10",
    "1.4.7", "1.5.7", "1.6.6", "1.7.5", "1.8.5", "1.9.8", "1.10.5", "1.11.4", "1.12.2",
];
const SENTINEL: &[&str] = &["0.22.1", "0.23.1", "0.24.4", "0.25.6", "0.26.3", "0.30.0"];
const OPA: &[&str] = &["0.44.0", "0.54.0", "0.61.0", "0.65.0", "0.70.0", "1.4.2"];

/// The items a fresh installation has in the collection `section`.
/// Where a release's binary for a CPU is downloaded from.
type DownloadUrl = fn(&str, &str) -> String;

pub(crate) fn items(section: &str) -> Vec<Item> {
    let (versions, url): (&[&str], DownloadUrl) = match section {
        "terraform-versions" => (TERRAFORM, |v, arch| {
            format!("https://releases.hashicorp.com/terraform/{v}/terraform_{v}_linux_{arch}.zip")
        }),
        "sentinel-versions" => (SENTINEL, |v, arch| {
            format!("https://releases.hashicorp.com/sentinel/{v}/sentinel_{v}_linux_{arch}.zip")
        }),
        "opa-versions" => (OPA, |v, arch| {
            format!(
                "https://github.com/open-policy-agent/opa/releases/download/v{v}/opa_linux_{arch}_static"
            )
        }),
        _ => return Vec::new(),
    };
    versions
        .iter()
        .map(|version| {
            // arm64 builds exist from Terraform 1.0 on; the others' lists say so for each.
            let cpus: &[&str] = if version.starts_with("0.") {
                &["amd64"]
            } else {
                &["amd64", "arm64"]
            };
            let archs: Vec<Value> = cpus
                .iter()
                .map(|arch| {
                    let url = url(version, arch);
                    json!({"os": "linux", "arch": arch, "url": url, "sha": placeholder_sha(&url)})
                })
                .collect();
            let amd64 = &archs[0];
            let mut attributes = Map::new();
            attributes.insert("version".to_owned(), Value::from(*version));
            attributes.insert("url".to_owned(), amd64["url"].clone());
            attributes.insert("sha".to_owned(), amd64["sha"].clone());
            attributes.insert("archs".to_owned(), Value::Array(archs));
            attributes.insert("official".to_owned(), Value::Bool(true));
            attributes.insert("enabled".to_owned(), Value::Bool(true));
            attributes.insert("beta".to_owned(), Value::Bool(false));
            attributes.insert("deprecated".to_owned(), Value::Bool(false));
            attributes.insert("deprecated-reason".to_owned(), Value::Null);
            attributes.insert("usage".to_owned(), Value::from(0));
            attributes.insert(
                "created-at".to_owned(),
                Value::from("2025-01-01T00:00:00.000Z"),
            );
            Item {
                id: format!(
                    "tool-{}",
                    &placeholder_sha(&format!("{section}/{version}"))[..16]
                ),
                attributes,
            }
        })
        .collect()
}

/// 64 hexadecimal characters derived from the text (FNV-1a, four times over): the form of a
/// SHA-256, not one.
fn placeholder_sha(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(64);
    for round in 0u64..4 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ round;
        for byte in text.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        let _ = write!(out, "{hash:016x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_installation_ships_official_versions_with_stable_ids() {
        let first = items("terraform-versions");
        assert_eq!(first.len(), TERRAFORM.len());
        assert!(
            first
                .iter()
                .all(|i| i.attributes["official"] == json!(true))
        );
        assert_eq!(first, items("terraform-versions"));
        let sha = first[0].attributes["sha"].as_str().unwrap_or_default();
        assert_eq!(sha.len(), 64);
        assert!(items("general").is_empty());
    }
}
