//! `crucible yank NAMESPACE/NAME@VERSION`: hide a version from new
//! resolution (`--undo` restores it); lockfiles that pin it keep it.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use crucible_engine::packages;
use crucible_registry::{LocalRegistry, PackageName, RegistryLocation, Version, yank_http};

use crate::flags::{RegistryArg, registry_token};

#[derive(Debug, Args)]
pub struct YankArgs {
    /// The version to yank, as NAMESPACE/NAME@VERSION.
    pub package: String,

    #[command(flatten)]
    pub registry: RegistryArg,

    /// Undo a yank.
    #[arg(long)]
    pub undo: bool,
}

pub fn exec(args: YankArgs) -> Result<ExitCode> {
    let (name, version) = parse_pinned(&args.package)?;
    let yanked = !args.undo;
    let record = match args.registry.location()? {
        RegistryLocation::Dir(dir) => {
            Some(LocalRegistry::open(&dir)?.yank(&name, &version, yanked)?)
        }
        RegistryLocation::Url(url) => {
            yank_http(&url, &registry_token(&url)?, &name, &version, yanked)
                .map_err(packages::PackageError::from)?
        }
    };
    let (name, version, yanked) = match &record {
        Some(record) => (&record.name, &record.version, record.yanked),
        None => (&name, &version, yanked),
    };
    let state = if yanked { "yanked" } else { "restored" };
    println!("{name}@{version} {state}");
    Ok(ExitCode::SUCCESS)
}

/// `namespace/name@version`.
fn parse_pinned(text: &str) -> Result<(PackageName, Version)> {
    let (name, version) = text
        .rsplit_once('@')
        .with_context(|| format!("`{text}` is not of the form NAMESPACE/NAME@VERSION"))?;
    let name = name.parse().with_context(|| format!("package `{name}`"))?;
    let version = version
        .parse()
        .with_context(|| format!("version `{version}`"))?;
    Ok((name, version))
}
