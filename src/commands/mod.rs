//! One function per subcommand; `run` dispatches. Commands print their data to stdout and
//! their progress and warnings to stderr; errors are returned for `main` to render.

mod apply;
mod completions;
mod connect;
mod export;
mod man;
mod plan;
mod sandbox;
mod schema;
mod validate;

use crate::cli::{Cli, Command};
use crate::error::Error;

/// Runs a parsed command line; returns the exit code.
///
/// # Errors
/// Whatever the command fails with.
pub fn run(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Apply(args) => apply::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Sandbox(args) => sandbox::run(&args),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => man::run(&args),
    }
}
