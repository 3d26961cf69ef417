//! The README's quick start, run literally: every command of its block, in order, in a fresh
//! directory, with the built `tfe-admin` first on PATH (the block's `cargo install` line is the
//! one step the test does not repeat: the binary under test is that build).

use std::path::{Path, PathBuf};
use std::process::Command;

fn quickstart_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .unwrap_or_default();
    let Some(start) = readme.find("<!-- quickstart:start -->") else {
        panic!("README.md has no quick start block");
    };
    let Some(end) = readme[start..].find("<!-- quickstart:end -->") else {
        panic!("README.md's quick start block is not closed");
    };
    readme[start..start + end]
        .lines()
        .filter(|l| {
            l.starts_with("tfe-admin ") || l.starts_with("perl ") || l.starts_with("cargo ")
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_readme_quick_start_works_as_written() {
    let commands = quickstart_commands();
    assert_eq!(
        commands.first().map(String::as_str),
        Some("cargo install --locked --path .")
    );
    assert_eq!(commands.len(), 6, "{commands:?}");
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_tfe-admin"));
    let Some(bin_dir) = binary.parent() else {
        panic!("no directory for {}", binary.display());
    };
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let mut codes = Vec::new();
    let mut outputs = Vec::new();
    for command in commands.iter().skip(1) {
        let output = Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", &path)
            .output();
        let Ok(output) = output else {
            panic!("cannot run `{command}`");
        };
        codes.push(output.status.code());
        outputs.push(format!(
            "$ {command}\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let transcript = outputs.join("\n");
    // export, edit, plan, apply succeed; the last plan shows no changes (exit 0, not 2).
    assert_eq!(codes, [Some(0); 5], "{transcript}");
    assert!(
        transcript.contains("~ general.api-rate-limit: 30 -> 60"),
        "{transcript}"
    );
    assert!(
        transcript.contains("Apply complete: 1 section changed, 0 actions run."),
        "{transcript}"
    );
    assert!(
        outputs
            .last()
            .is_some_and(|o| o.contains("No changes: sandbox:demo.json")),
        "{transcript}"
    );
}
