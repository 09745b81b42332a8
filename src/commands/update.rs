//! `crucible update [SUITE]`: move the lockfile's pins to the newest
//! versions the suite allows.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use crucible_engine::packages::LockPolicy;
use crucible_engine::run::{self, LockRequest};
use crucible_registry::PackageName;

use crate::flags::SandboxArgs;

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The suite manifest.
    #[arg(default_value = crucible_engine::suite::DEFAULT_SUITE)]
    pub suite: PathBuf,

    /// Only this package (repeatable); all of them by default.
    #[arg(short, long = "package", value_name = "NAMESPACE/NAME")]
    pub packages: Vec<String>,

    /// Use only the local cache of an HTTP registry, never the network.
    #[arg(long)]
    pub offline: bool,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

pub fn exec(args: UpdateArgs) -> Result<ExitCode> {
    let packages = args
        .packages
        .iter()
        .map(|p| {
            p.parse::<PackageName>()
                .with_context(|| format!("package `{p}`"))
        })
        .collect::<Result<Vec<_>>>()?;
    let plan = run::lock(&LockRequest {
        suite: args.suite,
        policy: LockPolicy::Update(packages),
        judge: None,
        limits: args.sandbox.limits()?,
        cache_dir: args.sandbox.cache_dir(),
        offline: args.offline,
    })?;
    super::lock::print_plan(&plan);
    Ok(ExitCode::SUCCESS)
}
