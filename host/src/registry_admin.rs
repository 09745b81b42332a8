//! `crucible registry ...`: serving a registry, and administering who may
//! write to it. Thin wrappers over `crucible::serve`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use crucible::plugin::RuntimeConfig;
use crucible::serve::auth::AuthStore;
use crucible::serve::{self, ServeConfig, Server};
use crucible_registry::{LocalRegistry, PackageName};

use crate::cli::{
    AssignArgs, NamespaceCommand, RegistryCommand, ServeArgs, TokenArgs, TokenCommand,
};
use crate::{cache_dir, limits};

pub fn run(command: RegistryCommand) -> Result<ExitCode> {
    match command {
        RegistryCommand::Serve(args) => serve(args),
        RegistryCommand::Token(TokenCommand::Create(args)) => create_token(args),
        RegistryCommand::Token(TokenCommand::Revoke(args)) => revoke(args),
        RegistryCommand::Namespace(NamespaceCommand::Assign(args)) => assign(args),
        RegistryCommand::Mirror(args) => mirror(args),
    }
}

fn serve(args: ServeArgs) -> Result<ExitCode> {
    let config = ServeConfig {
        root: args.root.root,
        listen: args.listen,
        max_size: args.max_size,
        limits: args.limits.limits(),
        runtime: RuntimeConfig {
            limits: limits(&args.sandbox)?,
            max_instances: 4,
            cache_dir: cache_dir(&args.sandbox),
        },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let root = config.root.clone();
        let server = Server::bind(config).await?;
        let addr = server
            .local_addr()
            .context("cannot read the bound address")?;
        // The one line on stdout: scripts and tests read the address here.
        println!("Serving {} on http://{addr}", root.display());
        std::io::stdout()
            .flush()
            .context("cannot write to stdout")?;
        server
            .run(serve::shutdown_signal())
            .await
            .context("the server failed")
    })?;
    Ok(ExitCode::SUCCESS)
}

fn create_token(args: TokenArgs) -> Result<ExitCode> {
    let auth = open(&args.root.root)?;
    let token = auth.create_token(&args.owner)?;
    eprintln!(
        "Created a token for `{}`. It is shown only now; keep it secret.",
        args.owner
    );
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

fn revoke(args: TokenArgs) -> Result<ExitCode> {
    let auth = open(&args.root.root)?;
    let revoked = auth.revoke(&args.owner)?;
    println!("Revoked {revoked} token(s) of `{}`", args.owner);
    Ok(ExitCode::SUCCESS)
}

fn assign(args: AssignArgs) -> Result<ExitCode> {
    // A namespace is valid when it makes a valid package name.
    PackageName::new(&args.namespace, "x")
        .with_context(|| format!("namespace `{}`", args.namespace))?;
    let auth = open(&args.root.root)?;
    let lock = auth.lock()?;
    let previous = auth.set_namespace_owner(&lock, &args.namespace, &args.owner)?;
    match previous {
        Some(previous) if previous != args.owner => println!(
            "Namespace `{}` now belongs to `{}` (was `{previous}`)",
            args.namespace, args.owner
        ),
        _ => println!(
            "Namespace `{}` now belongs to `{}`",
            args.namespace, args.owner
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// The auth store of the registry at `root`, making the registry if need be.
fn open(root: &std::path::Path) -> Result<AuthStore> {
    let registry = LocalRegistry::create(root)?;
    Ok(AuthStore::open(registry.root())?)
}

fn mirror(args: crate::cli::MirrorArgs) -> Result<ExitCode> {
    let location = crucible_registry::RegistryLocation::parse(&args.from)
        .with_context(|| format!("registry `{}`", args.from))?;
    let from = crucible_registry::AnyRegistry::open_default(&location, false)?;
    let to = crucible_registry::LocalRegistry::create(&args.to)?;
    let report = crucible_registry::mirror(&from, &to)?;
    println!(
        "Mirrored {} packages into {}: {} versions added, {} blobs written, {} yanks changed",
        report.packages,
        args.to.display(),
        report.versions_added,
        report.blobs_written,
        report.yanks_changed
    );
    Ok(ExitCode::SUCCESS)
}
