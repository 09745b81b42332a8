//! `crucible test COMPONENT|PROJECT`: a component against the contract,
//! offline: its world, its conditions within limits, determinism, and
//! references or labelled transcripts as labelled.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use crucible_authoring::contract_test::{self, Report, Status};
use crucible_authoring::labelled;
use crucible_engine::plugin::{AnyPlugin, PluginLog, PluginRuntime, PluginSource};

use super::build::component_at;
use crate::EXIT_SAMPLES_FAILED;
use crate::flags::SandboxArgs;

#[derive(Debug, Args)]
pub struct TestArgs {
    /// A project (built first) or a component (.wasm).
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// The other half to test with, a project or a .wasm: for a scenario,
    /// the classifier that must classify its references as labelled; for a
    /// classifier, a scenario whose references it must classify.
    #[arg(long, value_name = "PATH")]
    pub with: Option<PathBuf>,

    /// A classifier's labelled transcripts (default: the project's
    /// `transcripts/` folder).
    #[arg(long, value_name = "DIR")]
    pub transcripts: Option<PathBuf>,

    /// The seed episodes are opened with.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Print everything the plugins logged, not only on failure.
    #[arg(long)]
    pub logs: bool,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

pub fn exec(args: TestArgs) -> Result<ExitCode> {
    let (wasm, project) = component_at(&args.path)?;
    let runtime = args.sandbox.runtime(8)?;
    let transcripts_dir = args.transcripts.clone().unwrap_or_else(|| {
        project
            .as_ref()
            .map_or_else(|| PathBuf::from("."), |p| p.root.clone())
            .join("transcripts")
    });
    let report = run_test(
        &runtime,
        &wasm,
        args.with.as_deref(),
        &transcripts_dir,
        args.seed,
    )?;
    print_report(&report, args.logs);
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_SAMPLES_FAILED)
    })
}

/// The contract test of the component at `wasm`, with its partner built
/// and loaded.
pub(super) fn run_test(
    runtime: &PluginRuntime,
    wasm: &Path,
    with: Option<&Path>,
    transcripts_dir: &Path,
    seed: u64,
) -> Result<Report> {
    let source = PluginSource::from_file(wasm, None)?;
    // A component that cannot be loaded fails the test's first check.
    let plugin = match runtime.load_any(&source) {
        Ok(plugin) => plugin,
        Err(e) => return Ok(Report::failed_to_load(&e)),
    };
    let partner = match with {
        Some(path) => {
            let (partner, _) = component_at(path)?;
            let source = PluginSource::from_file(&partner, None)?;
            Some(
                runtime
                    .load_any(&source)
                    .with_context(|| format!("the --with component {}", path.display()))?,
            )
        }
        None => None,
    };
    Ok(match plugin {
        AnyPlugin::Scenario(plugin) => {
            let classifier = match partner {
                Some(AnyPlugin::Classifier(c)) => Some(Arc::new(c)),
                Some(AnyPlugin::Scenario(s)) => anyhow::bail!(
                    "--with names the scenario {}: a scenario is tested with a classifier",
                    s.info.id()
                ),
                None => None,
            };
            contract_test::test_scenario(Arc::new(plugin), classifier, seed)
        }
        AnyPlugin::Classifier(plugin) => {
            let scenario = match partner {
                Some(AnyPlugin::Scenario(s)) => Some(Arc::new(s)),
                Some(AnyPlugin::Classifier(c)) => anyhow::bail!(
                    "--with names the classifier {}: a classifier is tested with a scenario",
                    c.info.id()
                ),
                None => None,
            };
            let transcripts = labelled::load_dir(transcripts_dir)?;
            contract_test::test_classifier(
                Arc::new(plugin),
                &transcripts,
                transcripts_dir,
                scenario,
                seed,
            )
        }
    })
}

pub(super) fn print_report(report: &Report, all_logs: bool) {
    if let Some(info) = &report.plugin {
        println!("Testing {} ({})", info.id(), info.kind);
    }
    for check in &report.checks {
        let mark = match check.status {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        };
        println!("  {mark}  {}: {}", check.name, check.detail);
        for problem in &check.problems {
            println!("          {problem}");
        }
    }
    if all_logs || !report.passed() {
        print_logs(&report.logs);
    }
    let count = |status| report.checks.iter().filter(|c| c.status == status).count();
    println!(
        "{} passed, {} failed, {} skipped",
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Skip)
    );
}

/// A plugin's logs, each line under its `name@version`.
pub(super) fn print_logs(logs: &[(String, PluginLog)]) {
    if logs.is_empty() {
        return;
    }
    println!("Plugin logs:");
    for (plugin, log) in logs {
        for record in &log.records {
            let fields: Vec<String> = record
                .fields
                .iter()
                .map(|f| format!("{}={}", f.name, f.value))
                .collect();
            println!(
                "  [{plugin}] {}: {} {}",
                record.level,
                record.message,
                fields.join(" ")
            );
        }
        for (stream, text) in [("stdout", &log.stdout), ("stderr", &log.stderr)] {
            for line in text.lines() {
                println!("  [{plugin}] {stream}: {line}");
            }
        }
    }
}
