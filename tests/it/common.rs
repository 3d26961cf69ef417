//! Helpers shared by the integration tests: an HTTP client, an in-process sandbox with its
//! control plane on, typed calls to the control plane (`Control`) and to the API (`Api`).
//! Every helper panics with a clear message when the sandbox misbehaves: a test should fail
//! at the line that asked, not three calls later. Every test module uses this API;
//! extend it, do not change what is here.

use std::path::Path;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tfe_admin::sandbox::{self, Sandbox, SandboxConfig};

/// An HTTP client. reqwest is built without a default TLS provider, so this installs ring's
/// as the process default first (a second install in the same process is refused; that is
/// fine, one is installed).
#[must_use]
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    match reqwest::Client::builder().build() {
        Ok(client) => client,
        Err(e) => panic!("cannot build the HTTP client: {e}"),
    }
}

/// The rate limit of [`start_sandbox`]: high enough that no test trips it by accident, and a
/// sane `X-RateLimit-Limit` for clients that read it. Tests of rate limiting lower it with
/// `Control::config(json!({"rate_limit": N}))`.
pub const TEST_RATE_LIMIT: u32 = 1000;

/// A sandbox on 127.0.0.1:0 with the control plane on, in memory, emulating TFE 2.1.0.
pub async fn start_sandbox() -> Sandbox {
    let mut config = SandboxConfig::new(sandbox::random_token());
    config.control = true;
    config.rate_limit = TEST_RATE_LIMIT;
    start_sandbox_with(config).await
}

/// A sandbox with this configuration.
pub async fn start_sandbox_with(config: SandboxConfig) -> Sandbox {
    match sandbox::start(config).await {
        Ok(sandbox) => sandbox,
        Err(e) => panic!("the sandbox did not start: {e}"),
    }
}

/// The four tokens of a sandbox run.
#[derive(Debug, Clone, Deserialize)]
pub struct Tokens {
    pub admin: String,
    pub user: String,
    pub team: String,
    pub organization: String,
}

/// One entry of the request log.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Recorded {
    pub method: String,
    /// The path with its query string.
    pub path: String,
    /// The body parsed as JSON, `Null` when there was none or it was not JSON.
    pub body: Value,
    /// `None` while the request is still being answered.
    pub status: Option<u16>,
    /// When it arrived, in milliseconds since the sandbox started.
    #[serde(rename = "received-ms")]
    pub received_ms: f64,
}

/// A fault to inject: the next `count` requests matching `method` (any when `None`) and
/// `path` get `status` (and `body`, and `Retry-After`) instead of being processed.
#[derive(Debug, Clone, Serialize)]
pub struct Fault {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    pub path: String,
    pub status: u16,
    pub count: u32,
    /// Sent as JSON:API when it parses as JSON, else as `text/html`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Process and answer the request as usual, but drop its change (`status` is ignored).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_kept: bool,
}

impl Fault {
    /// `status` for the next request to `path` (e.g. `/api/v2/admin/smtp-settings`).
    #[must_use]
    pub fn new(path: &str, status: u16) -> Self {
        Fault {
            method: None,
            path: path.to_owned(),
            status,
            count: 1,
            body: None,
            retry_after: None,
            not_kept: false,
        }
    }

    /// The next `count` requests matching `path` are answered as usual, their change dropped:
    /// a server that acknowledges a write it does not keep.
    #[must_use]
    pub fn not_kept(path: &str) -> Self {
        Fault {
            not_kept: true,
            ..Fault::new(path, 200)
        }
    }

    #[must_use]
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_owned());
        self
    }

    #[must_use]
    pub fn count(mut self, count: u32) -> Self {
        self.count = count;
        self
    }

    #[must_use]
    pub fn body(mut self, body: &str) -> Self {
        self.body = Some(body.to_owned());
        self
    }

    #[must_use]
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as JSON; `Null` when empty or not JSON.
    pub json: Value,
}

impl Reply {
    /// A header's value as text, `None` when absent.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `data.attributes` of a JSON:API document.
    #[must_use]
    pub fn attributes(&self) -> &Value {
        &self.json["data"]["attributes"]
    }

    /// The `source.pointer`s of a JSON:API error object, in order.
    #[must_use]
    pub fn pointers(&self) -> Vec<String> {
        self.json["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["source"]["pointer"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Sends one request and reads the whole response.
pub async fn send(
    client: &reqwest::Client,
    method: Method,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let mut request = client.request(method.clone(), url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/vnd.api+json")
            .body(body.to_string());
    }
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => panic!("{method} {url} failed: {e}"),
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = match response.text().await {
        Ok(t) => t,
        Err(e) => panic!("{method} {url}: cannot read the body: {e}"),
    };
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        text,
        json,
    }
}

/// The admin API of a sandbox (or any TFE), with one token.
#[derive(Debug, Clone)]
pub struct Api {
    base: String,
    token: Option<String>,
    client: reqwest::Client,
}

impl Api {
    /// The sandbox's API with its admin token.
    #[must_use]
    pub fn admin(sandbox: &Sandbox) -> Self {
        Api::new(&sandbox.url(), Some(sandbox.admin_token()))
    }

    /// `base` is the installation's URL without `/api/v2`; `None` sends no token.
    #[must_use]
    pub fn new(base: &str, token: Option<&str>) -> Self {
        Api {
            base: base.trim_end_matches('/').to_owned(),
            token: token.map(str::to_owned),
            client: http_client(),
        }
    }

    /// The same API with another token (`None`: no `Authorization` header).
    #[must_use]
    pub fn with_token(&self, token: Option<&str>) -> Self {
        Api {
            token: token.map(str::to_owned),
            ..self.clone()
        }
    }

    /// A request to `path` below `/api/v2/` (`admin/general-settings`).
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        let url = format!("{}/api/v2/{}", self.base, path.trim_start_matches('/'));
        send(&self.client, method, &url, self.token.as_deref(), body).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Reply {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn post(&self, path: &str, body: Option<&Value>) -> Reply {
        self.call(Method::POST, path, body).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None).await
    }
}

/// The sandbox's test control plane (`/_sandbox/`), which answers only the admin token.
#[derive(Debug, Clone)]
pub struct Control {
    base: String,
    admin_token: String,
    client: reqwest::Client,
}

impl Control {
    #[must_use]
    pub fn new(sandbox: &Sandbox) -> Self {
        Control::at(&sandbox.url(), sandbox.admin_token())
    }

    /// The control plane of the sandbox at `base` (`http://127.0.0.1:PORT`), opened with its
    /// admin token.
    #[must_use]
    pub fn at(base: &str, admin_token: &str) -> Self {
        Control {
            base: base.trim_end_matches('/').to_owned(),
            admin_token: admin_token.to_owned(),
            client: http_client(),
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        let url = format!("{}/_sandbox/{path}", self.base);
        send(&self.client, method, &url, Some(&self.admin_token), body).await
    }

    async fn expect(&self, method: Method, path: &str, body: Option<&Value>, status: u16) -> Value {
        let reply = self.call(method.clone(), path, body).await;
        assert_eq!(
            reply.status, status,
            "control plane {method} /_sandbox/{path}: {}",
            reply.text
        );
        reply.json
    }

    pub async fn tokens(&self) -> Tokens {
        let json = self.expect(Method::GET, "tokens", None, 200).await;
        match serde_json::from_value(json) {
            Ok(tokens) => tokens,
            Err(e) => panic!("unexpected /_sandbox/tokens: {e}"),
        }
    }

    /// The whole live state (see the README's Sandbox section for its shape).
    pub async fn state(&self) -> Value {
        self.expect(Method::GET, "state", None, 200).await
    }

    /// Replaces the whole live state; panics when the sandbox refuses it.
    pub async fn set_state(&self, state: Value) {
        self.expect(Method::PUT, "state", Some(&state), 200).await;
    }

    /// Replaces the whole live state, returning the response whatever it is.
    pub async fn try_set_state(&self, state: Value) -> Reply {
        self.call(Method::PUT, "state", Some(&state)).await
    }

    /// Every API request received, in order.
    pub async fn requests(&self) -> Vec<Recorded> {
        let json = self.expect(Method::GET, "requests", None, 200).await;
        match serde_json::from_value(json) {
            Ok(requests) => requests,
            Err(e) => panic!("unexpected /_sandbox/requests: {e}"),
        }
    }

    pub async fn clear_requests(&self) {
        self.expect(Method::DELETE, "requests", None, 204).await;
    }

    pub async fn fault(&self, fault: Fault) {
        let body = match serde_json::to_value(&fault) {
            Ok(v) => v,
            Err(e) => panic!("cannot encode {fault:?}: {e}"),
        };
        self.expect(Method::POST, "faults", Some(&body), 204).await;
    }

    pub async fn clear_faults(&self) {
        self.expect(Method::DELETE, "faults", None, 204).await;
    }

    /// Delays every API response by `ms` milliseconds (0 turns it off).
    pub async fn latency(&self, ms: u64) {
        let body = serde_json::json!({ "ms": ms });
        self.expect(Method::PUT, "latency", Some(&body), 204).await;
    }

    /// `{"mails":[..],"sms":[..],"oidc":{"rotations":n,"trims":n},"actions":{..}}`.
    pub async fn outbox(&self) -> Value {
        self.expect(Method::GET, "outbox", None, 200).await
    }

    /// Changes `release`, `hostname` and/or `rate_limit`; returns the configuration.
    pub async fn config(&self, change: Value) -> Value {
        self.expect(Method::POST, "config", Some(&change), 200)
            .await
    }
}

/// What one run of the binary printed.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `tfe-admin ARGS` in `dir` with only the environment given (plus the sandbox's
/// address and token unless the test sets its own), off the async runtime.
pub async fn tfe_admin(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let dir = dir.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let joined = tokio::task::spawn_blocking(move || {
        let mut cmd = match assert_cmd::Command::cargo_bin("tfe-admin") {
            Ok(cmd) => cmd,
            Err(e) => panic!("no tfe-admin binary: {e}"),
        };
        cmd.env_clear().current_dir(&dir).args(&args);
        for (k, v) in &env {
            cmd.env(k, v);
        }
        cmd.timeout(std::time::Duration::from_mins(1));
        match cmd.output() {
            Ok(out) => Run {
                code: out.status.code(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            },
            Err(e) => panic!("cannot run tfe-admin: {e}"),
        }
    })
    .await;
    match joined {
        Ok(run) => run,
        Err(e) => panic!("the run panicked: {e}"),
    }
}

/// A temporary directory with `tfe-admin.yaml` holding `yaml`.
pub fn workdir(yaml: &str) -> tempfile::TempDir {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    if let Err(e) = std::fs::write(dir.path().join("tfe-admin.yaml"), yaml) {
        panic!("write: {e}");
    }
    dir
}

/// Runs `tfe-admin ARGS` in `dir` against `sandbox`: its address and admin token in the
/// environment, plus `env`.
pub async fn tfe_admin_against(
    sandbox: &Sandbox,
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let url = sandbox.url();
    let mut full_env = vec![
        ("TFE_ADDRESS", url.as_str()),
        ("TFE_TOKEN", sandbox.admin_token()),
    ];
    full_env.extend_from_slice(env);
    tfe_admin(dir, args, &full_env).await
}

/// The crate's directory: where the repository's files are.
#[must_use]
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A file of the repository, as text.
#[must_use]
pub fn repo_text(path: &str) -> String {
    match std::fs::read_to_string(repo_root().join(path)) {
        Ok(text) => text,
        Err(e) => panic!("cannot read {path}: {e}"),
    }
}

/// A YAML file of the repository (a workflow, a recipe, `action.yml`), as JSON.
#[must_use]
pub fn repo_yaml(path: &str) -> Value {
    match serde_saphyr::from_str::<Value>(&repo_text(path)) {
        Ok(doc) => doc,
        Err(e) => panic!("{path} is not valid YAML: {e}"),
    }
}

/// What the public JSON schema `tests/it/schemas/NAME` finds wrong with `doc`: one line per
/// problem, empty when it is valid. Formats are not asserted (the schemas use them as hints).
#[must_use]
pub fn schema_problems(name: &str, doc: &Value) -> Vec<String> {
    let schema: Value = match serde_json::from_str(&repo_text(&format!("tests/it/schemas/{name}")))
    {
        Ok(schema) => schema,
        Err(e) => panic!("tests/it/schemas/{name} is not JSON: {e}"),
    };
    let validator = match jsonschema::validator_for(&schema) {
        Ok(validator) => validator,
        Err(e) => panic!("tests/it/schemas/{name} does not compile: {e}"),
    };
    validator
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// What a shell script left behind when run by [`run_bash`].
#[derive(Debug)]
pub struct Script {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
    /// Every line the stand-ins logged (`NAME ARGS...`).
    pub log: String,
}

/// Runs `script` with `bash -eo pipefail` (as GitHub and GitLab run steps) in `dir`, with
/// only `env` in the environment, `PATH` starting with `bin` (stand-ins and links to real
/// tools), and `STAND_IN_LOG` naming the log the stand-ins append to.
#[must_use]
pub fn run_bash(script: &str, dir: &Path, bin: &Path, env: &[(&str, String)]) -> Script {
    let log = dir.join("stand-in.log");
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display());
    let mut command = std::process::Command::new("bash");
    command
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir)
        .env("STAND_IN_LOG", &log)
        .stdin(std::process::Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let out = match command.output() {
        Ok(out) => out,
        Err(e) => panic!("cannot run bash: {e}"),
    };
    Script {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        log: std::fs::read_to_string(&log).unwrap_or_default(),
    }
}

/// Writes an executable stand-in `name` into `bin`: a shell script with `body`.
pub fn stand_in(bin: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    let path = bin.join(name);
    let written = std::fs::create_dir_all(bin)
        .and_then(|()| std::fs::write(&path, format!("#!/bin/sh\n{body}")))
        .and_then(|()| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)));
    if let Err(e) = written {
        panic!("cannot write the stand-in {name}: {e}");
    }
}
/// Puts the real `tfe-admin` binary under test in `bin`.
pub fn link_tfe_admin(bin: &Path) {
    let real = assert_cmd::cargo::cargo_bin("tfe-admin");
    let made = std::fs::create_dir_all(bin)
        .and_then(|()| std::os::unix::fs::symlink(&real, bin.join("tfe-admin")));
    if let Err(e) = made {
        panic!("cannot link {}: {e}", real.display());
    }
}

/// A JSON plan (the output of `plan --format json`, or a saved plan), parsed and checked
/// against the committed `schema/plan.schema.json`: panics naming every problem, so that no
/// test reads a plan that its published schema would refuse.
#[must_use]
pub fn plan_document(text: &str) -> Value {
    let document: Value = match serde_json::from_str(text) {
        Ok(document) => document,
        Err(e) => panic!("not a JSON document: {e}\n{text}"),
    };
    let schema: Value = match serde_json::from_str(&repo_text("schema/plan.schema.json")) {
        Ok(schema) => schema,
        Err(e) => panic!("schema/plan.schema.json is not JSON: {e}"),
    };
    let validator = match jsonschema::validator_for(&schema) {
        Ok(validator) => validator,
        Err(e) => panic!("schema/plan.schema.json does not compile: {e}"),
    };
    let problems: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "the plan does not fit schema/plan.schema.json: {problems:#?}\n{text}"
    );
    document
}
