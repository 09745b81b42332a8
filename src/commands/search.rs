//! `crucible search QUERY`: packages of a registry by name or description.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use crucible_registry::{AnyRegistry, Registry};

use crate::flags::RegistryArg;

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Text to find in package names and descriptions.
    pub text: String,

    #[command(flatten)]
    pub registry: RegistryArg,
}

pub fn exec(args: SearchArgs) -> Result<ExitCode> {
    let registry = AnyRegistry::open_default(&args.registry.location()?, false)?;
    let found = registry.search(&args.text)?;
    if found.is_empty() {
        println!("no package matches `{}`", args.text);
    }
    for record in found {
        println!(
            "{}@{} ({}): {}",
            record.name, record.version, record.kind, record.description
        );
    }
    Ok(ExitCode::SUCCESS)
}
