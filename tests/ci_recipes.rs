//! The CI recipes in `examples/ci/` are valid YAML with the jobs the README promises, every
//! `tfe-admin` command line in them uses a real subcommand and real flags (checked against
//! the binary's own `--help`), and no token is written in them.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn recipe(path: &str) -> Value {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = match std::fs::read_to_string(&full) {
        Ok(t) => t,
        Err(e) => panic!("cannot read {path}: {e}"),
    };
    match serde_saphyr::from_str::<Value>(&text) {
        Ok(v) => v,
        Err(e) => panic!("{path} is not valid YAML: {e}"),
    }
}

/// Every string in the document (the shell lines live in `run:` and `script:` values).
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The tool's subcommands, from its own command line definition.
fn subcommands() -> Vec<String> {
    use clap::CommandFactory as _;
    tfe_admin::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect()
}

/// `(subcommand, flags)` of every `tfe-admin SUBCOMMAND ...` in the shell text.
fn commands(text: &str) -> Vec<(String, Vec<String>)> {
    let known = subcommands();
    let mut found = Vec::new();
    let tokens: Vec<&str> = text.split_whitespace().collect();
    for (i, token) in tokens.iter().enumerate() {
        if *token != "tfe-admin" {
            continue;
        }
        let Some(sub) = tokens.get(i + 1).filter(|t| known.iter().any(|k| k == **t)) else {
            continue;
        };
        let flags = tokens[i + 2..]
            .iter()
            .take_while(|t| !matches!(**t, ">" | "|" | "||" | "&&" | ";") && !t.ends_with(';'))
            .filter(|t| t.starts_with('-'))
            .map(|t| t.split('=').next().unwrap_or(t).to_owned())
            .collect();
        found.push(((*sub).to_owned(), flags));
    }
    found
}

fn help(subcommand: &str) -> String {
    let out = Command::cargo_bin("tfe-admin").map(|mut c| c.args([subcommand, "--help"]).output());
    let Ok(Ok(out)) = out else {
        panic!("cannot run tfe-admin {subcommand} --help");
    };
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn check_commands(path: &str, doc: &Value, expected: &[&str]) {
    let mut texts = Vec::new();
    strings(doc, &mut texts);
    let all: Vec<(String, Vec<String>)> = texts.iter().flat_map(|t| commands(t)).collect();
    for sub in expected {
        assert!(
            all.iter().any(|(s, _)| s == sub),
            "{path} never runs `tfe-admin {sub}`"
        );
    }
    for (sub, flags) in &all {
        let help = help(sub);
        for flag in flags {
            assert!(
                help.contains(flag.as_str()),
                "{path}: `tfe-admin {sub}` has no {flag}"
            );
        }
    }
    for text in &texts {
        assert!(
            !text.contains("TFE_TOKEN="),
            "{path}: a token is set inline: {text}"
        );
    }
}

#[test]
fn the_github_workflow_plans_applies_and_checks_drift() {
    let path = "examples/ci/github/tfe-admin.yml";
    let doc = recipe(path);
    let on = &doc["on"];
    assert!(
        on.get("pull_request").is_some(),
        "{path}: no pull_request trigger"
    );
    assert_eq!(on["push"]["branches"], serde_json::json!(["main"]));
    assert!(on["schedule"][0]["cron"].is_string(), "{path}: no schedule");
    for job in ["plan", "apply", "drift"] {
        assert!(doc["jobs"].get(job).is_some(), "{path}: no {job} job");
    }
    assert_eq!(
        doc["env"]["TFE_TOKEN"],
        serde_json::json!("${{ secrets.TFE_TOKEN }}")
    );
    // The plan comment is updated, not duplicated.
    let script = doc["jobs"]["plan"]["steps"][4]["with"]["script"]
        .as_str()
        .unwrap_or_default();
    assert!(
        script.contains("updateComment") && script.contains("<!-- tfe-admin-plan -->"),
        "{script}"
    );
    check_commands(path, &doc, &["validate", "plan", "apply"]);
}

#[test]
fn the_gitlab_pipeline_plans_applies_and_checks_drift() {
    let path = "examples/ci/gitlab/.gitlab-ci.yml";
    let doc = recipe(path);
    let rule = |job: &str| {
        doc[job]["rules"][0]["if"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(rule("plan").contains("merge_request_event"));
    assert!(rule("apply").contains("CI_DEFAULT_BRANCH"));
    assert!(rule("drift").contains("schedule"));
    assert!(
        doc["variables"].get("TFE_TOKEN").is_none(),
        "{path}: the token belongs in CI/CD variables"
    );
    check_commands(path, &doc, &["validate", "plan", "apply"]);
}

#[test]
fn command_lines_are_found_with_their_flags() {
    assert_eq!(
        commands(
            "status=0; tfe-admin plan -f x.yaml --format markdown --detailed-exitcode > plan.md || status=$?"
        ),
        [(
            "plan".to_owned(),
            vec![
                "-f".to_owned(),
                "--format".to_owned(),
                "--detailed-exitcode".to_owned()
            ]
        )]
    );
    assert!(commands("cargo install --locked tfe-admin").is_empty());
}
