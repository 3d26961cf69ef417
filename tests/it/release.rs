//! The release packaging, checked offline since none of it can run here (no GitHub runner, no
//! Docker engine): the release workflow and the setup action validate against their public
//! JSON schemas, their shell steps run here with stand-ins for the network (the tag check, the
//! notes, the download and checksum checks of the action), and the Dockerfile pins
//! `Cargo.toml`'s Rust and builds a static binary onto a minimal base.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::common::{Script, repo_text, repo_yaml, run_bash, schema_problems, stand_in};

const RELEASE: &str = ".github/workflows/release.yml";
const ACTION: &str = "action.yml";

/// A `key = "value"` of Cargo.toml's `[package]`.
fn package(key: &str) -> String {
    let manifest = repo_text("Cargo.toml");
    let prefix = format!("{key} = \"");
    manifest
        .lines()
        .find_map(|l| l.strip_prefix(&prefix)?.strip_suffix('"'))
        .unwrap_or_else(|| panic!("Cargo.toml has no {key}"))
        .to_owned()
}

/// The `run:` of the step with this id (or name) in a list of steps.
fn step_script(steps: &Value, id: &str) -> String {
    steps
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["id"] == id || s["name"] == id)
        .and_then(|s| s["run"].as_str())
        .unwrap_or_else(|| panic!("no step {id} with a run:"))
        .to_owned()
}

/// Every `run:` of a workflow or action, wherever it is.
fn runs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(run) = map.get("run").and_then(Value::as_str) {
                out.push(run.to_owned());
            }
            map.values().for_each(|v| runs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| runs(v, out)),
        _ => {}
    }
}

#[test]
fn the_release_workflow_and_the_action_match_their_public_schemas() {
    for (path, schema) in [
        (RELEASE, "github-workflow.json"),
        (ACTION, "github-action.json"),
    ] {
        let problems = schema_problems(schema, &repo_yaml(path));
        assert!(problems.is_empty(), "{path}:\n{}", problems.join("\n"));
        // `${{ }}` in a shell step is pasted into the script before it runs: values go in env.
        let mut scripts = Vec::new();
        runs(&repo_yaml(path), &mut scripts);
        assert!(!scripts.is_empty(), "{path}: no shell steps");
        for run in scripts {
            assert!(!run.contains("${{"), "{path}: an expression in run: {run}");
        }
    }
    // The check has teeth: a misspelt key is refused.
    let mut broken = repo_yaml(ACTION);
    broken["runs"]["using"] = Value::from("compsite");
    assert!(!schema_problems("github-action.json", &broken).is_empty());
}

#[test]
fn a_v_tag_builds_both_linux_architectures_and_publishes_checksums() {
    let doc = repo_yaml(RELEASE);
    assert_eq!(doc["on"]["push"]["tags"], serde_json::json!(["v*"]));
    assert_eq!(doc["env"]["RUST_VERSION"], package("rust-version").as_str());
    let targets: Vec<&str> = doc["jobs"]["binaries"]["strategy"]["matrix"]["include"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["target"].as_str())
        .collect();
    assert_eq!(
        targets,
        ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"]
    );
    // Least privilege: read by default; only publishing writes the release, only the image
    // jobs write packages.
    assert_eq!(doc["permissions"], serde_json::json!({"contents": "read"}));
    let Some(jobs) = doc["jobs"].as_object() else {
        panic!("no jobs")
    };
    for (name, job) in jobs {
        let expected = match name.as_str() {
            "publish" => serde_json::json!({"contents": "write"}),
            "image" | "image-manifest" => {
                serde_json::json!({"contents": "read", "packages": "write"})
            }
            _ => Value::Null,
        };
        assert_eq!(job["permissions"], expected, "{name}");
    }
    let publish = step_script(&doc["jobs"]["publish"]["steps"], "Release");
    assert!(publish.contains("dist/SHA256SUMS") && publish.contains("--verify-tag"));
    let sums = step_script(&doc["jobs"]["publish"]["steps"], "Checksums");
    assert!(
        sums.contains("sha256sum tfe-admin-*.tar.gz > SHA256SUMS"),
        "{sums}"
    );
    let pack = step_script(&doc["jobs"]["binaries"]["steps"], "Check and pack");
    assert!(pack.contains("statically linked"), "{pack}");
}

/// Runs the release's version check in a copy of the repository's manifest and changelog.
fn check_release(tag: &str) -> (Script, String, String) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    for file in ["Cargo.toml", "CHANGELOG.md"] {
        if let Err(e) = std::fs::write(dir.path().join(file), repo_text(file)) {
            panic!("{e}");
        }
    }
    let doc = repo_yaml(RELEASE);
    let script = step_script(&doc["jobs"]["check"]["steps"], "version");
    let output = dir.path().join("output");
    let env = [
        ("GITHUB_REF_NAME", tag.to_owned()),
        ("GITHUB_OUTPUT", output.display().to_string()),
    ];
    let run = run_bash(&script, dir.path(), &dir.path().join("bin"), &env);
    let notes = std::fs::read_to_string(dir.path().join("notes.md")).unwrap_or_default();
    let output = std::fs::read_to_string(output).unwrap_or_default();
    (run, notes, output)
}

#[test]
fn the_release_needs_the_tag_of_cargo_tomls_version_and_its_changelog_section() {
    let version = package("version");
    let (run, notes, output) = check_release(&format!("v{version}"));
    assert!(run.ok, "{}", run.stdout);
    assert_eq!(output, format!("version={version}\n"));
    assert!(notes.contains("### Added"), "{notes}");
    // Only this version's section: not the Unreleased one, not the link references.
    let changelog = repo_text("CHANGELOG.md");
    assert!(
        changelog.contains(&format!("\n## [{version}] - ")),
        "{changelog}"
    );
    assert!(!notes.contains("## [") && !notes.contains("]: "), "{notes}");

    let (run, _, _) = check_release("v99.0.0");
    assert!(!run.ok);
    assert!(
        run.stdout.contains("is not Cargo.toml's version"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_dockerfile_builds_cargo_tomls_rust_statically_onto_a_minimal_base() {
    let dockerfile = repo_text("Dockerfile");
    let instructions: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let from: Vec<&str> = instructions
        .iter()
        .filter_map(|l| l.strip_prefix("FROM "))
        .collect();
    assert_eq!(from.len(), 2, "a build stage and a final stage: {from:?}");
    let build = from[0].split_whitespace().next().unwrap_or_default();
    let rust = format!("rust:{}-alpine", package("rust-version"));
    assert!(
        build.starts_with(&rust),
        "the build stage is {build}, not {rust}*: the Dockerfile must pin Cargo.toml's rust-version"
    );
    assert!(from[0].ends_with(" AS build"), "{}", from[0]);
    // Both stages on the same Alpine branch, pinned.
    let branch = build.rsplit("-alpine").next().unwrap_or_default();
    assert!(branch.starts_with('3'), "unpinned Alpine in {build}");
    assert_eq!(from[1], format!("alpine:{branch}"));
    assert!(dockerfile.contains("cargo build --release --locked"));
    assert!(dockerfile.contains("+crt-static"));
    assert!(
        dockerfile.contains("COPY --from=build /usr/local/bin/tfe-admin /usr/local/bin/tfe-admin")
    );
    let final_stage = &dockerfile[dockerfile.rfind("\nFROM ").unwrap_or_default()..];
    assert!(
        final_stage.contains("apk add --no-cache ca-certificates"),
        "{final_stage}"
    );
    assert!(!final_stage.contains("cargo") || final_stage.contains("No compiler, no cargo"));
    let user = instructions
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .unwrap_or_default();
    assert!(
        user.split(':')
            .all(|id| id.parse::<u32>().is_ok_and(|id| id > 0)),
        "not a numeric non-root user: {user}"
    );
    assert!(instructions.contains(&r#"ENTRYPOINT ["tfe-admin"]"#));
    // The build context is the manifest, the lock file and the sources: never target/.
    let ignore = repo_text(".dockerignore");
    let rules: Vec<&str> = ignore.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(rules, ["*", "!Cargo.toml", "!Cargo.lock", "!src/"]);
}

/// A fake release of `version` for the action to download: the archive a real release has,
/// holding a `tfe-admin` that reports `reports`, and SHA256SUMS listing `listed` for it.
struct FakeRelease {
    dir: tempfile::TempDir,
}

const TARGET: &str = "x86_64-unknown-linux-musl";

impl FakeRelease {
    fn new(version: &str, reports: &str) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let name = format!("tfe-admin-{version}-{TARGET}");
        let files = dir.path().join("files");
        stand_in(
            &files.join(&name),
            "tfe-admin",
            &format!("echo 'tfe-admin {reports}'\n"),
        );
        let packed = std::process::Command::new("tar")
            .args(["-czf", &format!("{name}.tar.gz"), &name])
            .current_dir(&files)
            .status();
        assert!(packed.is_ok_and(|s| s.success()), "tar failed");
        let summed = std::process::Command::new("sh")
            .args(["-c", "sha256sum *.tar.gz > SHA256SUMS"])
            .current_dir(&files)
            .status();
        assert!(summed.is_ok_and(|s| s.success()), "sha256sum failed");
        // curl -o FILE URL: serves the URL's last segment from files/, logs the URL.
        stand_in(
            &dir.path().join("bin"),
            "curl",
            &format!(
                "echo \"curl $*\" >> \"$STAND_IN_LOG\"\nout=\nwhile [ $# -gt 1 ]; do \
                 [ \"$1\" = -o ] && out=$2; shift; done\ncp \"{}/${{1##*/}}\" \"$out\"\n",
                files.display()
            ),
        );
        FakeRelease { dir }
    }

    fn archive(&self, version: &str) -> std::path::PathBuf {
        self.dir
            .path()
            .join(format!("files/tfe-admin-{version}-{TARGET}.tar.gz"))
    }

    /// The archive's line of SHA256SUMS.
    fn sum(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("files/SHA256SUMS"))
            .unwrap_or_default()
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// Runs the action's steps as a runner would, in order, with `inputs`; returns the last
    /// step's run, the step outputs, and the PATH additions.
    fn install(&self, inputs: &[(&str, &str)]) -> (Script, BTreeMap<String, String>, String) {
        let action = repo_yaml(ACTION);
        let steps = &action["runs"]["steps"];
        let input = |name: &str| {
            inputs.iter().find(|(n, _)| *n == name).map_or_else(
                || {
                    action["inputs"][name]["default"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                },
                |(_, v)| (*v).to_owned(),
            )
        };
        let work = self.dir.path().join("work");
        let tools = self.dir.path().join("tools");
        let github_path = self.dir.path().join("github-path");
        // A fresh job: no outputs or PATH additions of an earlier install.
        for file in [
            "output-target",
            "output-install",
            "output-check",
            "github-path",
        ] {
            let _ = std::fs::remove_file(self.dir.path().join(file));
        }
        let mut outputs = BTreeMap::new();
        let mut last = None;
        // The steps whose `if:` holds for these inputs.
        let from_source = input("build-from-source") == "true";
        let ids = if from_source {
            ["target", "build", "check"]
        } else {
            ["target", "install", "check"]
        };
        for id in ids {
            let output = self.dir.path().join(format!("output-{id}"));
            let step = |name: &str| {
                outputs
                    .get(&format!("target.{name}"))
                    .cloned()
                    .unwrap_or_default()
            };
            let env: Vec<(&str, String)> = vec![
                ("INPUT_VERSION", input("version")),
                ("INPUT_REPOSITORY", input("repository")),
                ("PINNED_SHA256", input("sha256")),
                ("ACTION_REPOSITORY", "OWNER/tfe-admin".to_owned()),
                ("RUNNER_ARCH_NAME", "X64".to_owned()),
                ("RUNNER_OS_NAME", "Linux".to_owned()),
                ("RUNNER_TOOL_CACHE", tools.display().to_string()),
                ("RUNNER_TEMP", self.dir.path().display().to_string()),
                ("GITHUB_SERVER", "https://github.com".to_owned()),
                ("GITHUB_OUTPUT", output.display().to_string()),
                ("GITHUB_PATH", github_path.display().to_string()),
                ("VERSION", step("version")),
                ("TARGET", step("target")),
                ("REPOSITORY", step("repository")),
                ("DIR", step("dir")),
                ("CACHE_HIT", input("cache-hit")),
            ];
            if let Err(e) = std::fs::create_dir_all(&work) {
                panic!("{e}");
            }
            let run = run_bash(
                &step_script(steps, id),
                &work,
                &self.dir.path().join("bin"),
                &env,
            );
            for line in std::fs::read_to_string(&output).unwrap_or_default().lines() {
                if let Some((k, v)) = line.split_once('=') {
                    outputs.insert(format!("{id}.{k}"), v.to_owned());
                }
            }
            let ok = run.ok;
            last = Some(run);
            if !ok {
                break;
            }
        }
        let path = std::fs::read_to_string(github_path).unwrap_or_default();
        (last.unwrap_or_else(|| panic!("no step ran")), outputs, path)
    }
}

#[cfg(unix)]
#[test]
fn the_action_installs_a_checked_release_and_refuses_a_tampered_one() {
    let release = FakeRelease::new("0.2.0", "0.2.0");
    let (run, outputs, path) = release.install(&[("version", "0.2.0")]);
    assert!(run.ok, "{run:?}");
    assert_eq!(run.stdout, "tfe-admin 0.2.0\n");
    assert_eq!(outputs["check.version"], "0.2.0");
    let dir = &outputs["target.dir"];
    assert!(
        dir.ends_with("/tfe-admin/0.2.0/x86_64-unknown-linux-musl"),
        "{dir}"
    );
    assert_eq!(path, format!("{dir}\n"));
    assert!(Path::new(dir).join("tfe-admin").is_file());
    let base = "https://github.com/OWNER/tfe-admin/releases/download/v0.2.0";
    let log = &run.log;
    assert!(
        log.contains(&format!("{base}/tfe-admin-0.2.0-{TARGET}.tar.gz")),
        "{log}"
    );
    assert!(log.contains(&format!("{base}/SHA256SUMS")), "{log}");

    // Pinned: the same checksum passes, another one fails.
    let sum = release.sum();
    let (run, ..) = release.install(&[("version", "v0.2.0"), ("sha256", &sum)]);
    assert!(run.ok, "{run:?}");
    let other = "0".repeat(64);
    let (run, ..) = release.install(&[("version", "0.2.0"), ("sha256", &other)]);
    assert!(!run.ok);
    assert!(run.stdout.contains("not the pinned"), "{}", run.stdout);

    // An archive that no longer matches the release's SHA256SUMS is refused.
    if let Err(e) = std::fs::write(release.archive("0.2.0"), b"not what was released") {
        panic!("{e}");
    }
    let (run, ..) = release.install(&[("version", "0.2.0")]);
    assert!(!run.ok, "{run:?}");
    assert!(
        run.stderr.contains("FAILED") || run.stdout.contains("FAILED"),
        "{run:?}"
    );
}

#[cfg(unix)]
#[test]
fn the_action_refuses_a_version_it_cannot_name_and_a_binary_of_another_version() {
    let release = FakeRelease::new("0.2.0", "0.1.9");
    let (run, ..) = release.install(&[("version", "0.2.0")]);
    assert!(!run.ok);
    assert!(
        run.stdout
            .contains("asked for 0.2.0, installed 'tfe-admin 0.1.9'"),
        "{run:?}"
    );
    for bad in ["latest", "", "0.2", "0.2.0; rm -rf /"] {
        let (run, outputs, _) = release.install(&[("version", bad)]);
        assert!(!run.ok && outputs.is_empty(), "{bad}: {run:?}");
        assert!(
            run.stdout.contains("version must be a release number"),
            "{run:?}"
        );
    }
}

#[cfg(unix)]
#[test]
fn the_action_builds_the_tag_from_source_once_per_version() {
    let release = FakeRelease::new("0.2.0", "0.2.0");
    // cargo install --root ROOT ...: logs the call, installs a tfe-admin under ROOT/bin.
    stand_in(
        &release.dir.path().join("bin"),
        "cargo",
        "echo \"cargo $*\" >> \"$STAND_IN_LOG\"\nwhile [ $# -gt 0 ]; do \
         [ \"$1\" = --root ] && root=$2; shift; done\nmkdir -p \"$root/bin\"\n\
         printf '#!/bin/sh\\necho tfe-admin 0.2.0\\n' > \"$root/bin/tfe-admin\"\n\
         chmod +x \"$root/bin/tfe-admin\"\n",
    );
    let inputs = [("version", "0.2.0"), ("build-from-source", "true")];
    let (run, outputs, path) = release.install(&inputs);
    assert!(run.ok, "{run:?}");
    assert_eq!(run.stdout, "tfe-admin 0.2.0\n");
    let dir = &outputs["target.dir"];
    assert_eq!(path, format!("{dir}\n"));
    assert!(
        run.log.contains(&format!(
            "cargo install --locked --root {dir}/.cargo --git https://github.com/OWNER/tfe-admin --tag v0.2.0 tfe-admin"
        )),
        "{}",
        run.log
    );
    assert!(!run.log.contains("curl"), "downloaded too: {}", run.log);
    // The cache restored the binary: no compiling.
    let before = run.log.matches("cargo install").count();
    let (run, ..) = release.install(&[
        ("version", "0.2.0"),
        ("build-from-source", "true"),
        ("cache-hit", "true"),
    ]);
    assert!(run.ok, "{run:?}");
    assert_eq!(run.log.matches("cargo install").count(), before);
}

#[test]
fn every_input_of_the_action_is_used() {
    let action = repo_yaml(ACTION);
    let Some(inputs) = action["inputs"].as_object() else {
        panic!("no inputs")
    };
    let steps = serde_json::to_string(&action["runs"]["steps"]).unwrap_or_default();
    for name in inputs.keys() {
        assert!(
            steps.contains(&format!("inputs.{name} "))
                || steps.contains(&format!("inputs.{name}}}")),
            "the input {name} is never used"
        );
    }
    assert_eq!(action["runs"]["using"], "composite");
    assert_eq!(action["inputs"]["version"]["required"], true);
}
