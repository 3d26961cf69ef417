//! Benchmark of `tfe-admin apply --auto-approve` of changes in every section against the
//! sandbox with injected latency: wall time beyond process start, and the number of
//! round trips it took.
//!
//! Run: `cargo build --release && cargo run --release --example bench_apply [LATENCY_MS] [RUNS]`
//! Target (issue 5): under 2 x latency + 50 ms beyond process start.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark program: its figures on stdout are its whole output"
)]

#[path = "common/mod.rs"]
mod common;

use std::path::Path;
use std::time::Duration;

use common::{binary, control_client, fail, median, ms, path_str, time_runs};
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
        let start = median(&time_runs(&binary, &["--version"], &[], runs));
        let env = [
            ("TFE_ADDRESS", sandbox.url()),
            ("TFE_TOKEN", sandbox.admin_token().to_owned()),
        ];
        let mut times = Vec::new();
        let mut requests_per_run = 0;
        for _ in 0..runs {
            // Back to the documented defaults, so that every run changes every section.
            let fresh = json!({"version": 1, "settings": {}, "write-only-set": {}, "policies": {}});
            let _ = client.put(format!("{control}/state")).json(&fresh).send().await;
            let _ = client.delete(format!("{control}/requests")).send().await;
            let _ = client.put(format!("{control}/latency")).json(&json!({"ms": latency_ms})).send().await;
            let apply = ["apply", "-f", path_str(&full), "--auto-approve"];
            times.extend(time_runs(&binary, &apply, &env, 1));
            let log: Vec<Value> = match client.get(format!("{control}/requests")).send().await {
                Ok(r) => r.json().await.unwrap_or_default(),
                Err(e) => fail(&format!("request log: {e}")),
            };
            requests_per_run = log.len();
        }
        let median_time = median(&times);
        let beyond = median_time.saturating_sub(start);
        println!("process start (tfe-admin --version): {:.1} ms median", ms(start));
        println!(
            "apply of 8 sections (54 attributes, twilio verify, smtp test mail), latency {latency_ms} ms: \
             median {:.1} ms, min {:.1}, max {:.1} over {runs} runs; beyond process start {:.1} ms \
             = {:.1} round trips (target < 2 x latency + 50 = {} ms); {requests_per_run} requests per run",
            ms(median_time),
            ms(times.iter().copied().min().unwrap_or_default()),
            ms(times.iter().copied().max().unwrap_or_default()),
            ms(beyond),
            beyond.as_secs_f64() / Duration::from_millis(latency_ms.max(1)).as_secs_f64(),
            2 * latency_ms + 50,
        );
        sandbox.shutdown().await;
    });
}
