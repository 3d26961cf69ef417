//! `tfe-admin apply`: plan (or read a saved plan), confirm, check the live state has not
//! moved, carry out the calls, verify, report. Exit 1 when anything failed.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::Path;

use crate::apply::{self, Outcome};
use crate::bounded;
use crate::cli::{ApplyArgs, ReportFormat};
use crate::config::interpolate;
use crate::error::Error;
use crate::options::{self, Connection};
use crate::plan::{FORMAT_VERSION, Plan, SecretValue, SectionPlan};
use crate::redact::Redactor;
use crate::{output, render};

use super::connect::{self, Connected};
use super::plan::plan_files;

pub fn run(args: &ApplyArgs) -> Result<u8, Error> {
    let runtime = connect::runtime()?;
    // A saved plan connects once it is known to be worth it; `apply -f` keeps the plan's own
    // connection, so that one rate limit paces the read and the writes.
    let (plan, target) = if let Some(path) = &args.plan_file {
        if !args.files.files.is_empty() {
            return Err(Error::PlanAndFiles);
        }
        let plan = read_plan(path)?;
        let connection = saved_plan_connection(args, &plan)?;
        (plan, Target::Saved(connection))
    } else {
        let (plan, connected) = plan_files(&runtime, &args.files, &args.connection, &args.changes)?;
        (plan, Target::Planned(Box::new(connected)))
    };
    carry_out(args, &runtime, &plan, target)
}

/// Where the writes go: a saved plan's address, or the connection the plan was made on.
enum Target {
    Saved(Connection),
    Planned(Box<Connected>),
}

impl Target {
    /// Closes the plan's connection when the run ends before writing.
    fn close(self, runtime: &tokio::runtime::Runtime) {
        if let Target::Planned(connected) = self {
            runtime.block_on(connected.close());
        }
    }
}

/// Confirms, re-checks, writes and reports; the target is closed whatever happens.
fn carry_out(
    args: &ApplyArgs,
    runtime: &tokio::runtime::Runtime,
    plan: &Plan,
    target: Target,
) -> Result<u8, Error> {
    let saved = matches!(target, Target::Saved(_));
    let before = check_plan(args, plan, saved);
    if !matches!(before, Ok(None)) {
        target.close(runtime);
        return before.map(|code| code.unwrap_or(0));
    }
    // A saved plan, or one a person took an hour to say yes to, is read again before
    // anything is written: the live state may have moved, or another pipeline raced this one.
    // `apply -f --auto-approve` writes right after its own read: a second read would only
    // cost a round trip.
    let recheck = saved || !args.auto_approve;
    let outcome = runtime.block_on(async {
        let connected = match target {
            Target::Planned(connected) => *connected,
            Target::Saved(connection) => {
                connect::connect(&connection, &Redactor::new(secrets(plan))).await?
            }
        };
        if recheck && let Err(stale) = apply::check_fresh(&connected.api, plan).await {
            connected.close().await;
            return Err(Error::Stale(stale));
        }
        let progress =
            |o: &apply::SectionOutcome| output::stderr_line(render::outcome::progress(o));
        let outcome = apply::apply(&connected.api, plan, &progress).await;
        connected.close().await;
        Ok::<Outcome, Error>(outcome)
    })?;
    report(args, plan, &outcome)
}

/// Everything before the writes: the plan's errors, showing it, nothing to do, a blocked
/// item, the confirmation. `Ok(Some(code))` ends the run without writing.
fn check_plan(args: &ApplyArgs, plan: &Plan, saved: bool) -> Result<Option<u8>, Error> {
    if !plan.errors.is_empty() {
        return Err(Error::PlanRules {
            errors: plan.errors.clone(),
        });
    }
    let json = args.format == ReportFormat::Json;
    let shown = render::text(plan, !json && options::colour_stdout());
    if json {
        output::stderr(&shown);
    } else {
        output::stdout(&shown)?;
    }
    if !plan.has_changes() {
        if json {
            output::stdout(render::outcome::json(&empty_outcome(plan)))?;
        }
        return Ok(Some(0));
    }
    if let Some((section, item)) = plan.blocked()
        && let Some(blocked) = &item.blocked
    {
        return Err(Error::Blocked {
            section: section.section.clone(),
            item: item.item.clone(),
            reason: blocked.reason.clone(),
        });
    }
    if !saved && !args.auto_approve {
        confirm()?;
    }
    Ok(None)
}

/// The problems, the report, and the exit code of a run that wrote.
fn report(args: &ApplyArgs, plan: &Plan, outcome: &Outcome) -> Result<u8, Error> {
    let json = args.format == ReportFormat::Json;
    output::stderr(render::outcome::problems(outcome, plan));
    // The writes are done: a reader that went away must not hide that some of them failed.
    let report = if json {
        render::outcome::json(outcome)
    } else {
        format!("{}\n", render::outcome::summary(outcome))
    };
    match output::stdout(report) {
        Err(Error::StdoutClosed) | Ok(()) => {}
        Err(e) => return Err(e),
    }
    let failed = outcome.summary.failed + outcome.summary.skipped;
    if failed > 0 {
        return Err(Error::ApplyFailed {
            failed,
            total: outcome.sections.len(),
        });
    }
    Ok(0)
}

/// The secret values the plan sends (from memory, or read again from a saved plan's
/// references): what the server must not be allowed to print back.
fn secrets(plan: &Plan) -> Vec<String> {
    plan.sections
        .iter()
        .flat_map(SectionPlan::steps)
        .filter_map(|step| step.body.as_ref())
        .flat_map(|body| body.attributes.iter())
        .filter_map(|value| value.secret.as_ref())
        .map(|secret| match &secret.0 {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

fn empty_outcome(plan: &Plan) -> Outcome {
    Outcome {
        format_version: FORMAT_VERSION,
        address: plan.address.clone(),
        sections: Vec::new(),
        summary: apply::OutcomeSummary::default(),
    }
}

/// Asks on the terminal; only `yes` goes on.
fn confirm() -> Result<(), Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::NoTerminal);
    }
    output::stdout("\nApply these changes? Only 'yes' will be accepted. (yes/no): ")?;
    let mut answer = String::new();
    // A terminal line is short; anything longer is not `yes` either.
    let _ = std::io::Read::take(std::io::stdin().lock(), 64).read_line(&mut answer);
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Error::Cancelled)
    }
}

/// Reads a saved plan and resolves its secret references again.
fn read_plan(path: &Path) -> Result<Plan, Error> {
    let bytes =
        bounded::read_file(path, bounded::SAVED_PLAN).map_err(|source| Error::PlanFile {
            path: path.to_owned(),
            source,
        })?;
    let mut plan: Plan = serde_json::from_slice(&bytes).map_err(|source| Error::PlanFormat {
        path: path.to_owned(),
        source,
    })?;
    if plan.format_version != FORMAT_VERSION {
        return Err(Error::PlanVersion {
            path: path.to_owned(),
            found: plan.format_version,
            expected: FORMAT_VERSION,
        });
    }
    for section in &mut plan.sections {
        let steps = section.items.iter_mut().flat_map(|i| i.steps.iter_mut());
        for step in steps {
            let Some(body) = &mut step.body else { continue };
            for value in body.attributes.iter_mut().filter(|v| v.sensitive) {
                let Some(reference) = &value.reference else {
                    return Err(Error::LiteralSecretInPlan {
                        section: section.section.clone(),
                        attribute: value.name.clone(),
                    });
                };
                let dir = value
                    .reference_dir
                    .as_deref()
                    .map_or_else(|| Path::new("."), Path::new);
                let resolved = interpolate::resolve(reference, dir, &options::process_env)
                    .map_err(|problem| Error::PlanSecret {
                        section: section.section.clone(),
                        attribute: value.name.clone(),
                        reference: reference.clone(),
                        problem,
                    })?;
                let text = resolved.unwrap_or_else(|| reference.clone());
                value.secret = Some(SecretValue(serde_json::Value::String(text)));
            }
        }
    }
    Ok(plan)
}

/// The connection of a saved plan: the address given, which must be the plan's own.
fn saved_plan_connection(args: &ApplyArgs, plan: &Plan) -> Result<Connection, Error> {
    // Only the flag or the environment say where the token goes: an edited plan file must
    // not send it to another host.
    let connection = match options::connection(&args.connection, &options::process_env) {
        Err(options::OptionsError::NoAddress) => {
            return Err(Error::SavedPlanAddress {
                planned: plan.address.clone(),
            });
        }
        other => other?,
    };
    let target = connection.target.display();
    if target != plan.address {
        return Err(Error::AddressMismatch {
            planned: plan.address.clone(),
            target,
        });
    }
    Ok(connection)
}
