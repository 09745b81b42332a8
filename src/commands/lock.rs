//! `crucible lock [SUITE]`: resolve every plugin of a suite and write
//! `crucible.lock` beside it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use crucible_engine::packages::{self, LockPolicy};
use crucible_engine::run::{self, LockRequest};

use crate::flags::SandboxArgs;

#[derive(Debug, Args)]
pub struct LockArgs {
    /// The suite manifest.
    #[arg(default_value = crucible_engine::suite::DEFAULT_SUITE)]
    pub suite: PathBuf,

    /// The judge model to record in the lockfile (else the suite's).
    #[arg(long, value_name = "PROVIDER/MODEL")]
    pub judge: Option<String>,

    /// Use only the local cache of an HTTP registry, never the network.
    #[arg(long)]
    pub offline: bool,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

pub fn exec(args: LockArgs) -> Result<ExitCode> {
    let plan = run::lock(&LockRequest {
        suite: args.suite,
        policy: LockPolicy::Normal,
        judge: args.judge,
        limits: args.sandbox.limits()?,
        cache_dir: args.sandbox.cache_dir(),
        offline: args.offline,
    })?;
    print_plan(&plan);
    Ok(ExitCode::SUCCESS)
}

pub fn print_plan(plan: &packages::LockPlan) {
    if plan.changes.is_empty() {
        println!("{} is up to date", plan.path.display());
    } else {
        for change in &plan.changes {
            println!("  {change}");
        }
        println!("Wrote {}", plan.path.display());
    }
}
