//! `tfe-admin plan`, the real binary, against the sandbox over real HTTP on 127.0.0.1: exit
//! codes, the three output formats (snapshots), token kinds, retries, proxies, timeouts,
//! release gating, and that no secret reaches stdout, stderr or the saved plan.

use std::path::Path;

use crate::common::{Control, Fault, Run, plan_document, start_sandbox, tfe_admin, workdir};
use serde_json::json;
use tfe_admin::sandbox::Sandbox;

async fn plan(sandbox: &Sandbox, dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let url = sandbox.url();
    let mut full_env = vec![
        ("TFE_ADDRESS", url.as_str()),
        ("TFE_TOKEN", sandbox.admin_token()),
    ];
    full_env.extend_from_slice(env);
    let mut args = vec!["plan"];
    args.extend_from_slice(extra);
    tfe_admin(dir, &args, &full_env).await
}

/// The output with the sandbox's ephemeral address replaced.
fn stable(text: &str, sandbox: &Sandbox) -> String {
    text.replace(&sandbox.url(), "http://[SANDBOX]")
}

const MIXED: &str = "\
general:
  api-rate-limit: 50
  plan-timeout: 120m
smtp:
  enabled: true
  host: smtp.example.com
  port: 587
  sender: tfe@example.com
  auth: login
  username: tfe
  password: ${env:SMTP_PASSWORD}
  test-email-address: ops@example.com
saml:
  revoke-old-idp-cert: true
customization:
  login-help: <div>Sign in</div>
data-retention-policy:
  delete-older-than-n-days: 90
";

const CANARY: &str = "canary-5e1f-smtp-password";

/// A live state where general's timeout already matches (as `2h`), SAML holds an old
/// certificate and the login help is stored HTML-escaped.
async fn mixed_live_state(control: &Control) {
    control
        .set_state(json!({
            "version": 1,
            "settings": {
                "general": { "api-rate-limit": 30, "plan-timeout": "2h" },
                "saml": { "old-idp-cert": "-----BEGIN CERTIFICATE-----\nOLD\n-----END CERTIFICATE-----" },
                "customization": { "login-help": "&lt;div&gt;Sign in&lt;/div&gt;" },
                "smtp": { "enabled": false, "host": "smtp.old.example.com", "port": 25, "sender": "old@example.com" }
            },
            "write-only-set": {},
            "policies": {}
        }))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_plan_shows_semantic_changes_and_exits_2_with_detailed_exitcode() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    mixed_live_state(&control).await;
    let dir = workdir(MIXED);
    let run = plan(
        &sandbox,
        dir.path(),
        &["--detailed-exitcode"],
        &[("SMTP_PASSWORD", CANARY)],
    )
    .await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    insta::assert_snapshot!("plan_text", stable(&run.stdout, &sandbox));
    assert_eq!(run.stderr, "");
    // GET only: a plan never writes.
    let requests = control.requests().await;
    assert!(requests.iter().all(|r| r.method == "GET"), "{requests:?}");
    let mut paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "/api/v2/account/details",
            "/api/v2/admin/customization-settings",
            "/api/v2/admin/data-retention-policy-settings",
            "/api/v2/admin/general-settings",
            "/api/v2/admin/saml-settings",
            "/api/v2/admin/smtp-settings",
            "/api/v2/ping",
        ]
    );
    assert!(!run.stdout.contains(CANARY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_markdown_plans() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    mixed_live_state(&control).await;
    let dir = workdir(MIXED);
    let env = [("SMTP_PASSWORD", CANARY)];
    let run = plan(&sandbox, dir.path(), &["--format", "json"], &env).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // Nothing but the document on stdout, and one its published schema accepts.
    let document = plan_document(&run.stdout);
    assert_eq!(document["format-version"], json!(2));
    insta::assert_snapshot!("plan_json", stable(&run.stdout, &sandbox));
    let run = plan(&sandbox, dir.path(), &["--format", "markdown"], &env).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    insta::assert_snapshot!("plan_markdown", stable(&run.stdout, &sandbox));
    for out in [&run.stdout, &run.stderr] {
        assert!(!out.contains(CANARY));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_changes_is_quiet_and_exits_0() {
    let sandbox = start_sandbox().await;
    let dir = workdir("general:\n  api-rate-limit: 30\n  plan-timeout: 120m\n");
    let run = plan(&sandbox, dir.path(), &["--detailed-exitcode"], &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        stable(&run.stdout, &sandbox),
        "No changes: http://[SANDBOX] (TFE 2.1.0) matches the desired state.\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_token_kind_is_explained() {
    let sandbox = start_sandbox().await;
    let tokens = Control::new(&sandbox).tokens().await;
    let dir = workdir("general:\n  api-rate-limit: 50\n");
    let url = sandbox.url();
    let cases = [
        (
            Some(tokens.user.as_str()),
            "who is not a site administrator",
        ),
        (
            Some(tokens.team.as_str()),
            "a service account (a team or organization token)",
        ),
        (
            Some(tokens.organization.as_str()),
            "a service account (a team or organization token)",
        ),
        (
            Some("not-a-token"),
            "the API token was rejected (401 Unauthorized)",
        ),
        (None, "no API token: set TFE_TOKEN"),
    ];
    for (token, expected) in cases {
        let mut env = vec![("TFE_ADDRESS", url.as_str())];
        if let Some(token) = token {
            env.push(("TFE_TOKEN", token));
        }
        let run = tfe_admin(dir.path(), &["plan"], &env).await;
        assert_eq!(run.code, Some(1), "{token:?}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{token:?}: {}", run.stderr);
        assert!(run.stderr.contains("hint: "), "{token:?}: {}", run.stderr);
        assert!(
            !run.stderr.contains("404"),
            "a 404 must be explained: {}",
            run.stderr
        );
        assert_eq!(run.stdout, "");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_server_errors_are_retried() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control
        .fault(Fault::new("/api/v2/admin/general-settings", 429).retry_after(1))
        .await;
    control
        .fault(Fault::new("/api/v2/admin/smtp-settings", 500).count(2))
        .await;
    let dir = workdir("general:\n  api-rate-limit: 30\nsmtp:\n  host: \"\"\n");
    let run = plan(&sandbox, dir.path(), &[], &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let requests = control.requests().await;
    let count = |path: &str| requests.iter().filter(|r| r.path == path).count();
    assert_eq!(count("/api/v2/admin/general-settings"), 2);
    assert_eq!(count("/api/v2/admin/smtp-settings"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_page_is_an_error_quoting_the_status() {
    let sandbox = start_sandbox().await;
    Control::new(&sandbox)
        .fault(
            Fault::new("/api/v2/admin/general-settings", 502)
                .count(10)
                .body("<html><body>Bad Gateway</body></html>"),
        )
        .await;
    let dir = workdir("general:\n  api-rate-limit: 50\n");
    let run = plan(&sandbox, dir.path(), &["--timeout", "5"], &[]).await;
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("GET admin/general-settings answered 502 with text/html"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_server_times_out_with_a_clear_error() {
    let sandbox = start_sandbox().await;
    Control::new(&sandbox).latency(3_000).await;
    let dir = workdir("general:\n  api-rate-limit: 50\n");
    let run = plan(&sandbox, dir.path(), &["--timeout", "1"], &[]).await;
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("no answer within 1s"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_attributes_are_ignored_and_missing_ones_are_unknown() {
    let sandbox = start_sandbox().await;
    let body = json!({"data": {"id": "general", "type": "general-settings", "attributes": {
        "api-rate-limit": 30, "some-future-attribute": {"nested": true}}}});
    Control::new(&sandbox)
        .fault(Fault::new("/api/v2/admin/general-settings", 200).body(&body.to_string()))
        .await;
    let dir = workdir("general:\n  api-rate-limit: 30\n  plan-timeout: 2h\n");
    let run = plan(&sandbox, dir.path(), &[], &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout
            .contains("~ general.plan-timeout: (not returned by the server) -> \"2h\""),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("api-rate-limit"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_release_lacks_is_reported_not_sent() {
    let sandbox = start_sandbox().await;
    Control::new(&sandbox)
        .config(json!({"release": "2.0.0"}))
        .await;
    let dir = workdir("saml:\n  attr-site-auditor: Auditor\n  debug: true\n");
    let run = plan(&sandbox, dir.path(), &[], &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.contains("~ saml.debug: false -> true"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "# saml: `attr-site-auditor` needs TFE 2.1.0; this installation runs 2.0.0: not sent"
        ),
        "{}",
        run.stdout
    );
    Control::new(&sandbox)
        .config(json!({"release": "v202312-1"}))
        .await;
    let dir = workdir("data-retention-policy:\n  delete-older-than-n-days: 30\n");
    let run = plan(&sandbox, dir.path(), &[], &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout
            .contains("the section needs TFE v202401-1; this installation runs v202312-1"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_needing_live_values_fail_the_plan_with_a_location() {
    let sandbox = start_sandbox().await;
    let dir = workdir("twilio:\n  enabled: true\n  account-sid: AC1\n");
    let run = plan(&sandbox, dir.path(), &[], &[]).await;
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains(
            "tfe-admin.yaml:2:12: twilio.from-number: must have a value when `twilio.enabled` is true"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_keeps_references_never_secrets() {
    let sandbox = start_sandbox().await;
    let dir = workdir("smtp:\n  host: smtp.example.com\n  password: ${env:SMTP_PASSWORD}\n");
    let run = plan(
        &sandbox,
        dir.path(),
        &["--out", "tfe.plan"],
        &[("SMTP_PASSWORD", CANARY)],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let saved = std::fs::read_to_string(dir.path().join("tfe.plan")).unwrap_or_default();
    assert!(!saved.contains(CANARY), "{saved}");
    assert!(!run.stdout.contains(CANARY) && !run.stderr.contains(CANARY));
    let saved = plan_document(&saved);
    assert_eq!(saved["address"], json!(sandbox.url()));
    let step = &saved["sections"][0]["items"][0]["steps"][0];
    let body = &step["body"]["attributes"];
    assert_eq!(
        body[1],
        json!({"name": "password", "sensitive": true, "reference": "${env:SMTP_PASSWORD}"})
    );
    assert_eq!(step["expect"], json!([{"name": "host", "value": ""}]));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode =
            std::fs::metadata(dir.path().join("tfe.plan")).map(|m| m.permissions().mode() & 0o777);
        assert_eq!(mode.ok(), Some(0o600));
    }
    // A literal secret cannot be saved.
    let dir = workdir("smtp:\n  host: a\n  password: literal-canary\n");
    let run = plan(
        &sandbox,
        dir.path(),
        &["--allow-literal-secrets", "--out", "p"],
        &[],
    )
    .await;
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("`smtp.password` is a literal secret"),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("p").exists());
    assert!(!run.stderr.contains("literal-canary") && !run.stdout.contains("literal-canary"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_file_sends_no_request() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    let dir = workdir("general:\n  api-rate-limit: 10\n");
    let run = plan(&sandbox, dir.path(), &[], &[]).await;
    assert_eq!(run.code, Some(1));
    assert!(control.requests().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_sandbox_needs_no_address_or_token() {
    let dir = workdir("general:\n  api-rate-limit: 50\n");
    let run = tfe_admin(
        dir.path(),
        &[
            "plan",
            "--address",
            "sandbox:state.json",
            "--detailed-exitcode",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("Changes to sandbox:state.json (TFE 2.1.0):"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("~ general.api-rate-limit: 30 -> 50"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_is_refused_for_remote_hosts() {
    let dir = workdir("general:\n  api-rate-limit: 50\n");
    let run = tfe_admin(
        dir.path(),
        &["plan"],
        &[
            ("TFE_ADDRESS", "http://tfe.example.com"),
            ("TFE_TOKEN", "x"),
        ],
    )
    .await;
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("must use https://"), "{}", run.stderr);
}
