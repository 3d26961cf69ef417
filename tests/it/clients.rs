//! The sandbox as real TFE client libraries meet it: a read-modify-write client sends a GET
//! document back unchanged (every section, every emulated release, fresh and configured),
//! `null` in a write means "unset" (go-tfe sends `"plan-timeout": null` for options it leaves
//! out), and `plan` shows no change between `null` and `""` for an optional text, whichever of
//! the two an installation answers. The Python clients themselves run in `tests/clients/`.

use reqwest::Method;
use serde_json::{Map, Value, json};
use tfe_admin::catalogue::{self, Access, SectionSpec};

use crate::common::{Api, Control, Reply, start_sandbox, tfe_admin_against, workdir};

/// Releases with different sets of sections and attributes (SCIM, its 2.1.0 attributes, the
/// data retention policy, customization).
const RELEASES: &[&str] = &["2.1.0", "2.0.0", "v202401-1", "v202001-1"];

/// Every section configured the way an installation in use is: enabled, with credentials,
/// HTML texts, a rotated SAML certificate, SCIM linked to a group, a retention policy.
fn configured_state() -> Value {
    json!({
        "version": 1,
        "settings": {
            "general": {"api-rate-limit": 60, "plan-timeout": "90m", "apply-timeout": "12h",
                "limit-workspaces-per-organization": true,
                "default-workspaces-per-organization-ceiling": 500,
                "agent-polling-retry-after": 30, "maximum-concurrent-assessments": 4},
            "cost-estimation": {"enabled": true, "aws-access-key-id": "AKIAEXAMPLE",
                "aws-secret-key": "aws-secret-example"},
            "saml": {"enabled": true, "idp-cert": "NEW-CERTIFICATE", "old-idp-cert": "OLD-CERTIFICATE",
                "sso-endpoint-url": "https://idp.example.com/sso",
                "slo-endpoint-url": "https://idp.example.com/slo", "provider-type": "okta",
                "attr-site-auditor": "SiteAuditor", "max-message-size-in-bytes": 262_144},
            "smtp": {"enabled": true, "host": "smtp.example.com", "port": 587,
                "sender": "tfe@example.com", "auth": "login", "username": "tfe"},
            "twilio": {"enabled": true, "account-sid": "AC123", "from-number": "+15555550100"},
            "customization": {"login-help": "<div>Sign in & go</div>",
                "avatar-sources": [{"source": "gravatar", "enabled": false}]},
            "scim": {"enabled": true, "site-admin-group-scim-id": "group-1"}
        },
        "write-only-set": {"smtp": ["password"], "twilio": ["auth-token"]},
        "policies": {"data-retention-policy": {"delete-older-than-n-days": 30}}
    })
}

/// The `data.attributes` of a reply as a map (panics with the reply when it is not one).
fn attributes(reply: &Reply) -> Map<String, Value> {
    match reply.attributes() {
        Value::Object(map) => map.clone(),
        _ => panic!("no attributes in {}", reply.text),
    }
}

/// GET the section, send `pick(document attributes)` back with the method a client writes it
/// with, and check that the write succeeded and nothing changed: the document, and the
/// write-only values held (which GET cannot show).
async fn send_back(
    api: &Api,
    control: &Control,
    spec: &SectionSpec,
    label: &str,
    pick: impl Fn(&str) -> bool,
) {
    let path = spec.path;
    let before = api.get(path).await;
    assert_eq!(before.status, 200, "{label}: GET {path}: {}", before.text);
    let write_only = control.state().await["write-only-set"].clone();
    let sent: Map<String, Value> = attributes(&before)
        .into_iter()
        .filter(|(name, _)| pick(name))
        .collect();
    // A settings document has an id of its own; the policy has none.
    let reply = if spec.kind.document_id().is_some() {
        let body = json!({"data": {"type": spec.json_type, "attributes": sent}});
        let reply = api.patch(path, &body).await;
        assert_eq!(
            reply.status, 200,
            "{label}: PATCH {path} {body}: {}",
            reply.text
        );
        reply
    } else {
        // A policy is written whole with POST; send the GET document's `data` back.
        let mut data = before.json["data"].clone();
        data["attributes"] = Value::Object(sent);
        let reply = api.post(path, Some(&json!({ "data": data }))).await;
        assert_eq!(reply.status, 204, "{label}: POST {path}: {}", reply.text);
        api.get(path).await
    };
    assert_eq!(
        reply.json, before.json,
        "{label}: {path} answered another document"
    );
    assert_eq!(
        api.get(path).await.json,
        before.json,
        "{label}: {path} changed"
    );
    assert_eq!(
        control.state().await["write-only-set"],
        write_only,
        "{label}: a write-only value was lost"
    );
}

#[tokio::test]
async fn every_section_takes_its_get_document_back_unchanged() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);
    let mut round_trips = 0;
    for release in RELEASES {
        control.config(json!({"release": release})).await;
        for (state_name, state) in [("fresh", json!({})), ("configured", configured_state())] {
            control.set_state(state).await;
            for spec in catalogue::SECTIONS
                .iter()
                // The sections of one document: settings and the policy.
                .filter(|s| s.kind.in_file() && s.kind.item_depth() == 0)
            {
                let label = format!("{release} {state_name} {}", spec.key);
                let reply = api.get(spec.path).await;
                let expected = if spec.since.is_some_and(|since| {
                    catalogue::Release::parse(release).is_some_and(|r| r < since)
                }) || (spec.kind.document_id().is_none() && state_name == "fresh")
                {
                    404 // not in this release; or no policy set
                } else {
                    200
                };
                assert_eq!(reply.status, expected, "{label}: {}", reply.text);
                if expected == 404 {
                    continue;
                }
                // The writable attributes, as the read-modify-write client sends them.
                let writable = |name: &str| {
                    spec.attribute(name)
                        .is_some_and(|a| a.access == Access::ReadWrite)
                };
                send_back(
                    &api,
                    &control,
                    spec,
                    &format!("{label} (writable)"),
                    writable,
                )
                .await;
                // The whole document, read-only attributes included, as a naive client does.
                send_back(&api, &control, spec, &format!("{label} (whole)"), |_| true).await;
                round_trips += 2;
            }
        }
    }
    // Every section in its newest release, fresh and configured (the policy only when set).
    assert!(
        round_trips >= 2 * (2 * 7 + 1),
        "only {round_trips} round trips"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn null_in_a_write_sets_an_attribute_back_to_unset() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);
    control.set_state(configured_state()).await;

    // go-tfe v1 sends both timeouts as null whenever it updates general settings.
    let reply = api
        .patch(
            "admin/general-settings",
            &json!({"data": {"type": "", "attributes": {"api-rate-limit": 70,
                "plan-timeout": null, "apply-timeout": null}}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let general = attributes(&reply);
    assert_eq!(general["api-rate-limit"], json!(70));
    assert_eq!(general["plan-timeout"], json!("2h"), "back to the default");
    assert_eq!(general["terraform-build-worker-plan-timeout"], json!("2h"));
    assert_eq!(general["apply-timeout"], json!("24h"));

    // Numbers without a default go back to null, texts to "".
    let reply = api
        .patch(
            "admin/general-settings",
            &json!({"data": {"attributes": {"agent-polling-retry-after": null}}}),
        )
        .await;
    assert_eq!(reply.attributes()["agent-polling-retry-after"], Value::Null);
    let reply = api
        .patch(
            "admin/twilio-settings",
            &json!({"data": {"attributes": {"enabled": false, "account-sid": null}}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.attributes()["account-sid"], json!(""));
    assert!(
        control.state().await["settings"]["twilio"]
            .get("account-sid")
            .is_none(),
        "null forgets the stored value"
    );

    // A section that needs the value refuses to lose it: SMTP is enabled.
    let reply = api
        .patch(
            "admin/smtp-settings",
            &json!({"data": {"attributes": {"host": null}}}),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert_eq!(reply.pointers(), ["/data/attributes/host"]);
    // Clearing the IdP certificate is no rotation: the old one stays as it was.
    let reply = api
        .patch(
            "admin/saml-settings",
            &json!({"data": {"attributes": {"enabled": false, "idp-cert": null}}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.attributes()["idp-cert"], json!(""));
    assert_eq!(reply.attributes()["old-idp-cert"], json!("OLD-CERTIFICATE"));

    // A boolean has no unset state.
    let reply = api
        .call(
            Method::PATCH,
            "admin/general-settings",
            Some(&json!({"data": {"attributes": {"agents-enabled": null}}})),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_installation_answering_null_for_unset_texts_plans_no_change() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    // The state a real installation may hold: null, not "", for texts nobody set.
    control
        .set_state(json!({"settings": {
            "smtp": {"host": null, "sender": null, "username": null},
            "twilio": {"account-sid": null, "from-number": null},
            "saml": {"idp-cert": null, "sso-endpoint-url": null, "certificate": null},
            "cost-estimation": {"aws-access-key-id": null, "gcp-credentials": null},
            "customization": {"footer": null}
        }}))
        .await;
    assert_eq!(
        Api::admin(&sandbox)
            .get("admin/smtp-settings")
            .await
            .attributes()["host"],
        Value::Null
    );
    let dir = workdir(
        "smtp:\n  host: \"\"\n  sender: \"\"\n  username: \"\"\n\
         twilio:\n  account-sid: \"\"\n  from-number: \"\"\n\
         saml:\n  idp-cert: \"\"\n  sso-endpoint-url: \"\"\n  certificate: \"\"\n\
         cost-estimation:\n  aws-access-key-id: \"\"\n  gcp-credentials: \"\"\n\
         customization:\n  footer: \"\"\n",
    );
    let run = tfe_admin_against(
        &sandbox,
        dir.path(),
        &["plan", "--detailed-exitcode", "--allow-literal-secrets"],
        &[],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("No changes"), "{}", run.stdout);

    // Not where null stands for a default: a null attr-username is "Username", not "".
    control
        .set_state(json!({"settings": {"saml": {"attr-username": null}}}))
        .await;
    let dir = workdir("saml:\n  attr-username: \"\"\n");
    let run = tfe_admin_against(&sandbox, dir.path(), &["plan", "--detailed-exitcode"], &[]).await;
    assert_eq!(run.code, Some(2), "{}\n{}", run.stdout, run.stderr);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn service_discovery_answers_without_a_token() {
    let sandbox = start_sandbox().await;
    let client = crate::common::http_client();
    let url = format!("{}/.well-known/terraform.json", sandbox.url());
    for token in [None, Some(sandbox.admin_token())] {
        let reply = crate::common::send(&client, Method::GET, &url, token, None).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        // The keys terraform-provider-tfe (tfe.v2.2), go-tfe and terrasnek (tfe.v2,
        // modules.v1) look up; relative URLs resolve against the document's own URL.
        for key in ["tfe.v2", "tfe.v2.1", "tfe.v2.2", "state.v2"] {
            assert_eq!(reply.json[key], json!("/api/v2/"), "{key}: {}", reply.text);
        }
        assert_eq!(reply.json["modules.v1"], json!("/api/registry/v1/modules/"));
    }
    let reply = crate::common::send(&client, Method::POST, &url, None, None).await;
    assert_eq!(reply.status, 405, "{}", reply.text);
    assert_eq!(reply.header("allow"), Some("GET"));
    // Only that path: the rest of /.well-known/ is not TFE's.
    let other = format!("{}/.well-known/other.json", sandbox.url());
    let reply = crate::common::send(&client, Method::GET, &other, None, None).await;
    assert_eq!(reply.status, 404, "{}", reply.text);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn ping_tells_the_release_as_tfe_does_across_releases() {
    let sandbox = start_sandbox().await;
    let api = Api::new(&sandbox.url(), None);
    let control = Control::new(&sandbox);
    // (release, X-TFE-Version, X-TFE-Current-Version)
    for (release, name, number) in [
        ("2.1.0", Some("v202609-1"), Some("2.1.0")),
        ("2.0.0", Some("v202603-1"), Some("2.0.0")),
        ("1.0.0", Some("v202507-1"), None),
        ("v202401-1", Some("v202401-1"), None),
        ("v202001-1", None, None),
    ] {
        control.config(json!({"release": release})).await;
        let reply = api.get("ping").await;
        assert_eq!(reply.status, 204, "{release}: {}", reply.text);
        assert_eq!(reply.header("x-tfe-version"), name, "{release}");
        assert_eq!(reply.header("x-tfe-current-version"), number, "{release}");
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn plan_reads_the_release_from_the_number_not_the_monthly_name() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control.config(json!({"release": "2.0.0"})).await;
    // Both headers are sent: the number is the release, the monthly name only its alias.
    let dir = workdir("general:\n  api-rate-limit: 30\n");
    let run = tfe_admin_against(&sandbox, dir.path(), &["plan", "--detailed-exitcode"], &[]).await;
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("(TFE 2.0.0)"), "{}", run.stdout);
    // 1.0.0 sends only the monthly name, so that is the release the tool sees.
    control.config(json!({"release": "1.0.0"})).await;
    let run = tfe_admin_against(&sandbox, dir.path(), &["plan", "--detailed-exitcode"], &[]).await;
    assert!(run.stdout.contains("(TFE v202507-1)"), "{}", run.stdout);
    sandbox.shutdown().await;
}
