//! `crucible bundle RUN -o FILE`.

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::BundleArgs;

pub fn bundle(args: BundleArgs) -> Result<ExitCode> {
    let written = crucible::bundle::write(&args.run, &args.output)
        .with_context(|| format!("cannot bundle {}", args.run.display()))?;
    println!(
        "Bundled {} samples and {} components into {} ({:.1} MB). Check it anywhere with: crucible verify {}",
        written.samples,
        written.components,
        written.path.display(),
        written.size as f64 / 1e6,
        written.path.display()
    );
    Ok(ExitCode::SUCCESS)
}
