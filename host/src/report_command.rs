//! `crucible report RUN [-o FILE]`: the run's HTML report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use crucible::report::html::{ReportInput, render};

use crate::cli::ReportArgs;

pub fn report(args: ReportArgs) -> Result<ExitCode> {
    let run = crucible::bundle::open_results(&args.run)?;
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
    if crucible::bundle::is_bundle(run) {
        return run.with_extension("html");
    }
    let dir = if run.is_dir() {
        run
    } else {
        run.parent().unwrap_or(Path::new("."))
    };
    dir.join("report.html")
}
