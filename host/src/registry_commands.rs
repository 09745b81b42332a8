//! The registry and lockfile commands: thin wrappers over the library.
//! `--registry` is a directory or an `http(s)://` URL; over HTTP, publish
//! and yank go to a registry server's API with a token (see
//! `crucible_registry::credentials`), and the server checks the component.

use std::process::ExitCode;

use anyhow::{Context, Result};
use crucible::packages::{self, LockPolicy, PublishRequest};
use crucible::plugin::{PluginRuntime, RuntimeConfig};
use crucible::run::{self, LockRequest};
use crucible_registry::credentials::{TOKEN_ENV, credentials_path};
use crucible_registry::{
    AnyRegistry, LocalRegistry, PackageName, Registry, RegistryLocation, Token, Version,
    publish_http, token_for, write_package_list, yank_http,
};

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
        offline: args.offline,
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
        offline: args.offline,
    })?;
    report(&plan);
    Ok(ExitCode::SUCCESS)
}

fn location(arg: &crate::cli::RegistryArg) -> Result<RegistryLocation> {
    Ok(RegistryLocation::parse(&arg.registry)?)
}

/// The token for the registry server at `url`, or an error saying where
/// to put one. The token itself is never shown.
fn token(url: &str) -> Result<Token> {
    token_for(url)?.with_context(|| {
        let file = credentials_path().map_or_else(
            || "the credentials file".to_owned(),
            |p| p.display().to_string(),
        );
        format!(
            "no token for {url}: set {TOKEN_ENV}, or add `\"{url}\" = \"TOKEN\"` to {file} (mode 0600)"
        )
    })
}

pub fn publish(args: PublishArgs) -> Result<ExitCode> {
    let record = match location(&args.registry)? {
        RegistryLocation::Dir(dir) => {
            let runtime = PluginRuntime::new(RuntimeConfig {
                limits: limits(&args.sandbox)?,
                max_instances: 4,
                cache_dir: cache_dir(&args.sandbox),
            })?;
            let record = packages::publish(
                &runtime,
                &PublishRequest {
                    component: args.component,
                    registry: dir.clone(),
                    license: args.license,
                    repository: args.repository,
                },
            )?;
            // Keeps the directory searchable and mirrorable when served
            // by a static file host.
            write_package_list(&LocalRegistry::open(&dir)?)?;
            record
        }
        RegistryLocation::Url(url) => {
            // The component describes itself here, on the publisher's own
            // machine; the server checks it without running it, and hosts
            // check the description again when they load the package.
            let runtime = PluginRuntime::new(RuntimeConfig {
                limits: limits(&args.sandbox)?,
                max_instances: 4,
                cache_dir: cache_dir(&args.sandbox),
            })?;
            let source = crucible::plugin::PluginSource::from_file(&args.component, None)?;
            let new = packages::new_version(&runtime, &source, None, None)?;
            let token = token(&url)?;
            let (name, version) = (new.name.to_string(), new.version.to_string());
            publish_http(
                &url,
                &token,
                &source.bytes,
                crucible_registry::Declaration {
                    name: &name,
                    version: &version,
                    description: &new.description,
                },
                args.license.as_deref(),
                args.repository.as_deref(),
            )
            .map_err(packages::PackageError::from)?
        }
    };
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
    let yanked = !args.undo;
    let record = match location(&args.registry)? {
        RegistryLocation::Dir(dir) => {
            Some(LocalRegistry::open(&dir)?.yank(&name, &version, yanked)?)
        }
        RegistryLocation::Url(url) => yank_http(&url, &token(&url)?, &name, &version, yanked)
            .map_err(packages::PackageError::from)?,
    };
    let (name, version, yanked) = match &record {
        Some(record) => (&record.name, &record.version, record.yanked),
        None => (&name, &version, yanked),
    };
    let state = if yanked { "yanked" } else { "restored" };
    println!("{name}@{version} {state}");
    Ok(ExitCode::SUCCESS)
}

pub fn search(args: SearchArgs) -> Result<ExitCode> {
    let registry = AnyRegistry::open_default(&location(&args.registry)?, false)?;
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
    let registry = AnyRegistry::open_default(&location(&args.registry)?, false)?;
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
