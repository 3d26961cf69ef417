//! `tfe-admin plan`: validate, read the live settings (GET only), print the minimal changes,
//! optionally save the plan. Exit codes follow Terraform's `--detailed-exitcode`.

use std::io::Write as _;
use std::path::Path;

use crate::api::Api as _;
use crate::cli::{ChangeArgs, ConnectionArgs, FileArgs, PlanArgs, PlanFormat};
use crate::config::{self, LoadOptions, Loaded};
use crate::error::Error;
use crate::plan::{self, Plan, PlanOptions};
use crate::redact::Redactor;
use crate::{diff, live, options, output, render};

use super::connect::{self, Connected};

pub fn run(args: &PlanArgs) -> Result<u8, Error> {
    let runtime = connect::runtime()?;
    let (plan, connected) = plan_files(&runtime, &args.files, &args.connection, &args.changes)?;
    runtime.block_on(connected.close());
    if !plan.errors.is_empty() {
        return Err(Error::PlanRules {
            errors: plan.errors,
        });
    }
    let text = match args.format {
        PlanFormat::Text => render::text(&plan, options::colour_stdout()),
        PlanFormat::Json => render::json(&plan),
        PlanFormat::Markdown => render::markdown(&plan),
    };
    output::stdout(text)?;
    if let Some(path) = &args.out {
        save(&plan, path)?;
        output::stderr_line(format_args!(
            "Saved the plan to {}; apply it with `tfe-admin apply {}`.",
            path.display(),
            path.display()
        ));
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        2
    } else {
        0
    })
}

/// Loads the files, connects and plans: what `plan` and `apply -f` share. The connection
/// stays open for the caller to close: `apply -f` writes through the same client, so that one
/// rate limit paces the whole run (two clients would each allow `--rps`).
pub fn plan_files(
    runtime: &tokio::runtime::Runtime,
    files: &FileArgs,
    connection: &ConnectionArgs,
    changes: &ChangeArgs,
) -> Result<(Plan, Connected), Error> {
    let loaded = load(files)?;
    let connection = options::connection(connection, &options::process_env)?;
    let plan_options = PlanOptions {
        push_secrets: changes.push_secrets,
        allow_destroy: changes.allow_destroy,
        actions: plan::named_actions(&changes.actions)?,
        now: None,
    };
    runtime.block_on(async {
        let secrets = Redactor::new(loaded.state.secrets());
        let connected = connect::connect(&connection, &secrets).await?;
        match make_plan(&loaded, &connected, &plan_options).await {
            Ok(plan) => Ok((plan, connected)),
            Err(e) => {
                connected.close().await;
                Err(e)
            }
        }
    })
}

/// Loads and validates the files; warnings go to stderr.
pub fn load(files: &FileArgs) -> Result<Loaded, Error> {
    let loaded = config::load(
        &files.paths(),
        &LoadOptions {
            allow_literal_secrets: files.allow_literal_secrets,
            env: &options::process_env,
        },
    )?;
    for warning in &loaded.warnings {
        output::stderr_line(warning);
    }
    Ok(loaded)
}

/// Reads the live state of the managed sections and plans.
pub async fn make_plan(
    loaded: &Loaded,
    connected: &Connected,
    plan_options: &PlanOptions,
) -> Result<Plan, Error> {
    let sections: Vec<_> = loaded
        .state
        .sections
        .iter()
        .map(|s| (s.spec, live::Scope::Desired(s)))
        .collect();
    let live = live::read(&connected.api, &sections).await?;
    let address = connected.address.clone();
    let redactor = connected.api.redactor().clone();
    let diff = diff::diff(&loaded.state, &live);
    let mut plan = plan::build(&diff, &address, live.release, plan_options);
    plan.redact_live_values(&redactor);
    Ok(plan)
}

/// Writes the plan file (owner-only): references, never secret values.
fn save(plan: &Plan, path: &Path) -> Result<(), Error> {
    for section in &plan.sections {
        for step in section.steps() {
            let Some(body) = &step.body else { continue };
            if let Some(literal) = body
                .attributes
                .iter()
                .find(|a| a.sensitive && a.reference.is_none())
            {
                return Err(Error::LiteralSecretInPlan {
                    section: section.section.clone(),
                    attribute: literal.name.clone(),
                });
            }
        }
    }
    let text = render::json(plan);
    write_private(path, text.as_bytes()).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })
}

/// Creates or truncates a file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
