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
    for job in [&apply, &drift] {
        assert!(job.get("permissions").is_none(), "{job}");
    }

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
    let Ok(from_secrets) = regex_lite::Regex::new(r"^\$\{\{ secrets\.[A-Z0-9_]+ \}\}$") else {
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
