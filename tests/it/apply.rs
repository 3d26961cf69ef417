//! `tfe-admin apply`, the real binary, against the sandbox over real HTTP: the exact request
//! bodies (only the changed keys), each action, each failure mode, saved plans and their
//! staleness check, refusal without a terminal, and a property test that apply converges.

use std::path::Path;

use crate::common::{
    Control, Fault, Recorded, Run, plan_document, start_sandbox, tfe_admin,
    tfe_admin_against as run, workdir,
};
use serde_json::{Value, json};
use tfe_admin::sandbox::Sandbox;

async fn apply(sandbox: &Sandbox, dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let mut args = vec!["apply", "--auto-approve"];
    args.extend_from_slice(extra);
    run(sandbox, dir, &args, env).await
}

/// The writes the sandbox received (everything but GET), as `(METHOD path, body)`.
fn writes(requests: &[Recorded]) -> Vec<(String, Value)> {
    requests
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| (format!("{} {}", r.method, r.path), r.body.clone()))
        .collect()
}

fn state(settings: &Value) -> Value {
    json!({"version": 1, "settings": settings, "write-only-set": {}, "policies": {}})
}

const SECRET: &str = "canary-apply-7d2c";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches_carry_only_the_changed_keys_and_the_sections_secrets() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    let dir = workdir(
        "general:\n  api-rate-limit: 60\n  plan-timeout: 120m\n  apply-timeout: 24h\n\
         smtp:\n  host: smtp.example.com\n  port: 25\n  password: ${env:PW}\n  test-email-address: ops@example.com\n\
         customization:\n  footer: same\n",
    );
    control.set_state(state(&json!({
        "general": {"api-rate-limit": 30, "plan-timeout": "2h", "apply-timeout": "24h"},
        "smtp": {"enabled": true, "host": "old.example.com", "port": 25, "sender": "a@example.com", "auth": "none"},
        "customization": {"footer": "same"},
    }))).await;
    let out = apply(&sandbox, dir.path(), &[], &[("PW", SECRET)]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .ends_with("Apply complete: 2 sections changed, 0 actions run.\n"),
        "{}",
        out.stdout
    );
    let mut writes = writes(&control.requests().await);
    writes.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        writes,
        [
            (
                "PATCH /api/v2/admin/general-settings".to_owned(),
                json!({"data": {"type": "general-settings", "attributes": {"api-rate-limit": 60}}})
            ),
            (
                "PATCH /api/v2/admin/smtp-settings".to_owned(),
                json!({"data": {"type": "smtp-settings", "attributes": {
                    "host": "smtp.example.com", "password": "(sensitive)", "test-email-address": "ops@example.com"}}})
            ),
        ]
    );
    // The log shows that the secret was sent; the emulated database holds what it was.
    assert_eq!(
        sandbox
            .write_only_value("smtp", "password")
            .await
            .as_deref(),
        Some(SECRET)
    );
    assert!(!out.stdout.contains(SECRET) && !out.stderr.contains(SECRET));
    let outbox = control.outbox().await;
    assert_eq!(outbox["mails"][0]["to"], json!("ops@example.com"));
    // Converged: a second plan finds nothing.
    let again = run(
        &sandbox,
        dir.path(),
        &["plan", "--detailed-exitcode"],
        &[("PW", SECRET)],
    )
    .await;
    assert_eq!(again.code, Some(0), "{}{}", again.stdout, again.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_run_after_their_write_and_only_when_due_or_named() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control
        .set_state(state(&json!({
            "saml": {"old-idp-cert": "-----BEGIN CERTIFICATE-----\nOLD\n-----END CERTIFICATE-----"},
            "twilio": {"enabled": false},
        })))
        .await;
    let dir = workdir(
        "saml:\n  revoke-old-idp-cert: true\ntwilio:\n  enabled: true\n  account-sid: AC1\n  \
         auth-token: ${env:TOK}\n  from-number: '+15550100'\n  test-number: '+15550199'\n",
    );
    let out = apply(
        &sandbox,
        dir.path(),
        &["--action", "oidc.rotate-key"],
        &[("TOK", SECRET)],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .ends_with("Apply complete: 1 section changed, 3 actions run.\n"),
        "{}",
        out.stdout
    );
    let writes = writes(&control.requests().await);
    let calls: Vec<&str> = writes.iter().map(|(c, _)| c.as_str()).collect();
    let position = |call: &str| calls.iter().position(|c| *c == call);
    assert!(
        position("PATCH /api/v2/admin/twilio-settings")
            < position("POST /api/v2/admin/twilio-settings/verify")
    );
    assert!(position("POST /api/v2/admin/saml-settings/actions/revoke-old-certificate").is_some());
    assert!(position("POST /api/v2/admin/oidc-settings/actions/rotate-key").is_some());
    assert_eq!(calls.len(), 4, "{calls:?}");
    let outbox = control.outbox().await;
    assert_eq!(outbox["sms"][0]["to"], json!("+15550199"));
    assert_eq!(outbox["oidc"]["rotations"], json!(1));
    // Nothing is due any more: the old certificate is gone, twilio matches.
    control.clear_requests().await;
    let again = apply(&sandbox, dir.path(), &[], &[("TOK", SECRET)]).await;
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(writes_of(&control).await.is_empty());
}

async fn writes_of(control: &Control) -> Vec<(String, Value)> {
    writes(&control.requests().await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_422_is_shown_at_the_attribute_in_the_file() {
    let sandbox = start_sandbox().await;
    // SMTP is disabled in the sandbox: a test mail cannot be sent, the API answers 422.
    let dir = workdir("smtp:\n  host: smtp.example.com\n  test-email-address: ops@example.com\n");
    let out = apply(&sandbox, dir.path(), &[], &[]).await;
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .contains("tfe-admin.yaml:3:23: smtp.test-email-address: the API refused it (422): "),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("smtp: FAILED (PATCH admin/smtp-settings 422)"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_rate_limits_on_a_patch_are_retried() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control
        .fault(
            Fault::new("/api/v2/admin/general-settings", 500)
                .method("PATCH")
                .count(2),
        )
        .await;
    control
        .fault(
            Fault::new("/api/v2/admin/customization-settings", 429)
                .method("PATCH")
                .retry_after(1),
        )
        .await;
    let dir = workdir("general:\n  api-rate-limit: 45\ncustomization:\n  footer: hi\n");
    let out = apply(&sandbox, dir.path(), &[], &[]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let writes = writes_of(&control).await;
    let count = |call: &str| writes.iter().filter(|(c, _)| c == call).count();
    assert_eq!(count("PATCH /api/v2/admin/general-settings"), 3);
    assert_eq!(count("PATCH /api/v2/admin/customization-settings"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_post_is_not_retried_on_a_server_error() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control
        .fault(Fault::new("/api/v2/admin/oidc-settings/actions/rotate-key", 500).count(3))
        .await;
    let dir = workdir("{}\n");
    let out = apply(&sandbox, dir.path(), &["--action", "oidc.rotate-key"], &[]).await;
    assert_eq!(out.code, Some(1));
    assert_eq!(
        writes_of(&control).await.len(),
        1,
        "a POST that may have run is not repeated"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_section_stops_only_what_depends_on_it_and_a_rerun_converges() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control
        .fault(
            Fault::new("/api/v2/admin/saml-settings", 503)
                .method("PATCH")
                .count(5),
        )
        .await;
    let dir = workdir(
        "general:\n  api-rate-limit: 40\nsaml:\n  enabled: true\n  idp-cert: \"-----BEGIN CERTIFICATE-----\\nX\\n-----END CERTIFICATE-----\"\n  \
         slo-endpoint-url: https://idp.example.com/slo\n  sso-endpoint-url: https://idp.example.com/sso\n  provider-type: okta\n\
         scim:\n  enabled: true\n",
    );
    let out = apply(&sandbox, dir.path(), &[], &[]).await;
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("general: applied"), "{}", out.stderr);
    assert!(out.stderr.contains("saml: FAILED"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("scim: skipped: it needs `saml`, which failed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.contains(
            "Apply failed: 1 section changed, 0 actions run, 1 section failed, 1 section skipped."
        ),
        "{}",
        out.stdout
    );
    // The fault is spent: the second apply does the rest, the third finds nothing to do.
    let second = apply(&sandbox, dir.path(), &[], &[]).await;
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert!(
        second.stdout.contains("Apply complete: 2 sections changed"),
        "{}",
        second.stdout
    );
    let third = run(&sandbox, dir.path(), &["plan", "--detailed-exitcode"], &[]).await;
    assert_eq!(third.code, Some(0), "{}", third.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_applies_without_asking_and_a_stale_one_is_refused() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    let dir = workdir(
        "smtp:\n  host: smtp.example.com\n  password: ${env:PW}\ngeneral:\n  api-rate-limit: 45\n",
    );
    let env = [("PW", SECRET)];
    let planned = run(&sandbox, dir.path(), &["plan", "--out", "p.json"], &env).await;
    assert_eq!(planned.code, Some(0), "{}", planned.stderr);
    let _ = plan_document(&std::fs::read_to_string(dir.path().join("p.json")).unwrap_or_default());
    // Someone changes a planned attribute by hand: the plan is stale.
    control
        .set_state(state(&json!({"general": {"api-rate-limit": 35}})))
        .await;
    control.clear_requests().await;
    let stale = run(&sandbox, dir.path(), &["apply", "p.json"], &env).await;
    assert_eq!(stale.code, Some(1));
    assert!(
        stale
            .stderr
            .contains("general.api-rate-limit was 30 and is now 35"),
        "{}",
        stale.stderr
    );
    assert!(
        writes_of(&control).await.is_empty(),
        "a stale plan writes nothing"
    );
    // A fresh plan applies, without a terminal, with the secret read from its reference.
    let planned = run(&sandbox, dir.path(), &["plan", "--out", "p.json"], &env).await;
    assert_eq!(planned.code, Some(0), "{}", planned.stderr);
    control.clear_requests().await;
    let applied = run(&sandbox, dir.path(), &["apply", "p.json"], &env).await;
    assert_eq!(applied.code, Some(0), "{}", applied.stderr);
    let smtp = writes_of(&control)
        .await
        .into_iter()
        .find(|(c, _)| c == "PATCH /api/v2/admin/smtp-settings");
    assert_eq!(
        smtp.map(|(_, b)| b["data"]["attributes"]["password"].clone()),
        Some(json!("(sensitive)"))
    );
    assert_eq!(
        sandbox
            .write_only_value("smtp", "password")
            .await
            .as_deref(),
        Some(SECRET),
        "the secret was read again from its reference"
    );
    // Another address is refused.
    let other = tfe_admin(
        dir.path(),
        &["apply", "p.json"],
        &[
            ("TFE_ADDRESS", "http://127.0.0.1:9"),
            ("TFE_TOKEN", "x"),
            ("PW", SECRET),
        ],
    )
    .await;
    assert_eq!(other.code, Some(1));
    assert!(
        other.stderr.contains("the plan was made against"),
        "{}",
        other.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_or_auto_approve_nothing_is_written() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    let dir = workdir("general:\n  api-rate-limit: 45\n");
    let out = run(&sandbox, dir.path(), &["apply"], &[]).await;
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("there is no terminal to ask on"),
        "{}",
        out.stderr
    );
    assert!(writes_of(&control).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_scim_needs_allow_destroy() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control
        .set_state(state(&json!({
            "saml": {"enabled": true, "idp-cert": "x", "slo-endpoint-url": "https://a/slo",
                     "sso-endpoint-url": "https://a/sso", "provider-type": "okta"},
            "scim": {"enabled": true},
        })))
        .await;
    let dir = workdir("scim:\n  enabled: false\n");
    let refused = apply(&sandbox, dir.path(), &[], &[]).await;
    assert_eq!(refused.code, Some(1));
    assert!(
        refused.stderr.contains("needs --allow-destroy"),
        "{}",
        refused.stderr
    );
    assert!(writes_of(&control).await.is_empty());
    let allowed = apply(&sandbox, dir.path(), &["--allow-destroy"], &[]).await;
    assert_eq!(allowed.code, Some(0), "{}", allowed.stderr);
    assert_eq!(
        writes_of(&control).await,
        [("DELETE /api/v2/admin/scim-settings".to_owned(), Value::Null)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_that_does_not_take_fails_verification() {
    let sandbox = start_sandbox().await;
    // A server that normalises the value to something else.
    let answer = json!({"data": {"id": "general", "type": "general-settings",
        "attributes": {"api-rate-limit": 30}}});
    Control::new(&sandbox)
        .fault(
            Fault::new("/api/v2/admin/general-settings", 200)
                .method("PATCH")
                .body(&answer.to_string()),
        )
        .await;
    let dir = workdir("general:\n  api-rate-limit: 45\n");
    let out = apply(&sandbox, dir.path(), &["--format", "json"], &[]).await;
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("tfe-admin.yaml:2:19: general.api-rate-limit: did not take: sent 45, the server holds 30"),
        "{}",
        out.stderr
    );
    let report: Value = match serde_json::from_str(&out.stdout) {
        Ok(v) => v,
        Err(e) => panic!("the JSON report is not JSON: {e}\n{}", out.stdout),
    };
    assert_eq!(report["sections"][0]["status"], json!("failed"));
    assert_eq!(
        report["sections"][0]["failures"][0]["kind"],
        json!("not-verified")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_401_is_explained_as_mail_credentials() {
    let sandbox = start_sandbox().await;
    let body = json!({"errors": [{"status": "401", "title": "unauthorized", "detail": "535 Authentication failed"}]});
    Control::new(&sandbox)
        .fault(
            Fault::new("/api/v2/admin/smtp-settings", 401)
                .method("PATCH")
                .body(&body.to_string()),
        )
        .await;
    let dir = workdir("smtp:\n  host: smtp.example.com\n");
    let out = apply(&sandbox, dir.path(), &[], &[]).await;
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("smtp: the mail server rejected the SMTP credentials (a 401 from the SMTP settings, not a bad API token): unauthorized: 535 Authentication failed"),
        "{}",
        out.stderr
    );
}

mod convergence {
    //! For random live and desired states of general and smtp: apply, then plan reports no
    //! changes, and every PATCH carried only keys whose values differed.

    use std::fmt::Write as _;

    use super::*;
    use proptest::prelude::*;

    fn general() -> impl Strategy<Value = Vec<(&'static str, Value)>> {
        (
            prop::option::of(30u32..200),
            prop::option::of(prop::sample::select(vec![
                "30m", "2h", "120m", "90m", "1h30m",
            ])),
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>()),
        )
            .prop_map(|(rate, timeout, limit, remote)| {
                let mut attrs = Vec::new();
                if let Some(r) = rate {
                    attrs.push(("api-rate-limit", json!(r)));
                }
                if let Some(t) = timeout {
                    attrs.push(("plan-timeout", json!(t)));
                }
                if let Some(l) = limit {
                    attrs.push(("limit-user-organization-creation", json!(l)));
                }
                if let Some(r) = remote {
                    attrs.push(("default-remote-state-access", json!(r)));
                }
                attrs
            })
    }

    fn yaml_of(attrs: &[(&str, Value)]) -> String {
        let mut text = String::from("general:\n");
        if attrs.is_empty() {
            return "{}\n".to_owned();
        }
        for (name, value) in attrs {
            let _ = writeln!(text, "  {name}: {value}");
        }
        text
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

        #[test]
        fn apply_converges_and_sends_only_differences(live in general(), desired in general()) {
            let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
                Ok(r) => r,
                Err(e) => panic!("{e}"),
            };
            runtime.block_on(async {
                let sandbox = start_sandbox().await;
                let control = Control::new(&sandbox);
                let live_attrs: serde_json::Map<String, Value> =
                    live.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
                control.set_state(state(&json!({"general": live_attrs}))).await;
                let before = crate::common::Api::admin(&sandbox).get("admin/general-settings").await.attributes().clone();
                let dir = workdir(&yaml_of(&desired));
                let out = apply(&sandbox, dir.path(), &[], &[]).await;
                assert_eq!(out.code, Some(0), "{}", out.stderr);
                for (call, body) in writes_of(&control).await {
                    assert_eq!(call, "PATCH /api/v2/admin/general-settings");
                    let sent = body["data"]["attributes"].as_object().cloned().unwrap_or_default();
                    assert!(!sent.is_empty());
                    for (name, value) in &sent {
                        let was = &before[name];
                        let same_duration = name == "plan-timeout"
                            && tfe_admin::diff::equivalent(tfe_admin::catalogue::Kind::Duration, false, value, was);
                        assert!(value != was && !same_duration, "{name} sent unchanged: {value}");
                    }
                }
                let plan = run(&sandbox, dir.path(), &["plan", "--detailed-exitcode"], &[]).await;
                assert_eq!(plan.code, Some(0), "{}{}", plan.stdout, plan.stderr);
                sandbox.shutdown().await;
            });
        }
    }
}

/// Runs `tfe-admin ARGS` on a pseudo-terminal (util-linux `script`) with `input` typed in.
fn on_a_terminal(dir: &Path, args: &str, input: &str) -> (Option<i32>, String) {
    use std::io::Write as _;
    let binary = env!("CARGO_BIN_EXE_tfe-admin");
    let child = std::process::Command::new("script")
        .args(["-qec", &format!("{binary} {args}"), "/dev/null"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => panic!("cannot run script(1): {e}"),
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    match child.wait_with_output() {
        Ok(out) => (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ),
        Err(e) => panic!("script(1) failed: {e}"),
    }
}

#[test]
fn on_a_terminal_only_yes_applies() {
    let dir = workdir("general:\n  api-rate-limit: 55\n");
    let args = "apply --address sandbox:state.json";
    let (code, screen) = on_a_terminal(dir.path(), args, "no\n");
    assert_eq!(code, Some(1), "{screen}");
    assert!(
        screen.contains("Apply these changes? Only 'yes' will be accepted. (yes/no):"),
        "{screen}"
    );
    assert!(
        screen.contains("apply cancelled: nothing was written"),
        "{screen}"
    );
    assert!(
        !dir.path().join("state.json").exists(),
        "nothing was written"
    );
    let (code, screen) = on_a_terminal(dir.path(), args, "yes\n");
    assert_eq!(code, Some(0), "{screen}");
    assert!(
        screen.contains("Apply complete: 1 section changed, 0 actions run."),
        "{screen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patch_acknowledged_but_not_kept_fails_apply_naming_the_attribute() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    // The PATCH is answered with the new value, as a server that keeps it would answer.
    control
        .fault(Fault::not_kept("/api/v2/admin/general-settings").method("PATCH"))
        .await;
    let dir = workdir("general:\n  plan-timeout: 3h\n  api-rate-limit: 45\n");
    let out = apply(&sandbox, dir.path(), &[], &[]).await;
    assert_eq!(out.code, Some(1), "{}{}", out.stdout, out.stderr);
    for (line, attribute, sent, held) in [
        ("2:17", "plan-timeout", "\"3h\"", "\"2h\""),
        ("3:19", "api-rate-limit", "45", "30"),
    ] {
        let expected = format!(
            "tfe-admin.yaml:{line}: general.{attribute}: did not take: sent {sent}, the server holds {held}"
        );
        assert!(out.stderr.contains(&expected), "{expected}\n{}", out.stderr);
    }
    // The PATCH answered 200; the verifying GET came after it and is what told.
    let calls: Vec<String> = control
        .requests()
        .await
        .iter()
        .map(|r| format!("{} {} {:?}", r.method, r.path, r.status))
        .collect();
    assert_eq!(
        calls[calls.len() - 2..],
        [
            "PATCH /api/v2/admin/general-settings Some(200)".to_owned(),
            "GET /api/v2/admin/general-settings Some(200)".to_owned(),
        ],
        "{calls:?}"
    );
    // Nothing was kept: applying again tries again, and now it takes.
    let again = apply(&sandbox, dir.path(), &[], &[]).await;
    assert_eq!(again.code, Some(0), "{}", again.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_approve_writes_after_its_own_read_and_verifies_with_a_fresh_get() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    let dir = workdir("general:\n  api-rate-limit: 45\n");
    let out = apply(&sandbox, dir.path(), &[], &[]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let mut calls: Vec<String> = control
        .requests()
        .await
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    // The preflight and the read go out at once, in any order; then the write, then its proof.
    calls[..3].sort_unstable();
    assert_eq!(
        calls,
        [
            "GET /api/v2/account/details",
            "GET /api/v2/admin/general-settings",
            "GET /api/v2/ping",
            "PATCH /api/v2/admin/general-settings",
            "GET /api/v2/admin/general-settings",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_not_a_saved_plan_of_this_format_is_refused_before_any_request() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    let dir = workdir("general:\n  api-rate-limit: 45\n");
    let planned = run(&sandbox, dir.path(), &["plan", "--out", "p.json"], &[]).await;
    assert_eq!(planned.code, Some(0), "{}", planned.stderr);
    let saved = std::fs::read_to_string(dir.path().join("p.json")).unwrap_or_default();
    let older = saved.replace("\"format-version\": 2", "\"format-version\": 1");
    assert_ne!(older, saved);
    for (contents, expected) in [
        (
            "{\"not\": \"a plan\"}".to_owned(),
            "error: p.json is not a saved plan of this tool\ncaused by: missing field",
        ),
        (
            older,
            "error: p.json is a saved plan of format version 1; this tool reads version 2\n\
             hint: a saved plan is applied by the release that made it: plan again with this one\n",
        ),
    ] {
        if let Err(e) = std::fs::write(dir.path().join("p.json"), contents) {
            panic!("{e}");
        }
        control.clear_requests().await;
        let refused = run(&sandbox, dir.path(), &["apply", "p.json"], &[]).await;
        assert_eq!(refused.code, Some(1), "{}", refused.stderr);
        assert!(refused.stderr.starts_with(expected), "{}", refused.stderr);
        assert!(control.requests().await.is_empty(), "a request was sent");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_rate_limit_paces_the_plans_read_and_the_writes() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    // A server allowing 4 requests a second, and a client told the same: the plan's read (4
    // requests) and the writes and their verifying reads (4) share one limit, so the server
    // never has to refuse one. Two clients, one per phase, would each allow 4.
    control.config(json!({"rate_limit": 4})).await;
    let dir = workdir("general:\n  api-rate-limit: 45\ncustomization:\n  footer: hi\n");
    let out = apply(&sandbox, dir.path(), &["--rps", "4"], &[]).await;
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let refused: Vec<String> = control
        .requests()
        .await
        .iter()
        .filter(|r| r.status == Some(429))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(refused.is_empty(), "the server refused {refused:?}");
}
