//! Benchmark of the tool-version collections against the sandbox with injected latency and
//! 250 versions in each of the three collections:
//! - `plan` of `examples/full.yaml` (every settings section and the three collections): wall
//!   time beyond process start (target under 2 x latency + 50 ms: the first page of every list
//!   and every settings GET in the first round trip, the remaining pages in the second);
//! - `apply -f --auto-approve` creating 20 Terraform versions (target: one round of POSTs,
//!   then one verifying read: the read's two round trips, the POSTs, the verifying read);
//! - for both, the busiest one-second window of the requests the sandbox received (never more
//!   than `--rps`, 30).
//!
//! Run: `cargo build --release && cargo run --release --example bench_collections [LATENCY_MS] [RUNS]`

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark program: its figures on stdout are its whole output"
)]

#[path = "common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{binary, busiest_second, control_client, fail, median, ms, path_str, time_runs};
use serde_json::{Value, json};
use tfe_admin::sandbox::{self, SandboxConfig};

const SHA: &str = "9f3c2a1b0e4d5c6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f";

/// 250 custom versions of one tool, `0.1.0` to `0.1.249`.
fn versions(tool: &str) -> Vec<Value> {
    (0..250)
        .map(|i| {
            let url = format!("https://releases.example.com/{tool}/0.1.{i}/{tool}_linux_amd64.zip");
            json!({
                "id": format!("tool-{tool}{i:06}"), "version": format!("0.1.{i}"),
                "url": url, "sha": SHA,
                "archs": [{"os": "linux", "arch": "amd64", "url": url, "sha": SHA}],
                "official": false, "enabled": true, "beta": false, "deprecated": false,
                "deprecated-reason": null, "usage": 0,
            })
        })
        .collect()
}

/// A file creating 20 Terraform versions, `2.0.0` to `2.0.19`.
fn twenty_new_versions() -> String {
    let mut text = String::from("terraform-versions:\n  versions:\n");
    for i in 0..20 {
        let url =
            format!("https://releases.example.com/terraform/2.0.{i}/terraform_linux_amd64.zip");
        let _ = write!(
            text,
            "    \"2.0.{i}\":\n      archs: [{{os: linux, arch: amd64, url: \"{url}\", sha: {SHA}}}]\n"
        );
    }
    text
}

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
        let dir = std::env::temp_dir().join(format!("tfe-admin-bench-{}", std::process::id()));
        if std::fs::create_dir_all(&dir).is_err() {
            fail("cannot create a temporary directory");
        }
        let create = dir.join("create.yaml");
        if std::fs::write(&create, twenty_new_versions()).is_err() {
            fail("cannot write the file that creates 20 versions");
        }
        let state = json!({"version": 1, "settings": {}, "write-only-set": {}, "policies": {},
        "collections": {
            "terraform-versions": versions("terraform"),
            "sentinel-versions": versions("sentinel"),
            "opa-versions": versions("opa"),
        }});
        let env = [
            ("TFE_ADDRESS", sandbox.url()),
            ("TFE_TOKEN", sandbox.admin_token().to_owned()),
        ];
        let start = median(&time_runs(&binary, &["--version"], &[], runs));
        println!(
            "process start (tfe-admin --version): {:.1} ms median",
            ms(start)
        );
        let cases: [(&str, Vec<&str>, u64); 2] = [
            (
                "plan of examples/full.yaml (8 settings sections, 3 collections of 250 versions)",
                vec!["plan", "-f", path_str(&full)],
                2,
            ),
            (
                "apply creating 20 Terraform versions (250 listed)",
                vec!["apply", "-f", path_str(&create), "--auto-approve"],
                4,
            ),
        ];
        let bench = Bench {
            binary,
            client,
            control,
            state,
            env,
            latency_ms,
            runs,
            start,
        };
        for (label, command, round_trips) in cases {
            bench.measure(label, &command, round_trips).await;
        }
        let _ = std::fs::remove_dir_all(&dir);
        sandbox.shutdown().await;
    });
}

/// What every measurement needs.
struct Bench {
    binary: PathBuf,
    client: reqwest::Client,
    control: String,
    state: Value,
    env: [(&'static str, String); 2],
    latency_ms: u64,
    runs: usize,
    start: Duration,
}

impl Bench {
    /// Runs `command` `runs` times from the same state and prints the figures.
    async fn measure(&self, label: &str, command: &[&str], round_trips: u64) {
        let (client, control, latency_ms, runs) =
            (&self.client, &self.control, self.latency_ms, self.runs);
        let mut times = Vec::new();
        let mut requests_per_run = 0;
        let mut busiest = 0;
        let mut last_log = Vec::new();
        for _ in 0..runs {
            let _ = client
                .put(format!("{control}/state"))
                .json(&self.state)
                .send()
                .await;
            let _ = client.delete(format!("{control}/requests")).send().await;
            let _ = client
                .put(format!("{control}/latency"))
                .json(&json!({"ms": latency_ms}))
                .send()
                .await;
            times.extend(time_runs(&self.binary, command, &self.env, 1));
            let log: Vec<Value> = match client.get(format!("{control}/requests")).send().await {
                Ok(r) => r.json().await.unwrap_or_default(),
                Err(e) => fail(&format!("request log: {e}")),
            };
            let mut received: Vec<f64> = log
                .iter()
                .filter_map(|r| r.get("received-ms").and_then(Value::as_f64))
                .collect();
            received.sort_by(f64::total_cmp);
            busiest = busiest.max(busiest_second(&received));
            requests_per_run = log.len();
            last_log = log;
        }
        let median_time = median(&times);
        let beyond = median_time.saturating_sub(self.start);
        println!(
            "{label}, latency {latency_ms} ms: median {:.1} ms, min {:.1}, max {:.1} over {runs} \
             runs; beyond process start {:.1} ms = {:.1} round trips (target < {round_trips} x \
             latency + 50 = {} ms); {requests_per_run} requests per run; busiest one-second \
             window {busiest} requests (limit 30)",
            ms(median_time),
            ms(times.iter().copied().min().unwrap_or_default()),
            ms(times.iter().copied().max().unwrap_or_default()),
            ms(beyond),
            beyond.as_secs_f64() / Duration::from_millis(latency_ms.max(1)).as_secs_f64(),
            round_trips * latency_ms + 50,
        );
        // The calls of the last run, each kind once.
        let mut calls: Vec<String> = last_log
            .iter()
            .map(|r| {
                let path = r["path"].as_str().unwrap_or_default();
                let path = path.split('?').next().unwrap_or_default();
                format!(
                    "{} {}",
                    r["method"].as_str().unwrap_or_default(),
                    path.trim_start_matches("/api/v2/")
                )
            })
            .collect();
        calls.sort();
        calls.dedup();
        println!("  calls: {}", calls.join(", "));
    }
}
