//! The hint after an error fits its cause: a missing desired-state file says which file and
//! how to create one, an unset variable says to set it or remove the line. The real binary,
//! offline (`validate`) and against the sandbox (`plan`), where the files fail before any
//! request.

use crate::common::{Control, start_sandbox, tfe_admin, tfe_admin_against, workdir};

/// The `hint:` line of an error report (there is exactly one).
fn hint(stderr: &str) -> &str {
    let hints: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("hint: "))
        .collect();
    assert_eq!(hints.len(), 1, "expected one hint line:\n{stderr}");
    hints[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_default_file_says_how_to_create_it_and_sends_nothing() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    for command in ["plan", "apply", "validate"] {
        let run = tfe_admin_against(&sandbox, dir.path(), &[command], &[]).await;
        assert_eq!(run.code, Some(1), "{command}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{command}");
        assert!(
            run.stderr.starts_with("tfe-admin.yaml: no such file\n"),
            "{command}: {}",
            run.stderr
        );
        let hint = hint(&run.stderr);
        assert!(
            hint.contains("`tfe-admin export -o tfe-admin.yaml`") && hint.contains("-f"),
            "{command}: {hint}"
        );
        assert!(!hint.contains("tfe-admin schema"), "{command}: {hint}");
    }
    assert!(control.requests().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_named_file_is_the_one_the_hint_names() {
    let dir = workdir("general:\n  api-rate-limit: 30\n");
    let run = tfe_admin(
        dir.path(),
        &[
            "validate",
            "-f",
            "tfe-admin.yaml",
            "-f",
            "overlays/prod.yaml",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.starts_with("overlays/prod.yaml: no such file\n"),
        "{}",
        run.stderr
    );
    assert!(
        hint(&run.stderr).starts_with(
            "write overlays/prod.yaml (`tfe-admin export -o overlays/prod.yaml` takes the live settings"
        ),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unset_variable_says_to_set_it_or_remove_the_line() {
    let sandbox = start_sandbox().await;
    let dir = workdir(
        "smtp:\n  password: ${env:TFE_SMTP_PASSWORD}\n  client-secret: ${env:TFE_SMTP_CLIENT_SECRET}\ntwilio:\n  auth-token: ${env:TFE_SMTP_PASSWORD}\n",
    );
    let run = tfe_admin_against(&sandbox, dir.path(), &["plan"], &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "tfe-admin.yaml:2:13: smtp.password: environment variable TFE_SMTP_PASSWORD is not set"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(
        hint(&run.stderr),
        "set TFE_SMTP_CLIENT_SECRET, TFE_SMTP_PASSWORD in the environment, or remove the lines \
         that reference them (an attribute the file does not mention is left as it is)"
    );
    assert!(Control::new(&sandbox).requests().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_literal_secret_still_gets_its_own_hint() {
    let dir = workdir("smtp:\n  password: hunter2\n");
    let run = tfe_admin(dir.path(), &["validate"], &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(hint(&run.stderr).starts_with("keep secrets out of the file"));
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
}
