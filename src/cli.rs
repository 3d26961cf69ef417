//! The command line, as clap types: their doc comments are the help text. Parsing only;
//! `options` turns these into what the commands need.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Manage the site-admin settings of a Terraform Enterprise installation as code.
#[derive(Debug, Parser)]
#[command(name = "tfe-admin", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check desired-state files offline: YAML syntax, references, the JSON Schema and the
    /// API's own rules. Reports every problem; exits 0 when valid, 1 when not. No network.
    Validate(ValidateArgs),
    /// Print the JSON Schema of the desired-state file (the bytes of
    /// schema/tfe-admin.schema.json).
    Schema(SchemaArgs),
}

/// The desired-state files and how to read them.
#[derive(Debug, Args)]
pub struct FileArgs {
    /// A desired-state YAML file; repeat to merge several, later files overriding earlier
    /// ones key by key.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        default_value = "tfe-admin.yaml"
    )]
    pub files: Vec<PathBuf>,
    /// Accept literal values in sensitive attributes (passwords, tokens, keys) instead of
    /// `${env:NAME}` / `${file:path}` references.
    #[arg(long)]
    pub allow_literal_secrets: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub files: FileArgs,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Write the schema to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}
