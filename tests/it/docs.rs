//! Generated artefacts stay equal to the code: the committed JSON Schema and the README's
//! settings reference. `TFE_ADMIN_BLESS=1 cargo test --test it docs::` rewrites both.

use std::path::Path;

fn bless() -> bool {
    std::env::var_os("TFE_ADMIN_BLESS").is_some()
}

fn read(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    }
}

fn write(path: &Path, text: &str) {
    if let Err(e) = std::fs::write(path, text) {
        panic!("cannot write {}: {e}", path.display());
    }
}

#[test]
fn committed_schema_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/tfe-admin.schema.json");
    let expected = tfe_admin::config::schema::desired_state_schema_text();
    if bless() {
        write(&path, &expected);
    }
    assert!(
        read(&path) == expected,
        "schema/tfe-admin.schema.json is stale: run `cargo run -- schema -o schema/tfe-admin.schema.json`"
    );
}

#[test]
fn schema_command_prints_the_committed_bytes() {
    let output = assert_cmd::Command::cargo_bin("tfe-admin").map(|mut c| c.arg("schema").output());
    let Ok(Ok(output)) = output else {
        panic!("cannot run tfe-admin schema");
    };
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        tfe_admin::config::schema::desired_state_schema_text()
    );
}

const START: &str = "<!-- settings-reference:start -->\n";
const END: &str = "<!-- settings-reference:end -->";

#[test]
fn readme_settings_reference_matches_the_catalogue() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = read(&path);
    let (Some(start), Some(end)) = (readme.find(START), readme.find(END)) else {
        panic!("README.md lacks the settings reference markers");
    };
    let current = &readme[start + START.len()..end];
    let expected = tfe_admin::catalogue::docs::settings_reference();
    if bless() && current != expected {
        let updated = format!(
            "{}{}{}",
            &readme[..start + START.len()],
            expected,
            &readme[end..]
        );
        write(&path, &updated);
        return;
    }
    assert!(
        current == expected,
        "README.md's settings reference is stale: run `TFE_ADMIN_BLESS=1 cargo test --test it docs::`"
    );
}

#[test]
fn readme_gives_the_test_command_and_every_section() {
    let readme = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"));
    assert!(readme.contains("cargo test --locked"));
    for section in tfe_admin::catalogue::file_sections() {
        assert!(
            readme.contains(&format!("### `{}`", section.key)),
            "{}",
            section.key
        );
    }
}

#[test]
fn committed_plan_schema_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/plan.schema.json");
    let expected = tfe_admin::plan::json_schema_text();
    if bless() {
        write(&path, &expected);
    }
    assert!(
        path.exists() && read(&path) == expected,
        "schema/plan.schema.json is stale: run `TFE_ADMIN_BLESS=1 cargo test --test it docs::`"
    );
}
