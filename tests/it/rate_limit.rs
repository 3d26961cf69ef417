//! The server's rate limit, through the real binary against the sandbox: a 429 (which
//! guarantees the server did nothing) waits as the headers say, slows the run down and is
//! retried, writes and actions included; the run gives up only when its total budget
//! (`--rate-limit-budget`, short here so that no test waits for real minutes) is spent, or at
//! once when the server asks for more than is left, saying how many 429s it saw and what to
//! change. A 429 on a write is reported as a 429, never as "no answer".

use serde_json::json;

use crate::common::{
    Control, Fault, Run, plan_document, start_sandbox, tfe_admin_against, workdir,
};

const FOUR_SECTIONS: &str = "\
general:
  api-rate-limit: 50
customization:
  footer: hello
twilio:
  enabled: false
saml:
  debug: false
";

fn no_panic(run: &Run) {
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_with_headers_slows_the_run_down_and_the_plan_completes() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    // Six requests (account, ping, four sections) against a server allowing four a second.
    control.config(json!({"rate_limit": 4})).await;
    let dir = workdir(FOUR_SECTIONS);
    let run = tfe_admin_against(&sandbox, dir.path(), &["plan", "--detailed-exitcode"], &[]).await;
    no_panic(&run);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stdout.contains("~ general.api-rate-limit: 30 -> 50"));
    assert!(
        run.stderr.contains(
            "rate limited: sending at most 4 requests per second for the rest of this run (the \
             server allows 4 per second)"
        ),
        "{}",
        run.stderr
    );
    let requests = control.requests().await;
    let refused = requests.iter().filter(|r| r.status == Some(429)).count();
    assert!(refused >= 1, "{requests:?}");
    // Every request eventually got its answer.
    let answered = requests.iter().filter(|r| r.status == Some(200)).count();
    assert_eq!(answered + 1, requests.len() - refused, "{requests:?}"); // ping is 204
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_without_headers_backs_off_and_completes() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control
        .fault(Fault::new("/api/v2/admin/general-settings", 429).count(2))
        .await;
    let dir = workdir(FOUR_SECTIONS);
    let run = tfe_admin_against(&sandbox, dir.path(), &["plan"], &[]).await;
    no_panic(&run);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let requests = control.requests().await;
    let general: Vec<Option<u16>> = requests
        .iter()
        .filter(|r| r.path == "/api/v2/admin/general-settings")
        .map(|r| r.status)
        .collect();
    assert_eq!(general, [Some(429), Some(429), Some(200)]);
    // Halved twice, from the default of 30: the server said no limit.
    assert!(
        run.stderr.contains(
            "rate limited: sending at most 7 requests per second for the rest of this run (the \
             server did not say its limit)"
        ),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_budget_is_spent_the_error_counts_the_429s_and_suggests_rps() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control
        .fault(Fault::new("/api/v2/admin/general-settings", 429).count(100))
        .await;
    let dir = workdir(FOUR_SECTIONS);
    // Without headers: 0.25 s, then 0.5 s, then 1 s would go beyond one second.
    let run = tfe_admin_against(
        &sandbox,
        dir.path(),
        &["plan", "--rate-limit-budget", "1"],
        &[],
    )
    .await;
    no_panic(&run);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "caused by: GET admin/general-settings: still rate limited (429) after waiting 0.8 s \
             in all (3 responses were 429 Too Many Requests in this run)"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "hint: lower the request rate with --rps N, or allow a longer wait with \
             --rate-limit-budget SECONDS"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("someone changed"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_beyond_the_budget_fails_at_once() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control
        .fault(
            Fault::new("/api/v2/admin/general-settings", 429)
                .retry_after(3600)
                .count(10),
        )
        .await;
    let dir = workdir(FOUR_SECTIONS);
    // The default budget (two minutes): an hour is refused without waiting.
    let run = tfe_admin_against(&sandbox, dir.path(), &["plan"], &[]).await;
    no_panic(&run);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "caused by: GET admin/general-settings: rate limited (429), and the server asks to \
             wait 3600 s, more than the 120 s left of the rate-limit budget (1 response was 429 \
             Too Many Requests in this run)"
        ),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("rate limited: waiting"),
        "{}",
        run.stderr
    );
    let general = control
        .requests()
        .await
        .iter()
        .filter(|r| r.path == "/api/v2/admin/general-settings")
        .count();
    assert_eq!(general, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_wait_is_announced() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control
        .fault(Fault::new("/api/v2/admin/general-settings", 429).retry_after(2))
        .await;
    let dir = workdir("general:\n  api-rate-limit: 30\n");
    let run = tfe_admin_against(&sandbox, dir.path(), &["plan"], &[]).await;
    no_panic(&run);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // Two seconds and up to 100 ms of jitter.
    assert!(
        run.stderr.contains("rate limited: waiting 2 s\n"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_on_a_write_is_retried_and_an_endless_one_is_reported_as_a_429() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    let dir = workdir("general:\n  api-rate-limit: 50\ncustomization:\n  footer: hello\n");

    // A 429 on the PATCH and one on an action's POST: retried, and all is applied.
    control
        .fault(
            Fault::new("/api/v2/admin/general-settings", 429)
                .method("PATCH")
                .count(2),
        )
        .await;
    control
        .fault(Fault::new(
            "/api/v2/admin/oidc-settings/actions/rotate-key",
            429,
        ))
        .await;
    let run = tfe_admin_against(
        &sandbox,
        dir.path(),
        &["apply", "--auto-approve", "--action", "oidc.rotate-key"],
        &[],
    )
    .await;
    no_panic(&run);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(control.outbox().await["oidc"]["rotations"], 1);
    let state = control.state().await;
    assert_eq!(state["settings"]["general"]["api-rate-limit"], 50);

    // A PATCH that stays rate limited: that section fails as a 429, the other applies.
    control.clear_requests().await;
    let dir = workdir("general:\n  api-rate-limit: 60\ncustomization:\n  footer: bye\n");
    control
        .fault(
            Fault::new("/api/v2/admin/general-settings", 429)
                .method("PATCH")
                .count(100),
        )
        .await;
    let run = tfe_admin_against(
        &sandbox,
        dir.path(),
        &["apply", "--auto-approve", "--rate-limit-budget", "1"],
        &[],
    )
    .await;
    no_panic(&run);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("general: FAILED (PATCH admin/general-settings 429)"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("no answer"), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "general: still rate limited (429) after waiting 0.8 s in all (3 responses were 429 \
             Too Many Requests in this run); lower --rps or raise --rate-limit-budget, then apply \
             again"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("customization: applied"),
        "{}",
        run.stderr
    );
    let state = control.state().await;
    assert_eq!(state["settings"]["general"]["api-rate-limit"], 50);
    assert_eq!(state["settings"]["customization"]["footer"], "bye");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_during_the_saved_plans_re_read_is_not_blamed_on_a_race() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    let dir = workdir("general:\n  api-rate-limit: 50\n");
    let saved = tfe_admin_against(&sandbox, dir.path(), &["plan", "--out", "tfe.plan"], &[]).await;
    assert_eq!(saved.code, Some(0), "{}", saved.stderr);
    let _ =
        plan_document(&std::fs::read_to_string(dir.path().join("tfe.plan")).unwrap_or_default());
    control
        .fault(
            Fault::new("/api/v2/admin/general-settings", 429)
                .retry_after(600)
                .count(5),
        )
        .await;
    let run = tfe_admin_against(&sandbox, dir.path(), &["apply", "tfe.plan"], &[]).await;
    no_panic(&run);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: lower the request rate"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("someone changed"), "{}", run.stderr);
    assert!(
        control.requests().await.iter().all(|r| r.method == "GET"),
        "nothing written"
    );
}
