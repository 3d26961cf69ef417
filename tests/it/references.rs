//! `tfe-admin validate --list-references`, the real binary: every `${env:...}` and
//! `${file:...}` reference of the merged files, where it is, and whether it resolves, as lines
//! or one JSON document; exit 1 naming the unresolved ones; a secret's value never shown.

use serde_json::Value;

use crate::common::{tfe_admin, workdir};

const BASE: &str = "smtp:\n  enabled: true\n  host: smtp.example.com\n  auth: login\n  \
    username: tfe\n  password: ${env:TFE_ADMIN_SMTP_PASSWORD}\n\
    saml:\n  private-key: ${file:secrets/saml-key.pem}\n\
    twilio:\n  auth-token: ${env:TFE_ADMIN_TWILIO_AUTH_TOKEN}\n";

/// A base file, an overlay that replaces the SMTP password's reference with a file of its own,
/// and the secret files.
fn files() -> tempfile::TempDir {
    let dir = workdir(BASE);
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        let made = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text));
        if let Err(e) = made {
            panic!("cannot write {name}: {e}");
        }
    };
    write("secrets/saml-key.pem", "canary-key-5e1\n");
    write("overlays/secrets/smtp-password", "canary-smtp-31c\n");
    write(
        "overlays/prod.yaml",
        "smtp:\n  password: ${file:secrets/smtp-password}\n",
    );
    dir
}

const FILES: [&str; 5] = [
    "validate",
    "-f",
    "tfe-admin.yaml",
    "-f",
    "overlays/prod.yaml",
];

#[tokio::test]
async fn references_are_listed_with_their_place_and_whether_they_resolve() {
    let dir = files();
    let mut args = FILES.to_vec();
    args.push("--list-references");
    let env = [("TFE_ADMIN_TWILIO_AUTH_TOKEN", "canary-twilio-77a")];
    let out = tfe_admin(dir.path(), &args, &env).await;
    // The base's password is listed though the overlay overrides it: every file's references
    // are resolved before the files are merged, so validate needs it too.
    assert_eq!(
        out.stdout,
        "tfe-admin.yaml:6:13: smtp.password: environment variable TFE_ADMIN_SMTP_PASSWORD is \
         not set (referenced as `${env:TFE_ADMIN_SMTP_PASSWORD}`)\n\
         tfe-admin.yaml:8:16: saml.private-key: ${file:secrets/saml-key.pem}: set\n\
         tfe-admin.yaml:10:15: twilio.auth-token: ${env:TFE_ADMIN_TWILIO_AUTH_TOKEN}: set\n\
         overlays/prod.yaml:2:13: smtp.password: ${file:secrets/smtp-password}: set\n"
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "error: unresolved references (1 of 4): TFE_ADMIN_SMTP_PASSWORD\n\
         hint: set each variable (in CI: a secret of the same name) and put each file in \
         place, or remove the line from the file\n"
    );
    // What the list says is what validate needs.
    let validate = tfe_admin(dir.path(), &FILES, &env).await;
    assert_eq!(validate.code, Some(1), "{}", validate.stderr);
    assert!(
        validate
            .stderr
            .contains("TFE_ADMIN_SMTP_PASSWORD is not set")
    );

    let env = [
        ("TFE_ADMIN_TWILIO_AUTH_TOKEN", "canary-twilio-77a"),
        ("TFE_ADMIN_SMTP_PASSWORD", "canary-smtp-90d"),
    ];
    let out = tfe_admin(dir.path(), &args, &env).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout.lines().filter(|l| l.ends_with(": set")).count(),
        4
    );
    assert_eq!(
        out.stderr,
        "4 references in tfe-admin.yaml, overlays/prod.yaml: all resolve.\n"
    );
    for canary in ["canary-key", "canary-twilio", "canary-smtp"] {
        assert!(!out.stdout.contains(canary) && !out.stderr.contains(canary));
    }
    let validate = tfe_admin(dir.path(), &FILES, &env).await;
    assert_eq!(validate.code, Some(0), "{}", validate.stderr);
}

#[tokio::test]
async fn the_json_list_gives_ci_the_names_to_pass_through() {
    let dir = files();
    let mut args = FILES.to_vec();
    args.extend(["--list-references", "--format", "json"]);
    let env = [("TFE_ADMIN_SMTP_PASSWORD", "canary-smtp-90d")];
    let out = tfe_admin(dir.path(), &args, &env).await;
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let doc: Value = match serde_json::from_str(&out.stdout) {
        Ok(doc) => doc,
        Err(e) => panic!("not JSON ({e}): {}", out.stdout),
    };
    assert_eq!(doc["format-version"], 1);
    assert_eq!(doc["errors"], Value::Array(Vec::new()));
    let Some(references) = doc["references"].as_array() else {
        panic!("no references: {doc}")
    };
    let rows: Vec<String> = references
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}:{}:{} {} {}",
                r["kind"],
                r["name"],
                r["set"],
                r["file"],
                r["line"],
                r["column"],
                r["path"],
                r["reference"]
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            r#""env" "TFE_ADMIN_SMTP_PASSWORD" true "tfe-admin.yaml":6:13 "smtp.password" "${env:TFE_ADMIN_SMTP_PASSWORD}""#,
            r#""file" "secrets/saml-key.pem" true "tfe-admin.yaml":8:16 "saml.private-key" "${file:secrets/saml-key.pem}""#,
            r#""env" "TFE_ADMIN_TWILIO_AUTH_TOKEN" false "tfe-admin.yaml":10:15 "twilio.auth-token" "${env:TFE_ADMIN_TWILIO_AUTH_TOKEN}""#,
            r#""file" "secrets/smtp-password" true "overlays/prod.yaml":2:13 "smtp.password" "${file:secrets/smtp-password}""#,
        ]
    );
    assert!(
        references[2]["problem"]
            .as_str()
            .is_some_and(|p| p.contains("is not set"))
    );
    assert!(!out.stdout.contains("canary"), "{}", out.stdout);
}

#[tokio::test]
async fn a_file_that_cannot_be_read_is_an_error_and_no_references_is_fine() {
    let dir = workdir("general:\n  api-rate-limit: 50\n");
    let out = tfe_admin(dir.path(), &["validate", "--list-references"], &[]).await;
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), ""),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr,
        "0 references in tfe-admin.yaml: nothing to set.\n"
    );

    let args = [
        "validate",
        "-f",
        "missing.yaml",
        "--list-references",
        "--format",
        "json",
    ];
    let out = tfe_admin(dir.path(), &args, &[]).await;
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap_or_default();
    assert_eq!(doc["errors"][0]["file"], "missing.yaml", "{}", out.stdout);
    assert!(out.stderr.contains("missing.yaml"), "{}", out.stderr);
}
