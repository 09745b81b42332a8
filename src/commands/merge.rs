//! `crucible merge OUT SHARD...`: one run directory from a plan's shards.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use crucible_engine::merge::{MergeRequest, merge as merge_shards};

use crate::print_stdout;

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The merged run's directory, to be created; its name is the run's id.
    #[arg(value_name = "OUT")]
    pub out: PathBuf,

    /// Every shard's run directory (or results.sqlite), in any order.
    #[arg(value_name = "SHARD", required = true)]
    pub shards: Vec<PathBuf>,

    /// The suite manifest on this machine, for `crucible run --resume` of
    /// the merged run. Default: where the first shard that says so found
    /// it (its local.json).
    #[arg(long, value_name = "FILE")]
    pub suite: Option<PathBuf>,
}

pub fn exec(args: &MergeArgs) -> Result<ExitCode> {
    let outcome = merge_shards(&MergeRequest {
        out: args.out.clone(),
        shards: args.shards.clone(),
        suite: args.suite.clone(),
    })
    .with_context(|| format!("cannot merge into {}", args.out.display()))?;
    let mut text = format!(
        "Merged {} shards: {} samples in {}.\n",
        outcome.shards,
        outcome.samples,
        outcome.dir.display()
    );
    if outcome.unfinished > 0 {
        text.push_str(&format!(
            "{} of them are pending or in error: crucible run --resume {} (--retry-errors) runs them.\n",
            outcome.unfinished,
            outcome.dir.display()
        ));
    }
    print_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}
