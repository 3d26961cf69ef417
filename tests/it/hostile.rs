//! Hostile inputs and hostile servers (issue 10), each attack run with the real binary:
//! files that are not files or never end (`/dev/zero`, FIFOs) as the CA bundle and the
//! sandbox state, a server that sends more than any settings document could be.
//! Every refusal is exit 1 with a message naming what was refused; nothing hangs.

use std::path::Path;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use crate::common::{Run, tfe_admin, workdir};

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
