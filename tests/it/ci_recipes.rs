//! The CI recipes in `examples/ci/` keep their promises: every YAML file there parses and has
//! the triggers and jobs the README describes; every `tfe-admin` command line in their shell
//! steps names a real subcommand with flags its own `--help` lists, and parses; the exit codes
//! are read as the contract says (2 is "changes": fine for a pull request's plan, a failure for
//! the drift check), which is checked by running the steps themselves with a stand-in
//! `tfe-admin`; and no token is ever written in them.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const GITHUB: &str = "examples/ci/github/tfe-admin.yml";
const GITLAB: &str = "examples/ci/gitlab/.gitlab-ci.yml";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every YAML file under `examples/ci/`, hidden ones (`.gitlab-ci.yml`) included, relative to
/// the crate.
fn recipe_paths() -> Vec<String> {
    let mut found = Vec::new();
    let mut dirs = vec![root().join("examples/ci")];
    while let Some(dir) = dirs.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => panic!("cannot list {}: {e}", dir.display()),
        };
        for path in entries.flatten().map(|entry| entry.path()) {
            if path.is_dir() {
                dirs.push(path);
            } else if path
                .extension()
                .is_some_and(|ext| ext == "yml" || ext == "yaml")
            {
                let relative = path.strip_prefix(root()).unwrap_or(&path);
                found.push(relative.display().to_string());
            }
        }
    }
    found.sort();
    found
}

fn text(path: &str) -> String {
    match std::fs::read_to_string(root().join(path)) {
        Ok(text) => text,
        Err(e) => panic!("cannot read {path}: {e}"),
    }
}

fn recipe(path: &str) -> Value {
    match serde_saphyr::from_str::<Value>(&text(path)) {
        Ok(doc) => doc,
        Err(e) => panic!("{path} is not valid YAML: {e}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    GitHub,
    GitLab,
}

fn kind(path: &str) -> Kind {
    if path.starts_with("examples/ci/github/") {
        Kind::GitHub
    } else if path.ends_with(".gitlab-ci.yml") {
        Kind::GitLab
    } else {
        panic!("{path}: a CI recipe this test has no checks for; add them here")
    }
}

/// A `run:` value or a GitLab `script:` (a string or a list of lines), as one shell script.
fn script_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Array(lines) => Some(
            lines
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        _ => None,
    }
}

/// The shell scripts of a recipe, each named by where it is: GitHub steps' `run:` (not
/// `with: script:`, which is JavaScript), GitLab's `before_script`/`script`/`after_script`.
fn shell_scripts(path: &str, doc: &Value) -> Vec<(String, String)> {
    let mut scripts = Vec::new();
    let Some(top) = doc.as_object() else {
        panic!("{path}: not a mapping")
    };
    match kind(path) {
        Kind::GitHub => {
            let Some(jobs) = doc["jobs"].as_object() else {
                panic!("{path}: no jobs")
            };
            for (job, body) in jobs {
                for (i, step) in body["steps"].as_array().into_iter().flatten().enumerate() {
                    if let Some(run) = script_text(&step["run"]) {
                        scripts.push((format!("{job}.steps[{i}]"), run));
                    }
                }
            }
        }
        Kind::GitLab => {
            for (job, body) in top {
                for key in ["before_script", "script", "after_script"] {
                    if let Some(script) = script_text(&body[key]) {
                        scripts.push((format!("{job}.{key}"), script));
                    }
                }
            }
        }
    }
    scripts
}

/// A shell word or operator, after quote removal. Enough of the shell for CI steps: quotes,
/// backslashes, line continuations, comments, `;` `&&` `||` `|` `&` `(` `)` `$(`, and
/// redirections (`>`, `>>`, `<`, `2>&1`).
#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Op(&'static str),
}

fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars().peekable();
    let end = |word: &mut Option<String>, out: &mut Vec<Token>| {
        if let Some(w) = word.take() {
            out.push(Token::Word(w));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                w.extend(chars.by_ref().take_while(|&c| c != '\''));
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        c => w.push(c),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(c) => word.get_or_insert_with(String::new).push(c),
            },
            '#' if word.is_none() => {
                chars.by_ref().find(|&c| c == '\n');
                out.push(Token::Op("\n"));
            }
            '$' if chars.peek() == Some(&'(') => {
                chars.next();
                end(&mut word, &mut out);
                out.push(Token::Op("$("));
            }
            '>' | '<' => {
                // `2>`: the digits were a file descriptor, not a word.
                if word
                    .as_deref()
                    .is_some_and(|w| w.chars().all(|c| c.is_ascii_digit()))
                {
                    word = None;
                }
                end(&mut word, &mut out);
                if c == '>' && chars.next_if_eq(&'>').is_some() {
                    out.push(Token::Op(">>"));
                } else if c == '>' && chars.next_if_eq(&'&').is_some() {
                    out.push(Token::Op(">&"));
                } else {
                    out.push(Token::Op(if c == '>' { ">" } else { "<" }));
                }
            }
            ';' | '(' | ')' | '\n' => {
                end(&mut word, &mut out);
                out.push(Token::Op(match c {
                    ';' => ";",
                    '(' => "(",
                    ')' => ")",
                    _ => "\n",
                }));
            }
            '&' | '|' => {
                end(&mut word, &mut out);
                let double = chars.next_if_eq(&c).is_some();
                out.push(Token::Op(match (c, double) {
                    ('&', true) => "&&",
                    ('&', false) => "&",
                    ('|', true) => "||",
                    _ => "|",
                }));
            }
            c if c.is_whitespace() => end(&mut word, &mut out),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    end(&mut word, &mut out);
    out
}

/// The arguments of every `tfe-admin ...` command in a shell script: the commands whose first
/// word (after keywords and `NAME=value` assignments) is `tfe-admin` or a path ending in it,
/// without redirections. `cargo install ... tfe-admin` and `echo "tfe-admin plan"` are not.
fn invocations(script: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut command: Vec<String> = Vec::new();
    let mut tokens = tokens(script).into_iter();
    let mut finish = |command: &mut Vec<String>| {
        let start = command.iter().position(|w| {
            let keyword = matches!(
                w.as_str(),
                "if" | "then" | "elif" | "else" | "do" | "while" | "until" | "!" | "{" | "time"
            );
            let assignment = w.split_once('=').is_some_and(|(name, _)| {
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
            !keyword && !assignment
        });
        if let Some(start) = start {
            let first = &command[start];
            if first == "tfe-admin" || first.ends_with("/tfe-admin") {
                found.push(command[start + 1..].to_vec());
            }
        }
        command.clear();
    };
    while let Some(token) = tokens.next() {
        match token {
            Token::Word(w) => command.push(w),
            // The target of a redirection is not an argument.
            Token::Op(">" | ">>" | "<" | ">&") => {
                tokens.next();
            }
            Token::Op(_) => finish(&mut command),
        }
    }
    finish(&mut command);
    found
}

/// The tool's subcommands, from its own command line definition.
fn subcommands() -> Vec<String> {
    use clap::CommandFactory as _;
    tfe_admin::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect()
}

/// The flags `tfe-admin SUBCOMMAND --help` lists, short and long.
fn help_flags(subcommand: &str) -> Vec<String> {
    let out = Command::cargo_bin("tfe-admin").map(|mut c| c.args([subcommand, "--help"]).output());
    let Ok(Ok(out)) = out else {
        panic!("cannot run tfe-admin {subcommand} --help");
    };
    assert!(out.status.success(), "tfe-admin {subcommand} --help failed");
    let help = String::from_utf8_lossy(&out.stdout);
    let Ok(option) = regex_lite::Regex::new(r"(?m)^\s+(?:(-[A-Za-z0-9]), )?(--[a-z0-9-]+)") else {
        panic!("bad regex")
    };
    let flags: Vec<String> = option
        .captures_iter(&help)
        .flat_map(|c| [c.get(1), c.get(2)])
        .flatten()
        .map(|m| m.as_str().to_owned())
        .collect();
    assert!(
        flags.iter().any(|f| f == "--help"),
        "no options found in: {help}"
    );
    flags
}

#[test]
fn every_ci_recipe_is_yaml_with_checks_of_its_own() {
    let paths = recipe_paths();
    assert!(paths.contains(&GITHUB.to_owned()), "{paths:?}");
    assert!(paths.contains(&GITLAB.to_owned()), "{paths:?}");
    for path in &paths {
        kind(path);
        assert!(recipe(path).is_object(), "{path}: not a mapping");
    }
}

#[test]
fn every_tfe_admin_command_line_is_a_real_one() {
    use clap::Parser as _;
    let known = subcommands();
    let mut help: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in recipe_paths() {
        let doc = recipe(&path);
        let mut used = Vec::new();
        for (place, script) in shell_scripts(&path, &doc) {
            for args in invocations(&script) {
                let line = format!("{path}: {place}: `tfe-admin {}`", args.join(" "));
                let Some(sub) = args.first().filter(|s| known.contains(s)) else {
                    panic!("{line}: not a subcommand (the subcommands: {known:?})")
                };
                let flags = help.entry(sub.clone()).or_insert_with(|| help_flags(sub));
                for arg in args.iter().filter(|a| a.starts_with('-') && a.len() > 1) {
                    let flag = arg.split('=').next().unwrap_or(arg);
                    assert!(
                        flags.iter().any(|f| f == flag),
                        "{line}: `tfe-admin {sub} --help` lists no {flag}"
                    );
                }
                // Values and combinations too: `--format markdown` is a plan format only.
                let argv = std::iter::once("tfe-admin").chain(args.iter().map(String::as_str));
                if let Err(e) = tfe_admin::cli::Cli::try_parse_from(argv) {
                    panic!("{line} does not parse:\n{e}");
                }
                used.push(sub.clone());
            }
        }
        for sub in ["validate", "plan", "apply"] {
            assert!(
                used.iter().any(|u| u == sub),
                "{path} never runs `tfe-admin {sub}`"
            );
        }
    }
}

#[test]
fn the_github_workflow_plans_pull_requests_applies_main_and_checks_drift() {
    let doc = recipe(GITHUB);
    let on = &doc["on"];
    assert!(on.get("pull_request").is_some(), "no pull_request trigger");
    assert_eq!(on["push"]["branches"], serde_json::json!(["main"]));
    let Some(cron) = on["schedule"][0]["cron"].as_str() else {
        panic!("no schedule")
    };
    assert_eq!(cron.split_whitespace().count(), 5, "{cron}");
    assert!(
        on.get("workflow_dispatch").is_some(),
        "no workflow_dispatch"
    );

    let job = |name: &str| {
        let job = &doc["jobs"][name];
        assert!(job.is_object(), "no {name} job");
        job.clone()
    };
    let (plan, apply, drift) = (job("plan"), job("apply"), job("drift"));
    let condition = |job: &Value| job["if"].as_str().unwrap_or_default().to_owned();
    assert!(condition(&plan).contains("'pull_request'"));
    assert!(condition(&apply).contains("'push'") && condition(&apply).contains("refs/heads/main"));
    assert!(condition(&drift).contains("'schedule'"));

    // Least privilege: read-only by default, and only the plan job may write (its comment).
    assert_eq!(doc["permissions"], serde_json::json!({"contents": "read"}));
    assert_eq!(
        plan["permissions"],
        serde_json::json!({"contents": "read", "pull-requests": "write"})
    );
    assert!(apply.get("permissions").is_none(), "{apply}");
    // The drift job opens, updates and closes its issue.
    assert_eq!(
        drift["permissions"],
        serde_json::json!({"contents": "read", "issues": "write"})
    );

    // Two applies never race, and a running one is never cancelled.
    assert_eq!(
        apply["concurrency"]["cancel-in-progress"],
        Value::Bool(false)
    );
    let group = apply["concurrency"]["group"].as_str().unwrap_or_default();
    assert!(!group.is_empty() && !group.contains("${{"), "{group}");
    assert_ne!(drift["concurrency"]["group"], apply["concurrency"]["group"]);

    // The plan comment is found by its marker and updated, not duplicated.
    let Some(comment) = plan["steps"].as_array().into_iter().flatten().find(|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("actions/github-script@"))
    }) else {
        panic!("no actions/github-script step in the plan job")
    };
    let script = comment["with"]["script"].as_str().unwrap_or_default();
    for needle in [
        "<!-- tfe-admin-plan -->",
        "listComments",
        "updateComment",
        "createComment",
    ] {
        assert!(script.contains(needle), "the comment script lacks {needle}");
    }
    assert!(
        comment["if"]
            .as_str()
            .is_some_and(|c| c.contains("!cancelled()"))
    );

    // `${{ }}` in a shell step is pasted into the script before it runs: values go in `env:`.
    for (place, run) in shell_scripts(GITHUB, &doc) {
        assert!(!run.contains("${{"), "{place}: an expression in run: {run}");
    }
}

#[test]
fn the_gitlab_pipeline_plans_merge_requests_applies_the_default_branch_and_checks_drift() {
    let doc = recipe(GITLAB);
    let Some(stages) = doc["stages"].as_array() else {
        panic!("no stages")
    };
    let rule = |job: &str| {
        let stage = &doc[job]["stage"];
        assert!(
            stages.contains(stage),
            "{job}: stage {stage} is not in {stages:?}"
        );
        doc[job]["rules"][0]["if"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        rule("plan"),
        r#"$CI_PIPELINE_SOURCE == "merge_request_event""#
    );
    assert!(rule("apply").contains("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"));
    assert_eq!(rule("drift"), r#"$CI_PIPELINE_SOURCE == "schedule""#);
    // One apply at a time, and the drift check waits for it.
    assert_eq!(
        doc["apply"]["resource_group"],
        doc["drift"]["resource_group"]
    );
    assert!(doc["apply"]["resource_group"].is_string());
    let note = script_text(&doc["plan"]["script"]).unwrap_or_default();
    for needle in [
        "<!-- tfe-admin-plan -->",
        "/notes",
        "--request PUT",
        "--request POST",
    ] {
        assert!(note.contains(needle), "the plan job lacks {needle}");
    }
}

/// Names that hold credentials; their values must come from the secret store.
fn is_secret_name(name: &str) -> bool {
    ["TOKEN", "PASSWORD", "SECRET", "KEY"]
        .iter()
        .any(|s| name.to_ascii_uppercase().contains(s))
}

/// Every `env:` (GitHub) or `variables:` (GitLab) mapping, wherever it is.
fn env_maps<'a>(value: &'a Value, key: &str, out: &mut Vec<&'a serde_json::Map<String, Value>>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v.as_object() {
                    Some(env) if k == key => out.push(env),
                    _ => env_maps(v, key, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| env_maps(v, key, out)),
        _ => {}
    }
}

#[test]
fn no_token_is_written_in_a_recipe() {
    // A secret by name, all of them for the one step that passes on those the file
    // references, or the job's own token.
    let Ok(from_secrets) = regex_lite::Regex::new(
        r"^\$\{\{ (secrets\.[A-Z0-9_]+|toJSON\(secrets\)|github\.token) \}\}$",
    ) else {
        panic!("bad regex")
    };
    let Ok(reference) = regex_lite::Regex::new(r"^\$\{?[A-Z0-9_]+\}?$") else {
        panic!("bad regex")
    };
    // TFE user tokens (`<id>.atlasv1.<secret>`) and GitLab access tokens look like this.
    let Ok(literal_token) = regex_lite::Regex::new(r"\.atlasv1\.|glpat-|gh[ps]_[A-Za-z0-9]{20}")
    else {
        panic!("bad regex")
    };
    for path in recipe_paths() {
        assert!(
            !literal_token.is_match(&text(&path)),
            "{path} holds a token"
        );
        let doc = recipe(&path);
        let (key, allowed) = match kind(&path) {
            Kind::GitHub => ("env", &from_secrets),
            Kind::GitLab => ("variables", &reference),
        };
        let mut maps = Vec::new();
        env_maps(&doc, key, &mut maps);
        let mut token_seen = false;
        for (name, value) in maps.iter().flat_map(|m| m.iter()) {
            token_seen |= name == "TFE_TOKEN";
            if is_secret_name(name) {
                let value = value.as_str().unwrap_or_default();
                assert!(
                    allowed.is_match(value),
                    "{path}: {name} must come from the secret store, not `{value}`"
                );
            }
        }
        if kind(&path) == Kind::GitHub {
            assert!(token_seen, "{path}: TFE_TOKEN is never passed from secrets");
        } else {
            assert!(
                doc["variables"].get("TFE_TOKEN").is_none(),
                "{path}: the token belongs in the CI/CD variables, not the file"
            );
        }
        for (place, script) in shell_scripts(&path, &doc) {
            for word in tokens(&script) {
                if let Token::Word(w) = word
                    && let Some((name, value)) = w.split_once('=')
                    && is_secret_name(name)
                    && !name.starts_with('-')
                {
                    assert!(value.starts_with('$'), "{path}: {place}: {name} set inline");
                }
            }
            for args in invocations(&script) {
                assert!(
                    !args.iter().any(|a| a == "--token"),
                    "{path}: {place}: {args:?}"
                );
            }
        }
    }
}

#[test]
fn a_bare_on_key_stays_the_string_on() {
    // YAML 1.1 reads a bare `on` as true, which would lose GitHub's trigger key. serde-saphyr
    // infers YAML 1.1 booleans in values, but a mapping key read into serde_json's map is
    // deserialized as a string, so it stays "on". The workflow quotes it anyway, for parsers
    // (and linters) that do not.
    let doc = match serde_saphyr::from_str::<Value>("on:\n  push: {}\nx: on\n") {
        Ok(doc) => doc,
        Err(e) => panic!("{e}"),
    };
    assert!(doc["on"]["push"].is_object(), "{doc}");
    assert_eq!(doc["x"], Value::Bool(true), "{doc}");
    assert!(
        text(GITHUB).contains("\n\"on\":\n"),
        "the trigger key is not quoted"
    );
}

#[test]
fn command_lines_are_found_with_their_flags() {
    let script = "status=0\n\
        tfe-admin plan -f x.yaml --format markdown --detailed-exitcode > plan.md || status=$?\n\
        cargo install --locked --git \"$GIT\" tfe-admin  # tfe-admin apply\n\
        echo \"tfe-admin apply\"; if tfe-admin validate 2>&1 >/dev/null; then :; fi\n\
        NO_COLOR=1 ~/.cargo/bin/tfe-admin apply \\\n  --auto-approve --format=json";
    assert_eq!(
        invocations(script),
        [
            vec![
                "plan",
                "-f",
                "x.yaml",
                "--format",
                "markdown",
                "--detailed-exitcode"
            ],
            vec!["validate"],
            vec!["apply", "--auto-approve", "--format=json"],
        ]
    );
}

/// Runs a recipe's shell script as its CI would (`bash -eo pipefail`), with a stand-in
/// `tfe-admin` whose plan exits `plan_exit` and whose apply exits `apply_exit`, and stand-ins
/// for what would reach the network (`curl`, `apt-get`) or may not be installed (`jq`).
/// Returns whether the script succeeded, and the stand-ins' log.
#[cfg(unix)]
fn run_with_stand_ins(script: &str, plan_exit: u8, apply_exit: u8) -> (bool, String) {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("tempdir: {e}"),
    };
    let bin = dir.path().join("bin");
    let log = dir.path().join("log");
    let stand_ins = [
        (
            "tfe-admin",
            "echo \"tfe-admin $*\" >> \"$STAND_IN_LOG\"\ncase \"$1\" in\n\
             validate) echo '{\"valid\": true, \"errors\": [], \"warnings\": []}' ;;\n\
             plan) echo '### plan'; exit \"$PLAN_EXIT\" ;;\n\
             apply) echo '{}'; exit \"$APPLY_EXIT\" ;;\nesac\n",
        ),
        ("curl", "echo \"curl $*\" >> \"$STAND_IN_LOG\"\n"),
        ("apt-get", "exit 0\n"),
        ("jq", "cat > /dev/null\n"),
    ];
    let written = std::fs::create_dir(&bin).and_then(|()| {
        for (name, body) in stand_ins {
            let path = bin.join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}"))?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
        std::fs::write(dir.path().join("script.sh"), script)
    });
    if let Err(e) = written {
        panic!("cannot write the stand-ins: {e}");
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let status = std::process::Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "script.sh"])
        .current_dir(dir.path())
        .env("PATH", path)
        .env("STAND_IN_LOG", &log)
        .env("PLAN_EXIT", plan_exit.to_string())
        .env("APPLY_EXIT", apply_exit.to_string())
        .env("GITHUB_STEP_SUMMARY", dir.path().join("summary.md"))
        .env("GITHUB_OUTPUT", dir.path().join("output"))
        .env("CI_PROJECT_DIR", dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    let status = match status {
        Ok(status) => status,
        Err(e) => panic!("cannot run bash: {e}"),
    };
    (
        status.success(),
        std::fs::read_to_string(&log).unwrap_or_default(),
    )
}

#[cfg(unix)]
#[test]
fn exit_2_passes_a_pull_request_plan_and_fails_the_drift_check() {
    let github = recipe(GITHUB);
    // The step of a GitHub job that runs `needle`.
    let step = |job: &str, needle: &str| {
        let Some((_, run)) = shell_scripts(GITHUB, &github)
            .into_iter()
            .find(|(place, run)| place.starts_with(&format!("{job}.")) && run.contains(needle))
        else {
            panic!("{GITHUB}: no step of the {job} job runs {needle}")
        };
        run
    };
    let gitlab = recipe(GITLAB);
    let job = |name: &str| {
        [&gitlab["default"]["before_script"], &gitlab[name]["script"]]
            .into_iter()
            .filter_map(script_text)
            .collect::<Vec<_>>()
            .join("\n")
    };
    // The script, and whether it must succeed when the plan exits 0, 1, 2.
    let cases = [
        (
            "GitHub plan",
            step("plan", "tfe-admin plan"),
            [true, false, true],
        ),
        (
            "GitHub drift",
            step("drift", "tfe-admin plan"),
            [true, false, false],
        ),
        ("GitLab plan", job("plan"), [true, false, true]),
        ("GitLab drift", job("drift"), [true, false, false]),
    ];
    for (name, script, expected) in cases {
        for (plan_exit, expected) in [0, 1, 2].into_iter().zip(expected) {
            let (ok, log) = run_with_stand_ins(&script, plan_exit, 0);
            assert!(
                log.contains("tfe-admin plan"),
                "{name}: never planned: {log}"
            );
            assert_eq!(ok, expected, "{name} with plan exiting {plan_exit}: {log}");
            if name == "GitLab plan" {
                // A note also when the plan failed: an old plan must not stay up.
                assert!(log.contains("--request POST"), "{name}: no note: {log}");
            }
        }
    }
    let applies = [
        ("GitHub apply", step("apply", "tfe-admin apply")),
        ("GitLab apply", job("apply")),
    ];
    for (name, script) in applies {
        assert!(
            run_with_stand_ins(&script, 0, 0).0,
            "{name} failed on success"
        );
        assert!(
            !run_with_stand_ins(&script, 0, 1).0,
            "{name} passed on exit 1"
        );
    }
}

use crate::common::{
    Script, link_tfe_admin, plan_document, repo_text, run_bash, schema_problems, stand_in,
};

#[test]
fn every_recipe_matches_its_cis_public_schema() {
    for path in recipe_paths() {
        let schema = match kind(&path) {
            Kind::GitHub => "github-workflow.json",
            Kind::GitLab => "gitlab-ci.json",
        };
        let problems = schema_problems(schema, &recipe(&path));
        assert!(problems.is_empty(), "{path}:\n{}", problems.join("\n"));
    }
    // The check has teeth: a job of the wrong shape is refused.
    let mut broken = recipe(GITLAB);
    broken["apply"]["script"] = Value::from(42);
    assert!(!schema_problems("gitlab-ci.json", &broken).is_empty());
}

/// `Cargo.toml`'s version: the release the recipes pin.
fn version() -> String {
    repo_text("Cargo.toml")
        .lines()
        .find_map(|l| l.strip_prefix("version = \"")?.strip_suffix('"'))
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn the_recipes_install_the_release_of_cargo_tomls_version_without_compiling() {
    let version = version();
    let github = recipe(GITHUB);
    let Some(jobs) = github["jobs"].as_object() else {
        panic!("no jobs")
    };
    for (name, job) in jobs {
        let steps = job["steps"].as_array().cloned().unwrap_or_default();
        let setup: Vec<&Value> = steps
            .iter()
            .filter(|s| {
                s["uses"]
                    .as_str()
                    .is_some_and(|u| u.ends_with("/tfe-admin@v") || u.contains("/tfe-admin@"))
            })
            .collect();
        assert_eq!(setup.len(), 1, "{name}: one setup step");
        assert_eq!(
            setup[0]["uses"],
            format!("OWNER/tfe-admin@v{version}"),
            "{name}"
        );
        assert_eq!(
            setup[0]["with"]["version"].as_str(),
            Some(version.as_str()),
            "{name}"
        );
    }
    let gitlab = recipe(GITLAB);
    assert_eq!(gitlab["variables"]["TFE_ADMIN_VERSION"], version.as_str());
    assert_eq!(
        gitlab["default"]["image"],
        serde_json::json!({"name": "ghcr.io/OWNER/tfe-admin:$TFE_ADMIN_VERSION", "entrypoint": [""]})
    );
    // No pipeline compiles: cargo appears only in the documented fallback.
    for path in recipe_paths() {
        for (place, script) in shell_scripts(&path, &recipe(&path)) {
            assert!(!script.contains("cargo "), "{path}: {place} compiles");
        }
    }
    // The fallback of examples/ci/README.md builds the pinned tag once per version.
    let readme = repo_text("examples/ci/README.md");
    let Some(snippet) = readme
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
    else {
        panic!("examples/ci/README.md has no YAML fallback")
    };
    let fallback: Value = serde_saphyr::from_str(snippet).unwrap_or_default();
    assert_eq!(
        fallback["default"]["cache"]["key"],
        "tfe-admin-$TFE_ADMIN_VERSION"
    );
    let install = script_text(&fallback["default"]["before_script"]).unwrap_or_default();
    assert!(
        install.contains("cargo install --locked")
            && install.contains("--tag \"v$TFE_ADMIN_VERSION\""),
        "{install}"
    );
    // One placeholder for where tfe-admin is published, everywhere.
    let Ok(published) =
        regex_lite::Regex::new(r"([A-Za-z0-9_.-]+)/tfe-admin(@v|:|/releases| --tag)")
    else {
        panic!("bad regex")
    };
    for file in [
        GITHUB,
        GITLAB,
        "examples/ci/README.md",
        "README.md",
        "action.yml",
    ] {
        for found in published.captures_iter(&repo_text(file)) {
            assert!(
                matches!(&found[1], "OWNER" | "ghcr.io" | "github.com"),
                "{file}: {}",
                &found[0]
            );
        }
    }
}

/// The step of each GitHub job that passes the referenced secrets on.
fn secrets_step() -> String {
    let github = recipe(GITHUB);
    let Some(jobs) = github["jobs"].as_object() else {
        panic!("no jobs")
    };
    let steps: Vec<(String, Value)> = jobs
        .iter()
        .map(|(name, job)| {
            let step = job["steps"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|s| s["env"]["SECRETS"].is_string())
                .unwrap_or_else(|| panic!("{name}: no step passes the secrets on"));
            (name.clone(), step.clone())
        })
        .collect();
    for (name, step) in &steps {
        // The same step everywhere, and the only one that sees every secret.
        assert_eq!(step, &steps[0].1, "{name} passes secrets on differently");
        assert_eq!(step["env"]["SECRETS"], "${{ toJSON(secrets) }}");
    }
    steps[0].1["run"].as_str().unwrap_or_default().to_owned()
}

/// A working directory with `tfe-admin.yaml` and a `bin/` holding the real tfe-admin.
fn job_dir(yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    if let Err(e) = std::fs::write(dir.path().join("tfe-admin.yaml"), yaml) {
        panic!("{e}");
    }
    link_tfe_admin(&dir.path().join("bin"));
    dir
}

/// Runs the secrets step with this secret store; returns the run and what it wrote to the
/// job's environment, parsed as GitHub parses `NAME<<DELIMITER` blocks.
fn pass_secrets(dir: &Path, secrets: &Value) -> (Script, BTreeMap<String, String>) {
    let github_env = dir.join("github-env");
    let _ = std::fs::remove_file(&github_env);
    let env = [
        ("SECRETS", secrets.to_string()),
        ("GITHUB_ENV", github_env.display().to_string()),
    ];
    let run = run_bash(&secrets_step(), dir, &dir.join("bin"), &env);
    let written = std::fs::read_to_string(&github_env).unwrap_or_default();
    let mut passed = BTreeMap::new();
    let mut lines = written.lines();
    while let Some(line) = lines.next() {
        let Some((name, delimiter)) = line.split_once("<<") else {
            panic!("not a NAME<<DELIMITER line: {line}")
        };
        let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
        passed.insert(name.to_owned(), value.join("\n"));
    }
    (run, passed)
}

#[test]
fn every_variable_the_examples_reference_is_passed_on_by_the_recipes() {
    let examples = [
        "examples/base.yaml",
        "examples/full.yaml",
        "examples/minimal.yaml",
    ];
    let mut passed_any = false;
    for example in examples {
        let dir = job_dir(&repo_text(example));
        let mut list = Command::cargo_bin("tfe-admin").unwrap_or_else(|e| panic!("{e}"));
        let listed = list
            .current_dir(dir.path())
            .env_clear()
            .args(["validate", "--list-references", "--format", "json"])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let doc: Value = serde_json::from_slice(&listed.stdout).unwrap_or_default();
        let names: Vec<String> = doc["references"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["kind"] == "env")
            .filter_map(|r| r["name"].as_str().map(str::to_owned))
            .collect();
        // The store holds them (multi-line, as a PEM key is), and secrets nobody referenced.
        let mut store = serde_json::json!({"github_token": "ghs_x", "DEPLOY_KEY": "canary-deploy"});
        for name in &names {
            store[name] = Value::from(format!("line 1\nline 2 of {name}"));
        }
        let (run, passed) = pass_secrets(dir.path(), &store);
        assert!(run.ok, "{example}: {run:?}");
        let expected: BTreeMap<String, String> = names
            .iter()
            .map(|n| (n.clone(), format!("line 1\nline 2 of {n}")))
            .collect();
        assert_eq!(passed, expected, "{example}");
        passed_any |= !passed.is_empty();
        // What was passed on is what the GitLab jobs check before they start.
        let gitlab = recipe(GITLAB);
        let check = script_text(&gitlab["apply"]["script"]).unwrap_or_default();
        let first = check.lines().next().unwrap_or_default();
        assert_eq!(
            first,
            "tfe-admin validate -f tfe-admin.yaml --list-references"
        );
        let env: Vec<(&str, String)> = passed
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        let run = run_bash(first, dir.path(), &dir.path().join("bin"), &env);
        let only_files_left = run.stderr.contains("${file:") && !run.stderr.contains("TFE_ADMIN_");
        assert!(run.ok || only_files_left, "{example}: {run:?}");
    }
    assert!(passed_any, "no example references a variable");
}

#[test]
fn a_missing_secret_fails_naming_it_and_only_tfe_admin_secrets_are_passed_on() {
    let dir = job_dir(
        "smtp:\n  password: ${env:TFE_ADMIN_SMTP_PASSWORD}\ntwilio:\n  auth-token: ${env:DEPLOY_KEY}\n",
    );
    let store = serde_json::json!({"DEPLOY_KEY": "canary-deploy"});
    let (run, passed) = pass_secrets(dir.path(), &store);
    assert!(!run.ok);
    assert!(passed.is_empty(), "{passed:?}");
    assert!(
        run.stdout
            .contains("add a secret named TFE_ADMIN_SMTP_PASSWORD"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("${env:DEPLOY_KEY}: only TFE_ADMIN_* secrets are passed on"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("canary") && !run.stderr.contains("canary"));

    // GitLab: the first line of apply and drift names the missing variable.
    let run = run_bash(
        "tfe-admin validate -f tfe-admin.yaml --list-references",
        dir.path(),
        &dir.path().join("bin"),
        &[("DEPLOY_KEY", "canary-deploy".to_owned())],
    );
    assert!(!run.ok);
    assert!(
        run.stderr
            .contains("unresolved references (1 of 2): TFE_ADMIN_SMTP_PASSWORD"),
        "{run:?}"
    );
}

/// The jq program that turns the JSON plan into the drift list, as a recipe writes it.
fn drift_filter(path: &str) -> String {
    let text = text(path);
    let Some(start) = text.find("jq -r 'def shown") else {
        panic!("{path}: no drift filter")
    };
    let end = text[start..].find("' plan.json").unwrap_or_default();
    text[start..start + end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn both_recipes_read_the_drift_with_the_same_jq_program() {
    assert_eq!(drift_filter(GITHUB), drift_filter(GITLAB));
}

const DRIFTED: &str = "general:\n  api-rate-limit: 60\nsmtp:\n  host: ${env:TFE_ADMIN_SMTP_HOST}\n\
    data-retention-policy:\n  delete-older-than-n-days: 30\n";
const IN_STEP: &str = "general:\n  api-rate-limit: 30\n";
const CANARY: &str = "canary-smtp-host-3b7";

/// The lines the drift list must have for [`DRIFTED`] against a fresh sandbox.
const DRIFT_LINES: &str = "- `general.api-rate-limit`: live `` 30 ``, tfe-admin.yaml `` 60 `` (tfe-admin.yaml:2:19)\n\
    - `smtp.host`: live (sensitive), tfe-admin.yaml (sensitive) (tfe-admin.yaml:4:9)\n\
    - `data-retention-policy.delete-older-than-n-days`: live (none), tfe-admin.yaml `` 30 `` (tfe-admin.yaml:6:29)\n";

/// A GitHub drift job's steps, run in `dir` as the runner would: the check, then (on 0 or 2)
/// the report, with `gh` answering the open-issues query from `issues`.
fn github_drift(dir: &Path, issues: &Value) -> (Script, Option<Script>) {
    let github = recipe(GITHUB);
    let steps = github["jobs"]["drift"]["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let by_id = |id: &str| -> Value {
        steps
            .iter()
            .find(|s| s["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no step {id}"))
    };
    let check = by_id("drift");
    let report = steps
        .iter()
        .find(|s| s["run"].as_str().is_some_and(|r| r.contains("gh issue")))
        .cloned()
        .unwrap_or_else(|| panic!("no report step"));
    let condition = report["if"].as_str().unwrap_or_default();
    assert!(
        condition.contains("steps.drift.outputs.status == '0'")
            && condition.contains("steps.drift.outputs.status == '2'"),
        "{condition}"
    );
    let issues_file = dir.join("issues.json");
    if let Err(e) = std::fs::write(&issues_file, issues.to_string()) {
        panic!("{e}");
    }
    // gh: logs every call; `gh api ... --jq EXPR` answers with real jq over `issues`.
    stand_in(
        &dir.join("bin"),
        "gh",
        "printf 'gh' >> \"$STAND_IN_LOG\"; for a in \"$@\"; do printf ' %s' \"$a\" >> \"$STAND_IN_LOG\"; done\n\
         echo >> \"$STAND_IN_LOG\"\n\
         if [ \"$1\" = api ]; then while [ $# -gt 0 ]; do [ \"$1\" = --jq ] && expr=$2; shift; done; \
         jq -r \".[] | [.] | $expr\" \"$GH_ISSUES\"; fi\n",
    );
    let output = dir.join("output");
    let _ = std::fs::remove_file(&output);
    let env = [
        ("TFE_ADDRESS", "sandbox:state.json".to_owned()),
        ("TFE_ADMIN_SMTP_HOST", CANARY.to_owned()),
        ("GITHUB_OUTPUT", output.display().to_string()),
        (
            "GITHUB_STEP_SUMMARY",
            dir.join("summary.md").display().to_string(),
        ),
    ];
    let checked = run_bash(
        check["run"].as_str().unwrap_or_default(),
        dir,
        &dir.join("bin"),
        &env,
    );
    let status = std::fs::read_to_string(&output)
        .unwrap_or_default()
        .trim()
        .strip_prefix("status=")
        .unwrap_or_default()
        .to_owned();
    if status != "0" && status != "2" {
        return (checked, None);
    }
    let env = [
        ("STATUS", status),
        ("GH_TOKEN", "ghs_test".to_owned()),
        ("GH_ISSUES", issues_file.display().to_string()),
        ("GITHUB_REPOSITORY", "acme/tfe-settings".to_owned()),
        (
            "RUN_URL",
            "https://github.com/acme/tfe-settings/actions/runs/1".to_owned(),
        ),
    ];
    let reported = run_bash(
        report["run"].as_str().unwrap_or_default(),
        dir,
        &dir.join("bin"),
        &env,
    );
    (checked, Some(reported))
}

#[cfg(unix)]
#[test]
fn the_github_drift_job_keeps_one_issue_open_while_the_drift_lasts() {
    let marker = "<!-- tfe-admin-drift -->";
    let bot = serde_json::json!({"login": "github-actions[bot]"});
    // The query asks GitHub for the bot's open issues; a pull request and an issue without
    // the marker at the start are not the drift issue.
    let open = serde_json::json!([
        {"number": 3, "body": format!("{marker} in a pull request"), "pull_request": {}, "user": bot},
        {"number": 5, "body": format!("quoting {marker}"), "user": bot},
        {"number": 7, "body": format!("{marker}\nold list"), "user": bot},
    ]);

    let dir = job_dir(DRIFTED);
    let (checked, reported) = github_drift(dir.path(), &Value::Array(Vec::new()));
    assert!(!checked.ok, "drift must fail the job: {checked:?}");
    let drift = std::fs::read_to_string(dir.path().join("drift.md")).unwrap_or_default();
    assert_eq!(drift, DRIFT_LINES);
    // The plan the drift list was read from is one the published schema accepts.
    let _ =
        plan_document(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap_or_default());
    let Some(reported) = reported else {
        panic!("no report after drift")
    };
    assert!(reported.ok, "{reported:?}");
    assert!(
        reported
            .log
            .contains("gh issue create --repo acme/tfe-settings --title"),
        "{}",
        reported.log
    );
    // Asked of GitHub: the open issues the workflow's own bot opened.
    assert!(
        reported.log.contains(
            "gh api --paginate repos/acme/tfe-settings/issues?state=open&creator=github-actions%5Bbot%5D"
        ),
        "{}",
        reported.log
    );
    let body = std::fs::read_to_string(dir.path().join("body.md")).unwrap_or_default();
    assert!(
        body.starts_with(marker) && body.contains(DRIFT_LINES),
        "{body}"
    );
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap_or_default();
    for text in [
        &body,
        &drift,
        &summary,
        &checked.stdout,
        &checked.stderr,
        &reported.log,
    ] {
        assert!(!text.contains(CANARY), "a secret reached {text}");
    }

    let dir = job_dir(DRIFTED);
    let (_, reported) = github_drift(dir.path(), &open);
    let log = reported.map(|r| r.log).unwrap_or_default();
    assert!(
        log.contains("gh issue edit 7 --repo acme/tfe-settings --body-file body.md"),
        "{log}"
    );
    assert!(!log.contains("issue create"), "{log}");

    let dir = job_dir(IN_STEP);
    let (checked, reported) = github_drift(dir.path(), &open);
    assert!(checked.ok, "{checked:?}");
    let log = reported.map(|r| r.log).unwrap_or_default();
    assert!(
        log.contains("gh issue close 7 --repo acme/tfe-settings --comment"),
        "{log}"
    );

    let dir = job_dir(IN_STEP);
    let (_, reported) = github_drift(dir.path(), &Value::Array(Vec::new()));
    let log = reported.map(|r| r.log).unwrap_or_default();
    assert!(!log.contains("gh issue"), "nothing to open or close: {log}");

    // An error is not drift: no report at all, and the job fails.
    let dir = job_dir("general:\n  api-rate-limit: 10\n");
    let (checked, reported) = github_drift(dir.path(), &open);
    assert!(!checked.ok && reported.is_none(), "{checked:?}");
}

#[cfg(unix)]
#[test]
fn the_gitlab_drift_job_posts_when_the_drift_changes_and_when_it_is_gone() {
    let gitlab = recipe(GITLAB);
    let script = script_text(&gitlab["drift"]["script"]).unwrap_or_default();
    assert_eq!(
        gitlab["drift"]["cache"]["paths"],
        serde_json::json!([".tfe-admin-drift/"])
    );
    assert_eq!(
        gitlab["drift"]["artifacts"]["paths"],
        serde_json::json!(["plan.json"])
    );
    let dir = job_dir(DRIFTED);
    // curl: logs the call and keeps what it would have posted.
    stand_in(
        &dir.path().join("bin"),
        "curl",
        "echo \"curl $*\" >> \"$STAND_IN_LOG\"\nwhile [ $# -gt 0 ]; do \
         [ \"$1\" = --data ] && jq -c . \"${2#@}\" >> posted.jsonl; shift; done\n",
    );
    let run = |yaml: &str| {
        if let Err(e) = std::fs::write(dir.path().join("tfe-admin.yaml"), yaml) {
            panic!("{e}");
        }
        let env = [
            ("TFE_ADDRESS", "sandbox:state.json".to_owned()),
            ("TFE_ADMIN_SMTP_HOST", CANARY.to_owned()),
            (
                "DRIFT_WEBHOOK_URL",
                "https://hooks.example.com/T0/B0".to_owned(),
            ),
            ("CI_PROJECT_PATH", "acme/tfe-settings".to_owned()),
            (
                "CI_JOB_URL",
                "https://gitlab.example.com/acme/tfe-settings/-/jobs/9".to_owned(),
            ),
        ];
        let run = run_bash(&script, dir.path(), &dir.path().join("bin"), &env);
        let posted: Vec<Value> = std::fs::read_to_string(dir.path().join("posted.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        (run, posted)
    };
    let (first, posted) = run(DRIFTED);
    assert!(!first.ok, "drift must fail the job");
    assert_eq!(posted.len(), 1, "{first:?}");
    let text = posted[0]["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("differ from tfe-admin.yaml") && text.contains(DRIFT_LINES.trim_end()),
        "{text}"
    );
    assert!(
        first.log.contains("--request POST")
            && first.log.contains("https://hooks.example.com/T0/B0")
    );
    // The same drift again: nothing new to say.
    let (again, posted) = run(DRIFTED);
    assert!(!again.ok);
    assert_eq!(posted.len(), 1);
    // An error says nothing about drift.
    let (error, posted) = run("general:\n  api-rate-limit: 10\n");
    assert!(!error.ok);
    assert_eq!(posted.len(), 1);
    // Gone: said once.
    let (gone, posted) = run(IN_STEP);
    assert!(gone.ok, "{gone:?}");
    assert_eq!(posted.len(), 2);
    assert!(
        posted[1]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("drift of acme/tfe-settings is gone")
    );
    let (_, posted) = run(IN_STEP);
    assert_eq!(posted.len(), 2);
    let all = std::fs::read_to_string(dir.path().join("posted.jsonl")).unwrap_or_default();
    for text in [&all, &first.stdout, &first.stderr] {
        assert!(!text.contains(CANARY), "a secret reached {text}");
    }
}
