//! Peak memory of the tool under each attack of issue 10, measured with `/usr/bin/time -v`
//! (its "Maximum resident set size") around the real binary: files that never end or never
//! open (`/dev/zero`, FIFOs) as every kind of input, a server sending a gigabyte, and the
//! sandbox under 100 concurrent unauthenticated 4 MiB uploads and 3000 silent connections
//! (about a minute: the sandbox serves 1024 connections at once and closes a silent one after
//! 10 s).
//! Prints one line per attack: what happened, and the peak. The target: under 64 MiB each.
//!
//! Run: `cargo build --release && cargo run --release --example hostile_memory`
//! (Linux: it needs GNU time at /usr/bin/time, `mkfifo`, and /proc to find the sandbox's pid.)

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a measuring program: its figures on stdout are its whole output"
)]

#[path = "common/mod.rs"]
mod common;

use common::{binary, fail};

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The body the hostile server sends.
const GIB: usize = 1 << 30;

/// How long one run may take before it is called hung and killed.
const HANG: Duration = Duration::from_secs(30);

/// One run of the client binary.
struct ClientRun {
    label: &'static str,
    args: &'static [&'static str],
    env: Vec<(&'static str, String)>,
}

/// The attacks on the client, after two baselines.
fn client_runs() -> Vec<ClientRun> {
    let run = |label, args| ClientRun {
        label,
        args,
        env: Vec::new(),
    };
    vec![
        run("baseline: `tfe-admin --version`", &["--version"]),
        run(
            "baseline: validate a small file",
            &["validate", "-f", "ok.yaml"],
        ),
        run("`validate -f /dev/zero`", &["validate", "-f", "/dev/zero"]),
        run(
            "`validate -f FIFO` (no writer)",
            &["validate", "-f", "yaml.fifo"],
        ),
        run(
            "`validate -f` a 10 MiB file",
            &["validate", "-f", "big.yaml"],
        ),
        run(
            "`${file:/dev/zero}` (absolute)",
            &["validate", "-f", "abs-zero.yaml"],
        ),
        run(
            "`${file:zero}`, a symbolic link to /dev/zero",
            &["validate", "-f", "link-zero.yaml"],
        ),
        run(
            "`${file:secret.fifo}` (no writer)",
            &["validate", "-f", "fifo-ref.yaml"],
        ),
        run(
            "`${file:big}`, a 10 MiB file",
            &["validate", "-f", "big-ref.yaml"],
        ),
        run(
            "`plan --address sandbox:/dev/zero`",
            &["plan", "-f", "ok.yaml", "--address", "sandbox:/dev/zero"],
        ),
        run(
            "`plan --address sandbox:state.fifo` (no writer)",
            &["plan", "-f", "ok.yaml", "--address", "sandbox:state.fifo"],
        ),
        ClientRun {
            label: "`TFE_CA_CERT=/dev/zero plan`",
            args: &["plan", "-f", "ok.yaml"],
            env: vec![
                ("TFE_ADDRESS", "https://127.0.0.1:9".to_owned()),
                ("TFE_TOKEN", "t".to_owned()),
                ("TFE_CA_CERT", "/dev/zero".to_owned()),
            ],
        },
        run("`apply /dev/zero` (a saved plan)", &["apply", "/dev/zero"]),
    ]
}

/// What one measured run did.
struct Measured {
    outcome: String,
    peak_kib: Option<u64>,
}

fn main() {
    let Some(binary) = binary() else {
        eprintln!("build the binary first: cargo build --release");
        std::process::exit(1);
    };
    if !Path::new("/usr/bin/time").is_file() {
        fail("GNU time is needed at /usr/bin/time");
    }
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => fail(&format!("tempdir: {e}")),
    };
    let work = dir.path();
    prepare(work);

    println!("| attack | result | peak RSS |");
    println!("|---|---|---|");
    for run in client_runs() {
        row(run.label, &measure(&binary, work, run.args, &run.env));
    }

    for (label, announce) in [
        ("`plan` against a server announcing a 1 GiB body", true),
        ("`plan` against a server streaming 1 GiB, no length", false),
    ] {
        let address = gigabyte_server(announce);
        let env = vec![("TFE_ADDRESS", address), ("TFE_TOKEN", "t".to_owned())];
        row(
            label,
            &measure(&binary, work, &["plan", "-f", "ok.yaml"], &env),
        );
    }

    for (label, attack) in [
        (
            "`sandbox` under 100 concurrent unauthenticated 4 MiB PATCHes",
            Attack::Uploads,
        ),
        (
            "`sandbox` under 3000 silent connections at once",
            Attack::Silent,
        ),
    ] {
        row(label, &sandbox_under(&binary, work, attack));
    }
}

fn row(label: &str, measured: &Measured) {
    let peak = measured.peak_kib.map_or_else(
        || "?".to_owned(),
        |kib| format!("{:.1} MiB", kib as f64 / 1024.0),
    );
    println!("| {label} | {} | {peak} |", measured.outcome);
}

/// The files the attacks read.
fn prepare(work: &Path) {
    let write = |name: &str, text: &[u8]| {
        if let Err(e) = std::fs::write(work.join(name), text) {
            fail(&format!("write {name}: {e}"));
        }
    };
    write("ok.yaml", b"general:\n  api-rate-limit: 45\n");
    write(
        "abs-zero.yaml",
        b"customization:\n  footer: ${file:/dev/zero}\n",
    );
    write(
        "link-zero.yaml",
        b"customization:\n  footer: ${file:zero}\n",
    );
    write(
        "fifo-ref.yaml",
        b"customization:\n  footer: ${file:secret.fifo}\n",
    );
    write("big-ref.yaml", b"customization:\n  footer: ${file:big}\n");
    let ten_mib = vec![b'#'; 10 * 1024 * 1024];
    write("big", &ten_mib);
    write("big.yaml", &ten_mib);
    #[cfg(unix)]
    if let Err(e) = std::os::unix::fs::symlink("/dev/zero", work.join("zero")) {
        fail(&format!("symlink: {e}"));
    }
    for fifo in ["yaml.fifo", "secret.fifo", "state.fifo"] {
        let made = Command::new("mkfifo").arg(work.join(fifo)).status();
        if !made.is_ok_and(|s| s.success()) {
            fail("mkfifo failed");
        }
    }
}

/// Runs the binary under `/usr/bin/time -v`, killing it after [`HANG`].
fn measure(binary: &Path, work: &Path, args: &[&str], env: &[(&str, String)]) -> Measured {
    let mut command = Command::new("/usr/bin/time");
    command
        .arg("-v")
        .arg(binary)
        .args(args)
        .current_dir(work)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => fail(&format!("cannot run /usr/bin/time: {e}")),
    };
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < HANG => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                kill_tree(&child);
                let _ = child.wait();
                break None;
            }
        }
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    let outcome = if status.is_none() {
        format!("hung: killed after {} s", HANG.as_secs())
    } else {
        let code = exit_code(&stderr);
        match first_error(&stderr) {
            Some(error) => format!("exit {code}: {error}"),
            None => format!("exit {code}"),
        }
    };
    Measured {
        outcome,
        peak_kib: peak(&stderr),
    }
}

/// `Maximum resident set size (kbytes): N` from GNU time's report.
fn peak(report: &str) -> Option<u64> {
    report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|n| n.trim().parse().ok())
}

fn exit_code(report: &str) -> String {
    report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Exit status:"))
        .map_or_else(|| "?".to_owned(), |c| c.trim().to_owned())
}

/// The tool's own error and cause, shortened, without the paths of this run.
fn first_error(report: &str) -> Option<String> {
    let lines: Vec<&str> = report
        .lines()
        .filter(|l| !l.starts_with('\t') && !l.starts_with("Command") && !l.starts_with("hint:"))
        .collect();
    let error = lines.iter().position(|l| l.starts_with("error: "))?;
    let mut text: Vec<String> = Vec::new();
    // The diagnostic lines of validate come before its summary.
    if error > 0 {
        text.push(lines[error - 1].to_owned());
    } else {
        text.push(lines[error].trim_start_matches("error: ").to_owned());
        // The deepest cause says what was refused.
        if let Some(cause) = lines[error..]
            .iter()
            .filter_map(|l| l.strip_prefix("caused by: "))
            .next_back()
        {
            text.push(cause.to_owned());
        }
    }
    Some(text.join(": ").replace('|', "\\|"))
}

/// Kills what `/usr/bin/time` runs, then time itself.
fn kill_tree(time: &Child) {
    if let Some(pid) = child_of(time.id()) {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    let _ = Command::new("kill")
        .args(["-KILL", &time.id().to_string()])
        .status();
}

/// The pid of the process `/usr/bin/time` started (Linux: /proc).
fn child_of(pid: u32) -> Option<u32> {
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    children.split_whitespace().next()?.parse().ok()
}

/// A server on 127.0.0.1 that answers every request with a 1 GiB body of blanks, announced
/// in `Content-Length` or streamed chunked without one. Returns its address.
fn gigabyte_server(announce: bool) -> String {
    let listener = match TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => fail(&format!("bind: {e}")),
    };
    let address = match listener.local_addr() {
        Ok(a) => format!("http://{a}"),
        Err(e) => fail(&format!("{e}")),
    };
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve_gigabyte(stream, announce));
        }
    });
    address
}

fn serve_gigabyte(mut stream: TcpStream, announce: bool) {
    let mut request = [0u8; 4096];
    let _ = stream.read(&mut request);
    let head = if announce {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.api+json\r\ncontent-length: {GIB}\r\n\r\n"
        )
    } else {
        "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.api+json\r\ntransfer-encoding: chunked\r\n\r\n".to_owned()
    };
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let chunk = vec![b' '; 64 * 1024];
    let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
    framed.extend_from_slice(&chunk);
    framed.extend_from_slice(b"\r\n");
    for _ in 0..GIB / chunk.len() {
        let written = if announce {
            stream.write_all(&chunk)
        } else {
            stream.write_all(&framed)
        };
        if written.is_err() {
            return;
        }
    }
}

#[derive(Clone, Copy)]
enum Attack {
    Uploads,
    Silent,
}

/// Runs `tfe-admin sandbox` under `/usr/bin/time -v`, attacks it, checks it still serves,
/// stops it with SIGTERM and reads its peak.
fn sandbox_under(binary: &Path, work: &Path, attack: Attack) -> Measured {
    let token = "a-long-enough-sandbox-token-0123456789";
    let mut time = match Command::new("/usr/bin/time")
        .arg("-v")
        .arg(binary)
        // No rate limit: every request reaches authentication.
        .args([
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--token",
            token,
            "--rate-limit",
            "0",
        ])
        .current_dir(work)
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => fail(&format!("cannot start the sandbox: {e}")),
    };
    let address = match time.stdout.take() {
        Some(out) => BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .find_map(|l| l.strip_prefix("export TFE_ADDRESS=").map(str::to_owned)),
        None => None,
    };
    let Some(address) = address else {
        kill_tree(&time);
        fail("the sandbox printed no address");
    };
    let host = address.trim_start_matches("http://").to_owned();
    let outcome = match attack {
        Attack::Uploads => uploads(&host),
        Attack::Silent => silent(&host),
    };
    let still = ping(&host);
    if let Some(pid) = child_of(time.id()) {
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
    let _ = time.wait();
    let mut report = String::new();
    if let Some(mut pipe) = time.stderr.take() {
        let _ = pipe.read_to_string(&mut report);
    }
    Measured {
        outcome: format!("{outcome}; then `ping` {still}"),
        peak_kib: peak(&report),
    }
}

/// 100 unauthenticated 4 MiB `PATCH` requests at once; what the clients saw.
fn uploads(host: &str) -> String {
    let body = vec![b'{'; 4 * 1024 * 1024];
    let threads: Vec<_> = (0..100)
        .map(|_| {
            let host = host.to_owned();
            let body = body.clone();
            std::thread::spawn(move || {
                let Ok(mut stream) = TcpStream::connect(&host) else {
                    return "no connection".to_owned();
                };
                let head = format!(
                    "PATCH /api/v2/admin/general-settings HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/vnd.api+json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
                let mut answer = [0u8; 12];
                match stream.read(&mut answer) {
                    Ok(n) if n >= 12 => String::from_utf8_lossy(&answer[9..12]).into_owned(),
                    _ => "closed".to_owned(),
                }
            })
        })
        .collect();
    let answers: Vec<String> = threads.into_iter().filter_map(|t| t.join().ok()).collect();
    summarise(&answers)
}

/// 3000 connections at once, each sending half a request head and waiting; how many the
/// sandbox closed (after its header timeout, in turns of its connection bound).
fn silent(host: &str) -> String {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => fail(&format!("runtime: {e}")),
    };
    let outcomes = runtime.block_on(async {
        let tasks: Vec<_> = (0..3000)
            .map(|_| tokio::spawn(silent_connection(host.to_owned())))
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap_or("failed").to_owned());
        }
        outcomes
    });
    summarise(&outcomes)
}

async fn silent_connection(host: String) -> &'static str {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let limit = Duration::from_secs(90);
    let Ok(Ok(mut stream)) =
        tokio::time::timeout(limit, tokio::net::TcpStream::connect(host)).await
    else {
        return "not connected";
    };
    if stream
        .write_all(b"GET /api/v2/ping HTTP/1.1\r\nhost: x\r\n")
        .await
        .is_err()
    {
        return "closed by the sandbox";
    }
    let mut buffer = [0u8; 256];
    loop {
        match tokio::time::timeout(limit, stream.read(&mut buffer)).await {
            // A 408, then the end; or the end; or a reset: closed by the server.
            Ok(Ok(0) | Err(_)) => return "closed by the sandbox",
            Ok(Ok(_)) => {}
            Err(_) => return "still open after 90 s",
        }
    }
}

fn ping(host: &str) -> String {
    let Ok(mut stream) = TcpStream::connect(host) else {
        return "refused".to_owned();
    };
    let _ = stream.write_all(b"GET /api/v2/ping HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .get(9..12)
        .map_or_else(|| "no answer".to_owned(), |s| format!("answers {s}"))
}

fn summarise(answers: &[String]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for a in answers {
        match counts.iter_mut().find(|(k, _)| k == a) {
            Some((_, n)) => *n += 1,
            None => counts.push((a.clone(), 1)),
        }
    }
    counts
        .iter()
        .map(|(k, n)| format!("{n} × {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}
