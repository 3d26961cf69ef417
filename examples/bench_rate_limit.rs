//! Benchmark of `tfe-admin plan` against a server that allows only N requests per second
//! (the sandbox's own limiter, which answers 429 with `x-ratelimit-limit` and
//! `x-ratelimit-reset` as TFE does), with the client's default `--rps 30`: the plan must
//! complete, absorbing the 429s. Prints the wall time, the 429s the server sent, and the
//! busiest one-second window it saw.
//!
//! Run: `cargo build --release && cargo run --release --example bench_rate_limit [LIMIT] [RUNS]`
//! Target (issue 9): against a limit of 1 request/s, a plan of four sections completes.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark program: its figures on stdout are its whole output"
)]

#[path = "common/mod.rs"]
mod common;

use common::{busiest_second, fail, median, ms};

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tfe_admin::sandbox::{self, SandboxConfig};

/// Four sections: six requests with the preflight (account/details, ping).
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

fn main() {
    let mut args = std::env::args().skip(1);
    let limit: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let Some(binary) = common::binary() else {
        eprintln!("build the binary first: cargo build --release");
        std::process::exit(1);
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => fail(&format!("tempdir: {e}")),
    };
    let file = dir.path().join("tfe-admin.yaml");
    if let Err(e) = std::fs::write(&file, FOUR_SECTIONS) {
        fail(&format!("write: {e}"));
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => fail(&format!("runtime: {e}")),
    };
    runtime.block_on(async move {
        let mut config = SandboxConfig::new(sandbox::random_token());
        config.control = true;
        config.rate_limit = limit;
        let sandbox = match sandbox::start(config).await {
            Ok(s) => s,
            Err(e) => fail(&format!("sandbox: {e}")),
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        let control = format!("{}/_sandbox", sandbox.url());
        let mut times = Vec::new();
        let mut refused = Vec::new();
        let mut busiest = 0;
        let mut requests_per_run = 0;
        for _ in 0..runs {
            // A fresh window for every run: the previous run's requests must not count.
            tokio::time::sleep(Duration::from_millis(1_100)).await;
            let _ = client.delete(format!("{control}/requests")).send().await;
            let mut cmd = Command::new(&binary);
            cmd.args(["plan", "-f"])
                .arg(&file)
                .env_clear()
                .env("TFE_ADDRESS", sandbox.url())
                .env("TFE_TOKEN", sandbox.admin_token());
            let started = Instant::now();
            let output = match tokio::task::spawn_blocking(move || cmd.output()).await {
                Ok(Ok(output)) => output,
                Ok(Err(e)) => fail(&format!("cannot run {}: {e}", binary.display())),
                Err(e) => fail(&format!("run: {e}")),
            };
            let elapsed = started.elapsed();
            if output.status.code() != Some(0) {
                fail(&format!(
                    "plan failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
            times.push(elapsed);
            let log: Vec<Value> = match client.get(format!("{control}/requests")).send().await {
                Ok(r) => r.json().await.unwrap_or_default(),
                Err(e) => fail(&format!("request log: {e}")),
            };
            if std::env::var_os("BENCH_LOG").is_some() {
                for r in &log {
                    eprintln!("{} {} {}", r["received-ms"], r["status"], r["path"]);
                }
            }
            refused.push(
                log.iter()
                    .filter(|r| r.get("status") == Some(&json!(429)))
                    .count(),
            );
            let mut answered: Vec<f64> = log
                .iter()
                .filter(|r| r.get("status") != Some(&json!(429)))
                .filter_map(|r| r.get("received-ms").and_then(Value::as_f64))
                .collect();
            answered.sort_by(f64::total_cmp);
            requests_per_run = answered.len();
            busiest = busiest.max(busiest_second(&answered));
        }
        let median_time = median(&times);
        println!(
            "plan of 4 sections ({requests_per_run} requests), --rps 30 (default), server limit {limit}/s: \
             completed {runs} of {runs} runs; median {:.0} ms, min {:.0}, max {:.0}; 429s per run {refused:?}; \
             busiest one-second window of requests served {busiest} (limit {limit})",
            ms(median_time),
            ms(times.iter().copied().min().unwrap_or_default()),
            ms(times.iter().copied().max().unwrap_or_default()),
        );
        sandbox.shutdown().await;
    });
}
