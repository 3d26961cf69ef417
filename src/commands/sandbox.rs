//! `tfe-admin sandbox`: run the emulator of the admin API in the foreground. Prints the address
//! and the admin token as shell `export` lines on stdout (scripts and tests parse them), one
//! line about the state and the control plane on stderr, then serves until Ctrl-C or SIGTERM
//! and stops cleanly. Refuses a non-loopback address unless told, and then wants a chosen
//! token. Serves HTTPS with `--tls-cert`/`--tls-key`. The emulator itself is `crate::sandbox`;
//! this file only wires the command line to it.

use crate::catalogue::Release;
use crate::cli::SandboxArgs;
use crate::error::Error;
use crate::output;
use crate::sandbox::{self, SandboxConfig, SandboxError, TlsFiles};

pub fn run(args: &SandboxArgs) -> Result<u8, Error> {
    let config = config(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(serve(config))
}

fn config(args: &SandboxArgs) -> Result<SandboxConfig, SandboxError> {
    if !args.listen.ip().is_loopback() {
        if !args.listen_any {
            return Err(SandboxError::NotLoopback { addr: args.listen });
        }
        if args.token.is_none() {
            return Err(SandboxError::TokenRequired);
        }
        // The control plane shows every token and replaces the state: loopback only.
        if args.control {
            return Err(SandboxError::ControlNotLoopback { addr: args.listen });
        }
    }
    if let Some(token) = &args.token
        && token.chars().count() < sandbox::MIN_TOKEN_CHARS
    {
        return Err(SandboxError::ShortToken {
            length: token.chars().count(),
        });
    }
    let release = Release::parse(&args.release).ok_or_else(|| SandboxError::BadRelease {
        text: args.release.clone(),
    })?;
    let token = args.token.clone().unwrap_or_else(sandbox::random_token);
    let mut config = SandboxConfig::new(token);
    config.listen = args.listen;
    config.state_file.clone_from(&args.state);
    config.control = args.control;
    config.rate_limit = args.rate_limit;
    config.release = release;
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        });
    }
    Ok(config)
}

async fn serve(config: SandboxConfig) -> Result<u8, Error> {
    let state = match &config.state_file {
        Some(path) => format!(
            "kept in {} (mode 0600, written after every change, secrets never)",
            path.display()
        ),
        None => "in memory only (lost when the sandbox stops)".to_owned(),
    };
    let control = config.control;
    let release = config.release;
    // A self-signed certificate is its own CA; one signed by a CA needs that CA's file.
    let tls = config.tls.as_ref().map_or_else(String::new, |tls| {
        format!(
            "; HTTPS with {} (clients must trust it: TFE_CA_CERT={} if it is self-signed)",
            tls.cert.display(),
            tls.cert.display()
        )
    });
    let stop = listen_for_stop();
    let sandbox = sandbox::start(config).await?;
    let url = sandbox.url();
    // On every interface, say so; TFE_ADDRESS stays one this machine can reach (the
    // unspecified 0.0.0.0 is not an address to connect to).
    let listening = if sandbox.addr().ip().is_unspecified() {
        format!(
            "{url} (and every other interface, port {})",
            sandbox.addr().port()
        )
    } else {
        url.clone()
    };
    // A closed stdout must not stop the server: the lines are a courtesy to the caller.
    let _ = output::stdout(format!(
        "Sandbox listening on {listening}\nexport TFE_ADDRESS={url}\nexport TFE_TOKEN={}\n",
        sandbox.admin_token()
    ));
    let control = if control {
        format!("on at {url}/_sandbox/")
    } else {
        "off (--control turns it on)".to_owned()
    };
    output::stderr_line(format_args!(
        "Sandbox state: {state}; control plane: {control}; emulating TFE {release}{tls}. \
         Ctrl-C stops it."
    ));
    stop.await;
    sandbox.shutdown().await;
    output::stderr_line("Sandbox stopped.");
    Ok(0)
}

/// Starts listening for Ctrl-C (and SIGTERM on unix) now, and resolves when one arrives. Called
/// before the address is printed, so that a caller who signals as soon as it reads it is heard.
fn listen_for_stop() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        async move {
            match (term, interrupt) {
                (Ok(mut term), Ok(mut interrupt)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = interrupt.recv() => {}
                    }
                }
                (Ok(mut one), Err(_)) | (Err(_), Ok(mut one)) => {
                    one.recv().await;
                }
                (Err(_), Err(_)) => ctrl_c().await,
            }
        }
    }
    #[cfg(not(unix))]
    ctrl_c()
}

async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        // No handler could be installed: only a kill stops the server.
        std::future::pending::<()>().await;
    }
}
