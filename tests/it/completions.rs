//! Shell completions and man pages come from the command line definition: every shell gets a
//! script naming the subcommands and flags, every subcommand gets a page under the name the
//! main page refers to, and usage errors exit 1 like everywhere else in the tool.

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

/// The subcommands, from the clap definition itself, so that a new one needs a page too.
fn subcommands() -> Vec<String> {
    use clap::CommandFactory as _;
    tfe_admin::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect()
}

#[test]
fn every_shell_gets_a_script_naming_commands_and_flags() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (code, script, stderr) = tfe_admin(&["completions", shell]);
        assert_eq!(code, Some(0), "{shell}: {stderr}");
        assert!(stderr.is_empty(), "{shell}: {stderr}");
        for sub in subcommands() {
            assert!(script.contains(&sub), "the {shell} script lacks {sub}");
        }
        // fish spells long options `-l detailed-exitcode`; the others write them out.
        let flags = ["detailed-exitcode", "auto-approve", "allow-literal-secrets"];
        for flag in flags {
            let spelled = if shell == "fish" {
                format!("-l {flag}")
            } else {
                format!("--{flag}")
            };
            assert!(
                script.contains(&spelled),
                "the {shell} script lacks {spelled}"
            );
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error_exiting_1() {
    let (code, stdout, stderr) = tfe_admin(&["completions", "tcsh"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("invalid value 'tcsh'"), "{stderr}");
    let (code, _, stderr) = tfe_admin(&["completions"]);
    assert_eq!(code, Some(1), "a missing shell: {stderr}");
}

#[test]
fn the_main_page_names_every_subcommand_and_the_exit_codes() {
    let (code, page, stderr) = tfe_admin(&["man"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(page.starts_with(".ie"), "not roff: {page}");
    assert!(page.contains(".TH tfe-admin 1"), "{page}");
    let subs = subcommands();
    assert!(subs.len() >= 8, "{subs:?}");
    for sub in &subs {
        // The page refers to each command's own page by the name `man -o` gives it.
        let reference = format!("tfe\\-admin\\-{}(1)", sub.replace('-', "\\-"));
        assert!(page.contains(&reference), "the main page lacks {reference}");
    }
    assert!(!page.contains("tfe\\-admin\\-help(1)"), "help has no page");
    for section in [".SH \"EXIT STATUS\"", ".SH ENVIRONMENT", "TFE_TOKEN"] {
        assert!(page.contains(section), "the main page lacks {section}");
    }
}

#[test]
fn man_o_writes_one_page_per_subcommand_into_a_new_directory() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    // A directory that does not exist yet, as `~/.local/share/man/man1` may not.
    let out = dir.path().join("man").join("man1");
    let out_arg = out.display().to_string();
    let (code, stdout, stderr) = tfe_admin(&["man", "-o", &out_arg]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.is_empty(), "pages go to files, not stdout: {stdout}");
    let read = |file: &str| match std::fs::read_to_string(out.join(file)) {
        Ok(text) => text,
        Err(e) => panic!("{file}: {e}"),
    };
    assert!(read("tfe-admin.1").contains(".SH SUBCOMMANDS"));
    for sub in subcommands() {
        let page = read(&format!("tfe-admin-{sub}.1"));
        let dashed = sub.replace('-', "\\-");
        // The page is about `tfe-admin SUB`, not a bare `SUB`.
        assert!(
            page.contains(&format!(".SH NAME\ntfe\\-admin\\-{dashed} \\- ")),
            "{sub}: {page}"
        );
        assert!(
            page.contains(&format!(".SH SYNOPSIS\n\\fBtfe\\-admin {dashed}\\fR")),
            "{sub}: {page}"
        );
        assert!(page.contains(".SH \"EXIT STATUS\""), "{sub}: {page}");
    }
    assert!(read("tfe-admin-plan.1").contains("\\-\\-detailed\\-exitcode"));
    for networked in ["plan", "apply", "export"] {
        let page = read(&format!("tfe-admin-{networked}.1"));
        assert!(
            page.contains(".SH ENVIRONMENT") && page.contains("TFE_TOKEN"),
            "{networked}: {page}"
        );
    }
    let pages = match std::fs::read_dir(&out) {
        Ok(entries) => entries.count(),
        Err(e) => panic!("{}: {e}", out.display()),
    };
    assert_eq!(pages, subcommands().len() + 1, "no help page, no strays");
}

#[test]
fn man_o_into_an_unwritable_place_exits_1() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let file = dir.path().join("a-file");
    if let Err(e) = std::fs::write(&file, "") {
        panic!("{}: {e}", file.display());
    }
    let (code, _, stderr) = tfe_admin(&["man", "-o", &file.display().to_string()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("cannot write"), "{stderr}");
}

/// The token is never a flag, so `--help` of every command that talks to an installation
/// (those with `--address`, from the clap definition) must say where the address and the token
/// come from.
#[test]
fn every_networked_command_names_its_environment_in_help() {
    use clap::CommandFactory as _;
    let networked: Vec<String> = tfe_admin::cli::Cli::command()
        .get_subcommands()
        .filter(|c| c.get_arguments().any(|a| a.get_id() == "address"))
        .map(|c| c.get_name().to_owned())
        .collect();
    assert!(networked.len() >= 3, "{networked:?}");
    for sub in &networked {
        for flag in ["--help", "-h"] {
            let (code, help, stderr) = tfe_admin(&[sub, flag]);
            assert_eq!(code, Some(0), "{sub} {flag}: {stderr}");
            for name in [
                "TFE_ADDRESS",
                "TFE_HOSTNAME",
                "TFE_TOKEN",
                "credentials.tfrc.json",
                "TFE_CA_CERT",
            ] {
                assert!(
                    help.contains(name),
                    "`{sub} {flag}` does not name {name}:\n{help}"
                );
            }
        }
    }
}
