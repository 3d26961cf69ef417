//! `tfe-admin completions SHELL` and `tfe-admin man`: shell completion scripts (`clap_complete`)
//! and roff man pages (`clap_mangen`), both generated from the clap definition in `cli`, so
//! that they can never disagree with the command line.

use std::io::Write as _;
use std::path::Path;

use clap::CommandFactory as _;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::error::Error;

pub fn completions(args: &CompletionsArgs) -> u8 {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "tfe-admin", &mut script);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(&script);
    0
}

pub fn man(args: &ManArgs) -> Result<u8, Error> {
    let command = Cli::command();
    let Some(dir) = &args.output_dir else {
        let page = render(&command, "tfe-admin")?;
        let _ = std::io::stdout().lock().write_all(&page);
        return Ok(0);
    };
    write_page(dir, "tfe-admin.1", &render(&command, "tfe-admin")?)?;
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("tfe-admin-{}", sub.get_name());
        let page = render(sub, &name)?;
        write_page(dir, &format!("{name}.1"), &page)?;
    }
    eprintln!("Wrote the man pages to {}.", dir.display());
    Ok(0)
}

fn render(command: &clap::Command, title: &str) -> Result<Vec<u8>, Error> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone())
        .title(title.to_owned())
        .render(&mut page)
        .map_err(|source| Error::Write {
            path: "standard output".into(),
            source,
        })?;
    Ok(page)
}

fn write_page(dir: &Path, file: &str, page: &[u8]) -> Result<(), Error> {
    let path = dir.join(file);
    std::fs::write(&path, page).map_err(|source| Error::Write { path, source })
}
