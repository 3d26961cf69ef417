//! `tfe-admin export`, the real binary, against the sandbox: the exported file (snapshot),
//! its determinism, `--section`, and the property that export then plan shows no changes;
//! and `validate --format json`.

use crate::common::{Control, start_sandbox, tfe_admin, tfe_admin_against as run, workdir};
use serde_json::{Value, json};

/// The variables an exported file references, with the live values of the readable ones.
fn secret_env(live: &Value) -> Vec<(String, String)> {
    let cost = &live["settings"]["cost-estimation"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    vec![
        (
            "TFE_ADMIN_COST_ESTIMATION_AWS_SECRET_KEY".to_owned(),
            text(&cost["aws-secret-key"]),
        ),
        (
            "TFE_ADMIN_COST_ESTIMATION_GCP_CREDENTIALS".to_owned(),
            text(&cost["gcp-credentials"]),
        ),
        (
            "TFE_ADMIN_COST_ESTIMATION_AZURE_CLIENT_SECRET".to_owned(),
            text(&cost["azure-client-secret"]),
        ),
        (
            "TFE_ADMIN_SAML_PRIVATE_KEY".to_owned(),
            "-----BEGIN PRIVATE KEY-----\nK\n-----END PRIVATE KEY-----".to_owned(),
        ),
        ("TFE_ADMIN_SMTP_PASSWORD".to_owned(), "pw".to_owned()),
        ("TFE_ADMIN_SMTP_CLIENT_SECRET".to_owned(), "cs".to_owned()),
        ("TFE_ADMIN_TWILIO_AUTH_TOKEN".to_owned(), "tok".to_owned()),
    ]
}

fn rich_state() -> Value {
    json!({
        "version": 1,
        "settings": {
            "general": {"api-rate-limit": 45, "plan-timeout": "90m", "default-workspaces-per-organization-ceiling": 100},
            "cost-estimation": {"enabled": true, "aws-access-key-id": "AKIA1", "aws-secret-key": "canary-aws-9f2"},
            "saml": {"debug": true, "idp-cert": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
                     "old-idp-cert": "-----BEGIN CERTIFICATE-----\nOLD\n-----END CERTIFICATE-----"},
            "customization": {"footer": "<p>Cost: ${not a reference}</p>", "login-help": "yes",
                              "avatar-sources": [{"source": "saml", "enabled": true}]},
            "scim": {"paused": false}
        },
        "write-only-set": {"smtp": ["password"]},
        "policies": {"data-retention-policy": null}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_every_writable_attribute_and_no_secret() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control.set_state(rich_state()).await;
    let dir = workdir("{}\n");
    let out = run(&sandbox, dir.path(), &["export"], &[]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let stable = out.stdout.replace(&sandbox.url(), "http://[SANDBOX]");
    insta::assert_snapshot!("export_yaml", stable);
    assert!(!out.stdout.contains("canary-aws-9f2"));
    // Same state, same bytes.
    let again = run(&sandbox, dir.path(), &["export"], &[]).await;
    assert_eq!(again.stdout, out.stdout);
    // Only the requests a read needs.
    assert!(control.requests().await.iter().all(|r| r.method == "GET"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_plan_shows_no_changes() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control.set_state(rich_state()).await;
    let dir = workdir("{}\n");
    let out = run(
        &sandbox,
        dir.path(),
        &["export", "-o", "tfe-admin.yaml"],
        &[],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let state = control.state().await;
    let env = secret_env(&state);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let plan = run(&sandbox, dir.path(), &["plan", "--detailed-exitcode"], &env).await;
    assert_eq!(plan.code, Some(0), "{}{}", plan.stdout, plan.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sections_can_be_chosen_and_unknown_ones_are_refused() {
    let sandbox = start_sandbox().await;
    let dir = workdir("{}\n");
    let out = run(
        &sandbox,
        dir.path(),
        &[
            "export",
            "--section",
            "general",
            "--section",
            "data-retention-policy",
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("\ngeneral:\n")
            && out.stdout.contains("\ndata-retention-policy: null\n")
    );
    assert!(!out.stdout.contains("\nsmtp:"));
    let bad = run(
        &sandbox,
        dir.path(),
        &["export", "--section", "genral"],
        &[],
    )
    .await;
    assert_eq!(bad.code, Some(1));
    assert!(
        bad.stderr.contains("unknown section `genral`"),
        "{}",
        bad.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_reports_json_for_ci() {
    let dir = workdir(
        "general:\n  api-rate-limit: 10\n  plan_timeout: 2h\n  terraform-build-worker-plan-timeout: 2h\n",
    );
    let out = tfe_admin(dir.path(), &["validate", "--format", "json"], &[]).await;
    assert_eq!(out.code, Some(1));
    let report: Value = match serde_json::from_str(&out.stdout) {
        Ok(v) => v,
        Err(e) => panic!("stdout is not JSON: {e}\n{}", out.stdout),
    };
    assert_eq!(
        report,
        json!({
            "format-version": 1,
            "valid": false,
            "files": ["tfe-admin.yaml"],
            "errors": [
                {"file": "tfe-admin.yaml", "line": 2, "column": 19, "path": "general.api-rate-limit",
                 "message": "must be at least 30 (found 10)"},
                {"file": "tfe-admin.yaml", "line": 3, "column": 3, "path": "general.plan_timeout",
                 "message": "unknown attribute `plan_timeout` in `general`; did you mean `plan-timeout`?"}
            ],
            "warnings": [
                {"file": "tfe-admin.yaml", "line": 4, "column": 3, "path": "general.terraform-build-worker-plan-timeout",
                 "message": "deprecated: use `plan-timeout` instead (the same setting)"}
            ]
        })
    );
    let ok = workdir("general:\n  api-rate-limit: 30\n");
    let out = tfe_admin(ok.path(), &["validate", "--format", "json"], &[]).await;
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.contains("\"valid\": true"), "{}", out.stdout);
}

mod roundtrip {
    //! For random live states in the sandbox, export then plan exits 0 with no changes
    //! (secrets supplied through the referenced variables).

    use super::*;
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "",
            "plain",
            "yes",
            "null",
            "42",
            "a: b # c",
            "<b>bold</b> & more",
            "${env:NOT_A_REF}",
            "line one\nline two",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            "  indented",
            "tab\there",
            "quote \" back \\ slash",
            "ünïcödé ✓",
        ])
        .prop_map(str::to_owned)
    }

    fn live_state() -> impl Strategy<Value = Value> {
        (
            (30u32..500, prop::sample::select(vec!["2h", "90m", "1h30m", "45s"]), any::<bool>()),
            (text(), text(), text()),
            (any::<bool>(), prop::option::of(1u32..3650)),
            (text(), 1u32..65535, prop::sample::select(vec!["none", "plain", "login"])),
        )
            .prop_map(|((rate, timeout, flag), (footer, help, sid), (debug, days), (host, port, auth))| {
                json!({
                    "version": 1,
                    "settings": {
                        "general": {"api-rate-limit": rate, "plan-timeout": timeout, "agents-enabled": flag},
                        "customization": {"footer": footer, "login-help": help},
                        "twilio": {"account-sid": sid},
                        "saml": {"debug": debug},
                        "smtp": {"host": host, "port": port, "auth": auth}
                    },
                    "write-only-set": {},
                    "policies": {"data-retention-policy": days.map(|d| json!({"delete-older-than-n-days": d}))}
                })
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]

        #[test]
        fn export_then_plan_is_clean(state in live_state()) {
            let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
                Ok(r) => r,
                Err(e) => panic!("{e}"),
            };
            runtime.block_on(async {
                let sandbox = start_sandbox().await;
                let control = Control::new(&sandbox);
                let reply = control.try_set_state(state.clone()).await;
                assert!(reply.status < 300, "the sandbox refused the state: {}", reply.text);
                let dir = workdir("{}\n");
                let out = run(&sandbox, dir.path(), &["export", "-o", "tfe-admin.yaml"], &[]).await;
                assert_eq!(out.code, Some(0), "{}", out.stderr);
                let env = secret_env(&control.state().await);
                let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let plan = run(&sandbox, dir.path(), &["plan", "--detailed-exitcode"], &env).await;
                let file = std::fs::read_to_string(dir.path().join("tfe-admin.yaml")).unwrap_or_default();
                assert_eq!(plan.code, Some(0), "{}{}\n{file}", plan.stdout, plan.stderr);
                sandbox.shutdown().await;
            });
        }
    }
}
