//! `crucible build`: turns a project into a component with its language's
//! own tool. The tool's output goes straight to the terminal, so its
//! errors read as its authors wrote them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::build_cache::{self, BuildCache};
use super::project::{Project, Recipe, world_name};
use super::toolchain::{self, GUEST_TARGET, ToolchainError};

/// A component that was just built.
#[derive(Debug, Clone)]
pub struct Built {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
    pub took: Duration,
    /// The sources had not changed since a kept build: the componentizer
    /// did not run (see `build_cache`).
    pub reused: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Toolchain(#[from] ToolchainError),
    #[error("cannot start {tool}: {source}")]
    Spawn {
        tool: String,
        source: std::io::Error,
    },
    #[error("{tool} failed ({status}); its output is above")]
    Failed { tool: String, status: String },
    #[error(
        "cargo built no cdylib for package `{package}`: add `[lib] crate-type = [\"cdylib\"]` to its Cargo.toml"
    )]
    NoArtifact { package: String },
    #[error(
        "{path} is missing: the {dir} directory with the contract's WIT files (`crucible new` writes it)"
    )]
    NoWit { path: PathBuf, dir: &'static str },
    #[error("cannot read the component {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Builds the project's component and fingerprints it: a Python or
/// JavaScript project whose sources have not changed since a kept build
/// gets that build.
pub fn build(project: &Project) -> Result<Built, BuildError> {
    let started = Instant::now();
    let tool = match &project.recipe {
        Recipe::Cargo => {
            let path = cargo_build(project)?;
            return fingerprint(&path, started.elapsed());
        }
        Recipe::ComponentizePy { .. } => toolchain::componentize_py(&project.root)?,
        Recipe::ComponentizeJs { .. } => toolchain::componentize_js(&project.root)?,
    };
    let out = prepare_output(project)?;
    let cache = BuildCache::default_location();
    let key = match build_cache::key(project, &tool) {
        Ok(key) => Some(key),
        Err(e) => {
            tracing::warn!("not keeping this build: reading the project's files: {e}");
            None
        }
    };
    if let (Some(cache), Some(key)) = (&cache, &key)
        && cache.fetch(key, &out)
    {
        let mut built = fingerprint(&out, started.elapsed())?;
        built.reused = true;
        return Ok(built);
    }
    componentize(project, &tool, &out)?;
    // Kept only if no source changed while the tool ran: else the build
    // could be of either version.
    if let (Some(cache), Some(key)) = (&cache, &key)
        && build_cache::key(project, &tool).is_ok_and(|after| after == *key)
    {
        cache.keep(key, &out);
    }
    fingerprint(&out, started.elapsed())
}

/// Runs the project's componentizer `tool`, writing the component to `out`.
fn componentize(project: &Project, tool: &Path, out: &Path) -> Result<(), BuildError> {
    match &project.recipe {
        Recipe::Cargo => Ok(()),
        Recipe::ComponentizePy { world, module } => {
            let mut command = Command::new(tool);
            command
                .args(["-d", "wit", "-w", world_name(*world), "componentize"])
                // Without stubs, componentize-py imports wasi:sockets,
                // which the sandbox does not provide.
                .arg("--stub-wasi")
                .arg(module)
                .arg("-o")
                .arg(out);
            run(&mut command, &project.root, "componentize-py")
        }
        Recipe::ComponentizeJs { world, main } => {
            let mut command = Command::new(tool);
            command
                .arg(main)
                .args(["-w", "wit", "-n", world_name(*world)])
                // wasi:http is not the sandbox's to give; stdio, clocks and
                // random are (captured, fixed and seeded).
                .args(["-d", "http", "fetch-event"])
                .arg("-o")
                .arg(out);
            run(&mut command, &project.root, "componentize-js")
        }
    }
}

/// The size and sha256 of a component file.
pub fn fingerprint(path: &Path, took: Duration) -> Result<Built, BuildError> {
    let bytes = crucible_registry::input_file::read(path, crucible_registry::input_file::COMPONENT)
        .map_err(|source| BuildError::Read {
            path: path.to_owned(),
            source,
        })?;
    Ok(Built {
        path: path.to_owned(),
        size: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(&bytes)),
        took,
        reused: false,
    })
}

/// Checks the WIT is there and makes the output directory.
fn prepare_output(project: &Project) -> Result<PathBuf, BuildError> {
    let wit = project.wit_dir();
    if !wit.is_dir() {
        return Err(BuildError::NoWit {
            path: wit,
            dir: "wit/",
        });
    }
    let out = project.output();
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|source| BuildError::Create {
            path: dir.to_owned(),
            source,
        })?;
    }
    Ok(out)
}

fn run(command: &mut Command, dir: &Path, tool: &str) -> Result<(), BuildError> {
    let status = command
        .current_dir(dir)
        .stdin(Stdio::null())
        .status()
        .map_err(|source| BuildError::Spawn {
            tool: tool.to_owned(),
            source,
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(BuildError::Failed {
            tool: tool.to_owned(),
            status: status.to_string(),
        })
    }
}

/// One line of `cargo build --message-format=json`.
#[derive(Deserialize)]
struct CargoMessage {
    reason: String,
    #[serde(default)]
    manifest_path: Option<PathBuf>,
    #[serde(default)]
    target: Option<CargoTarget>,
    #[serde(default)]
    filenames: Vec<PathBuf>,
    #[serde(default)]
    message: Option<CargoDiagnostic>,
}

#[derive(Deserialize)]
struct CargoDiagnostic {
    rendered: Option<String>,
}

#[derive(Deserialize)]
struct CargoTarget {
    crate_types: Vec<String>,
}

/// `cargo build` for the guest target; the component is the cdylib cargo
/// reports for this package, wherever its target directory is.
fn cargo_build(project: &Project) -> Result<PathBuf, BuildError> {
    let cargo = toolchain::cargo()?;
    let output = Command::new(&cargo)
        .args(["build", "--release", "--target", GUEST_TARGET])
        .args(["--message-format", "json-render-diagnostics"])
        .current_dir(&project.root)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|source| BuildError::Spawn {
            tool: "cargo".into(),
            source,
        })?;
    // Diagnostics arrive rendered in the JSON stream: pass them on.
    let manifest = project.root.join("Cargo.toml");
    let manifest = manifest.canonicalize().unwrap_or(manifest);
    let mut artifact = None;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<CargoMessage>(line) else {
            continue;
        };
        match message.reason.as_str() {
            "compiler-message" => {
                if let Some(rendered) = message.message.and_then(|m| m.rendered) {
                    eprint!("{rendered}");
                }
            }
            "compiler-artifact"
                if message.manifest_path.as_deref() == Some(manifest.as_path())
                    && message
                        .target
                        .as_ref()
                        .is_some_and(|t| t.crate_types.iter().any(|c| c == "cdylib")) =>
            {
                artifact = message
                    .filenames
                    .into_iter()
                    .find(|f| f.extension().is_some_and(|e| e == "wasm"));
            }
            _ => {}
        }
    }
    if !output.status.success() {
        return Err(BuildError::Failed {
            tool: "cargo".into(),
            status: output.status.to_string(),
        });
    }
    artifact.ok_or_else(|| BuildError::NoArtifact {
        package: project.package.clone(),
    })
}
