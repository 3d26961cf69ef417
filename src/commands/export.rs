//! `tfe-admin export`: read the live settings (GET only) and write them as a desired-state
//! file, to stdout or `-o FILE`. The file holds references, never secret values.

use crate::api::Api as _;
use crate::cli::ExportArgs;
use crate::error::Error;
use crate::export::{self, Source};
use crate::redact::Redactor;
use crate::{config, live, options, output};

use super::connect;

pub fn run(args: &ExportArgs) -> Result<u8, Error> {
    let sections = export::sections(&args.sections)?;
    let connection = options::connection(&args.connection, &options::process_env)?;
    let runtime = connect::runtime()?;
    let text = runtime.block_on(async {
        let connected = connect::connect(&connection, &Redactor::default()).await?;
        let scoped: Vec<_> = sections.iter().map(|s| (*s, live::Scope::All)).collect();
        let state = live::read(&connected.api, &scoped).await;
        let address = connected.address.clone();
        let redactor = connected.api.redactor().clone();
        connected.close().await;
        let mut state = state?;
        // The file is written from server text: a live value holding the token loses it.
        let items = state.sections.iter_mut().flat_map(|s| s.items.iter_mut());
        for value in items.flat_map(|i| i.attributes.values_mut()) {
            *value = redactor.value(value);
        }
        Ok::<String, Error>(export::render(&state, &Source { address: &address }))
    })?;
    // What a server sent may not fit the file format (`api-rate-limit: "thirty"`): a file
    // that does not validate is not written.
    let problems = config::check_written("the exported file", &text);
    if !problems.is_empty() {
        return Err(Error::ExportInvalid { problems });
    }
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text).map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
            output::stderr_line(format_args!(
                "Exported {} to {}.",
                plural(sections.len()),
                path.display()
            ));
        }
        None => output::stdout(text)?,
    }
    Ok(0)
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 section".to_owned()
    } else {
        format!("{n} sections")
    }
}
