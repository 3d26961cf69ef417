//! Output discipline: every command that writes data to standard output ends quietly with exit
//! 0 when the reader has gone (a closed pipe, `tfe-admin schema | head -c 10`), and fails with
//! exit 1 and one clear error when standard output cannot be written (`> /dev/full`): data lost
//! on the way must never look like success, and no write ever panics (exit 101).

use std::path::Path;
use std::process::{Command, Stdio};

/// The commands that print data, each with the arguments it needs to succeed offline or against
/// an embedded sandbox in `dir`.
fn data_commands(dir: &Path) -> Vec<(&'static str, Vec<String>)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let sandbox = format!("sandbox:{}", dir.join("state.json").display());
    let minimal = format!("{root}/examples/minimal.yaml");
    let full = format!("{root}/examples/full.yaml");
    let owned = |args: &[&str]| args.iter().map(|&a| a.to_owned()).collect::<Vec<_>>();
    vec![
        ("schema", owned(&["schema"])),
        ("completions", owned(&["completions", "bash"])),
        ("man", owned(&["man"])),
        ("help", owned(&["--help"])),
        ("validate", owned(&["validate", "-f", &minimal])),
        (
            "validate json",
            owned(&["validate", "-f", &minimal, "--format", "json"]),
        ),
        ("plan", owned(&["plan", "-f", &full, "--address", &sandbox])),
        (
            "plan json",
            owned(&[
                "plan",
                "-f",
                &full,
                "--address",
                &sandbox,
                "--format",
                "json",
            ]),
        ),
        (
            "plan markdown",
            owned(&[
                "plan",
                "-f",
                &full,
                "--address",
                &sandbox,
                "--format",
                "markdown",
            ]),
        ),
        ("export", owned(&["export", "--address", &sandbox])),
    ]
}

fn command(args: &[String]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tfe-admin"));
    cmd.args(args)
        .env_remove("TFE_TOKEN")
        .env_remove("TFE_ADDRESS")
        .env_remove("TFE_HOSTNAME")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd
}

#[test]
fn a_closed_pipe_ends_every_data_command_quietly_with_exit_0() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for (name, args) in data_commands(dir.path()) {
        let mut child = command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: cannot start tfe-admin: {e}"));
        // The reader goes away before the first byte: every write meets a closed pipe.
        drop(child.stdout.take());
        let output = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert!(!stderr.contains("error"), "{name}: {stderr}");
    }
}

#[test]
fn a_full_disk_fails_every_data_command_with_exit_1() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for (name, args) in data_commands(dir.path()) {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap_or_else(|e| panic!("/dev/full: {e}"));
        let output = command(&args)
            .stdout(full)
            .output()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        if name != "help" {
            // clap reports its own write failures; ours are one error with its cause.
            assert!(
                stderr.contains(
                    "error: cannot write to standard output\ncaused by: No space left on device"
                ),
                "{name}: {stderr}"
            );
        }
    }
}
