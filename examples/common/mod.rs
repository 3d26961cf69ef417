//! Helpers shared by the benchmark examples: find the built binary, time runs of it, and
//! read figures out of the sandbox's request log.

#![allow(dead_code, reason = "each example uses a different subset")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// `target/<profile>/tfe-admin`, beside this example's own directory.
pub fn binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.parent()?.join("tfe-admin");
    path.is_file().then_some(path)
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().unwrap_or_default()
}

pub fn time_runs(
    binary: &Path,
    args: &[&str],
    env: &[(&str, String)],
    runs: usize,
) -> Vec<Duration> {
    (0..runs)
        .map(|_| {
            let mut cmd = Command::new(binary);
            cmd.args(args).env_clear();
            for (k, v) in env {
                cmd.env(k, v);
            }
            let started = Instant::now();
            match cmd.output() {
                Ok(out) if out.status.code().is_some_and(|c| c <= 2) => started.elapsed(),
                Ok(out) => fail(&format!(
                    "run failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                )),
                Err(e) => fail(&format!("cannot run {}: {e}", binary.display())),
            }
        })
        .collect()
}

/// The most requests received within any window of one second.
pub fn busiest_second(sorted_ms: &[f64]) -> usize {
    let mut best = 0;
    let mut first = 0;
    for (last, at) in sorted_ms.iter().enumerate() {
        while at - sorted_ms[first] >= 1000.0 {
            first += 1;
        }
        best = best.max(last - first + 1);
    }
    best
}

pub fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn fail(message: &str) -> ! {
    eprintln!("bench_plan: {message}");
    std::process::exit(1);
}

/// A client for the sandbox's control plane, which answers only the admin token.
pub fn control_client(admin_token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    match reqwest::header::HeaderValue::from_str(&format!("Bearer {admin_token}")) {
        Ok(value) => {
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        Err(e) => fail(&format!("admin token: {e}")),
    }
    match reqwest::Client::builder().default_headers(headers).build() {
        Ok(client) => client,
        Err(e) => fail(&format!("client: {e}")),
    }
}
