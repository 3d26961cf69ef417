//! The shipped examples are valid and editor-ready, and secrets never reach the output.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn tfe_admin() -> Command {
    match Command::cargo_bin("tfe-admin") {
        Ok(mut cmd) => {
            cmd.env_clear();
            cmd
        }
        Err(e) => panic!("cannot find the tfe-admin binary: {e}"),
    }
}

fn examples() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut found = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => panic!("cannot list {}: {e}", dir.display()),
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The `-f` arguments that validate an example: an overlay on the base, others alone.
fn file_args(example: &Path) -> Vec<PathBuf> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/base.yaml");
    if example.components().any(|c| c.as_os_str() == "overlays") {
        vec![base, example.to_owned()]
    } else {
        vec![example.to_owned()]
    }
}

/// `validate --list-references --format json` of an example: its references.
fn references(example: &Path) -> Vec<serde_json::Value> {
    let mut cmd = tfe_admin();
    cmd.args(["validate", "--list-references", "--format", "json"]);
    for file in file_args(example) {
        cmd.arg("-f").arg(file);
    }
    let output = match cmd.output() {
        Ok(o) => o,
        Err(e) => panic!("cannot run: {e}"),
    };
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
    let Some(references) = doc["references"].as_array() else {
        panic!("{}: no reference list: {doc}", example.display())
    };
    references.clone()
}

#[test]
fn every_variable_an_example_references_is_named_as_export_names_it() {
    let mut seen = 0;
    for example in examples() {
        for reference in references(&example) {
            if reference["kind"] != "env" {
                continue;
            }
            let path = reference["path"].as_str().unwrap_or_default();
            let expected = path
                .split_once('.')
                .and_then(|(section, attribute)| {
                    let section = tfe_admin::catalogue::section(section)?;
                    Some(tfe_admin::export::secret_variable(
                        section,
                        section.attribute(attribute)?,
                    ))
                })
                .unwrap_or_else(|| panic!("{}: a reference at {path}", example.display()));
            assert_eq!(
                reference["name"].as_str(),
                Some(expected.as_str()),
                "{}: {path}",
                example.display()
            );
            seen += 1;
        }
    }
    assert!(seen > 0, "no example references a variable");
}

#[test]
fn every_example_validates_on_its_own_or_on_the_base() {
    let examples = examples();
    assert!(examples.len() >= 4, "{examples:?}");
    for example in &examples {
        let mut cmd = tfe_admin();
        cmd.arg("validate");
        for file in file_args(example) {
            cmd.arg("-f").arg(file);
        }
        // The variables it references, as CI would set them from its secret store.
        for reference in references(example) {
            if let Some(name) = reference["name"]
                .as_str()
                .filter(|_| reference["kind"] == "env")
            {
                cmd.env(name, "placeholder");
            }
        }
        let output = match cmd.output() {
            Ok(o) => o,
            Err(e) => panic!("cannot run: {e}"),
        };
        assert!(
            output.status.success(),
            "{} is invalid:\n{}",
            example.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(String::from_utf8_lossy(&output.stdout).starts_with("Valid: "));
    }
}

#[test]
fn every_example_points_editors_at_the_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for example in examples() {
        let text = std::fs::read_to_string(&example).unwrap_or_default();
        let first = text.lines().next().unwrap_or_default();
        let Some(target) = first.strip_prefix("# yaml-language-server: $schema=") else {
            panic!("{} does not start with the modeline", example.display());
        };
        let dir = example.parent().unwrap_or(root);
        assert!(
            dir.join(target).is_file(),
            "{}: the modeline's schema path {target} does not exist",
            example.display()
        );
    }
}

#[test]
fn full_example_sets_every_writable_attribute() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/full.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    for section in tfe_admin::catalogue::file_sections() {
        assert!(
            text.contains(&format!("\n{}:\n", section.key)),
            "{}",
            section.key
        );
        for attr in section.file_attributes() {
            if attr.alias_of.is_some() {
                continue;
            }
            assert!(
                text.contains(&format!("  {}:", attr.name)),
                "examples/full.yaml lacks {}.{}",
                section.key,
                attr.name
            );
        }
    }
}

const CANARY: &str = "canary-7f1e9c-do-not-print";

#[test]
fn secret_values_never_reach_the_output() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    // Secrets that are wrong in every way validation can see: bad PEM, bad JSON, bad
    // e-mail, blank-looking, plus a literal one.
    let yaml = format!(
        "saml:\n  private-key: ${{env:CANARY}}\n  idp-cert: ${{env:CANARY}}\ncost-estimation:\n  \
         gcp-credentials: ${{env:CANARY}}\n  aws-secret-key: {CANARY}\nsmtp:\n  \
         sender: ${{env:CANARY}}\n  password: ${{env:CANARY}}\n  port: ${{env:CANARY}}\n"
    );
    let file = dir.path().join("tfe-admin.yaml");
    if let Err(e) = std::fs::write(&file, yaml) {
        panic!("write: {e}");
    }
    let output = match tfe_admin()
        .current_dir(dir.path())
        .env("CANARY", CANARY)
        .args(["validate", "-f", "tfe-admin.yaml"])
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("cannot run: {e}"),
    };
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stdout.contains("canary") && !stderr.contains("canary"),
        "{stderr}"
    );
    // Every secret problem is still reported.
    for path in [
        "saml.private-key",
        "saml.idp-cert",
        "cost-estimation.gcp-credentials",
        "cost-estimation.aws-secret-key",
        "smtp.sender",
        "smtp.port",
    ] {
        assert!(
            stderr.contains(&format!(": {path}: ")),
            "{path} missing:\n{stderr}"
        );
    }
}

#[test]
fn usage_errors_exit_1_not_2() {
    let output = tfe_admin().args(["validate", "--no-such-flag"]).output();
    let Ok(output) = output else {
        panic!("cannot run")
    };
    assert_eq!(output.status.code(), Some(1));
    let output = tfe_admin().arg("--help").output();
    let Ok(output) = output else {
        panic!("cannot run")
    };
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn shape_checks_the_api_may_not_make_are_warnings() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    // The seeds' own samples: a certificate that is not PEM, credentials that are not JSON.
    let yaml =
        "saml:\n  idp-cert: SAMPLE-CERTIFICATE\ncost-estimation:\n  gcp-credentials: ${env:GCP}\n";
    if let Err(e) = std::fs::write(dir.path().join("tfe-admin.yaml"), yaml) {
        panic!("write: {e}");
    }
    let output = tfe_admin()
        .current_dir(dir.path())
        .env("GCP", "{\"private_key\":\"canary-gcp\",...}")
        .args(["validate", "-f", "tfe-admin.yaml"])
        .output();
    let Ok(output) = output else {
        panic!("cannot run")
    };
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr,
        "tfe-admin.yaml:2:13: saml.idp-cert: warning: does not look like PEM text (no `-----BEGIN ...-----` line)\n\
         tfe-admin.yaml:4:20: cost-estimation.gcp-credentials: warning: not valid JSON (key must be a string at line 1 column 29): expected the contents of a service account key file\n"
    );
    assert!(!stderr.contains("canary"));
}
