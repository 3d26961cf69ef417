//! The `tfe-admin` binary: parse the command line, run, render the error, exit with its code.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = match tfe_admin::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let printed = e.print();
            // Usage errors exit 1, never clap's 2: a cron job reads 2 as drift. `--help` and
            // `--version` succeed unless their text could not be written (a closed pipe is
            // not a failure, as for every other command).
            let failed = e.use_stderr()
                || printed.is_err_and(|io| io.kind() != std::io::ErrorKind::BrokenPipe);
            return if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match tfe_admin::commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            tfe_admin::output::stderr(tfe_admin::error::render(&error));
            ExitCode::from(error.exit_code())
        }
    }
}
