//! `crucible summary RUN`: the summary `crucible run` ends with, for a run
//! already made (or still being made), read back from its store.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use crucible_engine::report::groups::{ConditionParams, groups};
use crucible_engine::report::terminal::{SummaryView, render};
use crucible_engine::report::{snapshot_warnings, usage_of_run};
use crucible_engine::results::figures;
use serde_json::Value;

use crate::flags::SummaryFlags;
use crate::print_stdout;

#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// The run: its directory or its results.sqlite, or a bundle.
    #[arg(value_name = "RUN")]
    pub run: PathBuf,

    #[command(flatten)]
    pub summary: SummaryFlags,
}

pub fn exec(args: &SummaryArgs) -> Result<ExitCode> {
    // Its errors name the path and what is wrong with it.
    let run = crucible_bundle::open_results(&args.run)?;
    let cells = figures(&run);
    let groups = groups(&cells, &ConditionParams::of_run(&run));
    let usage = usage_of_run(&run);
    let setting = |key: &str| run.config.get(key).and_then(Value::as_str);
    print_stdout(&render(&SummaryView {
        run_id: &run.run_id,
        suite: setting("suite_name").unwrap_or("(unnamed)"),
        subsuite: setting("subsuite"),
        judge: setting("judge"),
        cells: &cells,
        groups: &groups,
        usage: &usage,
        show_cells: args.summary.cells,
    }))?;
    for warning in snapshot_warnings(&usage) {
        eprintln!("warning: {warning}");
    }
    if let Err(unfinished) = run.require_finished(&args.run) {
        eprintln!("{unfinished}");
    }
    Ok(ExitCode::SUCCESS)
}
