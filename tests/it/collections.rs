//! The tool-version collections (`terraform-versions`, `sentinel-versions`, `opa-versions`)
//! through the real binary against the sandbox: plans that name items by key, creates,
//! updates and deletes with the exact requests, deletes the API refuses (blocked before
//! anything is written, or refused by the server after all), a version the installation holds
//! twice, a long list read page by page (and a page that fails), release gating, and the
//! export round trip.

use std::path::Path;

use serde_json::{Value, json};
use tfe_admin::sandbox::Sandbox;

use crate::common::{Control, Fault, Recorded, Run, start_sandbox, tfe_admin_against, workdir};

/// A checksum of the right form.
const SHA: &str = "9f3c2a1b0e4d5c6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f";
const SHA2: &str = "41d0c2a1b0e4d5c6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0";

fn url(version: &str, arch: &str) -> String {
    format!("https://releases.example.com/terraform/{version}/terraform_{version}_linux_{arch}.zip")
}

fn arch(version: &str, arch: &str, sha: &str) -> Value {
    json!({"os": "linux", "arch": arch, "url": url(version, arch), "sha": sha})
}

/// A version as the control plane takes it.
fn version(id: &str, version: &str, official: bool, usage: u64) -> Value {
    json!({
        "id": id, "version": version, "url": url(version, "amd64"), "sha": SHA,
        "archs": [arch(version, "amd64", SHA)],
        "official": official, "enabled": true, "beta": false, "deprecated": false,
        "deprecated-reason": null, "usage": usage,
    })
}

/// A sandbox state whose only non-default part is the Terraform versions.
fn with_versions(items: &[Value]) -> Value {
    json!({"version": 1, "settings": {}, "write-only-set": {}, "policies": {},
           "collections": {"terraform-versions": items}})
}

/// The installation of these tests: a shipped version, a custom one in use by three
/// workspaces, a custom one nobody uses, and one with two binaries.
fn installation() -> Value {
    with_versions(&[
        version("tool-shipped0000001", "1.5.7", true, 0),
        version("tool-inuse000000001", "1.6.0", false, 3),
        version("tool-unused00000001", "0.12.31", false, 0),
        json!({
            "id": "tool-twoarch0000001", "version": "1.9.8", "url": url("1.9.8", "amd64"),
            "sha": SHA, "archs": [arch("1.9.8", "amd64", SHA), arch("1.9.8", "arm64", SHA2)],
            "official": false, "enabled": true, "beta": false, "deprecated": false,
            "deprecated-reason": null, "usage": 0,
        }),
    ])
}

async fn run(sandbox: &Sandbox, dir: &Path, args: &[&str]) -> Run {
    tfe_admin_against(sandbox, dir, args, &[]).await
}

fn stable(text: &str, sandbox: &Sandbox) -> String {
    text.replace(&sandbox.url(), "http://[SANDBOX]")
}

/// The writes the sandbox received, as `(METHOD path, body)`.
fn writes(requests: &[Recorded]) -> Vec<(String, Value)> {
    requests
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| (format!("{} {}", r.method, r.path), r.body.clone()))
        .collect()
}

/// Create one, deprecate one, move one to a new binary; with prune, delete the unused one.
const CHANGES: &str = r#"terraform-versions:
  prune: true
  versions:
    "1.5.7": {}
    "1.6.0": {deprecated: true, deprecated-reason: "use 1.9.8"}
    "1.9.8":
      archs:
        - {os: linux, arch: amd64, url: "https://releases.example.com/terraform/1.9.8/terraform_1.9.8_linux_amd64.zip", sha: 9f3c2a1b0e4d5c6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f}
        - {os: linux, arch: arm64, url: "https://mirror.example.com/terraform_1.9.8_linux_arm64.zip", sha: 41d0c2a1b0e4d5c6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0}
    "1.13.0":
      url: https://releases.example.com/terraform/1.13.0/terraform_1.13.0_linux_amd64.zip
      sha: 9f3c2a1b0e4d5c6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_names_items_by_key_and_apply_sends_exactly_those_calls() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control.set_state(installation()).await;
    let dir = workdir(CHANGES);
    let plan = run(&sandbox, dir.path(), &["plan", "--detailed-exitcode"]).await;
    assert_eq!(plan.code, Some(2), "{}", plan.stderr);
    insta::assert_snapshot!("collection_plan_text", stable(&plan.stdout, &sandbox));
    let markdown = run(&sandbox, dir.path(), &["plan", "--format", "markdown"]).await;
    insta::assert_snapshot!(
        "collection_plan_markdown",
        stable(&markdown.stdout, &sandbox)
    );
    let json = run(&sandbox, dir.path(), &["plan", "--format", "json"]).await;
    let document: Value = serde_json::from_str(&json.stdout).unwrap_or_default();
    let schema: Value =
        serde_json::from_str(&tfe_admin::plan::json_schema_text()).unwrap_or_default();
    let errors: Vec<String> = match jsonschema::validator_for(&schema) {
        Ok(validator) => validator
            .iter_errors(&document)
            .map(|e| e.to_string())
            .collect(),
        Err(e) => panic!("plan schema: {e}"),
    };
    assert!(errors.is_empty(), "{errors:?}");
    let items: Vec<(Value, Value)> = document["sections"][0]["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| (i["item"].clone(), i["operation"].clone()))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        items,
        [
            (json!("1.6.0"), json!("update")),
            (json!("1.9.8"), json!("update")),
            (json!("1.13.0"), json!("create")),
            (json!("0.12.31"), json!("delete")),
        ]
    );

    control.clear_requests().await;
    let applied = run(&sandbox, dir.path(), &["apply", "--auto-approve"]).await;
    assert_eq!(
        applied.code,
        Some(0),
        "{}{}",
        applied.stdout,
        applied.stderr
    );
    let mut sent = writes(&control.requests().await);
    sent.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        sent,
        [
            (
                "DELETE /api/v2/admin/terraform-versions/tool-unused00000001".to_owned(),
                Value::Null
            ),
            (
                "PATCH /api/v2/admin/terraform-versions/tool-inuse000000001".to_owned(),
                json!({"data": {"type": "terraform-versions", "attributes": {
                    "deprecated": true, "deprecated-reason": "use 1.9.8"}}})
            ),
            (
                // archs whole, never url/sha: a PATCH of those would drop arm64.
                "PATCH /api/v2/admin/terraform-versions/tool-twoarch0000001".to_owned(),
                json!({"data": {"type": "terraform-versions", "attributes": {"archs": [
                    arch("1.9.8", "amd64", SHA),
                    {"os": "linux", "arch": "arm64",
                     "url": "https://mirror.example.com/terraform_1.9.8_linux_arm64.zip", "sha": SHA2}]}}})
            ),
            (
                "POST /api/v2/admin/terraform-versions".to_owned(),
                json!({"data": {"type": "terraform-versions", "attributes": {
                    "version": "1.13.0", "url": url("1.13.0", "amd64"), "sha": SHA}}})
            ),
        ]
    );
    // The apply read the list back once to verify, after the writes.
    let requests = control.requests().await;
    let last = requests.last().map(|r| r.path.clone()).unwrap_or_default();
    assert!(
        last.starts_with("/api/v2/admin/terraform-versions?"),
        "{last}"
    );
    let again = run(&sandbox, dir.path(), &["plan", "--detailed-exitcode"]).await;
    assert_eq!(again.code, Some(0), "{}{}", again.stdout, again.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_the_api_would_refuse_block_the_whole_apply() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control.set_state(installation()).await;
    // Prune everything but 1.9.8: the shipped 1.5.7 and the used 1.6.0 cannot go.
    let dir = workdir("terraform-versions:\n  prune: true\n  versions:\n    \"1.9.8\": {}\n");
    let plan = run(&sandbox, dir.path(), &["plan"]).await;
    assert_eq!(plan.code, Some(0), "{}", plan.stderr);
    for line in [
        "! terraform-versions[\"1.5.7\"]: blocked: the API refuses to delete it: it is an official version, shipped with the installation",
        "! terraform-versions[\"1.6.0\"]: blocked: the API refuses to delete it: 3 workspaces use it",
        "- terraform-versions[\"0.12.31\"]",
    ] {
        assert!(plan.stdout.contains(line), "{line}\n{}", plan.stdout);
    }
    control.clear_requests().await;
    let refused = run(&sandbox, dir.path(), &["apply", "--auto-approve"]).await;
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(
        refused.stderr.contains(
            "error: refusing to apply: terraform-versions[\"1.5.7\"]: the API refuses to delete it"
        ),
        "{}",
        refused.stderr
    );
    assert!(
        writes(&control.requests().await).is_empty(),
        "nothing is written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_the_server_refuses_after_all_fails_only_that_item() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control.set_state(installation()).await;
    // Between plan and apply, someone starts using 0.12.31: the server says 422.
    control
        .fault(
            Fault::new("/api/v2/admin/terraform-versions/tool-unused00000001", 422)
                .method("DELETE")
                .body(r#"{"errors":[{"status":"422","title":"unprocessable entity","detail":"cannot be removed (it is official or is in use)"}]}"#),
        )
        .await;
    let dir = workdir(
        "terraform-versions:\n  prune: true\n  versions:\n    \"1.5.7\": {}\n    \"1.6.0\": {beta: true}\n    \"1.9.8\": {}\n",
    );
    let out = run(&sandbox, dir.path(), &["apply", "--auto-approve"]).await;
    assert_eq!(out.code, Some(1), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("terraform-versions[\"0.12.31\"]: the API refused the change (422): unprocessable entity: cannot be removed (it is official or is in use)"),
        "{}",
        out.stderr
    );
    // The rest was applied.
    let state = control.state().await;
    let used = state["collections"]["terraform-versions"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["version"] == json!("1.6.0")))
        .map(|i| i["beta"].clone());
    assert_eq!(used, Some(json!(true)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_held_twice_is_refused_rather_than_guessed() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control
        .set_state(with_versions(&[
            version("tool-firstcopy000001", "1.9.8", false, 0),
            version("tool-secondcopy00001", "1.9.8", false, 0),
        ]))
        .await;
    let dir = workdir("terraform-versions:\n  versions:\n    \"1.9.8\": {enabled: false}\n");
    let out = run(&sandbox, dir.path(), &["apply", "--auto-approve"]).await;
    assert_eq!(out.code, Some(1), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("tfe-admin.yaml:3:5: terraform-versions.versions[\"1.9.8\"]: the installation holds `1.9.8` 2 times (ids tool-firstcopy000001, tool-secondcopy00001); refusing to guess which one the file means"),
        "{}",
        out.stderr
    );
    assert!(writes(&control.requests().await).is_empty());
}

/// 250 custom versions, `0.1.0` to `0.1.249`.
fn many_versions() -> Vec<Value> {
    (0..250)
        .map(|i| version(&format!("tool-many{i:011}"), &format!("0.1.{i}"), false, 0))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_list_is_read_page_by_page_and_a_failed_page_fails_the_plan() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control.set_state(with_versions(&many_versions())).await;
    let dir = workdir("terraform-versions:\n  versions:\n    \"0.1.249\": {enabled: false}\n");
    let plan = run(&sandbox, dir.path(), &["plan"]).await;
    assert_eq!(plan.code, Some(0), "{}", plan.stderr);
    assert!(
        plan.stdout
            .contains("~ terraform-versions[\"0.1.249\"].enabled: true -> false"),
        "{}",
        plan.stdout
    );
    let pages: Vec<String> = control
        .requests()
        .await
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v2/admin/terraform-versions"))
        .map(|r| r.path)
        .collect();
    let page = |n: u32| {
        format!("/api/v2/admin/terraform-versions?page%5Bnumber%5D={n}&page%5Bsize%5D=100")
    };
    let mut sorted = pages.clone();
    sorted.sort();
    assert_eq!(sorted, [page(1), page(2), page(3)]);

    // Page 2 fails: no plan, nothing written.
    control.clear_requests().await;
    control.fault(Fault::new(&page(2), 400).method("GET")).await;
    let failed = run(&sandbox, dir.path(), &["apply", "--auto-approve"]).await;
    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    assert!(
        failed
            .stderr
            .contains("GET admin/terraform-versions (page 2) answered 400"),
        "{}",
        failed.stderr
    );
    assert!(writes(&control.requests().await).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_without_the_endpoint_or_the_attribute_are_reported_not_sent() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    // Before v202311-1 there is no Sentinel endpoint.
    control.config(json!({"release": "v202310-1"})).await;
    let dir = workdir("sentinel-versions:\n  versions:\n    \"0.24.4\": {enabled: false}\n");
    let plan = run(&sandbox, dir.path(), &["plan", "--detailed-exitcode"]).await;
    assert_eq!(plan.code, Some(0), "{}", plan.stderr);
    assert!(
        plan.stdout.contains(
            "# sentinel-versions: the section needs TFE v202311-1; this installation runs v202310-1: not planned"
        ),
        "{}",
        plan.stdout
    );
    // Before v202506-1 there are no archs: a version that needs them cannot be planned.
    control.config(json!({"release": "v202505-1"})).await;
    let dir = workdir(&format!(
        "terraform-versions:\n  versions:\n    \"1.13.0\":\n      archs: [{{os: linux, arch: amd64, url: \"{}\", sha: {SHA}}}]\n",
        url("1.13.0", "amd64")
    ));
    let plan = run(&sandbox, dir.path(), &["plan"]).await;
    assert_eq!(plan.code, Some(1), "{}", plan.stdout);
    assert!(
        plan.stderr.contains("terraform-versions.versions[\"1.13.0\"].archs: `archs` needs TFE v202506-1; this installation runs v202505-1"),
        "{}",
        plan.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_and_sha_never_overwrite_other_architectures_and_a_new_version_needs_a_binary() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control.set_state(installation()).await;
    let dir = workdir(&format!(
        "terraform-versions:\n  versions:\n    \"1.9.8\":\n      url: {}\n      sha: {SHA2}\n    \"2.0.0\": {{enabled: true}}\n",
        url("1.9.8", "amd64")
    ));
    let plan = run(&sandbox, dir.path(), &["plan"]).await;
    assert_eq!(plan.code, Some(1), "{}", plan.stdout);
    for line in [
        "tfe-admin.yaml:4:12: terraform-versions.versions[\"1.9.8\"].url: the installation holds 1 other architecture for this version beside linux/amd64",
        "tfe-admin.yaml:6:5: terraform-versions.versions[\"2.0.0\"]: a new version needs `archs` (or `url` and `sha`): where TFE downloads it",
    ] {
        assert!(plan.stderr.contains(line), "{line}\n{}", plan.stderr);
    }
    assert!(writes(&control.requests().await).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_every_collection_sorted_and_plans_clean() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control.set_state(installation()).await;
    let dir = workdir("{}\n");
    let out = run(
        &sandbox,
        dir.path(),
        &[
            "export",
            "--section",
            "terraform-versions",
            "-o",
            "tfe-admin.yaml",
        ],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let text = std::fs::read_to_string(dir.path().join("tfe-admin.yaml")).unwrap_or_default();
    let keys: Vec<&str> = text.lines().filter(|l| l.starts_with("    \"")).collect();
    assert_eq!(
        keys,
        [
            "    \"0.12.31\":",
            "    \"1.5.7\":",
            "    \"1.6.0\":",
            "    \"1.9.8\":"
        ]
    );
    assert!(
        text.contains("terraform-versions:\n  prune: false\n  versions:\n"),
        "{text}"
    );
    // One form of binaries per version, and no read-only attribute.
    assert!(
        !text.contains("      url:") && !text.contains("usage"),
        "{text}"
    );
    let plan = run(&sandbox, dir.path(), &["plan", "--detailed-exitcode"]).await;
    assert_eq!(plan.code, Some(0), "{}{}", plan.stdout, plan.stderr);
}
