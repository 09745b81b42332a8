//! Flag groups that several commands share, declared once, and what each
//! means to the library: sandbox limits, where keys may go, which registry.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use crucible_engine::model::{Grant, KeyPolicy};
use crucible_engine::plugin::{Limits, PluginRuntime, RuntimeConfig};
use crucible_engine::user_config::UserConfig;
use crucible_registry::credentials::{TOKEN_ENV, credentials_path};
use crucible_registry::{RegistryLocation, Token, token_for};

/// Where API keys may go beyond their providers' own hosts; see "Where
/// keys go" in the README.
#[derive(Debug, Clone, Default, Args)]
pub struct KeyArgs {
    /// Let any model's API key go to this host (repeatable): HOST, or
    /// HOST:PORT for that port only. A key otherwise goes only to its
    /// provider's own host, to loopback, to a base_url you give in
    /// --model/--judge or in a *_BASE_URL variable, or to a host in
    /// allow_hosts under [keys] in your config ($CRUCIBLE_CONFIG, else
    /// crucible/config.toml in your config directory). A suite that would
    /// send a key anywhere else is refused before anything is sent.
    #[arg(long = "allow-key-host", value_name = "HOST[:PORT]")]
    pub hosts: Vec<String>,

    /// Let a suite's api_key_env name this variable (repeatable). A suite
    /// may name only the providers' own key variables (OPENAI_API_KEY,
    /// ANTHROPIC_API_KEY, GEMINI_API_KEY, OPENROUTER_API_KEY,
    /// TOGETHER_API_KEY) and those you allow here or in allow_env under
    /// [keys] in your config; any api_key_env must end in _KEY or _TOKEN.
    #[arg(long = "allow-key-env", value_name = "NAME")]
    pub envs: Vec<String>,
}

impl KeyArgs {
    /// Where keys may go: the user's config, these flags, and the
    /// `base_url` and `api_key_env` of the models written on the command
    /// line (`specs`).
    pub fn policy<'a>(&self, specs: impl IntoIterator<Item = &'a String>) -> Result<KeyPolicy> {
        let mut policy = KeyPolicy::default();
        UserConfig::load()?.apply(&mut policy)?;
        for host in &self.hosts {
            policy
                .allow_host(host, Grant::Flag)
                .map_err(|e| anyhow::anyhow!("--allow-key-host: {e}"))?;
        }
        for env in &self.envs {
            policy
                .allow_env(env, Grant::Flag)
                .map_err(|e| anyhow::anyhow!("--allow-key-env: {e}"))?;
        }
        for spec in specs {
            policy.trust_command_line(spec);
        }
        Ok(policy)
    }
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Seconds of guest time one plugin call may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub call_timeout: f64,

    /// Memory a plugin instance may use, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub memory_mib: usize,

    /// Fuel per plugin call (off by default; the deadline still applies).
    #[arg(long)]
    pub fuel: Option<u64>,

    /// Compile components afresh instead of using the compiled-component
    /// cache ($CRUCIBLE_CACHE, else the user's cache directory).
    #[arg(long)]
    pub no_compile_cache: bool,
}

impl SandboxArgs {
    pub fn limits(&self) -> Result<Limits> {
        anyhow::ensure!(
            self.call_timeout.is_finite() && self.call_timeout > 0.0,
            "--call-timeout must be a positive number of seconds"
        );
        anyhow::ensure!(self.memory_mib > 0, "--memory-mib must be at least 1");
        Ok(Limits {
            call_timeout: Duration::from_secs_f64(self.call_timeout),
            memory_bytes: self.memory_mib << 20,
            fuel_per_call: self.fuel,
            ..Limits::default()
        })
    }

    /// The compiled-component cache, unless `--no-compile-cache`.
    pub fn cache_dir(&self) -> Option<PathBuf> {
        if self.no_compile_cache {
            None
        } else {
            RuntimeConfig::default().cache_dir
        }
    }

    /// The runtime's configuration with these limits, for up to
    /// `max_instances` instances at once.
    pub fn runtime_config(&self, max_instances: u32) -> Result<RuntimeConfig> {
        Ok(RuntimeConfig {
            limits: self.limits()?,
            max_instances,
            cache_dir: self.cache_dir(),
        })
    }

    /// A plugin runtime with these limits, for up to `max_instances`
    /// instances at once.
    pub fn runtime(&self, max_instances: u32) -> Result<PluginRuntime> {
        Ok(PluginRuntime::new(self.runtime_config(max_instances)?)?)
    }
}

/// What the summary shows beyond its own tables.
#[derive(Debug, Clone, Copy, Args)]
pub struct SummaryFlags {
    /// Also print every cell (model x scenario x condition), before the
    /// summary.
    #[arg(long)]
    pub cells: bool,
}

/// A registry: a directory, or an `http(s)://` URL.
#[derive(Debug, Args)]
pub struct RegistryArg {
    /// The registry: a directory, or the URL of a registry server or a
    /// static mirror.
    #[arg(long, value_name = "DIR|URL", env = "CRUCIBLE_REGISTRY")]
    pub registry: String,
}

impl RegistryArg {
    pub fn location(&self) -> Result<RegistryLocation> {
        Ok(RegistryLocation::parse(&self.registry)?)
    }
}

/// The token for the registry server at `url`, or an error saying where
/// to put one. The token itself is never shown.
pub fn registry_token(url: &str) -> Result<Token> {
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
