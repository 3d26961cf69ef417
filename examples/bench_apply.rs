//! Benchmark of `tfe-admin apply -f FILE --auto-approve` against the sandbox with injected
//! latency: one section (the read, the write, the verifying read: target under 3 x latency +
//! 50 ms beyond process start), and changes in every section of `examples/full.yaml` (target
//! under 4 x latency + 50 ms). Prints wall time beyond process start and round trips.
//!
//! Run: `cargo build --release && cargo run --release --example bench_apply [LATENCY_MS] [RUNS]`

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark program: its figures on stdout are its whole output"
)]

#[path = "common/mod.rs"]
mod common;

use std::path::Path;
use std::time::Duration;

use common::{binary, busiest_second, control_client, fail, median, ms, path_str, time_runs};
use serde_json::{Value, json};
use tfe_admin::sandbox::{self, SandboxConfig};

fn main() {
    let mut args = std::env::args().skip(1);
    let latency_ms: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let Some(binary) = binary() else {
        fail("build the binary first: cargo build --release")
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => fail(&format!("runtime: {e}")),
    };
    runtime.block_on(async move {
        let mut config = SandboxConfig::new(sandbox::random_token());
        config.control = true;
        config.rate_limit = 0;
        let sandbox = match sandbox::start(config).await {
            Ok(s) => s,
            Err(e) => fail(&format!("sandbox: {e}")),
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = control_client(sandbox.admin_token());
        let control = format!("{}/_sandbox", sandbox.url());
        let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/full.yaml");
        let Some(dir) = tempfile_dir() else {
            fail("cannot create a temporary directory")
        };
        let one = dir.join("one.yaml");
        if std::fs::write(&one, "general:\n  api-rate-limit: 45\n").is_err() {
            fail("cannot write the one-section file");
        }
        let start = median(&time_runs(&binary, &["--version"], &[], runs));
        let env = [
            ("TFE_ADDRESS", sandbox.url()),
            ("TFE_TOKEN", sandbox.admin_token().to_owned()),
        ];
        println!(
            "process start (tfe-admin --version): {:.1} ms median",
            ms(start)
        );
        // The full example makes 37 requests: at the default --rps 30 the last 7 wait for
        // the one-second window; at 40 (a server that allows it) they need not.
        for (label, file, target, rps) in [
            ("apply of 1 section (1 attribute)", &one, 3, "30"),
            (
                "apply of examples/full.yaml (8 settings sections with 54 attributes, a twilio \
                 verify, an smtp test mail; 4 tool versions created in 3 collections), --rps 30",
                &full,
                4,
                "30",
            ),
            ("the same with --rps 40", &full, 4, "40"),
        ] {
            let apply = [
                "apply",
                "-f",
                path_str(file),
                "--auto-approve",
                "--rps",
                rps,
            ];
            let (times, requests_per_run, busiest) =
                measure(&client, &control, &binary, &apply, &env, latency_ms, runs).await;
            let median_time = median(&times);
            let beyond = median_time.saturating_sub(start);
            println!(
                "{label}, latency {latency_ms} ms: median {:.1} ms, min {:.1}, max {:.1} over \
                 {runs} runs; beyond process start {:.1} ms = {:.1} round trips (target < {target} \
                 x latency + 50 = {} ms); {requests_per_run} requests per run; busiest one-second \
                 window {busiest} requests (limit {rps})",
                ms(median_time),
                ms(times.iter().copied().min().unwrap_or_default()),
                ms(times.iter().copied().max().unwrap_or_default()),
                ms(beyond),
                beyond.as_secs_f64() / Duration::from_millis(latency_ms.max(1)).as_secs_f64(),
                target * latency_ms + 50,
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
        sandbox.shutdown().await;
    });
}

/// A fresh directory under the system's temporary directory.
fn tempfile_dir() -> Option<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("tfe-admin-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir)
}

/// Runs `apply` `runs` times from the documented defaults: the times, the requests of a run
/// and the busiest one-second window seen.
async fn measure(
    client: &reqwest::Client,
    control: &str,
    binary: &Path,
    apply: &[&str],
    env: &[(&str, String)],
    latency_ms: u64,
    runs: usize,
) -> (Vec<Duration>, usize, usize) {
    let mut times = Vec::new();
    let mut requests_per_run = 0;
    let mut busiest = 0;
    for _ in 0..runs {
        // Back to the documented defaults, so that every run changes every section.
        let fresh = json!({"version": 1, "settings": {}, "write-only-set": {}, "policies": {}});
        let _ = client
            .put(format!("{control}/state"))
            .json(&fresh)
            .send()
            .await;
        let _ = client.delete(format!("{control}/requests")).send().await;
        let _ = client
            .put(format!("{control}/latency"))
            .json(&json!({"ms": latency_ms}))
            .send()
            .await;
        times.extend(time_runs(binary, apply, env, 1));
        let log: Vec<Value> = match client.get(format!("{control}/requests")).send().await {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(e) => fail(&format!("request log: {e}")),
        };
        requests_per_run = log.len();
        let mut received: Vec<f64> = log
            .iter()
            .filter_map(|r| r.get("received-ms").and_then(Value::as_f64))
            .collect();
        received.sort_by(f64::total_cmp);
        busiest = busiest.max(busiest_second(&received));
    }
    (times, requests_per_run, busiest)
}
