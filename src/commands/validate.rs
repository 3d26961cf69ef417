//! `tfe-admin validate`: load and validate the files, print the problems. No network.

use std::io::Write as _;

use crate::cli::ValidateArgs;
use crate::config::{self, LoadOptions};
use crate::error::Error;
use crate::options;

pub fn run(args: &ValidateArgs) -> Result<u8, Error> {
    let options = LoadOptions {
        allow_literal_secrets: args.files.allow_literal_secrets,
        env: &options::process_env,
    };
    let paths = args.files.paths();
    let loaded = config::load(&paths, &options)?;
    let mut stderr = std::io::stderr().lock();
    for warning in &loaded.warnings {
        let _ = writeln!(stderr, "{warning}");
    }
    let files: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let sections = loaded.state.sections.len();
    let attributes = loaded.state.attribute_count();
    println!(
        "Valid: {} with {} ({}).",
        plural(sections, "section"),
        plural(attributes, "attribute"),
        files.join(", ")
    );
    Ok(0)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
