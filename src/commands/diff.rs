//! `crucible diff`: two runs, or two label sets of one run, compared cell
//! by cell. A report: the exit status is 0 whatever the difference.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use crucible_engine::compare;
use crucible_engine::results::{ORIGINAL, RunResults};

pub const EXAMPLES: &str = "\
Sides:
  crucible diff RUN_A RUN_B                    each run's own verdicts (`original`)
  crucible diff RUN --labels NAME              RUN's `original` against its label set NAME
  crucible diff RUN --labels NAME1 NAME2       two label sets of one run
  crucible diff RUN_A RUN_B --labels NAME      label set NAME of each run
  crucible diff RUN_A RUN_B --labels X Y       A's label set X against B's label set Y

A run is its directory (or its results.sqlite); name the runs before --labels.
Samples pair when model, scenario,
condition, sample index and seed match: two label sets of one run always pair, two
runs pair where their seeds match. The exit status is 0 whatever the difference, 2
on bad input.";

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Side A: a run directory (or its results.sqlite), or a bundle.
    pub a: PathBuf,

    /// Side B: another run or bundle. Without it, both sides are label sets of A
    /// (see --labels).
    pub b: Option<PathBuf>,

    /// The label sets compared: two names, A's then B's; or one, which
    /// with one run is compared with its `original`, and with two runs is
    /// taken on both sides. Default: `original` on both sides.
    #[arg(long, num_args = 1..=2, value_name = "LABEL_SET")]
    pub labels: Vec<String>,

    /// Show every cell, not only the cells that differ.
    #[arg(long)]
    pub all: bool,

    /// Print the comparison as JSON instead of tables.
    #[arg(long)]
    pub json: bool,

    /// Also write side A's HTML report with the comparison in it (the
    /// pooled rows, and the cells shown in the terminal).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

pub fn exec(args: DiffArgs) -> Result<ExitCode> {
    let a = finished_run(&args.a)?;
    let b_run;
    let (b, a_labels, b_labels) = match (&args.b, args.labels.as_slice()) {
        (None, []) => bail!(
            "nothing to compare {} with: name a second run, or label sets of this one \
             (`crucible diff RUN --labels original NAME`; its label sets: {})",
            args.a.display(),
            a.label_set_names().join(", ")
        ),
        (None, [one]) => (&a, ORIGINAL, one.as_str()),
        (None, [x, y, ..]) => (&a, x.as_str(), y.as_str()),
        (Some(path), labels) => {
            b_run = finished_run(path)?;
            let (x, y) = match labels {
                [] => (ORIGINAL, ORIGINAL),
                [one] => (one.as_str(), one.as_str()),
                [x, y, ..] => (x.as_str(), y.as_str()),
            };
            (&b_run, x, y)
        }
    };
    let comparison = compare::compare(&a, a_labels, b, b_labels)?;
    if args.json {
        let json =
            serde_json::to_string_pretty(&comparison).context("writing the comparison as JSON")?;
        println!("{json}");
    } else {
        print!("{}", compare::render(&comparison, args.all));
    }
    if let Some(path) = &args.report {
        let section = crucible_engine::report::html::Comparison::of(&comparison, args.all);
        let page =
            crucible_engine::report::html::render(&crucible_engine::report::html::ReportInput {
                run: &a,
                comparison: Some(&section),
            })?;
        std::fs::write(path, page)
            .with_context(|| format!("writing the report to {}", path.display()))?;
        eprintln!("Report with the comparison: {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// A whole run, read back; a run still going (or stopped) is refused.
fn finished_run(path: &Path) -> Result<RunResults> {
    let run = crucible_bundle::open_results(path)?;
    run.require_finished(path)?;
    Ok(run)
}
