//! Hostile inputs and hostile servers (issue 10), each attack run with the real binary:
//! files that are not files or never end (`/dev/zero`, FIFOs) as the CA bundle and the
//! sandbox state, a server that sends more than any settings document could be.
//! Every refusal is exit 1 with a message naming what was refused; nothing hangs.

use std::path::Path;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use crate::common::{
    Control, Fault, Run, plan_document, start_sandbox, tfe_admin, tfe_admin_against, workdir,
};

const YAML: &str = "general:\n  api-rate-limit: 45\n";

fn make_fifo(path: &Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo failed");
}

fn refused(run: &Run, lines: &[&str]) {
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    for line in lines {
        assert!(
            run.stderr.lines().any(|l| l == *line),
            "no line {line:?} in:\n{}",
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_bundle_that_is_not_a_pem_file_is_refused() {
    let dir = workdir(YAML);
    make_fifo(&dir.path().join("ca.fifo"));
    if let Err(e) = std::fs::write(dir.path().join("passwd"), "root:x:0:0:root:/root:/bin/sh\n") {
        panic!("{e}");
    }
    let env = |ca: &'static str| {
        [
            ("TFE_ADDRESS", "https://127.0.0.1:9"),
            ("TFE_TOKEN", "token-never-sent"),
            ("TFE_CA_CERT", ca),
        ]
    };
    for (ca, cause) in [
        (
            "/dev/zero",
            "caused by: it is a character device, not a regular file",
        ),
        (
            "ca.fifo",
            "caused by: it is a FIFO (named pipe), not a regular file",
        ),
    ] {
        let run = tfe_admin(dir.path(), &["plan"], &env(ca)).await;
        refused(
            &run,
            &[
                &format!("error: cannot read the CA certificate file {ca}"),
                cause,
            ],
        );
    }
    let run = tfe_admin(dir.path(), &["plan"], &env("passwd")).await;
    refused(
        &run,
        &[
            "error: the CA certificate file passwd holds no certificate (no `-----BEGIN CERTIFICATE-----` block)",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_state_that_is_not_a_file_is_refused() {
    let dir = workdir(YAML);
    make_fifo(&dir.path().join("state.fifo"));
    for (state, cause) in [
        (
            "sandbox:/dev/zero",
            "caused by: it is a character device, not a regular file",
        ),
        (
            "sandbox:state.fifo",
            "caused by: it is a FIFO (named pipe), not a regular file",
        ),
    ] {
        let run = tfe_admin(dir.path(), &["plan", "--address", state], &[]).await;
        let file = state.trim_start_matches("sandbox:");
        refused(
            &run,
            &[
                "error: cannot start the sandbox",
                &format!("caused by: cannot read the sandbox state file {file}"),
                cause,
            ],
        );
    }
}

/// A server that answers every request with a 200 and a body of blanks (valid JSON
/// whitespace), announced as `announce` bytes and/or chunked, written until the client stops
/// reading (at most 64 MiB). Returns its address.
async fn oversized_server(announce: Option<u64>, chunked: bool) -> String {
    let listener = match TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => panic!("bind: {e}"),
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => panic!("{e}"),
    };
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let length =
                    announce.map_or_else(String::new, |l| format!("content-length: {l}\r\n"));
                let encoding = if chunked {
                    "transfer-encoding: chunked\r\n"
                } else {
                    ""
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.api+json\r\n{length}{encoding}\r\n"
                );
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 * 1024];
                // At most 64 MiB: far beyond the bound, and an end if the client never stops.
                for _ in 0..1024 {
                    let written = if chunked {
                        let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                        framed.extend_from_slice(&chunk);
                        framed.extend_from_slice(b"\r\n");
                        socket.write_all(&framed).await
                    } else {
                        socket.write_all(&chunk).await
                    };
                    if written.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_body_beyond_8_mib_is_refused() {
    let dir = workdir(YAML);
    for (announce, chunked) in [(Some(1u64 << 30), false), (None, true)] {
        let address = oversized_server(announce, chunked).await;
        let run = tfe_admin(
            dir.path(),
            &["plan", "--timeout", "20"],
            &[("TFE_ADDRESS", &address), ("TFE_TOKEN", "t")],
        )
        .await;
        refused(&run, &["error: cannot read the live settings"]);
        assert!(
            run.stderr.contains(
                ": the response body is larger than 8 MiB, the most this tool reads (a proxy or a misbehaving server?)"
            ),
            "{announce:?}: {}",
            run.stderr
        );
    }
}

// --- Secrets a server echoes ---------------------------------------------------------------

/// One canary per secret attribute, and one for a non-secret attribute set from a reference
/// (sensitive too: it came from the environment).
const CANARIES: &[(&str, &str)] = &[
    ("C_SMTP_PASSWORD", "canary-smtp-password-1f3a"),
    ("C_SMTP_CLIENT_SECRET", "canary-smtp-client-secret-2b4c"),
    ("C_TWILIO_AUTH_TOKEN", "canary-twilio-auth-token-3c5d"),
    (
        "C_SAML_PRIVATE_KEY",
        "-----BEGIN PRIVATE KEY-----\ncanary-saml-private-key-4d6e\n-----END PRIVATE KEY-----",
    ),
    ("C_AWS_SECRET_KEY", "canary-aws-secret-key-5e7f"),
    (
        "C_GCP_CREDENTIALS",
        r#"{"type": "service_account", "private_key": "canary-gcp-credentials-6f80"}"#,
    ),
    ("C_AZURE_CLIENT_SECRET", "canary-azure-client-secret-7091"),
    ("C_FOOTER", "canary-footer-from-env-81a2"),
];

/// What must never be printed: each canary's distinctive part, and the token.
fn forbidden(token: &str) -> Vec<String> {
    let mut all: Vec<String> = CANARIES
        .iter()
        .map(|(_, v)| {
            let start = v.find("canary-").unwrap_or(0);
            v[start..start + 24].to_owned()
        })
        .collect();
    all.push(token.to_owned());
    all
}

/// Every secret attribute set from a canary, and a change in each section so that each is
/// written.
const SECRET_YAML: &str = "\
smtp:
  host: smtp.example.com
  password: ${env:C_SMTP_PASSWORD}
  client-secret: ${env:C_SMTP_CLIENT_SECRET}
twilio:
  account-sid: AC-canary-test
  auth-token: ${env:C_TWILIO_AUTH_TOKEN}
  test-number: '+15550199'
saml:
  debug: true
  private-key: ${env:C_SAML_PRIVATE_KEY}
cost-estimation:
  aws-secret-key: ${env:C_AWS_SECRET_KEY}
  gcp-credentials: ${env:C_GCP_CREDENTIALS}
  azure-client-secret: ${env:C_AZURE_CLIENT_SECRET}
customization:
  footer: ${env:C_FOOTER}
  login-help: plain help
";

/// A JSON:API error that echoes everything: each canary and the token in the title, the
/// request body (as JSON text) in the detail with an escape sequence that would clear the
/// terminal, and all of it again in `meta`, keys included.
fn echoing_error(status: u16, token: &str, pointer: Option<&str>) -> String {
    let values: Vec<&str> = CANARIES.iter().map(|(_, v)| *v).collect();
    let attributes: serde_json::Map<String, serde_json::Value> = CANARIES
        .iter()
        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
        .collect();
    let body = serde_json::json!({"data": {"attributes": attributes}}).to_string();
    let mut error = serde_json::json!({
        "status": status.to_string(),
        "title": format!("rejected {} for {token}", values.join(" ")),
        "detail": format!("\u{1b}[2J\rthe body was: {body}"),
        "meta": {"echo": values, token: body},
    });
    if let Some(pointer) = pointer {
        error["source"] = serde_json::json!({ "pointer": pointer });
    }
    serde_json::json!({ "errors": [error] }).to_string()
}

/// Fails the test when the run printed a secret or a raw escape sequence; it must have shown
/// the redacted text instead.
fn assert_redacted(label: &str, run: &Run, token: &str) {
    for text in forbidden(token) {
        assert!(
            !run.stdout.contains(&text) && !run.stderr.contains(&text),
            "{label}: printed {text:?}\nstdout:\n{}\nstderr:\n{}",
            run.stdout,
            run.stderr
        );
    }
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        !all.contains('\u{1b}') && !all.contains('\r'),
        "{label}: raw control characters:\n{all:?}"
    );
}

fn env_with_canaries() -> Vec<(&'static str, &'static str)> {
    CANARIES.to_vec()
}

/// Live state where a non-secret value holds the token and a canary: server text, redacted
/// wherever it is shown or kept.
async fn live_echoing(control: &Control, token: &str) {
    control
        .set_state(serde_json::json!({
            "version": 1,
            "settings": {
                "customization": {"login-help": format!("hi {token} canary-smtp-password-1f3a")},
                "general": {"api-rate-limit": 30},
            },
            "write-only-set": {},
            "policies": {},
        }))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_redacts_what_the_server_echoes_in_every_format() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    let token = sandbox.admin_token().to_owned();
    live_echoing(&control, &token).await;
    let dir = workdir(SECRET_YAML);
    let env = env_with_canaries();
    for format in ["text", "json", "markdown"] {
        // A successful plan: the live header (server text holding the token) is shown
        // redacted; the referenced footer is sensitive.
        let run =
            tfe_admin_against(&sandbox, dir.path(), &["plan", "--format", format], &env).await;
        assert_eq!(run.code, Some(0), "{format}: {}", run.stderr);
        assert_redacted(format, &run, &token);
        if format == "json" {
            let _ = plan_document(&run.stdout);
        }
        assert!(
            run.stdout.contains("hi (sensitive) (sensitive)"),
            "{format}: {}",
            run.stdout
        );
        // A GET that fails with the token and every canary in its error.
        control
            .fault(
                Fault::new("/api/v2/admin/customization-settings", 400)
                    .method("GET")
                    .body(&echoing_error(400, &token, None)),
            )
            .await;
        let run =
            tfe_admin_against(&sandbox, dir.path(), &["plan", "--format", format], &env).await;
        assert_eq!(run.code, Some(1), "{format}: {}", run.stderr);
        assert_redacted(&format!("{format}, GET error"), &run, &token);
        assert!(
            run.stderr
                .contains("GET admin/customization-settings answered 400: rejected (sensitive)"),
            "{format}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("\\u{1b}[2J\\rthe body was"),
            "{}",
            run.stderr
        );
    }
    // The saved plan keeps neither a secret nor the live value that holds the token.
    let run = tfe_admin_against(&sandbox, dir.path(), &["plan", "--out", "p.json"], &env).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let saved = std::fs::read_to_string(dir.path().join("p.json")).unwrap_or_default();
    let _ = plan_document(&saved);
    for text in forbidden(&token) {
        assert!(!saved.contains(&text), "the saved plan holds {text:?}");
    }
}

/// The PATCH faults of one apply: each section fails with another status, each echoing.
async fn echoing_write_faults(control: &Control, token: &str) {
    for (path, method, status, pointer) in [
        ("/api/v2/admin/smtp-settings", "PATCH", 401, None),
        ("/api/v2/admin/customization-settings", "PATCH", 409, None),
        (
            "/api/v2/admin/saml-settings",
            "PATCH",
            422,
            Some("/data/attributes/private-key"),
        ),
        ("/api/v2/admin/cost-estimation-settings", "PATCH", 400, None),
        ("/api/v2/admin/twilio-settings/verify", "POST", 500, None),
    ] {
        control
            .fault(
                Fault::new(path, status)
                    .method(method)
                    .body(&echoing_error(status, token, pointer)),
            )
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_and_saved_plans_redact_what_the_server_echoes() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    let token = sandbox.admin_token().to_owned();
    live_echoing(&control, &token).await;
    let dir = workdir(SECRET_YAML);
    let env = env_with_canaries();
    for format in ["text", "json"] {
        echoing_write_faults(&control, &token).await;
        let run = tfe_admin_against(
            &sandbox,
            dir.path(),
            &["apply", "--auto-approve", "--format", format],
            &env,
        )
        .await;
        assert_eq!(run.code, Some(1), "{format}: {}", run.stderr);
        assert_redacted(&format!("apply -f, {format}"), &run, &token);
        assert!(
            run.stderr.contains("rejected (sensitive)"),
            "{}",
            run.stderr
        );
        control.clear_faults().await;
        live_echoing(&control, &token).await;

        let planned =
            tfe_admin_against(&sandbox, dir.path(), &["plan", "--out", "p.json"], &env).await;
        assert_eq!(planned.code, Some(0), "{}", planned.stderr);
        echoing_write_faults(&control, &token).await;
        let run = tfe_admin_against(
            &sandbox,
            dir.path(),
            &["apply", "p.json", "--format", format],
            &env,
        )
        .await;
        assert_eq!(run.code, Some(1), "{format}: {}", run.stderr);
        assert_redacted(&format!("apply PLANFILE, {format}"), &run, &token);
        assert!(
            run.stderr.contains("rejected (sensitive)"),
            "{}",
            run.stderr
        );
        control.clear_faults().await;
        live_echoing(&control, &token).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_redacts_the_token_from_live_values_and_errors() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    let token = sandbox.admin_token().to_owned();
    live_echoing(&control, &token).await;
    let dir = workdir("{}\n");
    let run = tfe_admin_against(&sandbox, dir.path(), &["export"], &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(!run.stdout.contains(&token), "{}", run.stdout);
    assert!(
        run.stdout.contains("login-help: \"hi (sensitive) canary"),
        "{}",
        run.stdout
    );
    control
        .fault(
            Fault::new("/api/v2/admin/general-settings", 404)
                .body(&echoing_error(404, &token, None)),
        )
        .await;
    let run = tfe_admin_against(&sandbox, dir.path(), &["export"], &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(!run.stderr.contains(&token), "{}", run.stderr);
    assert!(run.stderr.contains("for (sensitive)"), "{}", run.stderr);
}

// --- A plan file does not choose where the token goes -------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_file_edited_to_another_address_sends_nothing_anywhere() {
    let ours = start_sandbox().await;
    let theirs = start_sandbox().await;
    let (ours_control, theirs_control) = (Control::new(&ours), Control::new(&theirs));
    let dir = workdir(YAML);
    let planned = tfe_admin_against(&ours, dir.path(), &["plan", "--out", "p.json"], &[]).await;
    assert_eq!(planned.code, Some(0), "{}", planned.stderr);
    let path = dir.path().join("p.json");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let _ = plan_document(&text);
    let edited = text.replace(&ours.url(), &theirs.url());
    assert_ne!(edited, text, "the plan records its address");
    if let Err(e) = std::fs::write(&path, edited) {
        panic!("{e}");
    }
    ours_control.clear_requests().await;

    // No address given: the plan's own is not used.
    let run = tfe_admin(
        dir.path(),
        &["apply", "p.json"],
        &[("TFE_TOKEN", ours.admin_token())],
    )
    .await;
    refused(
        &run,
        &[&format!(
            "error: no TFE address: a saved plan does not choose where the token is sent (it was made against {})",
            theirs.url()
        )],
    );
    // Our address given: the plan was made for another, and is refused.
    let run = tfe_admin_against(&ours, dir.path(), &["apply", "p.json"], &[]).await;
    refused(
        &run,
        &[&format!(
            "error: the plan was made against {}, but this run targets {}",
            theirs.url(),
            ours.url()
        )],
    );
    assert!(
        theirs_control.requests().await.is_empty(),
        "a request reached the other host"
    );
    assert!(
        ours_control.requests().await.is_empty(),
        "a refused plan sends nothing"
    );
}

// --- The sandbox as a server others can reach ----------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_plane_answers_only_the_admin_token() {
    let sandbox = start_sandbox().await;
    let tokens = Control::new(&sandbox).tokens().await;
    let client = crate::common::http_client();
    let url = format!("{}/_sandbox/tokens", sandbox.url());
    for token in [
        None,
        Some(tokens.user.as_str()),
        Some(tokens.team.as_str()),
        Some("nope"),
    ] {
        let reply = crate::common::send(&client, reqwest::Method::GET, &url, token, None).await;
        assert_eq!(reply.status, 401, "{token:?}: {}", reply.text);
        assert!(!reply.text.contains(&tokens.admin), "{}", reply.text);
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    }
    // The request log, which shows what clients sent, is behind the same door.
    let url = format!("{}/_sandbox/requests", sandbox.url());
    let reply = crate::common::send(&client, reqwest::Method::GET, &url, None, None).await;
    assert_eq!(reply.status, 401, "{}", reply.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_bodies_are_never_read_and_the_log_is_bounded() {
    let sandbox = start_sandbox().await;
    let control = Control::new(&sandbox);
    control.config(serde_json::json!({"rate_limit": 0})).await;
    // 100 unauthenticated 4 MiB bodies at once: each is answered from its head.
    let body = vec![b'{'; 4 * 1024 * 1024];
    let client = crate::common::http_client();
    let url = format!("{}/api/v2/admin/general-settings", sandbox.url());
    let sends = (0..100).map(|_| {
        client
            .patch(&url)
            .header("content-type", "application/vnd.api+json")
            .body(body.clone())
            .send()
    });
    let replies = futures_util::future::join_all(sends).await;
    // The server answers 401 without reading; a client still sending may see the connection
    // close instead. Never anything else.
    for reply in replies.iter().flatten() {
        assert_eq!(reply.status().as_u16(), 401);
    }
    let logged = control.requests().await;
    assert!(!logged.is_empty(), "the refused requests are logged");
    assert!(
        logged
            .iter()
            .all(|r| r.body.is_null() && r.status == Some(401)),
        "an unauthenticated body was kept"
    );
    // The sandbox still serves.
    let api = crate::common::Api::admin(&sandbox);
    assert_eq!(api.get("admin/general-settings").await.status, 200);

    // The log keeps the last 1000 requests.
    control.clear_requests().await;
    let pings = (0..1010).map(|i| {
        let client = client.clone();
        let url = format!("{}/api/v2/ping?n={i}", sandbox.url());
        async move { client.get(url).send().await.map(|r| r.status().as_u16()) }
    });
    let statuses = futures_util::future::join_all(pings).await;
    assert!(
        statuses.iter().all(|s| matches!(s, Ok(204))),
        "{statuses:?}"
    );
    let logged = control.requests().await;
    assert_eq!(logged.len(), 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_closed_after_the_header_timeout() {
    let mut config = tfe_admin::sandbox::SandboxConfig::new(tfe_admin::sandbox::random_token());
    config.header_timeout = std::time::Duration::from_millis(200);
    let sandbox = crate::common::start_sandbox_with(config).await;
    let addr = sandbox.addr();
    // Silent, and half a request head.
    for opening in [&b""[..], b"GET /api/v2/ping HTTP/1.1\r\nHost: x\r\n"] {
        let mut socket = match tokio::net::TcpStream::connect(addr).await {
            Ok(s) => s,
            Err(e) => panic!("connect: {e}"),
        };
        if let Err(e) = socket.write_all(opening).await {
            panic!("write: {e}");
        }
        let mut buffer = [0u8; 1024];
        // Generous: the server closes it after 200 ms; a missing timeout would wait here.
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(20), socket.read(&mut buffer))
                .await;
        match read {
            Ok(Ok(n)) => {
                let text = String::from_utf8_lossy(&buffer[..n]);
                assert!(n == 0 || text.starts_with("HTTP/1.1 408"), "{text}");
            }
            Ok(Err(_)) => {} // reset: closed too
            Err(elapsed) => panic!("the connection was held open: {elapsed}"),
        }
    }
    // A client that speaks is served as ever.
    let api = crate::common::Api::admin(&sandbox);
    assert_eq!(api.get("ping").await.status, 204);
}

fn sandbox_binary(args: &[&str]) -> std::process::Output {
    match std::process::Command::new(env!("CARGO_BIN_EXE_tfe-admin"))
        .arg("sandbox")
        .args(args)
        .env_clear()
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("cannot run tfe-admin: {e}"),
    }
}

#[test]
fn the_control_plane_never_listens_beyond_loopback_and_tokens_are_long() {
    for (args, message) in [
        (
            &[
                "--listen",
                "0.0.0.0:0",
                "--listen-any",
                "--token",
                "a-long-enough-token-1234",
                "--control",
            ][..],
            "error: cannot start the sandbox\ncaused by: refusing --control on 0.0.0.0:0: the control plane shows every token and replaces the state, so it is served on loopback only\n",
        ),
        (
            &["--listen", "127.0.0.1:0", "--token", "x"][..],
            "error: cannot start the sandbox\ncaused by: the --token is 1 characters; a sandbox token has at least 16\n",
        ),
    ] {
        let output = sandbox_binary(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(stderr.starts_with(message), "{args:?}: {stderr}");
    }
}

#[cfg(unix)]
#[test]
fn listen_any_prints_an_address_a_client_can_use() {
    use std::io::BufRead as _;
    let mut child = match std::process::Command::new(env!("CARGO_BIN_EXE_tfe-admin"))
        .args([
            "sandbox",
            "--listen",
            "0.0.0.0:0",
            "--listen-any",
            "--token",
            "a-long-enough-token-1234",
        ])
        .env_clear()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let lines: Vec<String> = match child.stdout.take() {
        Some(out) => std::io::BufReader::new(out)
            .lines()
            .take(2)
            .map_while(Result::ok)
            .collect(),
        None => Vec::new(),
    };
    let _ = child.kill();
    let _ = child.wait();
    let address = lines
        .get(1)
        .and_then(|l| l.strip_prefix("export TFE_ADDRESS="))
        .unwrap_or_default()
        .to_owned();
    assert!(address.starts_with("http://127.0.0.1:"), "{lines:?}");
    let port = address.rsplit(':').next().unwrap_or_default();
    assert!(
        lines[0].ends_with(&format!("(and every other interface, port {port})")),
        "{lines:?}"
    );
    // The client accepts it (http is for loopback only).
    assert!(tfe_admin::options::parse_target(&address).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applies_on_one_sandbox_file_both_keep_their_change() {
    // Without the lock, each process wrote back the state it loaded at its start, and the
    // later write dropped the earlier one's change. Repeated: the race needs an overlap.
    for round in 0..3 {
        let dir = workdir("");
        for (name, yaml) in [
            ("a.yaml", "general:\n  api-rate-limit: 45\n"),
            ("b.yaml", "customization:\n  footer: from b\n"),
        ] {
            if let Err(e) = std::fs::write(dir.path().join(name), yaml) {
                panic!("{e}");
            }
        }
        let args = |file: &'static str| {
            [
                "apply",
                "-f",
                file,
                "--auto-approve",
                "--address",
                "sandbox:state.json",
            ]
        };
        let (a_args, b_args) = (args("a.yaml"), args("b.yaml"));
        let (a, b) = tokio::join!(
            tfe_admin(dir.path(), &a_args, &[]),
            tfe_admin(dir.path(), &b_args, &[])
        );
        assert_eq!(a.code, Some(0), "round {round}: {}", a.stderr);
        assert_eq!(b.code, Some(0), "round {round}: {}", b.stderr);
        let state: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("state.json")).unwrap_or_default(),
        )
        .unwrap_or_default();
        assert_eq!(
            state["settings"]["general"]["api-rate-limit"],
            serde_json::json!(45),
            "round {round}: a's change was lost: {state}"
        );
        assert_eq!(
            state["settings"]["customization"]["footer"],
            serde_json::json!("from b"),
            "round {round}: b's change was lost: {state}"
        );
    }
}

// --- Smaller things --------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_refuses_to_write_a_value_of_the_wrong_type() {
    let sandbox = start_sandbox().await;
    Control::new(&sandbox)
        .fault(
            Fault::new("/api/v2/admin/general-settings", 200).body(
                r#"{"data": {"id": "general", "type": "general-settings", "attributes": {"api-rate-limit": "thirty", "plan-timeout": "2h"}}}"#,
            ),
        )
        .await;
    let dir = workdir("");
    let run = tfe_admin_against(
        &sandbox,
        dir.path(),
        &["export", "--section", "general", "-o", "out.yaml"],
        &[],
    )
    .await;
    refused(
        &run,
        &[
            "general.api-rate-limit: expected an integer, found a string",
            "error: the live settings do not make a valid desired-state file: 1 problem (nothing was written)",
        ],
    );
    assert!(!dir.path().join("out.yaml").exists(), "a file was written");
}

#[cfg(unix)]
#[test]
fn a_token_that_is_not_text_is_named_as_such() {
    use std::os::unix::ffi::OsStrExt as _;
    let dir = workdir(YAML);
    let output = match std::process::Command::new(env!("CARGO_BIN_EXE_tfe-admin"))
        .arg("plan")
        .current_dir(dir.path())
        .env_clear()
        .env("TFE_ADDRESS", "https://tfe.example.com")
        .env("TFE_TOKEN", std::ffi::OsStr::from_bytes(b"tok\xff\xfeen"))
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("{e}"),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(
            "error: TFE_TOKEN is not valid text (it holds bytes that are not UTF-8)\n"
        ),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_as_a_non_secret_value_is_never_printed() {
    let sandbox = start_sandbox().await;
    let token = sandbox.admin_token().to_owned();
    let dir = workdir("customization:\n  footer: ${env:TFE_TOKEN}\n");
    for format in ["text", "json", "markdown"] {
        let run = tfe_admin_against(&sandbox, dir.path(), &["plan", "--format", format], &[]).await;
        assert_eq!(run.code, Some(0), "{format}: {}", run.stderr);
        assert!(
            !run.stdout.contains(&token) && !run.stderr.contains(&token),
            "{format}: printed the token:\n{}{}",
            run.stdout,
            run.stderr
        );
        assert!(
            run.stdout.contains("customization"),
            "{format}: {}",
            run.stdout
        );
    }
}
