//! `crucible diff`: two runs, or two label sets of one run, compared cell
//! by cell. A report: the exit status is 0 whatever the difference.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crucible::compare;
use crucible::results::{ORIGINAL, RunResults};

use crate::cli::DiffArgs;

pub fn diff(args: DiffArgs) -> Result<ExitCode> {
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
        let section = crucible::report::html::Comparison::of(&comparison, args.all);
        let page = crucible::report::html::render(&crucible::report::html::ReportInput {
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
    let run = crucible::bundle::open_results(path)?;
    run.require_finished(path)?;
    Ok(run)
}
