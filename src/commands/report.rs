//! `crucible report RUN [-o FILE]`: the run's HTML report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use crucible_engine::report::html::{ReportInput, render};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run: its directory (`runs/<run-id>`) or its results.sqlite, or
    /// a bundle. A run still in progress is reported as far as it has got.
    pub run: PathBuf,

    /// Where to write the report [default: report.html in the run's
    /// directory; for a bundle, its name with .html].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn exec(args: ReportArgs) -> Result<ExitCode> {
    let run = crucible_bundle::open_results(&args.run)?;
    let page = render(&ReportInput {
        run: &run,
        comparison: None,
    })?;
    let output = args.output.unwrap_or_else(|| default_output(&args.run));
    std::fs::write(&output, page)
        .with_context(|| format!("writing the report to {}", output.display()))?;
    let pending = run.pending();
    if pending > 0 {
        eprintln!(
            "note: run {} is not finished ({pending} of {} samples pending); the report shows what has run",
            run.run_id,
            run.samples.len()
        );
    }
    println!("{}", output.display());
    Ok(ExitCode::SUCCESS)
}

/// `report.html` in the run's directory, whether the run was named by its
/// directory or by its results.sqlite; for a bundle, its name with `.html`.
fn default_output(run: &Path) -> PathBuf {
    if crucible_bundle::is_bundle(run) {
        return run.with_extension("html");
    }
    let dir = if run.is_dir() {
        run
    } else {
        run.parent().unwrap_or(Path::new("."))
    };
    dir.join("report.html")
}
