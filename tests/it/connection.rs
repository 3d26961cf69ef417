//! The address and the connection, through the real binary: an address ending in `/api/v2` is
//! corrected with a warning, one without a scheme gets the likely one, and a closed port, an
//! unknown host, a TLS failure, an address that is not a TFE API and a 404 from an admin
//! endpoint are each one clear error naming the address and where it came from, never a
//! chain of connector internals and never blamed on the token. Nothing is written.

use crate::common::{Control, Fault, Run, start_sandbox, tfe_admin, tfe_admin_against, workdir};

const GENERAL: &str = "general:\n  api-rate-limit: 50\n";

/// A loopback port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(address) => address.port(),
        Err(e) => panic!("cannot bind: {e}"),
    }
}

/// Asserts the report is exactly `error:`, at most one `caused by:`, and one `hint:`, and
/// returns its lines.
fn one_error(run: &Run) -> Vec<&str> {
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.starts_with("warning: "))
        .collect();
    assert!(lines[0].starts_with("error: "), "{}", run.stderr);
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("error: ")).count(),
        1,
        "{}",
        run.stderr
    );
    assert!(
        lines
            .iter()
            .filter(|l| l.starts_with("caused by: "))
            .count()
            <= 1,
        "{}",
        run.stderr
    );
    assert!(
        lines.last().is_some_and(|l| l.starts_with("hint: ")),
        "{}",
        run.stderr
    );
    assert_eq!(
        lines.len(),
        lines.iter().filter(|l| l.contains(": ")).count()
    );
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_ending_in_the_api_path_is_corrected_with_a_warning() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    let dir = workdir(GENERAL);
    for suffix in ["/api/v2", "/api/v2/"] {
        control.clear_requests().await;
        let address = format!("{}{suffix}", sandbox.url());
        let run = tfe_admin(
            dir.path(),
            &["plan"],
            &[
                ("TFE_ADDRESS", address.as_str()),
                ("TFE_TOKEN", sandbox.admin_token()),
            ],
        )
        .await;
        assert_eq!(run.code, Some(0), "{suffix}: {}", run.stderr);
        assert_eq!(
            run.stderr,
            format!(
                "warning: the address from TFE_ADDRESS ends in the API's path: using {} (the API \
                 is below /api/v2/ of the installation's address)\n",
                sandbox.url()
            )
        );
        assert!(run.stdout.contains("~ general.api-rate-limit: 30 -> 50"));
        let requests = control.requests().await;
        assert!(
            requests.iter().all(|r| !r.path.contains("/api/v2/api/v2")),
            "{requests:?}"
        );
        assert!(
            requests.iter().all(|r| r.status != Some(404)),
            "{requests:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_without_a_scheme_gets_the_likely_one() {
    let dir = workdir(GENERAL);
    let port = closed_port();
    let loopback = format!("127.0.0.1:{port}");
    let cases = [
        ("tfe.example.com", "https://tfe.example.com".to_owned()),
        (
            "tfe.example.com:8443",
            "https://tfe.example.com:8443".to_owned(),
        ),
        // The sandbox and tests serve http on loopback.
        (loopback.as_str(), format!("http://{loopback}")),
    ];
    for (value, suggestion) in cases {
        let run = tfe_admin(
            dir.path(),
            &["plan"],
            &[("TFE_ADDRESS", value), ("TFE_TOKEN", "t")],
        )
        .await;
        assert_eq!(run.code, Some(1), "{value}: {}", run.stderr);
        let expected = format!(
            "error: `{value}` (from TFE_ADDRESS) has no scheme: did you mean {suggestion}?"
        );
        assert_eq!(
            run.stderr.lines().next(),
            Some(expected.as_str()),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("relative URL"), "{}", run.stderr);
    }
    let flag = tfe_admin(
        dir.path(),
        &["plan", "--address", "tfe.example.com"],
        &[("TFE_TOKEN", "t")],
    )
    .await;
    assert!(
        flag.stderr
            .starts_with("error: `tfe.example.com` (from --address) has no scheme"),
        "{}",
        flag.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_is_one_error_naming_the_address_and_its_origin() {
    let dir = workdir(GENERAL);
    let port = closed_port();
    let address = format!("http://127.0.0.1:{port}");
    for command in ["plan", "apply", "export"] {
        let mut args = vec![command];
        if command == "apply" {
            args.push("--auto-approve");
        }
        let run = tfe_admin(
            dir.path(),
            &args,
            &[("TFE_ADDRESS", address.as_str()), ("TFE_TOKEN", "t")],
        )
        .await;
        let lines = one_error(&run);
        assert_eq!(
            lines,
            [
                format!("error: cannot connect to {address} (the address from TFE_ADDRESS)")
                    .as_str(),
                "caused by: connection refused",
                "hint: nothing accepts connections there: check the port in TFE_ADDRESS, and that \
                 TFE is running and reachable from this machine",
            ],
            "{command}"
        );
    }
    // Where the address came from is named, whichever it was.
    let hostname = format!("127.0.0.1:{port}");
    let run = tfe_admin(
        dir.path(),
        &["plan"],
        &[("TFE_HOSTNAME", hostname.as_str()), ("TFE_TOKEN", "t")],
    )
    .await;
    let lines = one_error(&run);
    assert_eq!(
        lines[0],
        format!("error: cannot connect to https://{hostname} (the address from TFE_HOSTNAME)")
    );
    assert!(
        lines[2].contains("check the port in TFE_HOSTNAME"),
        "{lines:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_host_is_one_error_naming_the_host() {
    let dir = workdir(GENERAL);
    // `.invalid` never resolves (RFC 2606).
    let run = tfe_admin(
        dir.path(),
        &["plan", "--address", "https://tfe.example.invalid"],
        &[("TFE_TOKEN", "t")],
    )
    .await;
    let lines = one_error(&run);
    assert_eq!(
        lines,
        [
            "error: cannot connect to https://tfe.example.invalid (the address from --address)",
            "caused by: the host name tfe.example.invalid does not resolve",
            "hint: check the host name in --address (a typo? a name only a VPN's DNS knows?)",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_to_a_port_that_speaks_http_is_a_tls_failure_with_its_hint() {
    let sandbox = start_sandbox().await;
    let dir = workdir(GENERAL);
    let address = sandbox.url().replace("http://", "https://");
    let run = tfe_admin(
        dir.path(),
        &["plan"],
        &[
            ("TFE_ADDRESS", address.as_str()),
            ("TFE_TOKEN", sandbox.admin_token()),
        ],
    )
    .await;
    let lines = one_error(&run);
    assert_eq!(
        lines[0],
        format!("error: cannot connect to {address} (the address from TFE_ADDRESS)")
    );
    assert!(
        lines[1].starts_with("caused by: the TLS handshake failed ("),
        "{lines:?}"
    );
    assert!(
        lines[2].starts_with("hint: check the scheme and the port in TFE_ADDRESS"),
        "{lines:?}"
    );
    assert!(!run.stderr.contains(sandbox.admin_token()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_that_is_not_a_tfe_api_is_explained_not_blamed_on_the_token() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    let dir = workdir(GENERAL);
    // A path below the installation's root: every call 404s, ping included.
    let address = format!("{}/app/acme", sandbox.url());
    let run = tfe_admin(
        dir.path(),
        &["plan"],
        &[
            ("TFE_ADDRESS", address.as_str()),
            ("TFE_TOKEN", sandbox.admin_token()),
        ],
    )
    .await;
    assert_eq!(
        one_error(&run),
        [
            format!(
                "error: {address} (the address from TFE_ADDRESS) is not a Terraform Enterprise \
                 API: GET {address}/api/v2/ping answered 404"
            )
            .as_str(),
            "hint: set TFE_ADDRESS to the installation's own address, like \
             https://tfe.example.com (the API is below /api/v2/ of it)",
        ]
    );
    assert!(!run.stderr.contains("token"), "{}", run.stderr);
    // A server whose ping is missing, though the rest answers.
    control
        .fault(Fault::new("/api/v2/ping", 404).count(5))
        .await;
    let run = tfe_admin_against(&sandbox, dir.path(), &["plan"], &[]).await;
    assert_eq!(
        one_error(&run)[0],
        format!(
            "error: {url} (the address from TFE_ADDRESS) is not a Terraform Enterprise API: GET \
             {url}/api/v2/ping answered 404",
            url = sandbox.url()
        )
    );
    assert!(control.requests().await.iter().all(|r| r.method == "GET"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_from_an_admin_endpoint_for_a_site_admin_is_explained() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    let dir = workdir(GENERAL);
    control
        .fault(Fault::new("/api/v2/admin/general-settings", 404).count(5))
        .await;
    let run = tfe_admin_against(&sandbox, dir.path(), &["plan"], &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "GET admin/general-settings answered 404 although the token belongs to a site \
             administrator: TFE 2.1.0 may not have this endpoint, or the account lost the \
             site-admin role since"
        ),
        "{}",
        run.stderr
    );
    // The server's own words may follow, but "not found" is not the explanation.
    assert!(
        !run.stderr.contains("caused by: not found"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("(the server said: Not Found: injected by the sandbox"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: check that the installation's release")
    );

    // The same on a write: the plan's read saw a site admin.
    control.clear_faults().await;
    control
        .fault(
            Fault::new("/api/v2/admin/general-settings", 404)
                .method("PATCH")
                .count(5),
        )
        .await;
    let run = tfe_admin_against(&sandbox, dir.path(), &["apply", "--auto-approve"], &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "general: the API answered 404 although the token belonged to a site administrator \
             when the plan was made"
        ),
        "{}",
        run.stderr
    );
}
