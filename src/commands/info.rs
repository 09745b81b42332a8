//! `crucible info NAMESPACE/NAME`: every version of a package.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use crucible_registry::{AnyRegistry, PackageName, Registry};

use crate::flags::RegistryArg;

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The package, as NAMESPACE/NAME.
    pub package: String,

    #[command(flatten)]
    pub registry: RegistryArg,
}

pub fn exec(args: InfoArgs) -> Result<ExitCode> {
    let name: PackageName = args
        .package
        .parse()
        .with_context(|| format!("package `{}`", args.package))?;
    let registry = AnyRegistry::open_default(&args.registry.location()?, false)?;
    let versions = registry.versions(&name)?;
    for record in versions {
        let yanked = if record.yanked { " (yanked)" } else { "" };
        println!(
            "{}@{}{yanked}: {}, {}, sha256 {}, {} bytes, published {}",
            record.name,
            record.version,
            record.kind,
            record.contract,
            record.sha256,
            record.size,
            record.published
        );
    }
    Ok(ExitCode::SUCCESS)
}
