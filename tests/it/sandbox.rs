//! The sandbox over real HTTP on 127.0.0.1:0: the seeds' sample requests give the seeds' sample
//! responses, and every documented behaviour (validation, write-only attributes, release
//! gating, tokens, rate limiting, faults, latency, persistence, the control plane) holds. Most
//! tests run the emulator in-process; a few run the real binary.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{Api, Control, Fault, Reply, start_sandbox, start_sandbox_with};
use serde_json::{Value, json};
use tfe_admin::catalogue::{self, Access, Release};
use tfe_admin::sandbox::{self, SandboxConfig};

/// Asserts that every attribute of the sample document has the sample's value in `actual`,
/// and that id and type match: the sandbox may return more attributes than a seed shows.
fn assert_matches_sample(actual: &Reply, sample: &Value) {
    assert_eq!(actual.status, 200, "{}", actual.text);
    assert_eq!(actual.json["data"]["id"], sample["data"]["id"]);
    assert_eq!(actual.json["data"]["type"], sample["data"]["type"]);
    let Some(expected) = sample["data"]["attributes"].as_object() else {
        panic!("the sample has no attributes");
    };
    for (name, value) in expected {
        assert_eq!(
            &actual.attributes()[name],
            value,
            "attribute {name} of {}",
            actual.text
        );
    }
}

/// The effective state as the API shows it, for "nothing was stored" checks.
async fn snapshot(control: &Control) -> Value {
    control.state().await
}

// ---------------------------------------------------------------------------------------------
// The seeds' samples

#[tokio::test]
async fn seed_general_settings_get_and_patch() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let get_sample = json!({"data": {"id": "general", "type": "general-settings", "attributes": {
        "limit-user-organization-creation": true,
        "api-rate-limiting-enabled": true,
        "api-rate-limit": 30,
        "plan-timeout": "2h",
        "apply-timeout": "24h",
        "send-passing-statuses-for-untriggered-speculative-plans": false,
        "allow-speculative-plans-on-pull-requests-from-forks": false,
        "default-remote-state-access": true
    }}});
    let reply = api.get("admin/general-settings").await;
    assert_matches_sample(&reply, &get_sample);
    assert_eq!(
        reply.header("content-type"),
        Some("application/vnd.api+json")
    );

    // go-tfe sends `"type": ""`; the sample payload sends none. Both are accepted.
    let payload = json!({"data": {"type": "", "attributes": {
        "limit-user-organization-creation": true,
        "api-rate-limiting-enabled": true,
        "api-rate-limit": 50,
        "plan-timeout": "2h",
        "apply-timeout": "24h"
    }}});
    let patch_sample = json!({"data": {"id": "general", "type": "general-settings", "attributes": {
        "limit-user-organization-creation": true,
        "api-rate-limiting-enabled": true,
        "api-rate-limit": 50,
        "send-passing-statuses-for-untriggered-speculative-plans": false,
        "allow-speculative-plans-on-pull-requests-from-forks": false,
        "plan-timeout": "2h",
        "apply-timeout": "24h",
        "default-remote-state-access": true
    }}});
    let reply = api.patch("admin/general-settings", &payload).await;
    assert_matches_sample(&reply, &patch_sample);
    assert_matches_sample(&api.get("admin/general-settings").await, &patch_sample);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn seed_cost_estimation_settings() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let attributes = json!({
        "enabled": true,
        "aws-access-key-id": "AKIAIOSFODNN7EXAMPLE",
        "aws-secret-key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "gcp-credentials": "{\"private_key\":\"-----BEGIN PRIVATE KEY-----\\n....=\\n-----END PRIVATE KEY-----\",\"private_key_id\":\"some_id\",...}",
        "azure-client-id": "9b516fe8-415s-9119-bab0-EXAMPLEID1",
        "azure-client-secret": "9b516fe8-415s-9119-bab0-EXAMPLESEC1",
        "azure-subscription-id": "9b516fe8-415s-9119-bab0-EXAMPLEID2",
        "azure-tenant-id": "9b516fe8-415s-9119-bab0-EXAMPLEID3"
    });
    let sample = json!({"data": {"id": "cost-estimation", "type": "cost-estimation-settings",
        "attributes": attributes}});
    let reply = api
        .patch(
            "admin/cost-estimation-settings",
            &json!({"data": {"attributes": attributes}}),
        )
        .await;
    assert_matches_sample(&reply, &sample);
    let reply = api.get("admin/cost-estimation-settings").await;
    assert_matches_sample(&reply, &sample);
    // Derived from the credentials that are set.
    for flag in ["aws-enabled", "gcp-enabled", "azure-enabled"] {
        assert_eq!(reply.attributes()[flag], json!(true), "{flag}");
    }
    assert_eq!(
        reply.attributes()["aws-instance-profile-enabled"],
        json!(false)
    );
    sandbox.shutdown().await;
}

fn saml_sample(old_idp_cert: &Value, idp_cert: &str) -> Value {
    json!({"data": {"id": "saml", "type": "saml-settings", "attributes": {
        "enabled": true,
        "debug": false,
        "old-idp-cert": old_idp_cert,
        "idp-cert": idp_cert,
        "slo-endpoint-url": "https://example.com/slo",
        "sso-endpoint-url": "https://example.com/sso",
        "attr-username": "Username",
        "attr-groups": "MemberOf",
        "attr-site-admin": "SiteAdmin",
        "site-admin-role": "site-admins",
        "sso-api-token-session-timeout": 1_209_600,
        "acs-consumer-url": "https://example.com/users/saml/auth",
        "metadata-url": "https://example.com/users/saml/metadata"
    }}})
}

#[tokio::test]
async fn seed_saml_certificate_rotation_and_revocation() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);
    control.config(json!({"hostname": "example.com"})).await;
    control
        .set_state(json!({"settings": {"saml": {
            "enabled": true,
            "idp-cert": "SAMPLE-CERTIFICATE",
            "slo-endpoint-url": "https://example.com/slo",
            "sso-endpoint-url": "https://example.com/sso"
        }}}))
        .await;
    assert_matches_sample(
        &api.get("admin/saml-settings").await,
        &saml_sample(&Value::Null, "SAMPLE-CERTIFICATE"),
    );

    let payload = json!({"data": {"attributes": {
        "enabled": true,
        "debug": false,
        "idp-cert": "NEW-CERTIFICATE",
        "slo-endpoint-url": "https://example.com/slo",
        "sso-endpoint-url": "https://example.com/sso",
        "attr-username": "Username",
        "attr-groups": "MemberOf",
        "attr-site-admin": "SiteAdmin",
        "site-admin-role": "site-admins",
        "sso-api-token-session-timeout": 1_209_600
    }}});
    let rotated = saml_sample(&json!("SAMPLE-CERTIFICATE"), "NEW-CERTIFICATE");
    assert_matches_sample(&api.patch("admin/saml-settings", &payload).await, &rotated);
    // The same certificate again is no rotation: the old one stays.
    assert_matches_sample(&api.patch("admin/saml-settings", &payload).await, &rotated);

    let revoked = api
        .post("admin/saml-settings/actions/revoke-old-certificate", None)
        .await;
    assert_matches_sample(&revoked, &saml_sample(&Value::Null, "NEW-CERTIFICATE"));
    assert_matches_sample(
        &api.get("admin/saml-settings").await,
        &saml_sample(&Value::Null, "NEW-CERTIFICATE"),
    );
    let outbox = control.outbox().await;
    assert_eq!(outbox["actions"]["saml.revoke-old-certificate"], json!(1));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn seed_smtp_settings_send_a_test_mail_and_hide_the_password() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);
    let payload = json!({"data": {"attributes": {
        "enabled": true,
        "host": "example.com",
        "port": 25,
        "sender": "sample_user@example.com",
        "auth": "login",
        "username": "sample_user",
        "password": "sample_password",
        "test-email-address": "test@example.com"
    }}});
    let sample = json!({"data": {"id": "smtp", "type": "smtp-settings", "attributes": {
        "enabled": true,
        "host": "example.com",
        "port": 25,
        "sender": "sample_user@example.com",
        "auth": "login",
        "username": "sample_user"
    }}});
    let reply = api.patch("admin/smtp-settings", &payload).await;
    assert_matches_sample(&reply, &sample);
    assert!(reply.attributes().get("password").is_none());
    assert!(reply.attributes().get("test-email-address").is_none());
    assert!(!reply.text.contains("sample_password"));
    let reply = api.get("admin/smtp-settings").await;
    assert_matches_sample(&reply, &sample);
    assert!(!reply.text.contains("sample_password"));

    let mails = &control.outbox().await["mails"];
    assert_eq!(mails.as_array().map(Vec::len), Some(1), "{mails}");
    assert_eq!(mails[0]["to"], json!("test@example.com"));
    assert!(mails[0]["at"].as_str().is_some_and(|t| t.ends_with('Z')));
    let state = control.state().await;
    assert_eq!(state["write-only-set"]["smtp"], json!(["password"]));
    assert!(!state.to_string().contains("sample_password"));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn seed_twilio_settings_and_verify() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);
    let payload = json!({"data": {"attributes": {
        "enabled": true,
        "account-sid": "12345abcd",
        "auth-token": "sample_token",
        "from-number": "555-555-5555"
    }}});
    let sample = json!({"data": {"id": "twilio", "type": "twilio-settings", "attributes": {
        "enabled": true,
        "account-sid": "12345abcd",
        "from-number": "555-555-5555"
    }}});
    let reply = api.patch("admin/twilio-settings", &payload).await;
    assert_matches_sample(&reply, &sample);
    assert!(!reply.text.contains("sample_token"));
    assert_matches_sample(&api.get("admin/twilio-settings").await, &sample);

    let verify = json!({"data": {"attributes": {"test-number": "555-555-0000"}}});
    let reply = api
        .post("admin/twilio-settings/verify", Some(&verify))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.text, "");
    let sms = &control.outbox().await["sms"];
    assert_eq!(sms[0]["to"], json!("555-555-0000"));
    assert_eq!(sms[0]["from"], json!("555-555-5555"));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn seed_customization_settings_html_round_trips() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let fresh = json!({"data": {"id": "customization", "type": "customization-settings",
    "attributes": {
        "support-email-address": "support@hashicorp.com",
        "login-help": "",
        "footer": "",
        "error": "",
        "new-user": ""
    }}});
    assert_matches_sample(&api.get("admin/customization-settings").await, &fresh);
    let attributes = json!({
        "support-email-address": "support@hashicorp.com",
        "login-help": "<div>Login Help</div>",
        "footer": "<p>Custom Footer Content</p>",
        "error": "<em>Custom Error Instructions</em>",
        "new-user": "New user? <a href=\"#\">Click Here</a>"
    });
    let sample = json!({"data": {"id": "customization", "type": "customization-settings",
        "attributes": attributes}});
    let reply = api
        .patch(
            "admin/customization-settings",
            &json!({"data": {"attributes": attributes}}),
        )
        .await;
    assert_matches_sample(&reply, &sample);
    // Encoded as the seed shows it: HTML-significant characters escaped.
    assert!(
        reply
            .text
            .contains(r#""login-help":"\u003cdiv\u003eLogin Help\u003c/div\u003e""#),
        "{}",
        reply.text
    );
    assert_matches_sample(&api.get("admin/customization-settings").await, &sample);
    sandbox.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Documents, driven by the catalogue

#[tokio::test]
async fn every_singleton_returns_exactly_its_readable_catalogue_attributes() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    for spec in catalogue::SECTIONS {
        let Some(id) = spec.kind.document_id() else {
            continue;
        };
        let reply = api.get(spec.path).await;
        assert_eq!(reply.status, 200, "{}: {}", spec.key, reply.text);
        assert_eq!(reply.json["data"]["id"], json!(id));
        assert_eq!(reply.json["data"]["type"], json!(spec.json_type));
        let Some(returned) = reply.attributes().as_object() else {
            panic!("{}: no attributes in {}", spec.key, reply.text);
        };
        let mut names: Vec<&str> = returned.keys().map(String::as_str).collect();
        names.sort_unstable();
        let mut expected: Vec<&str> = spec
            .attributes
            .iter()
            .filter(|a| matches!(a.access, Access::ReadWrite | Access::ReadOnly))
            .map(|a| a.name)
            .collect();
        expected.sort_unstable();
        assert_eq!(names, expected, "{}", spec.key);
        // Documented defaults are served.
        for attr in spec
            .attributes
            .iter()
            .filter(|a| a.access == Access::ReadWrite)
        {
            if let Some(default) = attr.default {
                assert_eq!(
                    returned[attr.name],
                    default.to_json(),
                    "{}.{}",
                    spec.key,
                    attr.name
                );
            }
        }
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn patch_merges_only_what_is_sent_and_ignores_what_it_does_not_know() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);
    control
        .set_state(json!({"settings": {"general": {"plan-timeout": "3h"}}}))
        .await;
    let reply = api
        .patch(
            "admin/general-settings",
            &json!({"data": {"attributes": {
                "api-rate-limit": 40,
                "no-such-attribute": 1,
                "fair-run-queuing-enabled": true,
                "stacks-entitled": false
            }}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let attributes = reply.attributes();
    assert_eq!(attributes["api-rate-limit"], json!(40));
    assert_eq!(attributes["plan-timeout"], json!("3h"));
    // The deprecated alias shows the same value.
    assert_eq!(
        attributes["terraform-build-worker-plan-timeout"],
        json!("3h")
    );
    assert_eq!(attributes["fair-run-queuing-enabled"], json!(false));
    assert_eq!(attributes["stacks-entitled"], json!(true));
    assert!(attributes.get("no-such-attribute").is_none());
    assert_eq!(
        control.state().await["settings"]["general"],
        json!({"api-rate-limit": 40, "plan-timeout": "3h"})
    );

    // Outcome attributes of the file are not API attributes.
    let reply = api
        .patch(
            "admin/saml-settings",
            &json!({"data": {"attributes": {"revoke-old-idp-cert": true, "debug": true}}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.attributes().get("revoke-old-idp-cert").is_none());
    assert_eq!(
        control.state().await["settings"]["saml"],
        json!({"debug": true})
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn malformed_patch_bodies_are_400() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    for body in [
        json!("not a document"),
        json!({"data": {"type": "general-settings"}}),
        json!({"data": {"attributes": [1, 2]}}),
        json!({"attributes": {"api-rate-limit": 40}}),
    ] {
        let reply = api.patch("admin/general-settings", &body).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.text);
        assert_eq!(reply.json["errors"][0]["status"], json!("400"));
    }
    let reply = crate::common::send(
        &crate::common::http_client(),
        reqwest::Method::PATCH,
        &format!("{}/api/v2/admin/general-settings", sandbox.url()),
        Some(sandbox.admin_token()),
        None,
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    sandbox.shutdown().await;
}

/// PATCH requests refused with 422: (endpoint below `admin/`, attributes sent, the
/// attributes the 422 points at, in order, space-separated).
const INVALID_PATCHES: &[(&str, &str, &str)] = &[
    // The JSON type of the attribute's kind; null only where nullable.
    (
        "general-settings",
        r#"{"api-rate-limit": "50"}"#,
        "api-rate-limit",
    ),
    (
        "general-settings",
        r#"{"api-rate-limit": 30.5}"#,
        "api-rate-limit",
    ),
    (
        "general-settings",
        r#"{"default-remote-state-access": "yes"}"#,
        "default-remote-state-access",
    ),
    // Null only where it can mean "unset": never for a boolean or a list.
    ("smtp-settings", r#"{"enabled": null}"#, "enabled"),
    (
        "customization-settings",
        r#"{"avatar-sources": null}"#,
        "avatar-sources",
    ),
    // min/max, enums, Go durations, URL schemes, list entries.
    (
        "general-settings",
        r#"{"api-rate-limit": 10}"#,
        "api-rate-limit",
    ),
    ("smtp-settings", r#"{"port": 0}"#, "port"),
    ("smtp-settings", r#"{"port": 70000}"#, "port"),
    ("smtp-settings", r#"{"auth": "cram-md5"}"#, "auth"),
    (
        "saml-settings",
        r#"{"signature-digest-method": "MD5"}"#,
        "signature-digest-method",
    ),
    (
        "general-settings",
        r#"{"plan-timeout": "2 hours"}"#,
        "plan-timeout",
    ),
    (
        "general-settings",
        r#"{"apply-timeout": "-1h"}"#,
        "apply-timeout",
    ),
    (
        "saml-settings",
        r#"{"sso-endpoint-url": "http://idp/sso"}"#,
        "sso-endpoint-url",
    ),
    (
        "customization-settings",
        r#"{"internal-support-url": "ftp://x"}"#,
        "internal-support-url",
    ),
    (
        "customization-settings",
        r#"{"avatar-sources": [{"source": "myspace", "enabled": true}]}"#,
        "avatar-sources",
    ),
    // Several problems: one entry each.
    (
        "general-settings",
        r#"{"api-rate-limit": 1, "plan-timeout": "soon"}"#,
        "api-rate-limit plan-timeout",
    ),
    // The catalogue's completeness rules over the merged state.
    (
        "saml-settings",
        r#"{"enabled": true}"#,
        "idp-cert slo-endpoint-url sso-endpoint-url",
    ),
    (
        "saml-settings",
        r#"{"want-assertions-signed": true}"#,
        "certificate private-key",
    ),
    (
        "saml-settings",
        r#"{"want-assertions-signed": true, "authn-requests-signed": true}"#,
        "certificate private-key",
    ),
    ("smtp-settings", r#"{"enabled": true}"#, "host port sender"),
    (
        "smtp-settings",
        r#"{"enabled": true, "host": "m", "port": 25, "sender": "a@b.c", "auth": "login", "username": "u"}"#,
        "password",
    ),
    (
        "twilio-settings",
        r#"{"enabled": true, "account-sid": "AC1", "from-number": "5"}"#,
        "auth-token",
    ),
    (
        "cost-estimation-settings",
        r#"{"enabled": true, "aws-access-key-id": "AKIA"}"#,
        "enabled",
    ),
    // SCIM needs SAML enabled and a provider type; it is disabled only by DELETE.
    ("scim-settings", r#"{"enabled": true}"#, "enabled enabled"),
    // No test mail from a disabled SMTP.
    (
        "smtp-settings",
        r#"{"host": "m", "test-email-address": "ops@example.com"}"#,
        "test-email-address",
    ),
];

#[tokio::test]
async fn invalid_patches_are_422_at_their_attribute_and_store_nothing() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);
    let before = snapshot(&control).await;
    for (endpoint, attributes, pointers) in INVALID_PATCHES {
        let path = format!("admin/{endpoint}");
        let attributes: Value = match serde_json::from_str(attributes) {
            Ok(v) => v,
            Err(e) => panic!("bad case {attributes}: {e}"),
        };
        let reply = api
            .patch(&path, &json!({"data": {"attributes": attributes}}))
            .await;
        assert_eq!(reply.status, 422, "{endpoint} {attributes}: {}", reply.text);
        let expected: Vec<String> = pointers
            .split_whitespace()
            .map(|p| format!("/data/attributes/{p}"))
            .collect();
        assert_eq!(
            reply.pointers(),
            expected,
            "{endpoint} {attributes}: {}",
            reply.text
        );
        for error in reply.json["errors"].as_array().into_iter().flatten() {
            assert_eq!(error["status"], json!("422"));
            assert_eq!(error["title"], json!("invalid attribute"));
            assert!(error["detail"].as_str().is_some_and(|d| !d.is_empty()));
        }
        assert_eq!(
            snapshot(&control).await,
            before,
            "{endpoint} {attributes} stored something"
        );
    }
    assert!(
        control.outbox().await["mails"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn enabled_scim_is_disabled_only_by_delete() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);
    control
        .set_state(json!({"settings": {
            "saml": {"enabled": true, "idp-cert": "CERT", "sso-endpoint-url": "https://idp/sso",
                "slo-endpoint-url": "https://idp/slo", "provider-type": "okta"},
            "scim": {"enabled": true}}}))
        .await;
    let before = snapshot(&control).await;
    let scim = api
        .patch(
            "admin/scim-settings",
            &json!({"data": {"attributes": {"enabled": false}}}),
        )
        .await;
    assert_eq!(scim.status, 422, "{}", scim.text);
    assert_eq!(scim.pointers(), ["/data/attributes/enabled"]);
    assert_eq!(snapshot(&control).await, before);
    assert!(
        scim.json["errors"][0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("DELETE")),
        "{}",
        scim.text
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn rules_judge_the_merged_state() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);
    // Values set by earlier requests count: "omitted attributes keep their previous values".
    let first = json!({"data": {"attributes": {
        "host": "mail.example.com", "port": 587, "sender": "tfe@example.com"
    }}});
    assert_eq!(api.patch("admin/smtp-settings", &first).await.status, 200);
    let enable = json!({"data": {"attributes": {"enabled": true}}});
    let reply = api.patch("admin/smtp-settings", &enable).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    // A later PATCH that would leave the enabled section incomplete is refused.
    let blank = json!({"data": {"attributes": {"host": ""}}});
    let reply = api.patch("admin/smtp-settings", &blank).await;
    assert_eq!(
        reply.pointers(),
        ["/data/attributes/host"],
        "{}",
        reply.text
    );
    // SCIM needs SAML enabled with a provider type.
    control
        .set_state(json!({"settings": {"saml": {
            "enabled": true, "idp-cert": "CERT", "provider-type": "okta",
            "sso-endpoint-url": "https://idp/sso", "slo-endpoint-url": "https://idp/slo"
        }}}))
        .await;
    let reply = api
        .patch(
            "admin/scim-settings",
            &json!({"data": {"attributes": {"enabled": true, "site-admin-group-scim-id": "g-1"}}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.attributes()["site-admin-group-display-name"],
        json!("group g-1")
    );
    assert_eq!(
        reply.attributes()["site-auditor-group-display-name"],
        Value::Null
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn write_only_attributes_are_kept_but_never_returned() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);
    let secret = "s3cret-private-key";
    let reply = api
        .patch(
            "admin/saml-settings",
            &json!({"data": {"attributes": {"private-key": secret, "certificate": "CERT"}}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.attributes().get("private-key").is_none());
    assert!(!reply.text.contains(secret));
    // Stored: the signing rule is satisfied without sending the key again.
    let sign = json!({"data": {"attributes": {"want-assertions-signed": true}}});
    let reply = api.patch("admin/saml-settings", &sign).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let state = control.state().await;
    assert_eq!(state["write-only-set"]["saml"], json!(["private-key"]));
    assert!(!state.to_string().contains(secret));
    // A blank value clears it.
    let clear =
        json!({"data": {"attributes": {"private-key": "", "want-assertions-signed": false}}});
    assert_eq!(api.patch("admin/saml-settings", &clear).await.status, 200);
    assert!(
        control.state().await["write-only-set"]
            .get("saml")
            .is_none()
    );
    sandbox.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Endpoint-specific behaviour

#[tokio::test]
async fn scim_is_disabled_only_by_delete() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);
    control
        .set_state(json!({"settings": {
            "saml": {"enabled": true, "provider-type": "entra", "idp-cert": "C",
                     "sso-endpoint-url": "https://i/sso", "slo-endpoint-url": "https://i/slo"},
            "scim": {"enabled": true, "paused": true, "site-admin-group-scim-id": "g-1",
                     "site-auditor-group-scim-id": "g-2"}
        }}))
        .await;
    let expected = json!({"enabled": false, "paused": false,
        "site-admin-group-scim-id": null, "site-admin-group-display-name": null,
        "site-auditor-group-scim-id": null, "site-auditor-group-display-name": null});
    for _ in 0..2 {
        let reply = api.delete("admin/scim-settings").await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        for (name, value) in expected.as_object().into_iter().flatten() {
            assert_eq!(&reply.attributes()[name], value, "{name}");
        }
    }
    assert_eq!(control.state().await["settings"]["scim"], json!({}));
    // Other sections have no DELETE.
    let reply = api.delete("admin/smtp-settings").await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET, PATCH"));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn twilio_verify_needs_twilio_enabled_and_a_number() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);
    let verify = json!({"data": {"attributes": {"test-number": "555-0000"}}});
    let reply = api
        .post("admin/twilio-settings/verify", Some(&verify))
        .await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(reply.json["errors"][0]["status"], json!("400"));
    control
        .set_state(json!({
            "settings": {"twilio": {"enabled": true, "account-sid": "AC", "from-number": "555"}},
            "write-only-set": {"twilio": ["auth-token"]}
        }))
        .await;
    let no_number = json!({"data": {"attributes": {}}});
    let reply = api
        .post("admin/twilio-settings/verify", Some(&no_number))
        .await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    let reply = api.post("admin/twilio-settings/verify", None).await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    let reply = api
        .post("admin/twilio-settings/verify", Some(&verify))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    // go-tfe v1 sends PATCH here; TFE has no such route.
    let reply = api.patch("admin/twilio-settings/verify", &verify).await;
    assert_eq!(reply.status, 405);
    assert_eq!(
        control.outbox().await["sms"].as_array().map(Vec::len),
        Some(1)
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn oidc_actions_are_204_and_counted() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);
    for path in [
        "admin/oidc-settings/actions/rotate-key",
        "admin/oidc-settings/actions/rotate-key",
        "admin/oidc-settings/actions/trim-key",
    ] {
        let reply = api.post(path, None).await;
        assert_eq!(reply.status, 204, "{path}: {}", reply.text);
    }
    assert_eq!(
        control.outbox().await["oidc"],
        json!({"rotations": 2, "trims": 1})
    );
    // The section has no document of its own.
    assert_eq!(api.get("admin/oidc-settings").await.status, 404);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn data_retention_policy_is_created_replaced_and_deleted() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let path = "admin/data-retention-policy-settings";
    let reply = api.get(path).await;
    assert_eq!(reply.status, 404, "{}", reply.text);
    assert_eq!(reply.json["errors"][0]["status"], json!("404"));

    let create = json!({"data": {"type": "data-retention-policy-delete-olders",
        "attributes": {"delete-older-than-n-days": 30}}});
    let reply = api.post(path, Some(&create)).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    let reply = api.get(path).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let id = reply.json["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(id.starts_with("drp-"), "{id}");
    assert_eq!(
        reply.json,
        json!({"data": {"id": id, "type": "data-retention-policy-delete-olders",
            "attributes": {"delete-older-than-n-days": 30},
            "relationships": {"target": {"data": null}}}})
    );

    // The documentation's camelCase spelling replaces it; the id is stable.
    let camel = json!({"data": {"type": "data-retention-policy-delete-olders",
        "attributes": {"deleteOlderThanNDays": 90}}});
    assert_eq!(api.post(path, Some(&camel)).await.status, 204);
    let reply = api.get(path).await;
    assert_eq!(reply.attributes()["delete-older-than-n-days"], json!(90));
    assert_eq!(reply.json["data"]["id"], json!(id));

    let wrong_type =
        json!({"data": {"type": "data-retention-policy-dont-deletes", "attributes": {}}});
    let reply = api.post(path, Some(&wrong_type)).await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert_eq!(reply.pointers(), ["/data/type"]);
    for bad in [json!(0), json!("30"), json!(null), json!(1.5)] {
        let body = json!({"data": {"type": "data-retention-policy-delete-olders",
            "attributes": {"delete-older-than-n-days": bad}}});
        let reply = api.post(path, Some(&body)).await;
        assert_eq!(reply.status, 422, "{bad}: {}", reply.text);
        assert_eq!(
            reply.pointers(),
            ["/data/attributes/delete-older-than-n-days"]
        );
    }
    assert_eq!(
        api.get(path).await.attributes()["delete-older-than-n-days"],
        json!(90)
    );

    assert_eq!(api.delete(path).await.status, 204);
    assert_eq!(api.delete(path).await.status, 204);
    assert_eq!(api.get(path).await.status, 404);
    assert_eq!(api.patch(path, &create).await.status, 405);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn derived_urls_follow_the_hostname() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let reply = api.get("admin/saml-settings").await;
    assert_eq!(
        reply.attributes()["acs-consumer-url"],
        json!("https://tfe.sandbox.local/users/saml/auth")
    );
    assert_eq!(
        reply.attributes()["permissions"],
        json!({"can-read": true, "can-update": true, "can-destroy": true})
    );
    Control::new(&sandbox)
        .config(json!({"hostname": "tfe.example.org"}))
        .await;
    let reply = api.get("admin/saml-settings").await;
    assert_eq!(
        reply.attributes()["metadata-url"],
        json!("https://tfe.example.org/users/saml/metadata")
    );
    sandbox.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Release gating

#[tokio::test]
async fn sections_and_attributes_newer_than_the_release_do_not_exist() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);

    // 2.0.0: SCIM exists, the site-auditor attributes (2.1.0) do not.
    control.config(json!({"release": "2.0.0"})).await;
    let reply = api.get("admin/scim-settings").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(
        reply
            .attributes()
            .get("site-auditor-group-scim-id")
            .is_none()
    );
    let reply = api
        .patch(
            "admin/saml-settings",
            &json!({"data": {"attributes": {"attr-site-auditor": "Auditor", "debug": true}}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.attributes().get("attr-site-auditor").is_none());
    assert!(
        control.state().await["settings"]["saml"]
            .get("attr-site-auditor")
            .is_none()
    );

    // v202401-1: no SCIM at all, the data retention policy exists.
    control.config(json!({"release": "v202401-1"})).await;
    for method in [
        reqwest::Method::GET,
        reqwest::Method::PATCH,
        reqwest::Method::DELETE,
    ] {
        let reply = api
            .call(
                method.clone(),
                "admin/scim-settings",
                Some(&json!({"data": {"attributes": {}}})),
            )
            .await;
        assert_eq!(reply.status, 404, "{method}: {}", reply.text);
    }
    assert_eq!(
        api.get("admin/data-retention-policy-settings").await.status,
        404
    );
    let create = json!({"data": {"type": "data-retention-policy-delete-olders",
        "attributes": {"delete-older-than-n-days": 7}}});
    assert_eq!(
        api.post("admin/data-retention-policy-settings", Some(&create))
            .await
            .status,
        204
    );

    // v202312-1: no policy yet; v202001-1: no customization, no speculative-forks switch.
    control.config(json!({"release": "v202312-1"})).await;
    assert_eq!(
        api.get("admin/data-retention-policy-settings").await.status,
        404
    );
    assert_eq!(
        api.post("admin/data-retention-policy-settings", Some(&create))
            .await
            .status,
        404
    );
    control.config(json!({"release": "v202001-1"})).await;
    assert_eq!(api.get("admin/customization-settings").await.status, 404);
    let reply = api.get("admin/general-settings").await;
    assert!(
        reply
            .attributes()
            .get("allow-speculative-plans-on-pull-requests-from-forks")
            .is_none()
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_release_can_be_set_at_start() {
    let mut config = SandboxConfig::new("admin-token-for-release");
    config.release = Release::semver(1, 0, 3);
    let sandbox = start_sandbox_with(config).await;
    let api = Api::admin(&sandbox);
    assert_eq!(api.get("admin/scim-settings").await.status, 404);
    assert_eq!(api.get("admin/smtp-settings").await.status, 200);
    sandbox.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Tokens and accounts

#[tokio::test]
async fn tokens_are_checked_like_tfe_does() {
    let sandbox = start_sandbox().await;
    let admin = Api::admin(&sandbox);
    let tokens = Control::new(&sandbox).tokens().await;
    assert_eq!(tokens.admin, sandbox.admin_token());

    let anonymous = admin.with_token(None);
    let unknown = admin.with_token(Some("not-a-token"));
    for api in [&anonymous, &unknown] {
        for path in [
            "admin/general-settings",
            "admin/saml-settings",
            "account/details",
            "admin/nope",
        ] {
            let reply = api.get(path).await;
            assert_eq!(reply.status, 401, "{path}: {}", reply.text);
            assert_eq!(
                reply.json,
                json!({"errors": [{"status": "401", "title": "unauthorized"}]})
            );
        }
    }
    // Another scheme is no bearer token, even with the right token.
    let response = crate::common::http_client()
        .get(format!("{}/api/v2/admin/general-settings", sandbox.url()))
        .header("authorization", format!("Basic {}", sandbox.admin_token()))
        .send()
        .await;
    assert!(response.is_ok_and(|r| r.status() == 401));

    let patch = json!({"data": {"attributes": {"api-rate-limit": 60}}});
    for token in [&tokens.user, &tokens.team, &tokens.organization] {
        let api = admin.with_token(Some(token));
        for path in [
            "admin/saml-settings",
            "admin/smtp-settings",
            "admin/data-retention-policy-settings",
        ] {
            let reply = api.get(path).await;
            assert_eq!(reply.status, 404, "{path}: {}", reply.text);
            assert_eq!(reply.json["errors"][0]["status"], json!("404"));
        }
        let reply = api
            .post("admin/oidc-settings/actions/rotate-key", None)
            .await;
        assert_eq!(reply.status, 404);
        // Any user may read the general settings; only an admin may change them.
        let reply = api.get("admin/general-settings").await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(
            api.patch("admin/general-settings", &patch).await.status,
            404
        );
    }
    assert_eq!(
        admin.patch("admin/general-settings", &patch).await.status,
        200
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn account_details_describe_each_kind_of_token() {
    let sandbox = start_sandbox().await;
    let admin = Api::admin(&sandbox);
    let tokens = Control::new(&sandbox).tokens().await;
    let details = |token: String| {
        let api = admin.with_token(Some(&token));
        async move { api.get("account/details").await }
    };
    let reply = details(tokens.admin.clone()).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["data"]["type"], json!("users"));
    assert!(
        reply.json["data"]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("user-"))
    );
    let a = reply.attributes();
    assert_eq!(
        (a["is-admin"].clone(), a["is-site-admin"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(a["is-service-account"], json!(false));
    assert!(a["username"].as_str().is_some_and(|u| !u.is_empty()));
    assert!(a["email"].as_str().is_some_and(|e| e.contains('@')));

    let reply = details(tokens.user.clone()).await;
    let a = reply.attributes();
    assert_eq!(a["is-admin"], json!(false));
    assert_eq!(a["is-site-admin"], json!(false));
    assert_eq!(a["is-service-account"], json!(false));

    let reply = details(tokens.team.clone()).await;
    let a = reply.attributes();
    assert!(
        a["username"]
            .as_str()
            .is_some_and(|u| u.starts_with("api-team_")),
        "{a}"
    );
    assert_eq!(a["is-admin"], json!(false));
    assert_eq!(a["is-service-account"], json!(true));

    let reply = details(tokens.organization.clone()).await;
    let a = reply.attributes();
    assert!(
        a["username"]
            .as_str()
            .is_some_and(|u| u.starts_with("api-org-")),
        "{a}"
    );
    assert_eq!(a["is-admin"], json!(false));
    assert_eq!(a["is-service-account"], json!(true));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn ping_reports_the_release() {
    let sandbox = start_sandbox().await;
    // Without a token: clients ping before anything else.
    let api = Api::new(&sandbox.url(), None);
    let reply = api.get("ping").await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(reply.header("tfp-api-version"), Some("2.6"));
    assert_eq!(
        reply.header("x-ratelimit-limit"),
        Some(crate::common::TEST_RATE_LIMIT.to_string().as_str())
    );
    assert_eq!(reply.header("tfp-appname"), Some("Terraform Enterprise"));
    // The monthly name in one header, the number in the other, as TFE sends them.
    assert_eq!(reply.header("x-tfe-current-version"), Some("2.1.0"));
    assert_eq!(reply.header("x-tfe-version"), Some("v202609-1"));

    Control::new(&sandbox)
        .config(json!({"release": "v202401-1", "rate_limit": 45}))
        .await;
    let reply = api.get("ping").await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("x-tfe-current-version"), None);
    assert_eq!(reply.header("x-tfe-version"), Some("v202401-1"));
    assert_eq!(reply.header("x-ratelimit-limit"), Some("45"));
    sandbox.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Rate limiting, faults, latency

#[tokio::test]
async fn the_rate_limit_answers_429_then_frees_after_the_reset() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);
    let tokens = control.tokens().await;
    control.config(json!({"rate_limit": 5})).await;

    let mut allowed = 0;
    let mut refused = None;
    for _ in 0..20 {
        let reply = api.get("admin/general-settings").await;
        match reply.status {
            200 => allowed += 1,
            429 => {
                refused = Some(reply);
                break;
            }
            other => panic!("unexpected {other}: {}", reply.text),
        }
    }
    let Some(refused) = refused else {
        panic!("20 requests in a row were never limited");
    };
    assert!(allowed >= 5, "only {allowed} requests before the 429");
    assert_eq!(
        refused.json,
        json!({"errors": [{"status": "429", "title": "Too many requests"}]})
    );
    assert_eq!(refused.header("x-ratelimit-limit"), Some("5"));
    let reset: f64 = refused
        .header("x-ratelimit-reset")
        .and_then(|r| r.parse().ok())
        .unwrap_or(-1.0);
    assert!((0.0..=1.0).contains(&reset), "reset {reset}");

    // Another token has its own budget; the control plane has none.
    let user = api.with_token(Some(&tokens.user));
    assert_eq!(user.get("admin/general-settings").await.status, 200);
    for _ in 0..10 {
        control.outbox().await;
    }

    // That waiting the reset frees a slot is tested on a paused clock, without waiting:
    // `sandbox::server`'s `a_429_frees_a_slot_once_its_reset_has_passed`.

    // Requests without a known token count per IP.
    let anonymous = api.with_token(None);
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(anonymous.get("admin/general-settings").await.status);
    }
    assert!(
        statuses.contains(&401) && statuses.contains(&429),
        "{statuses:?}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn faults_replace_the_next_matching_responses() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);
    control
        .fault(Fault::new("/api/v2/admin/smtp-settings", 500).count(2))
        .await;
    for _ in 0..2 {
        let reply = api.get("admin/smtp-settings").await;
        assert_eq!(reply.status, 500, "{}", reply.text);
        assert_eq!(reply.json["errors"][0]["status"], json!("500"));
    }
    assert_eq!(api.get("admin/smtp-settings").await.status, 200);

    // A proxy's HTML page, only for PATCH, with Retry-After.
    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    control
        .fault(
            Fault::new("/api/v2/admin/smtp-settings", 502)
                .method("PATCH")
                .body(html)
                .retry_after(3),
        )
        .await;
    assert_eq!(api.get("admin/smtp-settings").await.status, 200);
    let patch = json!({"data": {"attributes": {"host": "mail"}}});
    let reply = api.patch("admin/smtp-settings", &patch).await;
    assert_eq!(reply.status, 502);
    assert_eq!(reply.text, html);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    assert_eq!(reply.header("retry-after"), Some("3"));
    // The faulted PATCH was not processed.
    assert_eq!(
        api.get("admin/smtp-settings").await.attributes()["host"],
        json!("")
    );

    // A JSON body is sent as JSON:API; clearing drops the rest.
    control
        .fault(
            Fault::new("/api/v2/ping", 503)
                .count(5)
                .body(r#"{"errors":[{"status":"503","title":"maintenance"}]}"#),
        )
        .await;
    let reply = api.get("ping").await;
    assert_eq!(reply.status, 503);
    assert_eq!(
        reply.header("content-type"),
        Some("application/vnd.api+json")
    );
    control.clear_faults().await;
    assert_eq!(api.get("ping").await.status, 204);
    let statuses: Vec<Option<u16>> = control.requests().await.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [500, 500, 200, 200, 502, 200, 503, 204].map(Some).to_vec()
    );
    sandbox.shutdown().await;
}

// That latency slows API responses and never the control plane is tested on a paused clock,
// without waiting: `sandbox::server`'s `latency_delays_api_responses_only`.

// ---------------------------------------------------------------------------------------------
// Routing

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    for path in [
        "admin/no-such-settings",
        "admin",
        "organizations",
        "admin/saml-settings/actions/nope",
    ] {
        let reply = api.get(path).await;
        assert_eq!(reply.status, 404, "{path}: {}", reply.text);
        assert_eq!(
            reply.json,
            json!({"errors": [{"status": "404", "title": "not found"}]})
        );
        assert_eq!(
            reply.header("content-type"),
            Some("application/vnd.api+json")
        );
    }
    let reply = api.post("admin/general-settings", Some(&json!({}))).await;
    assert_eq!(reply.status, 405, "{}", reply.text);
    assert_eq!(reply.json["errors"][0]["status"], json!("405"));
    assert_eq!(reply.header("allow"), Some("GET, PATCH"));
    let reply = api
        .get("admin/saml-settings/actions/revoke-old-certificate")
        .await;
    assert_eq!(reply.status, 405);
    sandbox.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// The control plane

#[tokio::test]
async fn the_control_plane_is_off_by_default() {
    let sandbox = start_sandbox_with(SandboxConfig::new("admin-token-control-off")).await;
    let client = crate::common::http_client();
    for path in ["/_sandbox/tokens", "/_sandbox/state", "/_sandbox/requests"] {
        let url = format!("{}{path}", sandbox.url());
        let reply = crate::common::send(&client, reqwest::Method::GET, &url, None, None).await;
        assert_eq!(reply.status, 404, "{path}: {}", reply.text);
        let reply = crate::common::send(
            &client,
            reqwest::Method::GET,
            &url,
            Some("admin-token-control-off"),
            None,
        )
        .await;
        assert_eq!(reply.status, 404, "{path}: {}", reply.text);
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_request_log_records_every_api_request_in_order() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);
    api.get("admin/general-settings?fields%5Bgeneral-settings%5D=api-rate-limit")
        .await;
    let body =
        json!({"data": {"type": "smtp-settings", "attributes": {"password": "pw", "port": 0}}});
    api.patch("admin/smtp-settings", &body).await;
    api.with_token(None).get("ping").await;
    control.state().await;
    let requests = control.requests().await;
    assert_eq!(requests.len(), 3, "{requests:#?}");
    assert_eq!(requests[0].method, "GET");
    assert_eq!(
        requests[0].path,
        "/api/v2/admin/general-settings?fields%5Bgeneral-settings%5D=api-rate-limit"
    );
    assert_eq!(requests[0].body, Value::Null);
    assert_eq!(requests[0].status, Some(200));
    assert_eq!(requests[1].method, "PATCH");
    assert_eq!(requests[1].path, "/api/v2/admin/smtp-settings");
    // The log shows that a secret was sent, never what it was.
    assert_eq!(
        requests[1].body,
        json!({"data": {"type": "smtp-settings", "attributes": {"password": "(sensitive)", "port": 0}}})
    );
    assert_eq!(requests[1].status, Some(422));
    assert_eq!(
        (requests[2].path.as_str(), requests[2].status),
        ("/api/v2/ping", Some(204))
    );
    control.clear_requests().await;
    assert!(control.requests().await.is_empty());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn put_state_replaces_everything_and_refuses_what_the_catalogue_does_not_know() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);
    control
        .set_state(json!({"settings": {"general": {"api-rate-limit": 99}, "smtp": {"host": "a"}}}))
        .await;
    control
        .set_state(json!({"settings": {"smtp": {"host": "b"}},
            "policies": {"data-retention-policy": {"delete-older-than-n-days": 5}}}))
        .await;
    assert_eq!(
        api.get("admin/general-settings").await.attributes()["api-rate-limit"],
        json!(30)
    );
    assert_eq!(
        api.get("admin/smtp-settings").await.attributes()["host"],
        json!("b")
    );
    let policy = api.get("admin/data-retention-policy-settings").await;
    assert_eq!(policy.attributes()["delete-older-than-n-days"], json!(5));
    let state = control.state().await;
    assert_eq!(state["version"], json!(1));
    assert_eq!(state["settings"]["general"], json!({}));
    assert!(
        state["policies"]["data-retention-policy"]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("drp-"))
    );

    let reply = control
        .try_set_state(json!({
            "settings": {
                "general": {"api-rate-limit": 5, "stacks-entitled": false},
                "nope": {}
            },
            "write-only-set": {"smtp": ["host"]}
        }))
        .await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(
        reply.json["problems"].as_array().map(Vec::len),
        Some(4),
        "{}",
        reply.text
    );
    // Refused as a whole: the previous state stays.
    assert_eq!(control.state().await, state);
    sandbox.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Persistence

#[tokio::test]
async fn the_state_file_survives_a_restart_and_never_holds_a_secret() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("no temp dir: {e}"),
    };
    let file = dir.path().join("sandbox.json");
    let config = || {
        let mut config = SandboxConfig::new(sandbox::random_token());
        config.state_file = Some(file.clone());
        config.control = true;
        config
    };
    let secret = "twilio-secret-auth-token";
    let sandbox = start_sandbox_with(config()).await;
    let api = Api::admin(&sandbox);
    let reply = api
        .patch(
            "admin/twilio-settings",
            &json!({"data": {"attributes": {"enabled": true, "account-sid": "AC9",
                "from-number": "555", "auth-token": secret}}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let cost = json!({"data": {"attributes": {"aws-access-key-id": "AKIA", "aws-secret-key": "clear-in-db"}}});
    assert_eq!(
        api.patch("admin/cost-estimation-settings", &cost)
            .await
            .status,
        200
    );
    let drp = json!({"data": {"type": "data-retention-policy-delete-olders",
        "attributes": {"delete-older-than-n-days": 12}}});
    assert_eq!(
        api.post("admin/data-retention-policy-settings", Some(&drp))
            .await
            .status,
        204
    );
    let before = api.get("admin/twilio-settings").await.json;
    sandbox.shutdown().await;

    let text = read(&file);
    assert!(
        !text.contains(secret),
        "the secret reached the file:\n{text}"
    );
    // TFE's database holds what GET returns, cost-estimation keys included.
    assert!(text.contains("clear-in-db"));
    let on_disk: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => panic!("the state file is not JSON: {e}\n{text}"),
    };
    assert_eq!(on_disk["write-only-set"]["twilio"], json!(["auth-token"]));
    assert!(
        text.contains("\n  \"settings\""),
        "not pretty JSON:\n{text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = match std::fs::metadata(&file) {
            Ok(m) => m.permissions().mode() & 0o777,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(mode, 0o600);
    }
    let mut leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    leftovers.sort();
    // The state file, and the lock file beside it that processes sharing it take (kept:
    // removing a lock file others may be waiting on would break the lock).
    assert_eq!(
        leftovers,
        [".sandbox.json.lock", "sandbox.json"],
        "temporary files left"
    );

    let sandbox = start_sandbox_with(config()).await;
    let api = Api::admin(&sandbox);
    assert_eq!(api.get("admin/twilio-settings").await.json, before);
    assert_eq!(
        api.get("admin/data-retention-policy-settings")
            .await
            .attributes()["delete-older-than-n-days"],
        json!(12)
    );
    // The auth token is still known to be set: the enabled section stays complete.
    let reply = api
        .patch(
            "admin/twilio-settings",
            &json!({"data": {"attributes": {"account-sid": "AC10"}}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    // A failed request changes nothing on disk.
    let text = read(&file);
    let bad = json!({"data": {"attributes": {"account-sid": ""}}});
    assert_eq!(api.patch("admin/twilio-settings", &bad).await.status, 422);
    assert_eq!(read(&file), text);
    sandbox.shutdown().await;
}

fn read(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    }
}

#[tokio::test]
async fn a_corrupt_state_file_is_an_error_naming_it() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("no temp dir: {e}"),
    };
    for (name, content) in [
        ("corrupt.json", "{ not json"),
        (
            "wrong.json",
            r#"{"settings": {"general": {"api-rate-limit": "many"}}}"#,
        ),
    ] {
        let file = dir.path().join(name);
        if let Err(e) = std::fs::write(&file, content) {
            panic!("{e}");
        }
        let mut config = SandboxConfig::new("admin-token-corrupt");
        config.state_file = Some(file.clone());
        match sandbox::start(config).await {
            Ok(_) => panic!("started on {name}"),
            Err(e) => assert!(e.to_string().contains(name), "{e}"),
        }
    }
    // A missing file is a fresh installation; a missing directory is an error now.
    let mut config = SandboxConfig::new("admin-token-missing");
    config.state_file = Some(dir.path().join("nope/state.json"));
    assert!(sandbox::start(config).await.is_err());
}

// ---------------------------------------------------------------------------------------------
// The binary

fn spawn(args: &[&str]) -> std::process::Child {
    match Command::new(env!("CARGO_BIN_EXE_tfe-admin"))
        .arg("sandbox")
        .args(args)
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => panic!("cannot run tfe-admin: {e}"),
    }
}

#[test]
fn the_binary_prints_its_address_and_token_and_stops_on_sigterm() {
    let mut child = spawn(&[
        "--listen",
        "127.0.0.1:0",
        "--control",
        "--release",
        "v202401-1",
    ]);
    let Some(stdout) = child.stdout.take() else {
        panic!("no stdout");
    };
    let mut lines = BufReader::new(stdout).lines();
    let mut next = || match lines.next() {
        Some(Ok(line)) => line,
        other => {
            let _ = child.kill();
            panic!("the sandbox printed no line: {other:?}");
        }
    };
    let first = next();
    let address_line = next();
    let token_line = next();
    let Some(address) = address_line.strip_prefix("export TFE_ADDRESS=") else {
        panic!("unexpected line {address_line:?}");
    };
    let Some(token) = token_line.strip_prefix("export TFE_TOKEN=") else {
        panic!("unexpected line {token_line:?}");
    };
    assert_eq!(first, format!("Sandbox listening on {address}"));
    assert!(address.starts_with("http://127.0.0.1:"), "{address}");
    assert_eq!(token.len(), 64, "{token}");

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    let (ping, general, tokens) = runtime.block_on(async {
        let api = Api::new(address, Some(token));
        let ping = api.get("ping").await;
        let general = api.get("admin/general-settings").await;
        let tokens = Control::at(address, token).tokens().await;
        (ping, general, tokens)
    });
    assert_eq!(ping.header("x-tfe-version"), Some("v202401-1"));
    assert_eq!(general.status, 200, "{}", general.text);
    assert_eq!(tokens.admin, token);

    stop(&mut child);
}

/// SIGTERM (on unix), then the exit status: 0 and the stderr lines are expected.
fn stop(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        let pid = child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "cannot signal {pid}");
        // Waited for by a thread, given at most ten seconds: no polling, no sleep.
        let pid = child.id();
        let (sender, exited) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let _ = sender.send(child.wait());
            });
            match exited.recv_timeout(Duration::from_secs(10)) {
                Ok(Ok(status)) => assert!(status.success(), "exit status {status}"),
                other => {
                    let _ = Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status();
                    panic!("the sandbox did not stop on SIGTERM: {other:?}");
                }
            }
        });
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        assert!(stderr.contains("control plane: on"), "{stderr}");
        assert!(stderr.contains("in memory only"), "{stderr}");
        assert!(stderr.contains("Sandbox stopped."), "{stderr}");
    }
    #[cfg(not(unix))]
    {
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[test]
fn the_binary_refuses_a_non_loopback_address_and_a_bad_release() {
    for args in [
        &["--listen", "0.0.0.0:0"][..],
        &["--listen", "0.0.0.0:0", "--listen-any"][..],
        &["--listen", "127.0.0.1:0", "--release", "someday"][..],
    ] {
        let output = match Command::new(env!("CARGO_BIN_EXE_tfe-admin"))
            .arg("sandbox")
            .args(args)
            .env_clear()
            .output()
        {
            Ok(o) => o,
            Err(e) => panic!("cannot run tfe-admin: {e}"),
        };
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(
            stderr.contains("error: cannot start the sandbox"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn the_binary_keeps_state_in_a_file() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("no temp dir: {e}"),
    };
    let file = dir.path().join("state.json");
    let file_arg = file.to_string_lossy().into_owned();
    let mut child = spawn(&[
        "--listen",
        "127.0.0.1:0",
        "--state",
        &file_arg,
        "--token",
        "chosen-token-for-this-test",
    ]);
    let Some(stdout) = child.stdout.take() else {
        panic!("no stdout");
    };
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .take(3)
        .map_while(Result::ok)
        .collect();
    assert_eq!(
        lines.get(2).map(String::as_str),
        Some("export TFE_TOKEN=chosen-token-for-this-test")
    );
    let Some(address) = lines
        .get(1)
        .and_then(|l| l.strip_prefix("export TFE_ADDRESS="))
    else {
        let _ = child.kill();
        panic!("unexpected output {lines:?}");
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    let status = runtime.block_on(async {
        let api = Api::new(address, Some("chosen-token-for-this-test"));
        let body = json!({"data": {"attributes": {"api-rate-limit": 77}}});
        api.patch("admin/general-settings", &body).await.status
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200);
    let state: Value = serde_json::from_str(&read(&file)).unwrap_or(Value::Null);
    assert_eq!(state["settings"]["general"]["api-rate-limit"], json!(77));
}

// ---------------------------------------------------------------------------------------------
// Collections: the tool versions

/// A well-formed checksum.
const SHA: &str = "9f3c2a1b0e4d5c6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f";

fn binary(version: &str, arch: &str) -> Value {
    json!({"os": "linux", "arch": arch, "sha": SHA,
           "url": format!("https://r.example/{version}/tf_{arch}.zip")})
}

#[tokio::test]
async fn a_fresh_installation_lists_its_shipped_versions_page_by_page() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let first = api.get("admin/terraform-versions").await;
    assert_eq!(first.status, 200, "{}", first.text);
    let meta = &first.json["meta"]["pagination"];
    let total = meta["total-count"].as_u64().unwrap_or_default();
    assert!(total > 10, "{}", first.text);
    // The documented default page size is 20.
    assert_eq!(
        first.json["data"].as_array().map(Vec::len),
        Some(total.min(20) as usize)
    );
    assert!(
        first.json["data"]
            .as_array()
            .is_some_and(|d| d.iter().all(|v| v["attributes"]["official"] == json!(true)))
    );
    let small = api
        .get("admin/terraform-versions?page%5Bsize%5D=5&page%5Bnumber%5D=2")
        .await;
    let meta = &small.json["meta"]["pagination"];
    assert_eq!(meta["current-page"], json!(2));
    assert_eq!(meta["prev-page"], json!(1));
    assert_eq!(meta["next-page"], json!(3));
    assert_eq!(meta["total-pages"], json!(total.div_ceil(5)));
    assert!(
        small.json["links"]["next"]
            .as_str()
            .is_some_and(|l| l.contains("page%5Bnumber%5D=3&page%5Bsize%5D=5"))
    );
    // At most 100 a page; a page past the end is empty, not an error.
    let big = api.get("admin/terraform-versions?page%5Bsize%5D=500").await;
    assert_eq!(big.json["meta"]["pagination"]["total-pages"], json!(1));
    let past = api
        .get("admin/terraform-versions?page%5Bnumber%5D=999")
        .await;
    assert_eq!(past.status, 200);
    assert_eq!(past.json["data"], json!([]));
    assert_eq!(past.json["meta"]["pagination"]["current-page"], json!(999));
    assert_eq!(past.json["meta"]["pagination"]["next-page"], Value::Null);
}

#[tokio::test]
async fn versions_are_found_by_exact_filter_or_by_search() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let exact = api
        .get("admin/terraform-versions?filter%5Bversion%5D=1.9.8")
        .await;
    let found: Vec<Value> = exact.json["data"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|v| v["attributes"]["version"].clone())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(found, [json!("1.9.8")]);
    let none = api
        .get("admin/terraform-versions?filter%5Bversion%5D=1000.1000.42")
        .await;
    assert_eq!(none.status, 200);
    assert_eq!(none.json["data"], json!([]));
    let search = api
        .get("admin/terraform-versions?search%5Bversion%5D=1.1")
        .await;
    assert!(search.json["data"].as_array().is_some_and(|d| d.len() > 1
        && d.iter().all(|v| {
            v["attributes"]["version"]
                .as_str()
                .is_some_and(|s| s.contains("1.1"))
        })));
}

#[tokio::test]
async fn versions_are_created_updated_and_deleted_as_documented() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let create = json!({"data": {"type": "terraform-versions", "attributes": {
        "version": "1.13.0", "archs": [binary("1.13.0", "amd64"), binary("1.13.0", "arm64")]}}});
    let created = api.post("admin/terraform-versions", Some(&create)).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let attributes = created.attributes().clone();
    assert_eq!(
        attributes["url"],
        json!("https://r.example/1.13.0/tf_amd64.zip")
    );
    assert_eq!(attributes["enabled"], json!(true));
    assert_eq!(attributes["official"], json!(false));
    assert_eq!(attributes["usage"], json!(0));
    let id = created.json["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(id.starts_with("tool-"), "{id}");
    // The same version again is refused.
    let again = api.post("admin/terraform-versions", Some(&create)).await;
    assert_eq!(again.status, 422);
    assert_eq!(again.pointers(), ["/data/attributes/version"]);
    // Neither archs nor url and sha: refused.
    let bare = json!({"data": {"attributes": {"version": "1.14.0"}}});
    assert_eq!(
        api.post("admin/terraform-versions", Some(&bare))
            .await
            .status,
        422
    );
    // A PATCH of url and sha alone leaves one architecture: arm64 is gone (reference §2.3).
    let path = format!("admin/terraform-versions/{id}");
    let legacy = json!({"data": {"attributes": {"url": "https://r.example/new.zip", "sha": SHA}}});
    let patched = api.patch(&path, &legacy).await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(
        patched.attributes()["archs"],
        json!([{"os": "linux", "arch": "amd64", "url": "https://r.example/new.zip", "sha": SHA}])
    );
    // A PATCH of archs replaces them whole; without amd64, url and sha come back empty.
    let arm_only = json!({"data": {"attributes": {"archs": [binary("1.13.0", "arm64")]}}});
    let patched = api.patch(&path, &arm_only).await;
    assert_eq!(patched.attributes()["url"], json!(""));
    assert_eq!(
        patched.attributes()["archs"].as_array().map(Vec::len),
        Some(1)
    );
    // Deleted: 204, then gone.
    assert_eq!(api.delete(&path).await.status, 204);
    assert_eq!(api.get(&path).await.status, 404);
}

#[tokio::test]
async fn official_and_used_versions_cannot_be_deleted_and_usage_is_set_by_the_control_plane() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);
    let shipped = api
        .get("admin/terraform-versions?filter%5Bversion%5D=1.9.8")
        .await;
    let id = shipped.json["data"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let refused = api.delete(&format!("admin/terraform-versions/{id}")).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    control
        .set_state(json!({"version": 1, "collections": {"opa-versions": [
            {"id": "tool-used", "version": "0.70.0", "url": "https://r.example/opa", "sha": SHA,
             "official": false, "usage": 4}]}}))
        .await;
    let used = api.get("admin/opa-versions/tool-used").await;
    assert_eq!(used.attributes()["usage"], json!(4));
    assert_eq!(api.delete("admin/opa-versions/tool-used").await.status, 422);
    // A used version cannot be disabled either (assumed 409, as documented for tfpolicy).
    let disable = json!({"data": {"attributes": {"enabled": false}}});
    assert_eq!(
        api.patch("admin/opa-versions/tool-used", &disable)
            .await
            .status,
        409
    );
    // What the control plane refuses: a bad version, an unknown attribute, a bad usage.
    let bad = control
        .try_set_state(json!({"collections": {"opa-versions": [
            {"version": "0.70"}, {"version": "0.71.0", "colour": "red"},
            {"version": "0.72.0", "usage": -1}]}}))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert_eq!(
        bad.json["problems"].as_array().map(Vec::len),
        Some(3),
        "{}",
        bad.text
    );
}

#[tokio::test]
async fn sentinel_and_opa_versions_exist_from_v202311_1() {
    let sandbox = start_sandbox().await;
    let api = Api::admin(&sandbox);
    let control = Control::new(&sandbox);
    control.config(json!({"release": "v202310-1"})).await;
    assert_eq!(api.get("admin/sentinel-versions").await.status, 404);
    assert_eq!(api.get("admin/terraform-versions").await.status, 200);
    control.config(json!({"release": "v202311-1"})).await;
    let listed = api.get("admin/opa-versions").await;
    assert_eq!(listed.status, 200);
    // No archs before v202506-1.
    assert!(
        listed.json["data"][0]["attributes"].get("archs").is_none(),
        "{}",
        listed.text
    );
}
