//! `crucible build [PROJECT]`: a plugin project built into a component by
//! its language's own tool; its path, size, sha256 and load times.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use crucible_authoring::{Built, Project};
use crucible_engine::plugin::{CacheOutcome, PluginSource};

use crate::flags::SandboxArgs;

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The project's directory.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

pub fn exec(args: BuildArgs) -> Result<ExitCode> {
    let project = Project::open(&args.path)?;
    let built = build_project(&project)?;
    let runtime = args.sandbox.runtime(8)?;
    let source = PluginSource::from_file(&built.path, None)?;
    let started = Instant::now();
    let plugin = runtime
        .load_any(&source)
        .with_context(|| format!("the built component {}", built.path.display()))?;
    let first = started.elapsed();
    let started = Instant::now();
    runtime.load_any(&source)?;
    let second = started.elapsed();
    let info = plugin.info();
    println!(
        "Built {} ({}, {}) in {}{}",
        info.id(),
        info.kind,
        project.language,
        seconds(built.took),
        if built.reused {
            " (sources unchanged since a kept build: the componentizer did not run)"
        } else {
            ""
        }
    );
    println!("  component  {}", built.path.display());
    println!(
        "  size       {} ({} bytes)",
        human_size(built.size),
        built.size
    );
    println!("  sha256     {}", built.sha256);
    match plugin.cache() {
        CacheOutcome::Compiled if args.sandbox.no_compile_cache => println!(
            "  load       {} compiling (--no-compile-cache: every load compiles)",
            seconds(first)
        ),
        CacheOutcome::Compiled => println!(
            "  load       {} compiling (first load), {} from the compile cache",
            seconds(first),
            millis(second)
        ),
        CacheOutcome::Hit => println!(
            "  load       {} from the compile cache (compiled by an earlier load)",
            millis(first.min(second))
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// Builds a project and says what came out.
pub(super) fn build_project(project: &Project) -> Result<Built> {
    eprintln!(
        "building {} ({} {})",
        project.root.display(),
        project.language,
        project.package
    );
    crucible_authoring::build(project)
        .with_context(|| format!("building {}", project.root.display()))
}

/// A path given on the command line as a component: a `.wasm` file as it
/// is, or a project built first.
pub(super) fn component_at(path: &Path) -> Result<(PathBuf, Option<Project>)> {
    if path.is_file() {
        return Ok((path.to_owned(), None));
    }
    let project = Project::open(path)?;
    let built = build_project(&project)?;
    Ok((built.path, Some(project)))
}

pub(super) fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

pub(super) fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A component's size in the unit that suits it.
pub(super) fn human_size(bytes: u64) -> String {
    if bytes < 1_000_000 {
        format!("{:.1} KB", bytes as f64 / 1000.0)
    } else {
        format!("{:.1} MB", bytes as f64 / 1_000_000.0)
    }
}
