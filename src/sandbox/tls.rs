//! HTTPS for the sandbox (`--tls-cert`/`--tls-key`), for clients that always build
//! `https://HOST/api/v2`: rustls with ring, the crypto provider the tool's own client uses.
//! Loads the PEM pair (bounded reads) into a server configuration, and accepts connections
//! with their TLS handshakes run concurrently, each bounded in time and in number, so that a
//! slow or silent client never holds up the others. Offers only `http/1.1` in ALPN, what the
//! server speaks. Knows nothing about HTTP otherwise, and never about the API.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::SandboxError;
use crate::bounded;

/// The certificate chain and private key files, PEM.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The server's certificate first, then any intermediates.
    pub cert: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// How long a client may take to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshakes in progress at once; further connections wait in the kernel's backlog.
const MAX_HANDSHAKES: usize = 64;

/// Reads the pair and builds the server configuration.
pub(crate) fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, SandboxError> {
    let chain = read_pem(&files.cert)?;
    let certs = CertificateDer::pem_slice_iter(&chain)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| SandboxError::TlsPem {
            path: files.cert.clone(),
            source,
        })?;
    if certs.is_empty() {
        return Err(SandboxError::TlsNoCertificate {
            path: files.cert.clone(),
        });
    }
    let key = read_pem(&files.key)?;
    let key = PrivateKeyDer::from_pem_slice(&key).map_err(|source| SandboxError::TlsPem {
        path: files.key.clone(),
        source,
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|source| SandboxError::TlsSetUp {
            cert: files.cert.clone(),
            key: files.key.clone(),
            source,
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read_pem(path: &Path) -> Result<Vec<u8>, SandboxError> {
    bounded::read_file(path, bounded::TLS_FILE).map_err(|source| SandboxError::TlsRead {
        path: path.to_owned(),
        source,
    })
}

/// A listener whose connections have completed their TLS handshake.
pub(crate) struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    accepting: JoinHandle<()>,
}

impl TlsListener {
    /// Starts accepting on `tcp` (on the current tokio runtime).
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> io::Result<Self> {
        let local = tcp.local_addr()?;
        let (done, ready) = mpsc::channel(MAX_HANDSHAKES);
        let accepting = tokio::spawn(accept_loop(tcp, TlsAcceptor::from(config), done));
        Ok(TlsListener {
            local,
            ready,
            accepting,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        // Handshakes in progress end on their own: their result has nowhere to go.
        self.accepting.abort();
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    done: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let Ok(permit) = Arc::clone(&handshakes).acquire_owned().await else {
            return;
        };
        let Ok((stream, peer)) = tcp.accept().await else {
            // Out of file descriptors and the like: wait instead of spinning, as axum's own
            // listener does.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        if done.is_closed() {
            return;
        }
        let acceptor = acceptor.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let _permit = permit;
            // A failed or timed-out handshake is the client's problem (an untrusted
            // certificate, plain HTTP on this port): the connection is dropped.
            if let Ok(Ok(tls)) =
                tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
            {
                let _ = done.send((tls, peer)).await;
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The accept loop only ends when the listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}
