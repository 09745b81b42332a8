//! `crucible new`: a plugin project from a template, with the contract's
//! WIT.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use crucible_authoring::Language;
use crucible_authoring::scaffold::scaffold;
use crucible_engine::plugin::PluginKind;
use crucible_registry::PackageName;

/// The two kinds of plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Scenario,
    Classifier,
}

/// The languages a project can be started in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LangArg {
    Rust,
    Python,
    Js,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// What to start: a scenario or a classifier.
    #[arg(value_enum)]
    pub kind: KindArg,

    /// The plugin's registry name, NAMESPACE/NAME (lowercase letters,
    /// digits and dashes).
    pub name: String,

    /// The language to write it in.
    #[arg(long, value_enum)]
    pub lang: LangArg,

    /// Where to create the project (default: ./NAME).
    #[arg(long)]
    pub path: Option<PathBuf>,
}

pub fn exec(args: NewArgs) -> Result<ExitCode> {
    let name: PackageName = args
        .name
        .parse()
        .with_context(|| format!("`{}` is not a plugin name", args.name))?;
    let kind = match args.kind {
        KindArg::Scenario => PluginKind::Scenario,
        KindArg::Classifier => PluginKind::Classifier,
    };
    let language = match args.lang {
        LangArg::Rust => Language::Rust,
        LangArg::Python => Language::Python,
        LangArg::Js => Language::JavaScript,
    };
    let dir = args.path.unwrap_or_else(|| PathBuf::from(name.name()));
    let written = scaffold(kind, language, &name, &dir)?;
    println!("Created {language} {kind} {name} in {}:", dir.display());
    for file in written.iter().filter(|f| !f.starts_with("wit")) {
        println!("  {}", file.display());
    }
    println!("  wit/ (the contract, crucible:plugin@0.1.0)");
    println!();
    println!("Next:");
    println!("  cd {}", dir.display());
    if language == Language::Rust {
        println!(
            "  rustup target add {}   # once",
            crucible_authoring::toolchain::GUEST_TARGET
        );
    } else if language == Language::JavaScript {
        println!("  npm install          # the pinned componentizer");
    } else if language == Language::Python {
        println!(
            "  python3 -m venv .venv && .venv/bin/pip install componentize-py=={}",
            crucible_authoring::toolchain::COMPONENTIZE_PY_VERSION
        );
    }
    println!("  crucible build       # the component, its size and sha256");
    println!("  crucible test        # the contract test");
    println!("  crucible dev         # rebuild and rerun on every change");
    Ok(ExitCode::SUCCESS)
}
