//! Getting an API to talk to: an installation's URL with its token, or the embedded sandbox
//! (`--address sandbox:FILE`), started in-process on an ephemeral loopback port and reached
//! over real HTTP with its own admin token. Shared by the commands that read live state.

use std::sync::Arc;

use crate::api::AddressOrigin;
use crate::api::http::{HttpApi, HttpConfig};
use crate::api::pace::Event;
use crate::error::Error;
use crate::options::{self, Connection, Target};
use crate::redact::Redactor;
use crate::sandbox::{self, Sandbox, SandboxConfig};
use crate::secret::Secret;

/// An API client, and the sandbox behind it when there is one.
pub struct Connected {
    pub api: HttpApi,
    /// The address as the user gave it (`sandbox:FILE` or the URL): what plans record.
    pub address: String,
    sandbox: Option<Sandbox>,
}

impl Connected {
    /// Stops the embedded sandbox, if any, after its state is saved.
    pub async fn close(self) {
        if let Some(sandbox) = self.sandbox {
            sandbox.shutdown().await;
        }
    }
}

/// Connects to the target. `secrets` are the values the client redacts from what the server
/// says (the token is added to them).
///
/// # Errors
/// No token, a bad CA file, a sandbox that cannot start.
pub async fn connect(connection: &Connection, secrets: &Redactor) -> Result<Connected, Error> {
    let address = connection.target.display();
    for warning in &connection.warnings {
        crate::output::stderr_line(format_args!("warning: {warning}"));
    }
    let (url, token, sandbox, origin) = match &connection.target {
        Target::Url(url) => {
            let token = options::process_token(url)?;
            (url.clone(), token, None, connection.origin)
        }
        Target::Sandbox(file) => {
            let mut config = SandboxConfig::new(sandbox::random_token());
            config.state_file = Some(file.clone());
            let sandbox = sandbox::start(config).await?;
            let url = reqwest::Url::parse(&sandbox.url()).map_err(|source| {
                Error::Options(options::OptionsError::BadAddress {
                    address: sandbox.url(),
                    origin: AddressOrigin::Sandbox,
                    source,
                })
            })?;
            let token = Secret::new(sandbox.admin_token());
            (url, token, Some(sandbox), AddressOrigin::Sandbox)
        }
    };
    if connection.skip_verify {
        crate::output::stderr_line(
            "warning: TFE_SSL_SKIP_VERIFY is set: the server's TLS certificate is NOT verified",
        );
    }
    let api = HttpApi::new(&HttpConfig {
        address: url,
        token,
        ca_cert: connection.ca_cert.clone(),
        skip_verify: connection.skip_verify,
        origin,
        rps: connection.rps,
        timeout: connection.timeout,
        max_attempts: 5,
        redactor: secrets.clone(),
        rate_limit_budget: connection.rate_limit_budget,
        observer: Some(Arc::new(announce)),
    })?;
    Ok(Connected {
        api,
        address,
        sandbox,
    })
}

/// Progress on stderr while the server's rate limit holds the run back.
fn announce(event: Event) {
    match event {
        Event::Waiting { wait } => {
            crate::output::stderr_line(format_args!(
                "rate limited: waiting {} s",
                wait.as_secs_f64().round()
            ));
        }
        Event::Slowed { rps, limit } => {
            let per = if rps == 1 { "request" } else { "requests" };
            let limit = limit.map_or_else(
                || "the server did not say its limit".to_owned(),
                |l| format!("the server allows {l} per second"),
            );
            crate::output::stderr_line(format_args!(
                "rate limited: sending at most {rps} {per} per second for the rest of this run ({limit})"
            ));
        }
    }
}

/// A runtime for the network commands.
///
/// # Errors
/// The operating system refuses threads.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(Error::Runtime)
}
