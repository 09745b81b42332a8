//! `crucible inspect COMPONENT`: what a component says it is.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use crucible_engine::plugin::{LoadError, PluginInfo, PluginSource};

use crate::flags::SandboxArgs;

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The component (.wasm) to inspect: a scenario or a classifier.
    pub component: PathBuf,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

pub fn exec(args: InspectArgs) -> Result<ExitCode> {
    let runtime = args.sandbox.runtime(4)?;
    let source = PluginSource::from_file(&args.component, None)?;
    // The component says what it is; a classifier is recognised by the
    // scenario loader's refusal.
    match runtime.load_scenario(&source) {
        Ok(plugin) => {
            print_info(&plugin.info);
            println!("parameters:");
            for p in &plugin.parameters {
                println!(
                    "  {} = {}  ({})",
                    p.name,
                    p.values.join(" | "),
                    p.description
                );
            }
            println!("conditions: {}", plugin.conditions.len());
            for c in &plugin.conditions {
                println!("  {}", c.id);
            }
        }
        Err(LoadError::WrongKind { .. }) => {
            let plugin = runtime.load_classifier(&source)?;
            print_info(&plugin.info);
        }
        Err(e) => return Err(e.into()),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_info(info: &PluginInfo) {
    println!("{} ({})", info.id(), info.kind);
    println!("  {}", info.description);
    println!("contract: {}", info.contract);
    println!("sha256:   {}", info.sha256);
    println!("size:     {} bytes", info.size);
    println!("imports:");
    for import in &info.imports {
        println!("  {import}");
    }
}
