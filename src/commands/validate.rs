//! `tfe-admin validate`: load and validate the files, print the problems. No network.
//! `--format json` prints one machine-readable document on stdout for CI annotations.
//! `--list-references` lists the files' secret references instead, with whether each resolves
//! (never a value), for CI jobs that pass secrets through by name.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::cli::{ValidateArgs, ValidateFormat};
use crate::config::diagnostic::Diagnostic;
use crate::config::references::{self, Listing, ReferenceUse};
use crate::config::{self, Invalid, LoadOptions};
use crate::error::Error;
use crate::{options, output};

pub fn run(args: &ValidateArgs) -> Result<u8, Error> {
    if args.list_references {
        return list_references(args);
    }
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

/// `--list-references`: the list on stdout (lines, or one JSON document), then exit 1 when a
/// file could not be read or a reference does not resolve.
fn list_references(args: &ValidateArgs) -> Result<u8, Error> {
    let paths = args.files.paths();
    let files: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let listing = references::list(&paths, &options::process_env);
    let mut out = String::new();
    if args.format == ValidateFormat::Json {
        let report = json!({
            "format-version": 1,
            "files": files,
            "references": listing.references.iter().map(|r| json!({
                "reference": r.reference.to_string(),
                "kind": r.reference.kind(),
                "name": r.reference.name(),
                "set": r.problem.is_none(),
                "problem": r.problem,
                "file": r.pos.file.as_ref(),
                "line": r.pos.line,
                "column": r.pos.col,
                "path": r.path.to_string(),
            })).collect::<Vec<_>>(),
            "errors": listing.diagnostics.iter().map(diagnostic_json).collect::<Vec<_>>(),
        });
        out = serde_json::to_string_pretty(&report).unwrap_or_default();
        out.push('\n');
    } else {
        for r in &listing.references {
            // A reference that does not resolve gets validate's own line (it names the
            // reference).
            let _ = match &r.problem {
                None => writeln!(out, "{}: {}: {}: set", r.pos, r.path, r.reference),
                Some(problem) => writeln!(out, "{}: {}: {problem}", r.pos, r.path),
            };
        }
    }
    output::stdout(out)?;
    reference_outcome(listing, files)
}

fn reference_outcome(listing: Listing, files: Vec<String>) -> Result<u8, Error> {
    if !listing.diagnostics.is_empty() {
        return Err(Error::Invalid(Invalid {
            diagnostics: listing.diagnostics,
            files,
        }));
    }
    // Counted and named once each, however many places use them: what CI has to provide.
    let key = |r: &ReferenceUse| match r.reference.kind() {
        Some("env") => r.reference.name().to_owned(),
        _ => r.reference.to_string(),
    };
    let (mut all, mut unresolved) = (Vec::new(), Vec::new());
    for r in &listing.references {
        let name = key(r);
        if r.problem.is_some() && !unresolved.contains(&name) {
            unresolved.push(name.clone());
        }
        if !all.contains(&name) {
            all.push(name);
        }
    }
    let total = all.len();
    if unresolved.is_empty() {
        let verdict = if total == 0 {
            "nothing to set"
        } else {
            "all resolve"
        };
        output::stderr_line(format_args!(
            "{} in {}: {verdict}.",
            plural(total, "reference"),
            files.join(", ")
        ));
        return Ok(0);
    }
    Err(Error::UnresolvedReferences { unresolved, total })
}

/// One problem as JSON: file, line, column (null for a whole-file problem), path, message.
fn diagnostic_json(diagnostic: &Diagnostic) -> Value {
    json!({
        "file": diagnostic.file.as_ref(),
        "line": diagnostic.pos.as_ref().map(|p| p.line),
        "column": diagnostic.pos.as_ref().map(|p| p.col),
        "path": diagnostic.path.to_string(),
        "message": diagnostic.reason.to_string(),
    })
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
