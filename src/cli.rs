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

/// The environment of every command that talks to an installation, shown under its `--help`:
/// the token is never a flag, so `--help` is where a newcomer learns where it goes.
const CONNECTION_ENVIRONMENT: &str = "\
Environment:
  TFE_ADDRESS          the installation's address when --address is not given
                       (https://tfe.example.com)
  TFE_HOSTNAME         else its host name: the address is https://$TFE_HOSTNAME
  TFE_TOKEN            a site administrator's user API token (never a flag)
  TF_CLI_CONFIG_DIR    without TFE_TOKEN, the token is the host's entry in the Terraform CLI
                       credentials file: $TF_CLI_CONFIG_DIR/credentials.tfrc.json, else
                       ~/.terraform.d/credentials.tfrc.json (written by `terraform login`)
  TFE_CA_CERT          a PEM file of CA certificates to trust (like --ca-cert)
  TFE_SSL_SKIP_VERIFY  `true` turns TLS verification off (with a warning on every run)";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check desired-state files offline: YAML syntax, references, the JSON Schema and the
    /// API's own rules. Reports every problem; exits 0 when valid, 1 when not. No network.
    Validate(ValidateArgs),
    /// Read the live settings and show the minimal set of changes that would reach the
    /// desired state (GET only). Exit 0; with --detailed-exitcode: 0 no changes, 2 changes;
    /// 1 on any error.
    #[command(after_help = CONNECTION_ENVIRONMENT)]
    Plan(PlanArgs),
    /// Plan, ask for confirmation, then make only the calls that differ, then re-read and
    /// verify. `apply PLANFILE` applies a saved plan without asking, if live state has not
    /// moved since it was made.
    #[command(after_help = CONNECTION_ENVIRONMENT)]
    Apply(ApplyArgs),
    /// Read the live settings and write them as a desired-state YAML file that validates and
    /// plans to no changes (GET only). Secrets become commented-out `${env:...}` lines.
    #[command(after_help = CONNECTION_ENVIRONMENT)]
    Export(ExportArgs),
    /// Print the JSON Schema of the desired-state file (the bytes of
    /// schema/tfe-admin.schema.json).
    Schema(SchemaArgs),
    /// Run a local emulator of the TFE admin API, for trying plan and apply safely and for
    /// tests. Serves loopback only unless --listen-any.
    Sandbox(SandboxArgs),
    /// Print a shell completion script, generated from this command line definition:
    /// `tfe-admin completions bash > ~/.local/share/bash-completion/completions/tfe-admin`.
    Completions(CompletionsArgs),
    /// Write the man pages, generated from this command line definition: the main page to
    /// standard output, or every page (`tfe-admin.1`, `tfe-admin-plan.1`, ...) into DIR.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write every page (the main one and one per command) into this directory instead,
    /// creating it if needed.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// The address to listen on (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8800")]
    pub listen: std::net::SocketAddr,
    /// Allow a listen address that is not loopback (the emulator has no real security).
    #[arg(long)]
    pub listen_any: bool,
    /// Keep the emulated settings in FILE, so that plan, apply, plan again works across
    /// processes.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// The site-admin token to accept (default: a random one, printed at start).
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Enable the test control plane under /_sandbox/ (set state, read the request log,
    /// inject latency and failures). Off by default.
    #[arg(long)]
    pub control: bool,
    /// Requests per second allowed per token before 429 (TFE's default is 30).
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub rate_limit: u32,
    /// The TFE release to emulate (attributes and sections newer than it do not exist).
    #[arg(long, value_name = "RELEASE", default_value = "2.1.0")]
    pub release: String,
    /// Serve HTTPS with this PEM certificate (chain), for clients that insist on https://;
    /// needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// The desired-state files and how to read them.
#[derive(Debug, Args)]
pub struct FileArgs {
    /// A desired-state YAML file (default: tfe-admin.yaml); repeat to merge several, later
    /// files overriding earlier ones key by key.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Accept literal values in sensitive attributes (passwords, tokens, keys) instead of
    /// `${env:NAME}` / `${file:path}` references.
    #[arg(long)]
    pub allow_literal_secrets: bool,
}

/// Where the TFE API is and how to talk to it. The token comes from `TFE_TOKEN` or the
/// Terraform CLI credentials file, never from a flag.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// The TFE address (`https://tfe.example.com`; default: `TFE_ADDRESS`, else
    /// `https://$TFE_HOSTNAME`), or `sandbox:FILE` to run against the built-in emulator with
    /// its state in FILE.
    #[arg(long, value_name = "URL")]
    pub address: Option<String>,
    /// A PEM file of CA certificates to trust besides the system roots (default: `TFE_CA_CERT`).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// At most this many API requests per second (the API's documented limit is 30).
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub rps: u32,
    /// Seconds to wait for one response before giving up on it.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
    /// Seconds this run may spend, in all, waiting on the server's rate limit (429 responses,
    /// which are retried) before it gives up.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub rate_limit_budget: u64,
}

impl FileArgs {
    /// The files to read: those given, else `tfe-admin.yaml`.
    #[must_use]
    pub fn paths(&self) -> Vec<PathBuf> {
        if self.files.is_empty() {
            vec![PathBuf::from("tfe-admin.yaml")]
        } else {
            self.files.clone()
        }
    }
}

/// How `validate` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ValidateFormat {
    /// `FILE:LINE:COL: path: message` lines on stderr.
    Text,
    /// One JSON document on stdout (valid, errors, warnings with file, line, column and
    /// path), for CI annotations.
    Json,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub files: FileArgs,
    /// How to report.
    #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
    pub format: ValidateFormat,
    /// Instead of validating, list every `${env:...}` and `${file:...}` reference of the
    /// merged files with whether it resolves (never its value); exit 1 when one does not.
    #[arg(long)]
    pub list_references: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Write the YAML to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Export only this section (repeat for several; default: every section).
    #[arg(long = "section", value_name = "NAME")]
    pub sections: Vec<String>,
}

/// How a plan is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    /// Terraform-like lines, colour on a terminal.
    Text,
    /// The versioned plan document (schema/plan.schema.json); stdout carries only JSON.
    Json,
    /// Summary first, for a pull-request comment.
    Markdown,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub files: FileArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub changes: ChangeArgs,
    /// Save the plan (calls, the live values they were planned against, secret references but
    /// never secret values) for `tfe-admin apply PLANFILE`.
    #[arg(long, value_name = "PLANFILE")]
    pub out: Option<PathBuf>,
    /// How to print the plan.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Exit 2 when there are changes, 0 when there are none (1 stays "error").
    #[arg(long)]
    pub detailed_exitcode: bool,
}

/// What a plan may include beyond the plain changes.
#[derive(Debug, Args)]
pub struct ChangeArgs {
    /// Send every write-only secret of the managed sections (they cannot be compared), even
    /// when nothing else in their section changes.
    #[arg(long)]
    pub push_secrets: bool,
    /// Allow destructive changes: disabling SCIM deletes its groups and tokens.
    #[arg(long)]
    pub allow_destroy: bool,
    /// Run an action that has no state to compare: `oidc.rotate-key`, `oidc.trim-key`.
    #[arg(long = "action", value_name = "SECTION.ACTION")]
    pub actions: Vec<String>,
}

/// How the apply report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// The plan, progress per section, and a summary line.
    Text,
    /// The report as one JSON document on stdout (the plan and progress go to stderr).
    Json,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `tfe-admin plan --out`: applied without asking (the plan was the
    /// review), refused if live state moved since it was made.
    #[arg(value_name = "PLANFILE")]
    pub plan_file: Option<PathBuf>,
    #[command(flatten)]
    pub files: FileArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub changes: ChangeArgs,
    /// Apply without asking for confirmation (needed when there is no terminal).
    #[arg(long)]
    pub auto_approve: bool,
    /// How to print the report.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Write the schema to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}
