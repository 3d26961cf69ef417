//! The sandbox: a local emulator of the TFE admin settings API, served over real HTTP, for
//! trying `plan`/`apply` safely (`--address sandbox:FILE`, `tfe-admin sandbox`) and for tests.
//!
//! It is built on the catalogue: routes, defaults, validation, write-only handling, release
//! gating and the completeness rules all come from [`crate::catalogue::SECTIONS`], so a new
//! endpoint in the catalogue is served without a change here; each section's kind chooses
//! its [`Handler`] (a settings document, a policy). What no catalogue row can say
//! (SAML certificate rotation, the SMTP test mail, Twilio verify, derived read-only values)
//! lives in `specific.rs`, keyed by section key. This module never talks to a real TFE and
//! never writes a write-only value to disk.

mod collection;
mod control;
mod document;
mod installation;
mod limiter;
mod outbox;
mod policy;
mod respond;
mod routes;
mod seed;
mod server;
mod specific;
mod state;
mod tls;
mod tokens;
mod values;

use std::net::SocketAddr;
use std::path::PathBuf;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::catalogue::Release;

pub use tls::TlsFiles;
pub use tokens::random_token;

/// The shortest `--token` accepted: a guessable token is no guard, least of all with
/// `--listen-any`.
pub const MIN_TOKEN_CHARS: usize = 16;

/// How the sandbox serves one kind of section: chosen by the kind
/// (`SectionKind::sandbox`), opaque outside the sandbox.
#[derive(Clone, Copy)]
pub struct Handler {
    pub(crate) serve: fn(&routes::Request<'_>, &state::Db, &document::Ctx) -> routes::Served,
    /// Where the emulated database keeps the section.
    pub(crate) table: state::Table,
    /// How a collection's items are keyed and guarded.
    pub(crate) items: Option<ItemRules>,
}

/// What the sandbox needs to know of a collection's items, from its kind.
#[derive(Clone, Copy)]
pub struct ItemRules {
    /// The attribute holding the natural key (`version`).
    pub(crate) key_attr: &'static str,
    pub(crate) key_valid: fn(&str) -> bool,
    /// Why the API refuses to delete an item (official, in use).
    pub(crate) refusal:
        fn(&serde_json::Map<String, serde_json::Value>) -> Option<crate::catalogue::kind::Refusal>,
}

impl Handler {
    /// A settings document: GET, PATCH (and DELETE to disable where that destroys data).
    pub const SINGLETON: Handler = Handler {
        serve: document::serve,
        table: state::Table::Settings,
        items: None,
    };

    /// A policy: GET (404 when unset), POST, DELETE.
    pub const POLICY: Handler = Handler {
        serve: policy::serve,
        table: state::Table::Policy,
        items: None,
    };

    /// A collection of items keyed by `key_attr`: a paginated list, POST, and GET, PATCH and
    /// DELETE per item.
    #[must_use]
    pub const fn collection(
        key_attr: &'static str,
        key_valid: fn(&str) -> bool,
        refusal: fn(
            &serde_json::Map<String, serde_json::Value>,
        ) -> Option<crate::catalogue::kind::Refusal>,
    ) -> Handler {
        Handler {
            serve: collection::serve,
            table: state::Table::Items,
            items: Some(ItemRules {
                key_attr,
                key_valid,
                refusal,
            }),
        }
    }

    /// No document: only the action paths answer.
    pub const ACTIONS_ONLY: Handler = Handler {
        serve: routes::not_served,
        table: state::Table::Nothing,
        items: None,
    };
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handler")
    }
}

/// How to start a sandbox.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Where the emulated database lives; `None` keeps it in memory only.
    pub state_file: Option<PathBuf>,
    /// The site administrator's API token.
    pub admin_token: String,
    /// Whether the test control plane under `/_sandbox/` answers.
    pub control: bool,
    /// Requests per second allowed per token (per client IP without one); 0 disables the limit.
    pub rate_limit: u32,
    /// The TFE release to emulate: newer sections answer 404, newer attributes do not exist.
    pub release: Release,
    /// The installation's hostname, used in derived URLs (`acs-consumer-url`).
    pub hostname: String,
    /// Serve HTTPS with this certificate and key instead of plain HTTP.
    pub tls: Option<TlsFiles>,
    /// How long a connection may take to send a request head (and may stay idle between
    /// requests) before it is closed.
    pub header_timeout: std::time::Duration,
}

impl std::fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("listen", &self.listen)
            .field("state_file", &self.state_file)
            .field("admin_token", &"(sensitive)")
            .field("control", &self.control)
            .field("rate_limit", &self.rate_limit)
            .field("release", &self.release)
            .field("hostname", &self.hostname)
            .field("tls", &self.tls)
            .field("header_timeout", &self.header_timeout)
            .finish()
    }
}

impl SandboxConfig {
    /// Loopback on a free port, in memory, control plane off, TFE's default rate limit of 30,
    /// release 2.1.0, hostname `tfe.sandbox.local`, plain HTTP, a 10 s header read timeout.
    #[must_use]
    pub fn new(admin_token: impl Into<String>) -> Self {
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state_file: None,
            admin_token: admin_token.into(),
            control: false,
            rate_limit: 30,
            release: Release::semver(2, 1, 0),
            hostname: "tfe.sandbox.local".to_owned(),
            tls: None,
            header_timeout: std::time::Duration::from_secs(10),
        }
    }
}

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the sandbox state file {}", path.display())]
    ReadState {
        path: PathBuf,
        #[source]
        source: crate::bounded::ReadError,
    },
    #[error("the sandbox state file {} is not valid JSON", path.display())]
    CorruptState {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "the sandbox state file {} does not describe a sandbox state: {}",
        path.display(),
        problems.join("; ")
    )]
    InvalidState {
        path: PathBuf,
        problems: Vec<String>,
    },
    #[error("the admin token must not be empty")]
    EmptyToken,
    #[error("refusing to listen on {addr}: not a loopback address")]
    NotLoopback { addr: SocketAddr },
    #[error("--listen-any needs --token: a random token printed on a shared machine is no guard")]
    TokenRequired,
    #[error(
        "refusing --control on {addr}: the control plane shows every token and replaces the \
         state, so it is served on loopback only"
    )]
    ControlNotLoopback { addr: SocketAddr },
    #[error("the --token is {length} characters; a sandbox token has at least {MIN_TOKEN_CHARS}")]
    ShortToken { length: usize },
    #[error("{text:?} is not a TFE release (expected one like 2.1.0 or v202401-1)")]
    BadRelease { text: String },
    #[error("cannot read the TLS file {}", path.display())]
    TlsRead {
        path: PathBuf,
        #[source]
        source: crate::bounded::ReadError,
    },
    #[error("the TLS file {} is not valid PEM", path.display())]
    TlsPem {
        path: PathBuf,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("the TLS certificate file {} holds no certificate", path.display())]
    TlsNoCertificate { path: PathBuf },
    #[error(
        "the TLS certificate {} and key {} cannot serve HTTPS",
        cert.display(),
        key.display()
    )]
    TlsSetUp {
        cert: PathBuf,
        key: PathBuf,
        #[source]
        source: rustls::Error,
    },
}

impl SandboxError {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            SandboxError::NotLoopback { .. } => Some(
                "the sandbox has no real security: listen on 127.0.0.1, or add --listen-any \
                 and --token if it must be reachable from elsewhere",
            ),
            SandboxError::ControlNotLoopback { .. } => {
                Some("run the control plane on a loopback sandbox (tests do), or drop --control")
            }
            SandboxError::ShortToken { .. } => {
                Some("leave --token out for a random 64-character token, or choose a long one")
            }
            SandboxError::CorruptState { .. } | SandboxError::InvalidState { .. } => {
                Some("fix or remove the file; a missing file starts a fresh installation")
            }
            SandboxError::TlsPem { .. }
            | SandboxError::TlsNoCertificate { .. }
            | SandboxError::TlsSetUp { .. } => Some(
                "--tls-cert takes the PEM certificate (chain) and --tls-key its PEM private key; \
                 the README shows how to make a self-signed pair with openssl",
            ),
            _ => None,
        }
    }
}

/// A running sandbox. Dropping it stops the server too (without waiting); `shutdown` waits.
pub struct Sandbox {
    addr: SocketAddr,
    /// `http` or `https`.
    scheme: &'static str,
    app: std::sync::Arc<server::App>,
    admin_token: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Sandbox {
    /// The address the server listens on (with the real port when 0 was asked for).
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, `http://127.0.0.1:PORT` (`https://` with TLS; no trailing slash, no
    /// `/api/v2`): one a client on this machine can reach, loopback when the sandbox listens
    /// on every interface.
    #[must_use]
    pub fn url(&self) -> String {
        // Listening on every interface (`--listen-any` with 0.0.0.0 or [::]) includes
        // loopback; the unspecified address itself is not one a client can connect to.
        let mut reachable = self.addr;
        if reachable.ip().is_unspecified() {
            reachable.set_ip(match reachable.ip() {
                std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        format!("{}://{reachable}", self.scheme)
    }

    /// The site administrator's token.
    #[must_use]
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The value of a write-only attribute as the emulated database holds it, in memory
    /// only: never written to the state file, never shown over HTTP (the request log shows
    /// `(sensitive)`). For an in-process test to check the secret a client sent.
    pub async fn write_only_value(&self, section: &str, attribute: &str) -> Option<String> {
        self.app
            .db
            .lock()
            .await
            .write_only_value(section, attribute)
            .map(str::to_owned)
    }

    /// Stops accepting connections, lets requests in flight finish, and returns. Every change
    /// is written to the state file before it is answered, so nothing is left to flush.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // A task that panicked has nothing left to stop.
        let _ = (&mut self.task).await;
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .field("admin_token", &"(sensitive)")
            .finish_non_exhaustive()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // Dropping the sender resolves the server's shutdown signal.
        self.stop.take();
    }
}

/// Binds the listener with a long backlog: the server takes a bounded number of connections
/// at once, and the others wait there, completed, rather than have their handshakes dropped.
fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    // As std and tokio do: a restarted sandbox gets its port back at once.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

/// Loads the state file (if any) and the TLS pair (if any), binds the listener and serves on
/// the current tokio runtime.
///
/// # Errors
/// When the listener cannot be bound, or the state file or the TLS pair cannot be read or
/// understood.
pub async fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
    if config.admin_token.trim().is_empty() {
        return Err(SandboxError::EmptyToken);
    }
    let tls = config.tls.as_ref().map(tls::server_config).transpose()?;
    let db = match &config.state_file {
        Some(path) => state::load(path).await?,
        None => state::Db::default(),
    };
    let listener = listen(config.listen).map_err(|source| SandboxError::Bind {
        addr: config.listen,
        source,
    })?;
    let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
        addr: config.listen,
        source,
    })?;
    let admin_token = config.admin_token.clone();
    let config_header_timeout = config.header_timeout;
    let app = std::sync::Arc::new(server::App::new(config, db));
    let (stop, stopped) = oneshot::channel::<()>();
    // Either an explicit stop or the `Sandbox` being dropped.
    let shutdown = async move {
        let _ = stopped.await;
    };
    let header_timeout = config_header_timeout;
    let (task, scheme) = match tls {
        Some(tls) => {
            let listener = tls::TlsListener::new(listener, tls)
                .map_err(|source| SandboxError::Bind { addr, source })?;
            (
                tokio::spawn(server::serve(
                    listener,
                    std::sync::Arc::clone(&app),
                    header_timeout,
                    shutdown,
                )),
                "https",
            )
        }
        None => (
            tokio::spawn(server::serve(
                listener,
                std::sync::Arc::clone(&app),
                header_timeout,
                shutdown,
            )),
            "http",
        ),
    };
    Ok(Sandbox {
        addr,
        scheme,
        app,
        admin_token,
        stop: Some(stop),
        task,
    })
}
