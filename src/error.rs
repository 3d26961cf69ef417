//! The errors a command can end with, and how `main` shows them to a person:
//! `error: ...`, then `caused by: ...` for each source, then `hint: ...` where there is one.
//! Rendering never includes a secret: no variant carries one.

use std::error::Error as _;
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::api::ApiError;
use crate::api::http::BuildError;
use crate::apply::StaleError;
use crate::config::Invalid;
use crate::config::diagnostic::Reason;
use crate::config::interpolate::ReferenceError as UnresolvedReference;
use crate::config::interpolate::ReferenceError;
use crate::live::LiveError;
use crate::options::OptionsError;
use crate::plan::{BlockReason, PlanError, UnknownAction};
use crate::redact::escape_controls;
use crate::sandbox::SandboxError;

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
    #[error(transparent)]
    Options(#[from] OptionsError),
    #[error(transparent)]
    Client(#[from] BuildError),
    #[error("cannot start the sandbox")]
    Sandbox(#[from] SandboxError),
    #[error("cannot read the live settings")]
    Live(#[from] LiveError),
    #[error(transparent)]
    UnknownAction(#[from] UnknownAction),
    #[error("the plan breaks {} of the API's rules", errors.len())]
    PlanRules { errors: Vec<PlanError> },
    #[error(
        "cannot save the plan: `{section}.{attribute}` is a literal secret, and a saved plan keeps \
         only references"
    )]
    LiteralSecretInPlan { section: String, attribute: String },
    #[error(
        "the live settings do not make a valid desired-state file: {} (nothing was written)",
        plural_problems(problems.len())
    )]
    ExportInvalid {
        problems: Vec<crate::config::diagnostic::Diagnostic>,
    },
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error("refusing to apply: nothing was written")]
    Stale(#[from] StaleError),
    #[error("refusing to apply without confirmation: there is no terminal to ask on")]
    NoTerminal,
    #[error("apply cancelled: nothing was written")]
    Cancelled,
    #[error(
        "refusing to apply: {}: {}",
        crate::render::words::item(section, item.as_deref()),
        crate::render::words::blocked(reason)
    )]
    Blocked {
        section: String,
        item: Option<String>,
        reason: BlockReason,
    },
    #[error("cannot read the saved plan {}", path.display())]
    PlanFile {
        path: PathBuf,
        #[source]
        source: crate::bounded::ReadError,
    },
    #[error("{} is not a saved plan of this tool", path.display())]
    PlanFormat {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{} is a saved plan of format version {found}; this tool reads version {expected}",
        path.display()
    )]
    PlanVersion {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error(
        "no TFE address: a saved plan does not choose where the token is sent (it was made \
         against {planned})"
    )]
    SavedPlanAddress { planned: String },
    #[error("the plan was made against {planned}, but this run targets {target}")]
    AddressMismatch { planned: String, target: String },
    #[error("cannot resolve `{reference}` for `{section}.{attribute}`: {problem}")]
    PlanSecret {
        section: String,
        attribute: String,
        reference: String,
        problem: ReferenceError,
    },
    #[error(transparent)]
    UnknownSection(#[from] crate::export::UnknownSection),
    #[error("give either a saved plan or -f files, not both")]
    PlanAndFiles,
    #[error("{failed} of {total} sections did not apply")]
    ApplyFailed { failed: usize, total: usize },
    /// The reader of standard output went away (`tfe-admin schema | head`): not a failure.
    #[error("standard output was closed")]
    StdoutClosed,
    #[error("cannot write to standard output")]
    Stdout(#[source] std::io::Error),
    #[error(
        "unresolved references ({} of {total}): {}",
        unresolved.len(),
        unresolved.join(", ")
    )]
    UnresolvedReferences {
        /// Variable names, and `${file:...}` references as written.
        unresolved: Vec<String>,
        total: usize,
    },
}

impl Error {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Invalid(invalid) => Some(invalid_hint(invalid)),
            // A failed staleness re-read: its own cause tells what to do, not a race.
            Error::Live(e) | Error::Stale(StaleError::Read(e)) => e.hint(),
            Error::Sandbox(e) => e.hint().map(str::to_owned),
            Error::Options(OptionsError::NoToken { .. }) => Some(
                "the token must belong to a site administrator's user account; set it in the \
                 environment, never on the command line"
                    .to_owned(),
            ),
            Error::ExportInvalid { .. } => Some(
                "the server returned values the API itself would refuse: check the \
                 installation (or the proxy in front of it), or export other sections with \
                 --section"
                    .to_owned(),
            ),
            Error::PlanRules { .. } => Some(
                "the API would refuse these writes: set the attributes named above in the file"
                    .to_owned(),
            ),
            Error::LiteralSecretInPlan { .. } => Some(
                "reference the secret as `${env:NAME}` or `${file:path}`, or apply with -f instead \
                 of a saved plan"
                    .to_owned(),
            ),
            Error::Stale(StaleError::Moved { .. }) => Some(
                "someone changed these settings after the plan was made: plan again and review".to_owned(),
            ),
            Error::NoTerminal => Some("review the plan, then run apply with --auto-approve (or apply a saved plan)".to_owned()),
            Error::Blocked { reason: BlockReason::NeedsAllowDestroy { .. }, .. } => {
                Some("rerun with --allow-destroy if that is what you want".to_owned())
            }
            Error::Blocked { reason: BlockReason::DeleteRefused { .. }, .. } => Some(
                "nothing was written: list the item in the file (or set `prune: false`), or stop \
                 its use, then plan again"
                    .to_owned(),
            ),
            Error::UnknownSection(unknown) => Some(match unknown.suggestion {
                Some(close) => format!("did you mean `--section {close}`?"),
                None => "name the sections as the file does (`tfe-admin schema` lists them)"
                    .to_owned(),
            }),
            Error::PlanVersion { .. } => Some(
                "a saved plan is applied by the release that made it: plan again with this one"
                    .to_owned(),
            ),
            Error::AddressMismatch { .. } => Some("run the saved plan against the address it was made for, or plan again".to_owned()),
            Error::SavedPlanAddress { planned } => Some(format!(
                "pass --address {planned} (or set TFE_ADDRESS) if that is where it should go"
            )),
            Error::PlanSecret {
                problem: ReferenceError::UnsetVariable { name },
                ..
            } => Some(format!(
                "a saved plan keeps secret references, not values: set {name} as when planning"
            )),
            Error::UnresolvedReferences { .. } => Some(
                "set each variable (in CI: a secret of the same name) and put each file in place, \
                 or remove the line from the file"
                    .to_owned(),
            ),
            Error::PlanSecret { .. } => Some(
                "a saved plan keeps secret references, not values: set the same environment variables and files as when planning"
                    .to_owned(),
            ),
            _ => None,
        }
    }

    /// The process exit code (the Terraform convention: 1 for every error), except that a
    /// closed standard output ends the command quietly with 0, as for any Unix filter.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::StdoutClosed => 0,
            _ => 1,
        }
    }
}

/// The remedy for invalid files, from the kinds of their problems: a missing file first (nothing
/// else can be checked without it), then unset variables, then literal secrets.
fn invalid_hint(invalid: &Invalid) -> String {
    let problems = || invalid.diagnostics.iter().map(|d| (&d.reason, &d.file));
    if let Some((_, file)) = problems().find(|(p, _)| **p == Reason::MissingFile) {
        return format!(
            "write {file} (`tfe-admin export -o {file}` takes the live settings as a start), or \
             name an existing file with -f (without -f, tfe-admin reads ./tfe-admin.yaml)"
        );
    }
    let mut unset: Vec<&str> = problems()
        .filter_map(|(p, _)| match p {
            Reason::Reference(UnresolvedReference::UnsetVariable { name }) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    unset.sort_unstable();
    unset.dedup();
    if !unset.is_empty() {
        let (names, them) = if unset.len() == 1 {
            (unset[0].to_owned(), "it")
        } else {
            (unset.join(", "), "them")
        };
        return format!(
            "set {names} in the environment, or remove the lines that reference {them} (an \
             attribute the file does not mention is left as it is)"
        );
    }
    if problems().any(|(p, _)| *p == Reason::LiteralSecret) {
        return "keep secrets out of the file: `password: ${env:TFE_ADMIN_SMTP_PASSWORD}` or \
                `${file:secrets/smtp-password}`"
            .to_owned();
    }
    "fix the problems listed above; `tfe-admin schema` describes every section and attribute"
        .to_owned()
}

/// A wrong or unreachable address, wherever in the run it was met, reported alone: one
/// `error:` line naming the address and where it came from, its one cause, one hint. The
/// stage that met it ("cannot read the live settings") and the connector's own chain of
/// errors tell the user nothing they can act on. Found by type, never by message text.
fn address_problem(error: &Error) -> Option<String> {
    let mut source = error.source();
    while let Some(cause) = source {
        let api =
            cause
                .downcast_ref::<ApiError>()
                .or_else(|| match cause.downcast_ref::<LiveError>() {
                    Some(LiveError::Api(api)) => Some(api),
                    _ => None,
                });
        if let Some(api @ ApiError::Unreachable { cause, .. }) = api {
            let cause = escape_controls(&cause.to_string());
            let mut out = format!("error: {api}\ncaused by: {cause}\n");
            if let Some(hint) = api.hint() {
                let _ = writeln!(out, "hint: {hint}");
            }
            return Some(out);
        }
        if let Some(live @ LiveError::NotTfe { .. }) = cause.downcast_ref::<LiveError>() {
            let mut out = format!("error: {live}\n");
            if let Some(hint) = live.hint() {
                let _ = writeln!(out, "hint: {hint}");
            }
            return Some(out);
        }
        source = cause.source();
    }
    None
}

/// The whole report of an error, as printed on standard error.
#[must_use]
pub fn render(error: &Error) -> String {
    if let Some(report) = address_problem(error) {
        return report;
    }
    let mut out = String::new();
    if matches!(error, Error::StdoutClosed) {
        return out;
    }
    if let Error::Invalid(invalid) = error {
        for diagnostic in &invalid.diagnostics {
            let _ = writeln!(out, "{diagnostic}");
        }
    }
    if let Error::PlanRules { errors } = error {
        for e in errors {
            let _ = writeln!(out, "{}: {}: {}", e.location, e.path, e.message);
        }
    }
    // The exported text was never written: its lines and columns would point nowhere.
    if let Error::ExportInvalid { problems } = error {
        for p in problems {
            let _ = writeln!(out, "{}: {}", p.path, p.reason);
        }
    }
    let _ = writeln!(out, "error: {error}");
    let mut source = error.source();
    // `Invalid`'s own text is already in the first line.
    if matches!(error, Error::Invalid(_)) {
        source = None;
    }
    // Causes come from libraries (the connector, TLS, the file system), which may quote what
    // a server presented: a line of the report must not hold a control character.
    while let Some(cause) = source {
        let _ = writeln!(out, "caused by: {}", escape_controls(&cause.to_string()));
        source = cause.source();
    }
    if let Some(hint) = error.hint() {
        let _ = writeln!(out, "hint: {hint}");
    }
    out
}

fn plural_problems(n: usize) -> String {
    if n == 1 {
        "1 problem".to_owned()
    } else {
        format!("{n} problems")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_cannot_put_a_control_character_on_the_terminal() {
        let error = Error::Write {
            path: PathBuf::from("out.yaml"),
            source: std::io::Error::other("disk \u{1b}[2J full\r\nhint: forged"),
        };
        assert_eq!(
            render(&error),
            "error: cannot write out.yaml\ncaused by: disk \\u{1b}[2J full\\r\\nhint: forged\n"
        );
    }

    fn invalid(reason: Reason) -> Error {
        let pos = crate::config::yaml::Pos {
            file: std::sync::Arc::from("tfe-admin.yaml"),
            line: 3,
            col: 13,
        };
        let path = crate::config::diagnostic::SettingPath::root()
            .key("smtp")
            .key("password");
        Error::Invalid(Invalid {
            diagnostics: vec![crate::config::diagnostic::Diagnostic::error(
                &pos, path, reason,
            )],
            files: vec!["tfe-admin.yaml".to_owned()],
        })
    }

    #[test]
    fn the_hint_follows_the_reason_never_its_words() {
        let secret_hint = "keep secrets out of the file";
        let literal = invalid(Reason::LiteralSecret);
        assert!(render(&literal).contains("literal secret: reference it as"));
        assert!(literal.hint().is_some_and(|h| h.starts_with(secret_hint)));
        // The same words from elsewhere (a catalogue rule) are not that reason.
        let lookalike = invalid(Reason::Catalogue {
            message: "literal secret: reference it as `${env:NAME}`".to_owned(),
        });
        assert!(
            lookalike
                .hint()
                .is_some_and(|h| !h.starts_with(secret_hint))
        );
        let unset = invalid(Reason::Reference(UnresolvedReference::UnsetVariable {
            name: "TFE_ADMIN_SMTP_PASSWORD".to_owned(),
        }));
        assert!(
            unset
                .hint()
                .is_some_and(|h| h.starts_with("set TFE_ADMIN_SMTP_PASSWORD in the environment")),
            "{:?}",
            unset.hint()
        );
    }
}
