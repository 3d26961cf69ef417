//! How plans show values, through the real binary against the sandbox: which line of a
//! multi-line value changes (text, markdown and JSON plans), which certificate replaces which
//! (also for one kept in a file, whose text is never shown), that a sensitive JSON text is not
//! diffed, and the warnings of `validate` and `plan` about certificates that expire soon, have
//! expired or do not parse, at the value's `FILE:LINE:COL`.

use std::time::SystemTime;

use serde_json::{Value, json};
use tfe_admin::sandbox::Sandbox;

use crate::common::{
    Control, Run, plan_document, start_sandbox, tfe_admin, tfe_admin_against, workdir,
};

const DAY: i64 = 86_400;

/// A self-signed certificate for `cn`, valid from `not_before` to `not_after` (Unix seconds).
fn certificate(cn: &str, not_before: i64, not_after: i64) -> String {
    let Ok(key) = rcgen::KeyPair::generate() else {
        panic!("cannot generate a key")
    };
    let Ok(mut params) = rcgen::CertificateParams::new(Vec::<String>::new()) else {
        panic!("certificate parameters")
    };
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params.not_before = date(not_before);
    params.not_after = date(not_after);
    match params.self_signed(&key) {
        Ok(cert) => cert.pem(),
        Err(e) => panic!("cannot sign: {e}"),
    }
}

fn date(seconds: i64) -> time::OffsetDateTime {
    match time::OffsetDateTime::from_unix_timestamp(seconds) {
        Ok(date) => date,
        Err(e) => panic!("{e}"),
    }
}

/// A date as plans and warnings write it: RFC 3339, UTC, to the second.
fn rfc3339(seconds: i64) -> String {
    let d = date(seconds);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A YAML block scalar's lines, indented for an attribute of a section.
fn block(text: &str) -> String {
    text.lines().flat_map(|l| ["    ", l, "\n"]).collect()
}

/// The base64 lines of a PEM text: what must never be printed of a certificate kept in a
/// file (a value from a reference is sensitive; only its certificate's facts are shown).
fn base64_lines(pem: &str) -> Vec<&str> {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

/// The certificates of one plan run: fixed dates where the snapshot shows them, and one
/// that expires in ten days (and a half: the day count stays 10 for the length of a test).
struct Certificates {
    old_idp: String,
    new_idp: String,
    soon: String,
    soon_from: i64,
    soon_until: i64,
}

fn certificates() -> Certificates {
    let now = now();
    let (soon_from, soon_until) = (now - DAY, now + 10 * DAY + DAY / 2);
    Certificates {
        // 2000-01-01 to 2001-01-01: long expired.
        old_idp: certificate("idp-2000.example.com", 946_684_800, 978_307_200),
        // 2020-01-01 to 2099-01-01.
        new_idp: certificate("idp-2020.example.com", 1_577_836_800, 4_070_908_800),
        soon: certificate("sp.example.com", soon_from, soon_until),
        soon_from,
        soon_until,
    }
}

/// The live state: a three-line footer, login help stored HTML-escaped, an expired identity
/// provider certificate and a service provider certificate that is not one.
async fn live_state(control: &Control, certs: &Certificates) {
    control
        .set_state(json!({
            "version": 1,
            "settings": {
                "customization": {
                    "footer": "<p>Line ONE of the footer</p>\n<p>Line two</p>\n<p>Line three</p>",
                    "login-help": "&lt;div&gt;Sign in with SSO&lt;/div&gt;\n<p>Help: call 1234 &amp; ask</p>\n",
                },
                "saml": {
                    "idp-cert": certs.old_idp,
                    "certificate": "-----BEGIN CERTIFICATE-----\nOLD\n-----END CERTIFICATE-----",
                },
            },
            "write-only-set": {},
            "policies": {}
        }))
        .await;
}

fn desired(certs: &Certificates) -> String {
    format!(
        "cost-estimation:\n  gcp-credentials: ${{env:TFE_ADMIN_COST_ESTIMATION_GCP_CREDENTIALS}}\n\
         saml:\n  idp-cert: ${{file:idp-cert.pem}}\n  certificate: |\n{}\
         customization:\n  footer: |-\n{}  login-help: |\n{}",
        block(&certs.soon),
        block("<p>Line ONE of the footer</p>\n<p>Line TWO</p>\n<p>Line three</p>"),
        block("<div>Sign in with SSO</div>\n<p>Help: call 5678 &amp; ask</p>"),
    )
}

const GCP: &str =
    r#"{"type":"service_account","project_id":"pricing","private_key":"canary-gcp-5d1e"}"#;

async fn plan(sandbox: &Sandbox, dir: &std::path::Path, format: &str) -> Run {
    tfe_admin_against(
        sandbox,
        dir,
        &["plan", "--format", format],
        &[("TFE_ADMIN_COST_ESTIMATION_GCP_CREDENTIALS", GCP)],
    )
    .await
}

/// The output with what changes from run to run replaced: the sandbox's address, the
/// fingerprints of freshly generated keys, the text (JSON-quoted, in the JSON plan) and the
/// dates of the certificate that expires soon.
fn stable(text: &str, sandbox: &Sandbox, certs: &Certificates) -> String {
    let fingerprint = regex_lite::Regex::new("([0-9A-F]{2}:){31}[0-9A-F]{2}")
        .map(|re| re.replace_all(text, "[SHA-256]").into_owned())
        .unwrap_or_default();
    let quoted = Value::String(certs.soon.clone()).to_string();
    fingerprint
        .replace(&quoted, "\"[SP CERTIFICATE PEM]\"")
        .replace(&sandbox.url(), "http://[SANDBOX]")
        .replace(&rfc3339(certs.soon_from), "[YESTERDAY]")
        .replace(&rfc3339(certs.soon_until), "[IN 10 DAYS]")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_show_the_changed_lines_and_which_certificate_replaces_which() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    let certs = certificates();
    live_state(&control, &certs).await;
    let dir = workdir(&desired(&certs));
    if let Err(e) = std::fs::write(dir.path().join("idp-cert.pem"), &certs.new_idp) {
        panic!("{e}");
    }
    let warning = format!(
        "tfe-admin.yaml:6:5: saml.certificate: warning: the certificate `CN=sp.example.com` \
         expires at {} (in 10 days): renew it\n",
        rfc3339(certs.soon_until)
    );
    for format in ["text", "markdown", "json"] {
        let run = plan(&sandbox, dir.path(), format).await;
        assert_eq!(run.code, Some(0), "{format}: {}", run.stderr);
        // The warning of validation, at the value.
        assert_eq!(run.stderr, warning, "{format}");
        // The certificate kept in a file is shown by its facts, never by its text; the
        // sensitive JSON text not at all.
        for line in base64_lines(&certs.new_idp) {
            assert!(!run.stdout.contains(line), "{format}: {}", run.stdout);
        }
        assert!(!run.stdout.contains("canary-gcp-5d1e"), "{format}");
        if format == "json" {
            let document = plan_document(&run.stdout);
            let footer = &document["sections"][2]["items"][0]["attributes"][0];
            assert_eq!(footer["name"], json!("footer"));
            assert_eq!(
                footer["diff"]["hunks"][0]["lines"][1],
                json!({"op": "delete", "text": "<p>Line two</p>\n"})
            );
        }
        insta::assert_snapshot!(
            format!("values_plan_{format}"),
            stable(&run.stdout, &sandbox, &certs)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_keeps_the_certificates_facts_and_applies() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    let certs = certificates();
    live_state(&control, &certs).await;
    let dir = workdir("saml:\n  idp-cert: ${file:idp-cert.pem}\n");
    if let Err(e) = std::fs::write(dir.path().join("idp-cert.pem"), &certs.new_idp) {
        panic!("{e}");
    }
    let run = tfe_admin_against(&sandbox, dir.path(), &["plan", "--out", "tfe.plan"], &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let saved = std::fs::read_to_string(dir.path().join("tfe.plan")).unwrap_or_default();
    let document = plan_document(&saved);
    let change = &document["sections"][0]["items"][0]["attributes"][0];
    assert_eq!(
        change["certificates"]["before"][0]["subject"],
        json!("CN=idp-2000.example.com")
    );
    assert_eq!(
        change["certificates"]["before"][0]["validity"],
        json!({"status": "expired"})
    );
    assert_eq!(
        change["certificates"]["after"][0]["subject"],
        json!("CN=idp-2020.example.com")
    );
    for line in base64_lines(&certs.new_idp) {
        assert!(
            !saved.contains(line),
            "the saved plan holds the certificate's text"
        );
    }
    let applied = tfe_admin_against(&sandbox, dir.path(), &["apply", "tfe.plan"], &[]).await;
    assert_eq!(applied.code, Some(0), "{}", applied.stderr);
    let again =
        tfe_admin_against(&sandbox, dir.path(), &["plan", "--detailed-exitcode"], &[]).await;
    assert_eq!(again.code, Some(0), "{}", again.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_warns_of_certificates_that_expire_or_do_not_parse_at_their_place() {
    let certs = certificates();
    let key = match rcgen::KeyPair::generate() {
        Ok(key) => key.serialize_pem(),
        Err(e) => panic!("{e}"),
    };
    let yaml = format!(
        "saml:\n  idp-cert: |\n{}  certificate: |\n{}  private-key: ${{env:TFE_ADMIN_SAML_PRIVATE_KEY}}\n",
        block(&certs.old_idp),
        block(&key),
    );
    let dir = workdir(&yaml);
    let env = [("TFE_ADMIN_SAML_PRIVATE_KEY", key.as_str())];
    let run = tfe_admin(dir.path(), &["validate"], &env).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // A block scalar's value starts on the line after its key.
    let certificate_line = 4 + certs.old_idp.lines().count();
    assert_eq!(
        run.stderr,
        format!(
            "tfe-admin.yaml:3:5: saml.idp-cert: warning: the certificate \
             `CN=idp-2000.example.com` expired at 2001-01-01T00:00:00Z\n\
             tfe-admin.yaml:{certificate_line}:5: saml.certificate: warning: holds a `PRIVATE \
             KEY` block where a certificate belongs: is this the right file?\n"
        )
    );
    // The key itself is a secret: never read, never quoted.
    for line in base64_lines(&key) {
        assert!(!run.stderr.contains(line) && !run.stdout.contains(line));
    }
    let run = tfe_admin(dir.path(), &["validate", "--format", "json"], &env).await;
    let report: Value = serde_json::from_str(&run.stdout).unwrap_or_default();
    assert_eq!(report["valid"], json!(true), "{}", run.stdout);
    assert_eq!(report["warnings"][0]["path"], json!("saml.idp-cert"));
    assert_eq!(report["warnings"][0]["line"], json!(3));

    // Broken and unterminated certificates are named as such, never a panic.
    let dir = workdir(
        "saml:\n  idp-cert: |\n    -----BEGIN CERTIFICATE-----\n    MIIBroken\n    -----END CERTIFICATE-----\n  certificate: \"-----BEGIN CERTIFICATE-----\\nMIIB\"\n",
    );
    let run = tfe_admin(dir.path(), &["validate"], &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "tfe-admin.yaml:3:5: saml.idp-cert: warning: a CERTIFICATE block that is not a readable \
         X.509 certificate\n\
         tfe-admin.yaml:6:16: saml.certificate: warning: a PEM block without its \
         `-----END ...-----` line\n"
    );
}
