//! `crucible publish COMPONENT --registry DIR|URL`: a component into a
//! registry directory, or to a registry server with a token.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use crucible_engine::packages::{self, PublishRequest};
use crucible_registry::{LocalRegistry, RegistryLocation, publish_http, write_package_list};

use crate::flags::{RegistryArg, SandboxArgs, registry_token};

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The component (.wasm) to publish.
    pub component: PathBuf,

    #[command(flatten)]
    pub registry: RegistryArg,

    /// SPDX licence of the plugin.
    #[arg(long)]
    pub license: Option<String>,

    /// Where the plugin's source lives.
    #[arg(long)]
    pub repository: Option<String>,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

pub fn exec(args: PublishArgs) -> Result<ExitCode> {
    let record = match args.registry.location()? {
        RegistryLocation::Dir(dir) => {
            let runtime = args.sandbox.runtime(4)?;
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
            let runtime = args.sandbox.runtime(4)?;
            let source = crucible_engine::plugin::PluginSource::from_file(&args.component, None)?;
            let new = packages::new_version(&runtime, &source, None, None)?;
            let token = registry_token(&url)?;
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
