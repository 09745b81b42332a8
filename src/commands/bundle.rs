//! `crucible bundle RUN -o FILE`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

#[derive(Debug, Args)]
pub struct BundleArgs {
    /// The run: its directory (or its results.sqlite).
    pub run: PathBuf,

    /// The bundle file to write (conventionally NAME.crucible).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

pub fn exec(args: BundleArgs) -> Result<ExitCode> {
    let written = crucible_bundle::write(&args.run, &args.output)
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
