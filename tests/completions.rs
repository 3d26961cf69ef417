//! Shell completions and man pages come from the command line definition: every shell gets a
//! script naming the subcommands and flags, every subcommand gets a page.

use assert_cmd::Command;

fn tfe_admin(args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = match Command::cargo_bin("tfe-admin") {
        Ok(cmd) => cmd,
        Err(e) => panic!("no tfe-admin binary: {e}"),
    };
    match cmd.env_clear().args(args).output() {
        Ok(out) => (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ),
        Err(e) => panic!("cannot run tfe-admin: {e}"),
    }
}

#[test]
fn every_shell_gets_a_script_naming_commands_and_flags() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (code, script, stderr) = tfe_admin(&["completions", shell]);
        assert_eq!(code, Some(0), "{shell}: {stderr}");
        for word in [
            "plan",
            "apply",
            "export",
            "detailed-exitcode",
            "auto-approve",
        ] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error_exiting_1() {
    let (code, _, stderr) = tfe_admin(&["completions", "tcsh"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("invalid value 'tcsh'"), "{stderr}");
}

#[test]
fn man_pages_cover_every_subcommand() {
    let (code, page, _) = tfe_admin(&["man"]);
    assert_eq!(code, Some(0));
    assert!(page.starts_with(".ie"), "not roff: {page}");
    let subcommands: Vec<String> = {
        use clap::CommandFactory as _;
        tfe_admin::cli::Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_owned())
            .collect()
    };
    assert!(subcommands.len() >= 8, "{subcommands:?}");
    for sub in &subcommands {
        assert!(page.contains(sub), "the main page lacks {sub}");
    }
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let out_dir = dir.path().display().to_string();
    let (code, _, stderr) = tfe_admin(&["man", "-o", &out_dir]);
    assert_eq!(code, Some(0), "{stderr}");
    let plan = std::fs::read_to_string(dir.path().join("tfe-admin-plan.1")).unwrap_or_default();
    assert!(plan.contains("detailed\\-exitcode"), "{plan}");
    assert!(dir.path().join("tfe-admin-apply.1").is_file());
}
