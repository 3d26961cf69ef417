//! `tfe-admin schema`: print (or write) the desired-state JSON Schema. No network.

use crate::cli::SchemaArgs;
use crate::config::schema::desired_state_schema_text;
use crate::error::Error;
use crate::output;

pub fn run(args: &SchemaArgs) -> Result<u8, Error> {
    let text = desired_state_schema_text();
    match &args.output {
        Some(path) => std::fs::write(path, text).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?,
        None => output::stdout(text)?,
    }
    Ok(0)
}
