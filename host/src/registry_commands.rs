//! The registry and lockfile commands: thin wrappers over the library.

use std::process::ExitCode;

use anyhow::{Context, Result};
use crucible::packages::{self, LockPolicy, PublishRequest};
use crucible::plugin::{PluginRuntime, RuntimeConfig};
use crucible::run::{self, LockRequest};
use crucible_registry::{LocalRegistry, PackageName, Registry, Version};

use crate::cli::{InfoArgs, LockArgs, PublishArgs, SearchArgs, UpdateArgs, YankArgs};
use crate::{cache_dir, limits};

fn report(plan: &packages::LockPlan) {
    if plan.changes.is_empty() {
        println!("{} is up to date", plan.path.display());
    } else {
        for change in &plan.changes {
            println!("  {change}");
        }
        println!("Wrote {}", plan.path.display());
    }
}

pub fn lock(args: LockArgs) -> Result<ExitCode> {
    let plan = run::lock(&LockRequest {
        suite: args.suite,
        policy: LockPolicy::Normal,
        judge: args.judge,
        limits: limits(&args.sandbox)?,
        cache_dir: cache_dir(&args.sandbox),
    })?;
    report(&plan);
    Ok(ExitCode::SUCCESS)
}

pub fn update(args: UpdateArgs) -> Result<ExitCode> {
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
        limits: limits(&args.sandbox)?,
        cache_dir: cache_dir(&args.sandbox),
    })?;
    report(&plan);
    Ok(ExitCode::SUCCESS)
}

pub fn publish(args: PublishArgs) -> Result<ExitCode> {
    let runtime = PluginRuntime::new(RuntimeConfig {
        limits: limits(&args.sandbox)?,
        max_instances: 4,
        cache_dir: cache_dir(&args.sandbox),
    })?;
    let record = packages::publish(
        &runtime,
        &PublishRequest {
            component: args.component,
            registry: args.registry.registry,
            license: args.license,
            repository: args.repository,
        },
    )?;
    println!(
        "Published {}@{} ({}, {}, {} bytes, sha256 {})",
        record.name, record.version, record.kind, record.contract, record.size, record.sha256
    );
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

pub fn yank(args: YankArgs) -> Result<ExitCode> {
    let (name, version) = parse_pinned(&args.package)?;
    let registry = LocalRegistry::open(&args.registry.registry)?;
    let record = registry.yank(&name, &version, !args.undo)?;
    let state = if record.yanked { "yanked" } else { "restored" };
    println!("{}@{} {state}", record.name, record.version);
    Ok(ExitCode::SUCCESS)
}

pub fn search(args: SearchArgs) -> Result<ExitCode> {
    let registry = LocalRegistry::open(&args.registry.registry)?;
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

pub fn info(args: InfoArgs) -> Result<ExitCode> {
    let name: PackageName = args
        .package
        .parse()
        .with_context(|| format!("package `{}`", args.package))?;
    let registry = LocalRegistry::open(&args.registry.registry)?;
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
