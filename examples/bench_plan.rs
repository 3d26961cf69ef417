//! Benchmark of `tfe-admin plan` over every section against the sandbox with injected
//! latency: wall time beyond process start, and the request rate the sandbox saw.
//!
//! Run: `cargo build --release && cargo run --release --example bench_plan [LATENCY_MS] [RUNS]`
//! Target (issue 4): wall time under 1 x latency + 50 ms beyond process start (all requests
//! concurrent), and never more than `--rps` requests in any one-second window.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark program: its figures on stdout are its whole output"
)]

#[path = "common/mod.rs"]
mod common;

use common::{binary, busiest_second, control_client, fail, median, ms, path_str, time_runs};

use std::path::Path;

use serde_json::{Value, json};
use tfe_admin::sandbox::{self, SandboxConfig};

fn main() {
    let mut args = std::env::args().skip(1);
    let latency_ms: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let Some(binary) = binary() else {
        eprintln!("build the binary first: cargo build --release");
        std::process::exit(1);
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
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let full = manifest.join("examples/full.yaml");

        let start = median(&time_runs(&binary, &["--version"], &[], runs));
        println!("process start (tfe-admin --version): {:.1} ms median", ms(start));

        for (rps, latency) in [(30, latency_ms), (5, 0)] {
            let _ = client
                .put(format!("{control}/latency"))
                .json(&json!({ "ms": latency }))
                .send()
                .await;
            let _ = client.delete(format!("{control}/requests")).send().await;
            let env = [
                ("TFE_ADDRESS", sandbox.url()),
                ("TFE_TOKEN", sandbox.admin_token().to_owned()),
            ];
            let rps_text = rps.to_string();
            let plan_args = ["plan", "-f", path_str(&full), "--rps", rps_text.as_str()];
            let times = time_runs(&binary, &plan_args, &env, if rps == 30 { runs } else { 2 });
            let requests: Vec<Value> = match client.get(format!("{control}/requests")).send().await {
                Ok(r) => r.json().await.unwrap_or_default(),
                Err(e) => fail(&format!("request log: {e}")),
            };
            let mut received: Vec<f64> = requests
                .iter()
                .filter_map(|r| r.get("received-ms").and_then(Value::as_f64))
                .collect();
            received.sort_by(f64::total_cmp);
            // Runs are sequential, so each run's requests are a contiguous slice of the log.
            let per_run = received.len() / times.len().max(1);
            let busiest = received
                .chunks(per_run.max(1))
                .map(busiest_second)
                .max()
                .unwrap_or_default();
            let median_time = median(&times);
            println!(
                "plan of examples/full.yaml (11 sections), --rps {rps}, latency {latency} ms: median {:.1} ms, min {:.1}, max {:.1} over {} runs; \
                 beyond process start {:.1} ms (target < {} ms when --rps allows every request at once); {per_run} requests per run; \
                 busiest one-second window of a run {busiest} requests (limit {rps})",
                ms(median_time),
                ms(times.iter().copied().min().unwrap_or_default()),
                ms(times.iter().copied().max().unwrap_or_default()),
                times.len(),
                ms(median_time.saturating_sub(start)),
                latency + 50,
            );
        }
        sandbox.shutdown().await;
    });
}
