//! The process's two streams, and the only code that writes to them (clippy's `print_stdout`
//! and `print_stderr` forbid the print macros everywhere else).
//!
//! Standard output carries data (plans, exported YAML, the schema, JSON reports), so a failed
//! write is an error: a plan cut short by a full disk must not exit 0. A reader that went away
//! (`tfe-admin schema | head -c 10`) is not one, as for any Unix filter: the command stops
//! quietly and exits 0, as ripgrep does ([`Error::StdoutClosed`]). Standard error carries
//! progress, warnings and errors; a failure to write them has nowhere to be reported, so it is
//! ignored rather than turned into a panic (which is what `println!`/`eprintln!` do).
//!
//! This module knows nothing of what it writes: text is rendered before it gets here.

use std::io::{ErrorKind, Write as _};

use crate::error::Error;

/// Writes `text` to standard output and flushes it.
///
/// # Errors
/// [`Error::StdoutClosed`] when the reader has gone (a closed pipe), which ends the command
/// quietly with exit 0; [`Error::Stdout`] for any other failure (a full disk), exit 1.
pub fn stdout(text: impl AsRef<[u8]>) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_ref())
        .and_then(|()| stdout.flush())
        .map_err(|source| match source.kind() {
            ErrorKind::BrokenPipe => Error::StdoutClosed,
            _ => Error::Stdout(source),
        })
}

/// Writes `text` to standard error, best effort.
pub fn stderr(text: impl AsRef<[u8]>) {
    let mut stderr = std::io::stderr().lock();
    // Nowhere left to report a failure to write an error report.
    let _ = stderr
        .write_all(text.as_ref())
        .and_then(|()| stderr.flush());
}

/// Writes one line (a newline is added) to standard error, best effort.
pub fn stderr_line(line: impl std::fmt::Display) {
    stderr(format!("{line}\n"));
}
