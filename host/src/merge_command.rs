//! `crucible merge OUT SHARD...`: one run directory from a plan's shards.

use std::process::ExitCode;

use anyhow::{Context, Result};

use crucible::merge::{MergeRequest, merge as merge_shards};

use crate::cli::MergeArgs;
use crate::print_stdout;

pub fn merge(args: &MergeArgs) -> Result<ExitCode> {
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
