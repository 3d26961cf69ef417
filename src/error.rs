//! The errors a command can end with, and how `main` shows them to a person:
//! `error: ...`, then `caused by: ...` for each source, then `hint: ...` where there is one.
//! Rendering never includes a secret: no variant carries one.

use std::error::Error as _;
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::config::Invalid;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the desired state is invalid: {0}")]
    Invalid(#[from] Invalid),
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Invalid(invalid) if invalid.diagnostics.iter().any(|d| d.message.contains("literal secret")) => Some(
                "keep secrets out of the file: `password: ${env:TFE_SMTP_PASSWORD}` or `${file:secrets/smtp-password}`"
                    .to_owned(),
            ),
            Error::Invalid(_) => Some("fix the problems listed above; `tfe-admin schema` describes every section and attribute".to_owned()),
            Error::Write { .. } => None,
        }
    }

    /// The process exit code (the Terraform convention: 1 for every error).
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        1
    }
}

/// The whole report of an error, as printed on standard error.
#[must_use]
pub fn render(error: &Error) -> String {
    let mut out = String::new();
    if let Error::Invalid(invalid) = error {
        for diagnostic in &invalid.diagnostics {
            let _ = writeln!(out, "{diagnostic}");
        }
    }
    let _ = writeln!(out, "error: {error}");
    let mut source = error.source();
    // `Invalid`'s own text is already in the first line.
    if matches!(error, Error::Invalid(_)) {
        source = None;
    }
    while let Some(cause) = source {
        let _ = writeln!(out, "caused by: {cause}");
        source = cause.source();
    }
    if let Some(hint) = error.hint() {
        let _ = writeln!(out, "hint: {hint}");
    }
    out
}
