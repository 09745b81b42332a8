//! `crucible check`: a suite's scenarios and classifiers against each
//! other, or a directory of labelled cases against its classifiers.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use crucible_engine::run;

use crate::EXIT_SAMPLES_FAILED;
use crate::flags::SandboxArgs;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The suite manifest.
    #[arg(default_value = crucible_engine::suite::DEFAULT_SUITE)]
    pub suite: PathBuf,

    /// Check a named sub-suite (with its parameters) instead of the whole
    /// suite.
    #[arg(short, long, value_name = "NAME")]
    pub subsuite: Option<String>,

    /// Only conditions matching this pattern (`*` is a wildcard; repeatable).
    #[arg(short, long = "conditions", value_name = "PATTERN")]
    pub conditions: Vec<String>,

    /// Instead of the references, play the labelled cases in this folder
    /// (`*.json`, subfolders too) through the suite's scenarios and
    /// classifiers, with no judge and with a scripted one, and report what
    /// each classifier made of them.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["subsuite", "conditions"])]
    pub cases: Option<PathBuf>,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

pub fn exec(args: CheckArgs) -> Result<ExitCode> {
    let suite = crucible_engine::suite::LoadedSuite::load(&args.suite)?;
    let runtime = args.sandbox.runtime(8)?;
    if let Some(dir) = &args.cases {
        let cases = run::load_cases(dir)?;
        let results = run::check_cases(&suite, &runtime, &cases)?;
        print!("{}", run::render_cases(&results));
        let good = results.iter().filter(|r| r.as_expected()).count();
        println!(
            "checked {} case(s) in {}: {good} of {} classifier verdict(s) as expected",
            cases.len(),
            dir.display(),
            results.len()
        );
        return Ok(if good == results.len() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_SAMPLES_FAILED)
        });
    }
    let selection = run::Selection {
        subsuite: args.subsuite.clone(),
        patterns: args.conditions.clone(),
    };
    let outcome = run::check(&suite, &runtime, &selection)?;
    for m in &outcome.mismatches {
        println!(
            "MISMATCH {} {}: {} reference \"{}\": {}",
            m.scenario, m.condition, m.label, m.reference, m.outcome
        );
    }
    println!(
        "checked {} references of {} conditions: {} classified as labelled, {} not",
        outcome.references,
        outcome.conditions,
        outcome.references.saturating_sub(outcome.mismatches.len()),
        outcome.mismatches.len()
    );
    Ok(if outcome.mismatches.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_SAMPLES_FAILED)
    })
}
