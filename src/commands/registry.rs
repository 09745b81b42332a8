//! `crucible registry ...`: serving a registry, and administering who may
//! write to it. Thin wrappers over `crucible_registry_server`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use crucible_registry::{LocalRegistry, PackageName};
use crucible_registry_server::auth::AuthStore;
use crucible_registry_server::{ServeConfig, Server, limits as serve_limits, shutdown_signal};

use crate::flags::SandboxArgs;

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Serve a registry directory over HTTP: its static layout for reading,
    /// and publishing and yanking for owners with a token.
    Serve(ServeArgs),
    /// Create and revoke the tokens that let owners publish.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Give a namespace to an owner (a namespace otherwise belongs to the
    /// owner who first published in it).
    #[command(subcommand)]
    Namespace(NamespaceCommand),
    /// Copy every version of every package of one registry (a directory or
    /// a URL) into a registry directory, checking every hash.
    Mirror(MirrorArgs),
}

#[derive(Debug, Args)]
pub struct MirrorArgs {
    /// The registry to copy from: a directory or an http(s) URL.
    pub from: String,
    /// The registry directory to copy into (created if missing).
    pub to: PathBuf,
}

/// The directory of a served registry.
#[derive(Debug, Args)]
pub struct RootArg {
    /// The registry directory.
    #[arg(long, value_name = "DIR")]
    pub root: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub root: RootArg,

    /// Address to listen on; port 0 picks a free port. The bound address is
    /// printed on stdout.
    #[arg(long, value_name = "ADDR", default_value = crucible_registry_server::DEFAULT_LISTEN)]
    pub listen: std::net::SocketAddr,

    /// Largest component accepted, in bytes (or with a KiB or MiB suffix).
    #[arg(long, value_name = "BYTES", default_value = "32MiB", value_parser = parse_size)]
    pub max_size: u64,

    #[command(flatten)]
    pub limits: ServeLimitArgs,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// How long a connection may take and how much one client may hold.
#[derive(Debug, Args)]
pub struct ServeLimitArgs {
    /// Seconds a request's headers may take to arrive, counted from when
    /// the connection starts waiting for them; a slower client (slowloris)
    /// is disconnected.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds,
          default_value_t = serve_limits::DEFAULT_HEADER_TIMEOUT.as_secs_f64())]
    pub header_timeout: f64,

    /// Seconds a connection may sit with no request in flight and nothing
    /// sent before it is closed.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds,
          default_value_t = serve_limits::DEFAULT_IDLE_TIMEOUT.as_secs_f64())]
    pub idle_timeout: f64,

    /// Seconds a request, its upload included, may take before it is
    /// answered 408.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds,
          default_value_t = serve_limits::DEFAULT_REQUEST_TIMEOUT.as_secs_f64())]
    pub request_timeout: f64,

    /// Connections open at once, all clients together; beyond, the
    /// longest-idle connection is closed to make room, or the newcomer is
    /// answered 503.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..),
          default_value_t = serve_limits::DEFAULT_MAX_CONNECTIONS as u32)]
    pub max_connections: u32,

    /// Connections open at once from one IP address; beyond, 429.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..),
          default_value_t = serve_limits::DEFAULT_MAX_CONNECTIONS_PER_CLIENT as u32)]
    pub max_connections_per_client: u32,

    /// Requests per second from one IP address (bursts of as many); beyond,
    /// 429 with Retry-After.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..),
          default_value_t = serve_limits::DEFAULT_REQUESTS_PER_SECOND)]
    pub max_requests_per_second: u32,
}

impl ServeLimitArgs {
    pub fn limits(&self) -> serve_limits::ServeLimits {
        serve_limits::ServeLimits {
            header_timeout: Duration::from_secs_f64(self.header_timeout),
            idle_timeout: Duration::from_secs_f64(self.idle_timeout),
            request_timeout: Duration::from_secs_f64(self.request_timeout),
            max_connections: self.max_connections as usize,
            max_connections_per_client: self.max_connections_per_client as usize,
            requests_per_second: self.max_requests_per_second,
        }
    }
}

/// A positive number of seconds, at most a day.
fn parse_seconds(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
        .ok_or_else(|| format!("`{text}` is not a number of seconds between 0 and 86400"))
}

/// `1048576`, `1024KiB` or `1MiB`.
fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let unit: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        _ => {
            return Err(format!(
                "`{text}` is not a size: expected BYTES, or a number with KiB or MiB"
            ));
        }
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{text}` is not a positive size"))
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for an owner and print it; it is shown only this once
    /// (only its sha256 is stored).
    Create(TokenArgs),
    /// Revoke every token of an owner.
    Revoke(TokenArgs),
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub root: RootArg,

    /// The owner: letters, digits, `-`, `_`, `.` and `@`.
    #[arg(long)]
    pub owner: String,
}

#[derive(Debug, Subcommand)]
pub enum NamespaceCommand {
    /// Make an owner the owner of a namespace, replacing any other.
    Assign(AssignArgs),
}

#[derive(Debug, Args)]
pub struct AssignArgs {
    /// The namespace.
    pub namespace: String,

    #[command(flatten)]
    pub root: RootArg,

    /// Its new owner.
    #[arg(long)]
    pub owner: String,
}

pub fn exec(command: RegistryCommand) -> Result<ExitCode> {
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
        runtime: args.sandbox.runtime_config(4)?,
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
            .run(shutdown_signal())
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

fn mirror(args: MirrorArgs) -> Result<ExitCode> {
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

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("32MiB"), Ok(32 << 20));
        for bad in ["", "0", "1GB", "-1", "MiB", "1.5MiB"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }
}
