//! The user's own settings file: what only the user, never a suite, may
//! decide. It lives at `$CRUCIBLE_CONFIG`, else `crucible/config.toml` in
//! the user's config directory (`~/.config` on Linux). Unknown keys are
//! refused, so a misspelt setting never silently does nothing.
//!
//! ```toml
//! [keys]
//! allow_hosts = ["llm-proxy.internal:8443"]  # hosts any key may go to
//! allow_env = ["LLM_PROXY_API_KEY"]          # key variables a suite may name
//! loopback = true                            # keys may go to 127.0.0.1, ::1, localhost
//! ```

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::{Grant, KeyPolicy, KeyPolicyError};

/// The variable naming the config file.
pub const CONFIG_ENV: &str = "CRUCIBLE_CONFIG";
/// A settings file is a few lines; anything larger is not one.
const MAX_BYTES: u64 = 1 << 20;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    #[serde(default)]
    pub keys: KeysConfig,
}

/// `[keys]`: where API keys may go beyond their providers' own hosts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    /// `HOST` or `HOST:PORT` that any key may be sent to.
    #[serde(default)]
    pub allow_hosts: Vec<String>,
    /// Key variables a suite's `api_key_env` may name.
    #[serde(default)]
    pub allow_env: Vec<String>,
    /// Keys may go to loopback (127.0.0.0/8, ::1, `localhost`).
    #[serde(default = "yes")]
    pub loopback: bool,
}

fn yes() -> bool {
    true
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self {
            allow_hosts: Vec::new(),
            allow_env: Vec::new(),
            loopback: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("your crucible config {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("your crucible config {path}: {source}")]
    Key {
        path: PathBuf,
        source: KeyPolicyError,
    },
}

/// Where the config file is: `$CRUCIBLE_CONFIG`, else the default place,
/// with whether it was named (a named file must exist).
pub fn location() -> Option<(PathBuf, bool)> {
    match std::env::var_os(CONFIG_ENV).filter(|v| !v.is_empty()) {
        Some(path) => Some((PathBuf::from(path), true)),
        None => dirs::config_dir().map(|dir| (dir.join("crucible").join("config.toml"), false)),
    }
}

impl UserConfig {
    /// The user's config, or the defaults when there is none.
    pub fn load() -> Result<Self, ConfigError> {
        match location() {
            None => Ok(Self::default()),
            Some((path, named)) => Self::load_from(&path, named),
        }
    }

    fn load_from(path: &Path, must_exist: bool) -> Result<Self, ConfigError> {
        let fail = |reason: String| ConfigError::Read {
            path: path.to_owned(),
            reason,
        };
        let meta = match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                return Ok(Self::default());
            }
            Err(e) => {
                return Err(fail(format!(
                    "{e}{}",
                    if must_exist {
                        format!(" (named by ${CONFIG_ENV})")
                    } else {
                        String::new()
                    }
                )));
            }
            Ok(meta) => meta,
        };
        if !meta.is_file() {
            return Err(fail("not a regular file".into()));
        }
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_BYTES + 1).read_to_string(&mut text))
            .map_err(|e| fail(e.to_string()))?;
        if text.len() as u64 > MAX_BYTES {
            return Err(fail(format!("larger than {MAX_BYTES} bytes")));
        }
        toml::from_str(&text).map_err(|e| {
            // One line, as every error: where, then what.
            let line = e
                .span()
                .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
            fail(match line {
                Some(line) => format!("line {line}: {}", e.message().trim()),
                None => e.message().trim().to_owned(),
            })
        })
    }

    /// `policy` with what this config allows added.
    pub fn apply(&self, policy: &mut KeyPolicy) -> Result<(), ConfigError> {
        let path = location().map(|(p, _)| p).unwrap_or_default();
        let key = |source| ConfigError::Key {
            path: path.clone(),
            source,
        };
        for host in &self.keys.allow_hosts {
            policy.allow_host(host, Grant::Config).map_err(key)?;
        }
        for env in &self.keys.allow_env {
            policy.allow_env(env, Grant::Config).map_err(key)?;
        }
        policy.set_loopback(self.keys.loopback);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_refused_and_defaults_hold() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[keys]\nallow_host = [\"x\"]\n").expect("write");
        let e = UserConfig::load_from(&path, true).expect_err("refused");
        assert!(e.to_string().contains("unknown field `allow_host`"), "{e}");
        std::fs::write(&path, "[keys]\nallow_env = [\"MY_KEY\"]\n").expect("write");
        let config = UserConfig::load_from(&path, true).expect("valid");
        assert!(config.keys.loopback);
        assert_eq!(config.keys.allow_env, ["MY_KEY"]);
        let missing = dir.path().join("none.toml");
        assert!(UserConfig::load_from(&missing, false).is_ok());
        assert!(UserConfig::load_from(&missing, true).is_err());
        assert!(UserConfig::load_from(dir.path(), false).is_err());
    }
}
