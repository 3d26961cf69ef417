//! The one place that reads the process environment: flags and environment variables become
//! the typed options the commands take. Connection conventions are those of the `tfe`
//! provider and go-tfe: `--address`, else `TFE_ADDRESS`, else `https://$TFE_HOSTNAME`;
//! `TFE_TOKEN`, else the Terraform CLI credentials file; `TFE_CA_CERT`;
//! `TFE_SSL_SKIP_VERIFY`. The token is never a flag (argv is visible to every user).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::api::AddressOrigin;
use crate::bounded::{self, ReadError};
use crate::cli::ConnectionArgs;
use crate::secret::Secret;

/// `${env:NAME}` lookups against the process environment.
#[must_use]
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Whether standard output gets ANSI colours: a terminal, and `NO_COLOR` not set.
#[must_use]
pub fn colour_stdout() -> bool {
    use std::io::IsTerminal as _;
    std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// Where the API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A TFE installation.
    Url(reqwest::Url),
    /// The embedded emulator, with its state in this file.
    Sandbox(PathBuf),
}

impl Target {
    /// The target as plans record it: the URL without a trailing `/`, or `sandbox:FILE`.
    #[must_use]
    pub fn display(&self) -> String {
        match self {
            Target::Url(url) => url.as_str().trim_end_matches('/').to_owned(),
            Target::Sandbox(file) => format!("sandbox:{}", file.display()),
        }
    }
}

/// Everything needed to connect, but the token (resolved per target).
#[derive(Debug, Clone)]
pub struct Connection {
    pub target: Target,
    /// Where the address came from.
    pub origin: AddressOrigin,
    /// What was corrected in the address, to print before connecting.
    pub warnings: Vec<AddressWarning>,
    pub ca_cert: Option<PathBuf>,
    pub skip_verify: bool,
    pub rps: u32,
    pub timeout: Duration,
    /// How long the run may wait, in all, on the server's rate limit.
    pub rate_limit_budget: Duration,
}

/// An address the tool corrected rather than refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressWarning {
    #[error(
        "the address from {origin} ends in the API's path: using {used} (the API is below \
         /api/v2/ of the installation's address)"
    )]
    ApiPathStripped { origin: AddressOrigin, used: String },
}

/// Why the connection options are unusable.
#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    #[error("no TFE address: pass --address, or set TFE_ADDRESS or TFE_HOSTNAME")]
    NoAddress,
    #[error("`{address}` (from {origin}) is not a URL")]
    BadAddress {
        address: String,
        origin: AddressOrigin,
        #[source]
        source: url::ParseError,
    },
    #[error("`{address}` (from {origin}) has no scheme: did you mean {suggestion}?")]
    NoScheme {
        address: String,
        origin: AddressOrigin,
        suggestion: String,
    },
    #[error(
        "`{address}` (from {origin}) must use https:// (http:// is accepted only for loopback \
         addresses)"
    )]
    InsecureAddress {
        address: String,
        origin: AddressOrigin,
    },
    #[error(
        "`{address}` (from {origin}): only https:// and http:// (loopback) addresses are \
         supported"
    )]
    UnsupportedScheme {
        address: String,
        origin: AddressOrigin,
    },
    #[error("TFE_TOKEN is not valid text (it holds bytes that are not UTF-8)")]
    TokenNotText,
    #[error("no API token: set TFE_TOKEN, or log in with `terraform login {host}`")]
    NoToken { host: String },
    #[error("cannot read the Terraform credentials file {}", path.display())]
    Credentials {
        path: PathBuf,
        #[source]
        source: ReadError,
    },
    #[error("the Terraform credentials file {} is not valid JSON", path.display())]
    CredentialsJson {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("--rps must be at least 1")]
    ZeroRps,
}

/// Resolves the connection options from flags and environment. The address comes from
/// nowhere else: a saved plan records one, but never chooses where the token goes.
///
/// # Errors
/// A missing or insecure address, a zero rate.
pub fn connection(
    args: &ConnectionArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Connection, OptionsError> {
    if args.rps == 0 {
        return Err(OptionsError::ZeroRps);
    }
    let (address, origin) = args
        .address
        .clone()
        .map(|a| (a, AddressOrigin::Flag))
        .or_else(|| {
            env("TFE_ADDRESS")
                .filter(|a| !a.is_empty())
                .map(|a| (a, AddressOrigin::TfeAddress))
        })
        .or_else(|| {
            env("TFE_HOSTNAME")
                .filter(|h| !h.is_empty())
                .map(|h| (format!("https://{h}"), AddressOrigin::TfeHostname))
        })
        .ok_or(OptionsError::NoAddress)?;
    let (target, warnings) = parse_address(&address, origin)?;
    let skip_verify = env("TFE_SSL_SKIP_VERIFY")
        .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "t" | "true"));
    Ok(Connection {
        target,
        origin,
        warnings,
        ca_cert: args.ca_cert.clone().or_else(|| {
            env("TFE_CA_CERT")
                .filter(|c| !c.is_empty())
                .map(PathBuf::from)
        }),
        skip_verify,
        rps: args.rps,
        timeout: Duration::from_secs(args.timeout.max(1)),
        rate_limit_budget: Duration::from_secs(args.rate_limit_budget),
    })
}

/// `sandbox:FILE`, or an https URL (http only for loopback).
///
/// # Errors
/// As [`parse_address`].
pub fn parse_target(address: &str) -> Result<Target, OptionsError> {
    parse_address(address, AddressOrigin::Flag).map(|(target, _)| target)
}

/// `sandbox:FILE`, or an https URL (http only for loopback), with what was corrected: a path
/// of `/api/v2` (a common copy-paste of the API's URL) is dropped, since the API is below it.
///
/// # Errors
/// No scheme (with the likely address), not a URL, a scheme other than http(s), http to a
/// non-loopback host.
pub fn parse_address(
    address: &str,
    origin: AddressOrigin,
) -> Result<(Target, Vec<AddressWarning>), OptionsError> {
    if let Some(file) = address.strip_prefix("sandbox:") {
        let file = if file.is_empty() {
            ".sandbox.json"
        } else {
            file
        };
        return Ok((Target::Sandbox(PathBuf::from(file)), Vec::new()));
    }
    if !address.contains("://") {
        // `tfe.example.com` fails to parse, and `tfe.example.com:8443` parses with the scheme
        // `tfe.example.com`: both are a host without a scheme.
        let host = address.trim_start_matches('/');
        let scheme = match reqwest::Url::parse(&format!("https://{host}")) {
            Ok(url) if is_loopback(&url) => "http",
            _ => "https",
        };
        return Err(OptionsError::NoScheme {
            address: address.to_owned(),
            origin,
            suggestion: format!("{scheme}://{host}"),
        });
    }
    let mut url = reqwest::Url::parse(address).map_err(|source| OptionsError::BadAddress {
        address: address.to_owned(),
        origin,
        source,
    })?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(OptionsError::InsecureAddress {
                address: address.to_owned(),
                origin,
            });
        }
        _ => {
            return Err(OptionsError::UnsupportedScheme {
                address: address.to_owned(),
                origin,
            });
        }
    }
    let mut warnings = Vec::new();
    let path = url.path().trim_end_matches('/');
    if let Some(root) = path.strip_suffix("/api/v2") {
        let root = if root.is_empty() { "/" } else { root }.to_owned();
        url.set_path(&root);
        warnings.push(AddressWarning::ApiPathStripped {
            origin,
            used: url.as_str().trim_end_matches('/').to_owned(),
        });
    }
    Ok((Target::Url(url), warnings))
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// [`token`] from the process environment, where a `TFE_TOKEN` of bytes that are not UTF-8
/// is reported as such: a lookup of text sees it as unset, and "no API token" would send the
/// user looking for a variable that is there.
///
/// # Errors
/// As [`token`], and a `TFE_TOKEN` that is not text.
pub fn process_token(url: &reqwest::Url) -> Result<Secret, OptionsError> {
    if matches!(
        std::env::var("TFE_TOKEN"),
        Err(std::env::VarError::NotUnicode(_))
    ) {
        return Err(OptionsError::TokenNotText);
    }
    token(url, &process_env)
}

/// The token for a URL target: `TFE_TOKEN`, else the credentials file entry for the host.
///
/// # Errors
/// No token anywhere, an unreadable or malformed credentials file.
pub fn token(
    url: &reqwest::Url,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Secret, OptionsError> {
    if let Some(token) = env("TFE_TOKEN").filter(|t| !t.trim().is_empty()) {
        return Ok(Secret::new(token.trim()));
    }
    let host = url.host_str().unwrap_or_default().to_owned();
    let keys: Vec<String> = match url.port() {
        Some(port) => vec![format!("{host}:{port}"), host.clone()],
        None => vec![host.clone()],
    };
    let dir = env("TF_CLI_CONFIG_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| Path::new(&h).join(".terraform.d")));
    if let Some(dir) = dir {
        let path = dir.join("credentials.tfrc.json");
        if let Some(token) = credentials_file_token(&path, &keys)? {
            return Ok(token);
        }
    }
    Err(OptionsError::NoToken { host })
}

fn credentials_file_token(path: &Path, keys: &[String]) -> Result<Option<Secret>, OptionsError> {
    let bytes = match bounded::read_file(path, bounded::CREDENTIALS) {
        Ok(bytes) => bytes,
        Err(ReadError::Open(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(OptionsError::Credentials {
                path: path.to_owned(),
                source,
            });
        }
    };
    let json: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|source| OptionsError::CredentialsJson {
            path: path.to_owned(),
            source,
        })?;
    Ok(keys.iter().find_map(|key| {
        json.pointer(&format!(
            "/credentials/{}/token",
            key.replace('~', "~0").replace('/', "~1")
        ))
        .and_then(serde_json::Value::as_str)
        .map(Secret::new)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn args(address: Option<&str>) -> ConnectionArgs {
        ConnectionArgs {
            address: address.map(str::to_owned),
            ca_cert: None,
            rps: 30,
            timeout: 30,
            rate_limit_budget: 120,
        }
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn address_precedence_is_flag_then_tfe_address_then_hostname() {
        let env = env_of(&[
            ("TFE_ADDRESS", "https://a.example"),
            ("TFE_HOSTNAME", "b.example"),
        ]);
        let from_flag = connection(&args(Some("https://flag.example")), &env);
        assert!(
            matches!(from_flag.map(|c| c.target), Ok(Target::Url(u)) if u.host_str() == Some("flag.example"))
        );
        let from_env = connection(&args(None), &env);
        assert!(
            matches!(from_env.map(|c| c.target), Ok(Target::Url(u)) if u.host_str() == Some("a.example"))
        );
        let host_only = connection(&args(None), &env_of(&[("TFE_HOSTNAME", "b.example")]));
        assert!(
            matches!(host_only.map(|c| c.target), Ok(Target::Url(u)) if u.as_str() == "https://b.example/")
        );
        assert!(matches!(
            connection(&args(None), &env_of(&[])),
            Err(OptionsError::NoAddress)
        ));
    }

    #[test]
    fn http_only_for_loopback() {
        assert!(parse_target("http://127.0.0.1:8800").is_ok());
        assert!(parse_target("http://localhost:1").is_ok());
        assert!(parse_target("http://[::1]:1").is_ok());
        assert!(matches!(
            parse_target("http://tfe.example.com"),
            Err(OptionsError::InsecureAddress { .. })
        ));
        assert!(matches!(
            parse_target("ftp://x"),
            Err(OptionsError::UnsupportedScheme { .. })
        ));
        assert_eq!(
            parse_target("sandbox:s.json").ok(),
            Some(Target::Sandbox(PathBuf::from("s.json")))
        );
    }

    #[test]
    fn token_from_env_then_credentials_file() {
        let Ok(url) = reqwest::Url::parse("https://tfe.example.com") else {
            panic!()
        };
        let env = env_of(&[("TFE_TOKEN", "abc")]);
        assert!(matches!(token(&url, &env), Ok(t) if t.expose() == "abc"));
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let file = dir.path().join("credentials.tfrc.json");
        if let Err(e) = std::fs::write(
            &file,
            r#"{"credentials":{"tfe.example.com":{"token":"from-file"}}}"#,
        ) {
            panic!("{e}");
        }
        let dir_text = dir.path().display().to_string();
        let env = env_of(&[("TF_CLI_CONFIG_DIR", &dir_text)]);
        assert!(matches!(token(&url, &env), Ok(t) if t.expose() == "from-file"));
        let Ok(other) = reqwest::Url::parse("https://other.example") else {
            panic!()
        };
        assert!(matches!(
            token(&other, &env),
            Err(OptionsError::NoToken { .. })
        ));
    }
}
