//! The sandbox over HTTPS (`--tls-cert`/`--tls-key`) with a self-signed pair made at test
//! time (no private key is committed): `plan` trusts it through `--ca-cert` or `TFE_CA_CERT`
//! and not otherwise, a client that fails its handshake or says nothing holds up no one, and
//! unusable files stop the start with an error naming them.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tfe_admin::sandbox::{self, Sandbox, SandboxConfig, SandboxError, TlsFiles};

use crate::common::{start_sandbox_with, tfe_admin, workdir};

/// A self-signed certificate for `localhost` and `127.0.0.1` and its key, written into `dir`
/// as `cert.pem` and `key.pem`.
fn self_signed(dir: &Path) -> TlsFiles {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let pair = match rcgen::generate_simple_self_signed(names) {
        Ok(pair) => pair,
        Err(e) => panic!("cannot make a certificate: {e}"),
    };
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    write(&files.cert, &pair.cert.pem());
    write(&files.key, &pair.signing_key.serialize_pem());
    files
}

fn write(path: &Path, text: &str) {
    if let Err(e) = std::fs::write(path, text) {
        panic!("cannot write {}: {e}", path.display());
    }
}

async fn https_sandbox(files: TlsFiles) -> Sandbox {
    let mut config = SandboxConfig::new(sandbox::random_token());
    config.tls = Some(files);
    start_sandbox_with(config).await
}

const FILE: &str = "general:\n  api-rate-limit: 30\n";

#[tokio::test]
async fn plan_runs_over_https_against_a_self_signed_sandbox() {
    let dir = workdir(FILE);
    let files = self_signed(dir.path());
    let cert = files.cert.to_string_lossy().into_owned();
    let sandbox = https_sandbox(files).await;
    let url = sandbox.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let token = sandbox.admin_token();

    let run = tfe_admin(
        dir.path(),
        &[
            "plan",
            "--detailed-exitcode",
            "--address",
            &url,
            "--ca-cert",
            &cert,
        ],
        &[("TFE_TOKEN", token)],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout,
        format!("No changes: {url} (TFE 2.1.0) matches the desired state.\n")
    );

    // The same through the environment, with the certificate's host name.
    let by_name = url.replace("127.0.0.1", "localhost");
    let run = tfe_admin(
        dir.path(),
        &["plan", "--detailed-exitcode"],
        &[
            ("TFE_ADDRESS", &by_name),
            ("TFE_TOKEN", token),
            ("TFE_CA_CERT", &cert),
        ],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);

    // Not trusted without it.
    let run = tfe_admin(
        dir.path(),
        &["plan", "--address", &url],
        &[("TFE_TOKEN", token)],
    )
    .await;
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("the server's TLS certificate is not accepted"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: trust the certificate's CA with --ca-cert"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(token), "{}", run.stderr);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_client_that_fails_or_stalls_its_handshake_holds_up_no_one() {
    let dir = workdir(FILE);
    let files = self_signed(dir.path());
    let cert = files.cert.to_string_lossy().into_owned();
    let sandbox = https_sandbox(files).await;
    let addr = sandbox.addr();
    let url = sandbox.url();

    // Plain HTTP on the HTTPS port: no answer but a closed connection.
    let plain = tokio::task::spawn_blocking(move || {
        let mut stream = match TcpStream::connect(addr) {
            Ok(s) => s,
            Err(e) => panic!("connect: {e}"),
        };
        let _ = stream.write_all(b"GET /api/v2/ping HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut answer = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stream, &mut answer);
        answer
    })
    .await;
    assert!(
        plain.is_ok_and(|answer| !answer.starts_with(b"HTTP/")),
        "plain HTTP was served"
    );

    // A connection that never starts its handshake stays open meanwhile; plan still runs.
    let silent = TcpStream::connect(addr);
    assert!(silent.is_ok(), "{silent:?}");
    let run = tfe_admin(
        dir.path(),
        &[
            "plan",
            "--address",
            &url,
            "--ca-cert",
            &cert,
            "--timeout",
            "5",
        ],
        &[("TFE_TOKEN", sandbox.admin_token())],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    drop(silent);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn unusable_tls_files_stop_the_start_naming_the_file() {
    let dir = workdir(FILE);
    let good = self_signed(dir.path());
    let other_dir = workdir(FILE);
    let other = self_signed(other_dir.path());
    let missing = dir.path().join("missing.pem");
    let garbage = dir.path().join("garbage.pem");
    write(
        &garbage,
        "-----BEGIN PRIVATE KEY-----\nnot base64 at all!\n-----END PRIVATE KEY-----\n",
    );

    let cases: [(PathBuf, PathBuf, &str); 5] = [
        (
            missing.clone(),
            good.key.clone(),
            "cannot read the TLS file",
        ),
        (
            good.cert.clone(),
            missing.clone(),
            "cannot read the TLS file",
        ),
        // The key where the certificate belongs: no certificate in it.
        (good.key.clone(), good.key.clone(), "holds no certificate"),
        (good.cert.clone(), garbage.clone(), "is not valid PEM"),
        // A key that is not the certificate's.
        (good.cert.clone(), other.key.clone(), "cannot serve HTTPS"),
    ];
    for (cert, key, expected) in cases {
        let mut config = SandboxConfig::new(sandbox::random_token());
        config.tls = Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        });
        let Err(error) = sandbox::start(config).await else {
            panic!("started with {} and {}", cert.display(), key.display());
        };
        let text = error.to_string();
        assert!(text.contains(expected), "{text}");
        let named = if text.contains(&*cert.to_string_lossy()) {
            cert
        } else {
            key
        };
        assert!(text.contains(&*named.to_string_lossy()), "{text}");
        if !matches!(error, SandboxError::TlsRead { .. }) {
            assert!(
                error.hint().is_some_and(|h| h.contains("openssl")),
                "{text}"
            );
        }
    }
}

fn sandbox_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tfe-admin"));
    command.arg("sandbox").args(args).env_clear();
    command
}

#[test]
fn the_binary_serves_https_with_both_files_and_wants_both() {
    let dir = workdir(FILE);
    let files = self_signed(dir.path());
    let cert = files.cert.to_string_lossy().into_owned();
    let key = files.key.to_string_lossy().into_owned();

    for args in [&["--tls-cert", &cert][..], &["--tls-key", &key][..]] {
        let output = match sandbox_command(&[&["--listen", "127.0.0.1:0"], args].concat()).output()
        {
            Ok(o) => o,
            Err(e) => panic!("cannot run tfe-admin: {e}"),
        };
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("--tls-"), "{stderr}");
    }

    let mut child = match sandbox_command(&[
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    {
        Ok(child) => child,
        Err(e) => panic!("cannot run tfe-admin: {e}"),
    };
    let first = child
        .stdout
        .take()
        .and_then(|out| BufReader::new(out).lines().next())
        .and_then(Result::ok);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        first
            .as_deref()
            .is_some_and(|l| l.starts_with("Sandbox listening on https://127.0.0.1:")),
        "{first:?}"
    );
}
