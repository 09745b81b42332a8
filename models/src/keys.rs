//! Where an API key may go, and which environment variable may hold one.
//!
//! A suite is often someone else's file, yet the key it makes the host send
//! is the user's. So a key goes only to its provider's own host (over
//! https), to loopback, or to a host the user named: with
//! `--allow-key-host`, in their own config file, as the `base_url` of a
//! `--model`/`--judge` they wrote, or in a `*_BASE_URL` variable. Anything
//! else is refused before a request is built.
//!
//! Loopback (127.0.0.0/8, ::1, `localhost`) is allowed by default: only a
//! process on the user's own machine listens there (a local vLLM, Ollama or
//! llama.cpp server, a test's fake), which a shared suite cannot put there.
//! The user's config can turn that off (`[keys] loopback = false`).
//!
//! `api_key_env` is restricted the same way: the variable must look like a
//! key (see [`is_key_like`]) and, when a suite names it, be one of the
//! providers' own variables or one the user allowed. A suite naming
//! `AWS_SECRET_ACCESS_KEY` is refused even if it is not set.

use serde::Serialize;

use super::SpecError;
use super::http::{Provider, Route, UrlFrom};

/// The providers' own key variables, which any suite may name.
pub const PROVIDER_KEY_ENVS: &[&str] = &[
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "OPENROUTER_API_KEY",
    "TOGETHER_API_KEY",
];

/// Name endings that mark a variable as a key: a variable named otherwise
/// (`PATH`, `DATABASE_URL`, `HOME`) is never sent as one.
pub const KEY_LIKE_SUFFIXES: &[&str] = &["_API_KEY", "_KEY", "_TOKEN"];

/// Whether `name` may name a key: upper-case letters, digits and `_`,
/// starting with a letter, ending in `_KEY` or `_TOKEN` (`_API_KEY` among
/// them).
pub fn is_key_like(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && KEY_LIKE_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Where the user allowed something, to say so in `--dry-run` and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    /// `--allow-key-host` / `--allow-key-env`.
    Flag,
    /// The user's config file.
    Config,
    /// A `base_url` or `api_key_env` in a `--model`/`--judge` the user wrote.
    CommandLine,
}

impl Grant {
    fn describe(self) -> &'static str {
        match self {
            Grant::Flag => "allowed on the command line",
            Grant::Config => "allowed in your config",
            Grant::CommandLine => "your own --model/--judge setting",
        }
    }
}

/// One host the user allows keys to go to: `HOST` (any port) or
/// `HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRule {
    host: String,
    port: Option<u16>,
    grant: Grant,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyPolicyError {
    #[error(
        "`{}` is not HOST or HOST:PORT (an IPv6 address goes in brackets, `[::1]:8000`); give the host alone, no scheme or path",
        .0.escape_debug()
    )]
    BadHost(String),
    #[error(
        "`{}` does not look like a key variable: a key's name is upper-case letters, digits and `_`, ending in {suffixes}",
        .0.escape_debug(),
        suffixes = KEY_LIKE_SUFFIXES.join(", ")
    )]
    NotKeyLike(String),
}

impl HostRule {
    pub fn parse(text: &str, grant: Grant) -> Result<Self, KeyPolicyError> {
        let bad = || KeyPolicyError::BadHost(text.to_owned());
        if text.is_empty() || crucible_types::names::forbidden_char(text).is_some() {
            return Err(bad());
        }
        // Parsed as a URL's authority, so the host is normalised exactly as
        // the request's own will be (case, IDNA, IPv6 brackets).
        let url = reqwest::Url::parse(&format!("http://{text}/")).map_err(|_| bad())?;
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(bad)?;
        if url.path() != "/" || !url.username().is_empty() || url.password().is_some() {
            return Err(bad());
        }
        // `Url` drops a port equal to the scheme's default; the text says
        // whether one was given.
        let port = url.port().or_else(|| text.ends_with(":80").then_some(80));
        Ok(Self {
            host: host.to_owned(),
            port,
            grant,
        })
    }

    fn matches(&self, url: &reqwest::Url) -> bool {
        url.host_str() == Some(self.host.as_str())
            && self
                .port
                .is_none_or(|port| url.port_or_known_default() == Some(port))
    }
}

/// What the user allows beyond the providers' own hosts and variables.
#[derive(Debug, Clone)]
pub struct KeyPolicy {
    hosts: Vec<HostRule>,
    envs: Vec<(String, Grant)>,
    loopback: bool,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        Self {
            hosts: Vec::new(),
            envs: Vec::new(),
            loopback: true,
        }
    }
}

impl KeyPolicy {
    pub fn allow_host(&mut self, text: &str, grant: Grant) -> Result<(), KeyPolicyError> {
        self.hosts.push(HostRule::parse(text, grant)?);
        Ok(())
    }

    pub fn allow_env(&mut self, name: &str, grant: Grant) -> Result<(), KeyPolicyError> {
        if !is_key_like(name) {
            return Err(KeyPolicyError::NotKeyLike(name.to_owned()));
        }
        self.envs.push((name.to_owned(), grant));
        Ok(())
    }

    pub fn set_loopback(&mut self, allowed: bool) {
        self.loopback = allowed;
    }

    /// Trusts the `base_url` and `api_key_env` of a model the user wrote
    /// on the command line (`provider/model,base_url=...`): their own
    /// choice, not a suite's. A spec that does not parse is left for the
    /// command to refuse with its own error.
    pub fn trust_command_line(&mut self, text: &str) {
        let Ok(spec) = super::ModelSpec::parse(text) else {
            return;
        };
        if let Some(url) = spec
            .base_url
            .as_deref()
            .and_then(|u| reqwest::Url::parse(u).ok())
            && let Some(host) = url.host_str()
        {
            self.hosts.push(HostRule {
                host: host.to_owned(),
                port: url.port_or_known_default(),
                grant: Grant::CommandLine,
            });
        }
        if let Some(env) = spec.api_key_env
            && is_key_like(&env)
        {
            self.envs.push((env, Grant::CommandLine));
        }
    }

    fn env_grant(&self, name: &str) -> Option<Grant> {
        self.envs.iter().find(|(n, _)| n == name).map(|(_, g)| *g)
    }

    /// Where `spec`'s key would go under `provider`, or why it may not.
    pub(super) fn route(
        &self,
        id: &str,
        provider: &Provider,
        route: &Route,
    ) -> Result<KeyRoute, SpecError> {
        let env = route.key_env.as_str();
        if route.key_env_from_spec {
            if !is_key_like(env) {
                return Err(SpecError::KeyEnvNotKeyLike {
                    id: id.to_owned(),
                    env: env.to_owned(),
                });
            }
            if !PROVIDER_KEY_ENVS.contains(&env) && self.env_grant(env).is_none() {
                return Err(SpecError::KeyEnvNotAllowed {
                    id: id.to_owned(),
                    env: env.to_owned(),
                });
            }
        }
        let url = &route.url;
        let host = host_and_port(url);
        let key_set = std::env::var_os(env).is_some_and(|v| !v.is_empty());
        if !key_set {
            return Ok(KeyRoute {
                model: id.to_owned(),
                env: env.to_owned(),
                host,
                sent: false,
                why: format!("no key sent: ${env} is not set"),
            });
        }
        let why = if route.official {
            format!("{}'s own host", provider.name)
        } else if route.url_from == UrlFrom::Env {
            format!("your ${}", provider.base_url_env)
        } else if self.loopback && is_loopback(url) {
            "loopback, allowed by default".to_owned()
        } else if let Some(rule) = self.hosts.iter().find(|r| r.matches(url)) {
            rule.grant.describe().to_owned()
        } else {
            return Err(SpecError::KeyHostNotAllowed {
                id: id.to_owned(),
                env: env.to_owned(),
                host,
                official: provider.official_host,
            });
        };
        Ok(KeyRoute {
            model: id.to_owned(),
            env: env.to_owned(),
            host,
            sent: true,
            why,
        })
    }
}

/// Where one model's key goes, as `--dry-run` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRoute {
    pub model: String,
    /// The variable the key is read from.
    pub env: String,
    /// `host:port` the requests go to.
    pub host: String,
    /// Whether a key goes with them (none when the variable is unset).
    pub sent: bool,
    /// Why that host may have the key, or why nothing is sent.
    pub why: String,
}

impl KeyRoute {
    pub fn describe(&self) -> String {
        if self.sent {
            format!(
                "{} -> ${} -> {} ({})",
                self.model, self.env, self.host, self.why
            )
        } else {
            format!("{} -> {} ({})", self.model, self.host, self.why)
        }
    }
}

fn host_and_port(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_like_names_end_in_key_or_token() {
        for name in ["OPENAI_API_KEY", "MY_PROXY_KEY", "HF_TOKEN", "X2_API_KEY"] {
            assert!(is_key_like(name), "{name}");
        }
        for name in [
            "PATH",
            "HOME",
            "DATABASE_URL",
            "my_api_key",
            "_KEY",
            "A_KEY\n",
        ] {
            assert!(!is_key_like(name), "{name}");
        }
    }

    #[test]
    fn a_host_rule_matches_its_host_and_port() {
        let url = |u: &str| reqwest::Url::parse(u).expect("url");
        let any = HostRule::parse("Proxy.Example", Grant::Flag).expect("valid");
        assert!(any.matches(&url("https://proxy.example/v1")));
        assert!(any.matches(&url("http://proxy.example:8080/v1")));
        let one = HostRule::parse("proxy.example:8443", Grant::Flag).expect("valid");
        assert!(one.matches(&url("https://proxy.example:8443/v1")));
        assert!(!one.matches(&url("https://proxy.example/v1")));
        let http = HostRule::parse("proxy.example:80", Grant::Flag).expect("valid");
        assert!(!http.matches(&url("https://proxy.example/v1")));
        assert!(http.matches(&url("http://proxy.example/v1")));
        let v6 = HostRule::parse("[::1]:9", Grant::Flag).expect("valid");
        assert!(v6.matches(&url("http://[::1]:9/")));
        for bad in ["", "http://x", "x/y", "a b", "x:99999", "u@x", "x\r\n"] {
            assert!(HostRule::parse(bad, Grant::Flag).is_err(), "{bad:?}");
        }
    }
}
