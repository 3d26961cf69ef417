//! The `tfe-admin` binary: parse the command line, run, render the error, exit with its code.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = match tfe_admin::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Usage errors exit 1, never clap's 2: a cron job reads 2 as drift.
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match tfe_admin::commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprint!("{}", tfe_admin::error::render(&error));
            ExitCode::from(error.exit_code())
        }
    }
}
