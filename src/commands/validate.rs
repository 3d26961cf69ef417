//! `tfe-admin validate`: load and validate the files, print the problems. No network.
//! `--format json` prints one machine-readable document on stdout for CI annotations.

use serde_json::{Value, json};

use crate::cli::{ValidateArgs, ValidateFormat};
use crate::config::diagnostic::Diagnostic;
use crate::config::{self, LoadOptions};
use crate::error::Error;
use crate::{options, output};

pub fn run(args: &ValidateArgs) -> Result<u8, Error> {
    let options = LoadOptions {
        allow_literal_secrets: args.files.allow_literal_secrets,
        env: &options::process_env,
    };
    let paths = args.files.paths();
    let files: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let result = config::load(&paths, &options);
    if args.format == ValidateFormat::Json {
        let (valid, diagnostics) = match &result {
            Ok(loaded) => (true, loaded.warnings.as_slice()),
            Err(invalid) => (false, invalid.diagnostics.as_slice()),
        };
        let pick = |error: bool| -> Vec<Value> {
            diagnostics
                .iter()
                .filter(|d| d.is_error() == error)
                .map(diagnostic_json)
                .collect()
        };
        let report = json!({
            "format-version": 1,
            "valid": valid,
            "files": files,
            "errors": pick(true),
            "warnings": pick(false),
        });
        let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
        text.push('\n');
        output::stdout(text)?;
        if let Err(invalid) = result {
            output::stderr_line(format_args!(
                "error: the desired state is invalid: {invalid}"
            ));
            return Ok(1);
        }
        return Ok(0);
    }
    let loaded = result?;
    for warning in &loaded.warnings {
        output::stderr_line(warning);
    }
    let sections = loaded.state.sections.len();
    let attributes = loaded.state.attribute_count();
    output::stdout(format!(
        "Valid: {} with {} ({}).\n",
        plural(sections, "section"),
        plural(attributes, "attribute"),
        files.join(", ")
    ))?;
    Ok(0)
}

/// One problem as JSON: file, line, column (null for a whole-file problem), path, message.
fn diagnostic_json(diagnostic: &Diagnostic) -> Value {
    json!({
        "file": diagnostic.file.as_ref(),
        "line": diagnostic.pos.as_ref().map(|p| p.line),
        "column": diagnostic.pos.as_ref().map(|p| p.col),
        "path": diagnostic.path.to_string(),
        "message": diagnostic.message,
    })
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
