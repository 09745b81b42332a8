//! How a model is named and configured: `provider/model`, plus settings,
//! from a suite's `[[models]]` table or the command line
//! (`provider/model,key=value,...`).

use serde::{Deserialize, Serialize};

/// Providers this host knows, for error messages.
pub const PROVIDERS: &[&str] = &[
    "anthropic",
    "gemini",
    "openai",
    "openrouter",
    "reference",
    "together",
];

/// Every setting a spec takes, as the suite and the command line spell it.
pub const SETTINGS: &[&str] = &[
    "base_url",
    "api_key_env",
    "temperature",
    "max_tokens",
    "timeout_secs",
    "top_p",
    "seed",
    "reasoning_effort",
    "thinking_budget",
    "thinking",
    "effort",
    "api",
    "concurrency",
    "prompt_cache",
];

/// The reasoning efforts any provider documents; which of them a provider
/// takes is checked with the model ([`Supports::reasoning_efforts`]), and
/// which a given model accepts is for its API to say.
pub const REASONING_EFFORTS: &[&str] =
    &["none", "minimal", "low", "medium", "high", "xhigh", "max"];

/// `thinking`'s values: Anthropic's `thinking.type` beyond `enabled`
/// (which `thinking_budget` sends).
pub const THINKING_MODES: &[&str] = &["adaptive"];

/// `effort`'s values: Anthropic's `output_config.effort` (`low`, `medium`,
/// `high`, `xhigh`, `max`); which a given Claude takes is its family's.
pub const EFFORTS: &[&str] = &["low", "medium", "high", "xhigh", "max"];

/// `api`'s values: OpenAI's Chat Completions (the default) or Responses.
pub const APIS: &[&str] = &["chat", "responses"];

/// `prompt_cache`'s values: `on` (the provider's default caching, the
/// default), `off`, Anthropic's cache lifetimes `5m` and `1h`, and
/// OpenAI's extended retention `24h`; which a provider takes is checked
/// with the model ([`Supports::prompt_caches`]).
pub const PROMPT_CACHES: &[&str] = &["on", "off", "5m", "1h", "24h"];

const NUMBER: &str = "a number";
const COUNT: &str = "a whole number, 0 or more";
const POSITIVE: &str = "a whole number, 1 or more";

/// A model as a suite or the command line names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// `provider/model`, e.g. `openai/gpt-4.1`.
    pub id: String,
    /// Base URL of an API compatible with the provider's (e.g. a local
    /// vLLM, Ollama or llama.cpp server for `openai`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Name of the environment variable holding the API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Seconds one request may take before it fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    /// Nucleus sampling, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// The provider's sampling seed, where it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// How hard a reasoning model thinks (`low`, `medium`, `high`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    /// Tokens a model may spend thinking before it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_budget: Option<u32>,
    /// A thinking mode without a budget: `adaptive` (Anthropic's
    /// `thinking: {"type": "adaptive"}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    /// Anthropic's `output_config.effort`: how many tokens the model
    /// spends on its answer, thinking and tool calls included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    /// Which of the provider's APIs the model is called through: OpenAI's
    /// `chat` (Chat Completions, the default) or `responses`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// Requests to this model in flight at once, at most, within its
    /// provider's own limit (`[providers.NAME]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<std::num::NonZeroU32>,
    /// How the provider's prompt cache is used for the samples' shared
    /// opening (see [`PROMPT_CACHES`]); on by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("model `{id}` is not of the form `provider/model`")]
    Malformed { id: String },
    #[error("model: {0}")]
    ForbiddenChar(#[from] crucible_types::names::ForbiddenChar),
    #[error(
        "model `{id}` would send the key in ${env} to {host}, which is not {official} (its provider's own host); nothing was sent. If you trust {host} with that key, allow it with --allow-key-host {host}, or in allow_hosts under [keys] in your crucible config ($CRUCIBLE_CONFIG, else crucible/config.toml in your config directory)"
    )]
    KeyHostNotAllowed {
        id: String,
        env: String,
        host: String,
        official: &'static str,
    },
    #[error(
        "model `{id}`: api_key_env `{env}` does not look like a key variable (upper-case letters, digits and `_`, ending in {}); it is never sent as a key",
        super::keys::KEY_LIKE_SUFFIXES.join(", ")
    )]
    KeyEnvNotKeyLike { id: String, env: String },
    #[error(
        "model `{id}`: the suite names api_key_env `{env}`, which is not a provider's own key variable ({}); nothing was sent. If that variable holds a key meant for this model, allow it with --allow-key-env {env}, or in allow_env under [keys] in your crucible config",
        super::keys::PROVIDER_KEY_ENVS.join(", ")
    )]
    KeyEnvNotAllowed { id: String, env: String },
    #[error("model `{id}`: unknown provider `{provider}`; known providers are {}", PROVIDERS.join(", "))]
    UnknownProvider { id: String, provider: String },
    #[error(
        "model `{id}`: unknown offline model; the offline models are reference/harmful and reference/benign"
    )]
    UnknownReference { id: String },
    #[error("model `{id}` needs an API key: set the environment variable {env}")]
    MissingKey { id: String, env: String },
    #[error("model `{id}`: invalid base URL `{url}`: {reason}")]
    BadBaseUrl {
        id: String,
        url: String,
        reason: String,
    },
    #[error("model `{id}`: cannot build an HTTP client: {reason}")]
    Client { id: String, reason: String },
    #[error("model `{id}`: unknown setting `{key}`; the settings are {}", SETTINGS.join(", "))]
    UnknownSetting { id: String, key: String },
    #[error("model `{id}`: {setting} {reason}")]
    BadSetting {
        id: String,
        setting: String,
        reason: String,
    },
    #[error("model `{id}`: the {provider} API has no {setting} setting{hint}")]
    Unsupported {
        id: String,
        provider: String,
        setting: &'static str,
        /// What to use instead, if the provider has something like it.
        hint: String,
    },
}

/// The optional settings a provider's API has; the rest are refused with
/// a clear error rather than silently dropped.
#[derive(Debug, Clone, Copy)]
pub(super) struct Supports {
    pub top_p: bool,
    pub seed: bool,
    /// The `reasoning_effort` values the API lists; none if it has no
    /// such setting.
    pub reasoning_efforts: &'static [&'static str],
    pub thinking_budget: bool,
    /// Anthropic's `thinking` modes and `effort`.
    pub thinking_modes: bool,
    /// A choice of `api`.
    pub apis: bool,
    /// The `prompt_cache` values the provider takes; none if its caching
    /// has nothing to set.
    pub prompt_caches: &'static [&'static str],
    /// Why the provider takes no `prompt_cache` setting, or only some.
    pub prompt_cache_note: &'static str,
}

impl ModelSpec {
    /// A spec with no settings beyond the name.
    pub fn named(id: &str) -> Result<Self, SpecError> {
        let spec = Self {
            id: id.to_owned(),
            base_url: None,
            api_key_env: None,
            temperature: None,
            max_tokens: None,
            timeout_secs: None,
            top_p: None,
            seed: None,
            reasoning_effort: None,
            thinking_budget: None,
            thinking: None,
            effort: None,
            api: None,
            concurrency: None,
            prompt_cache: None,
        };
        spec.validate()?;
        Ok(spec)
    }

    /// A model as the command line names it: `provider/model`, optionally
    /// followed by comma-separated `key=value` settings, e.g.
    /// `openai/o3,reasoning_effort=high,max_tokens=4000`.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let mut parts = text.split(',');
        let id = parts.next().unwrap_or_default().trim();
        let mut spec = Self::named(id)?;
        for part in parts {
            let Some((key, value)) = part.split_once('=') else {
                let key = part.trim();
                return Err(spec.bad(
                    if key.is_empty() { "a setting" } else { key },
                    "needs a value, as key=value",
                ));
            };
            spec.set(key.trim(), value.trim())?;
        }
        spec.validate()?;
        Ok(spec)
    }

    /// Sets one setting from its text.
    fn set(&mut self, key: &str, value: &str) -> Result<(), SpecError> {
        match key {
            "base_url" => self.base_url = Some(self.text(key, value)?),
            "api_key_env" => self.api_key_env = Some(self.text(key, value)?),
            "temperature" => self.temperature = Some(self.number(key, value, NUMBER)?),
            "max_tokens" => self.max_tokens = Some(self.number(key, value, COUNT)?),
            "timeout_secs" => self.timeout_secs = Some(self.number(key, value, COUNT)?),
            "top_p" => self.top_p = Some(self.number(key, value, NUMBER)?),
            "seed" => self.seed = Some(self.number(key, value, COUNT)?),
            "reasoning_effort" => self.reasoning_effort = Some(self.text(key, value)?),
            "thinking_budget" => self.thinking_budget = Some(self.number(key, value, COUNT)?),
            "thinking" => self.thinking = Some(self.text(key, value)?),
            "effort" => self.effort = Some(self.text(key, value)?),
            "api" => self.api = Some(self.text(key, value)?),
            "concurrency" => self.concurrency = Some(self.number(key, value, POSITIVE)?),
            "prompt_cache" => self.prompt_cache = Some(self.text(key, value)?),
            // Keys come from the environment only; the value is never
            // echoed, since it may be the key itself.
            "api_key" => {
                return Err(self.bad(
                    "api_key",
                    "cannot be given: keys are read from the environment only \
                     (name the variable with api_key_env)",
                ));
            }
            _ => {
                return Err(SpecError::UnknownSetting {
                    id: self.id.clone(),
                    key: key.to_owned(),
                });
            }
        }
        Ok(())
    }

    fn text(&self, key: &str, value: &str) -> Result<String, SpecError> {
        if value.is_empty() {
            Err(self.bad(key, "needs a value"))
        } else {
            Ok(value.to_owned())
        }
    }

    fn number<T: std::str::FromStr>(
        &self,
        key: &str,
        value: &str,
        kind: &str,
    ) -> Result<T, SpecError> {
        value
            .parse()
            .map_err(|_| self.bad(key, &format!("must be {kind}, not `{value}`")))
    }

    fn bad(&self, setting: &str, reason: &str) -> SpecError {
        SpecError::BadSetting {
            id: self.id.clone(),
            setting: setting.to_owned(),
            reason: reason.to_owned(),
        }
    }

    /// These settings over `base`'s: what the command line sets wins, the
    /// suite's entry fills in the rest.
    #[must_use]
    pub fn over(self, base: &ModelSpec) -> ModelSpec {
        ModelSpec {
            id: self.id,
            base_url: self.base_url.or_else(|| base.base_url.clone()),
            api_key_env: self.api_key_env.or_else(|| base.api_key_env.clone()),
            temperature: self.temperature.or(base.temperature),
            max_tokens: self.max_tokens.or(base.max_tokens),
            timeout_secs: self.timeout_secs.or(base.timeout_secs),
            top_p: self.top_p.or(base.top_p),
            seed: self.seed.or(base.seed),
            reasoning_effort: self
                .reasoning_effort
                .or_else(|| base.reasoning_effort.clone()),
            thinking_budget: self.thinking_budget.or(base.thinking_budget),
            thinking: self.thinking.or_else(|| base.thinking.clone()),
            effort: self.effort.or_else(|| base.effort.clone()),
            api: self.api.or_else(|| base.api.clone()),
            concurrency: self.concurrency.or(base.concurrency),
            prompt_cache: self.prompt_cache.or_else(|| base.prompt_cache.clone()),
        }
    }

    /// The name's shape and every setting's range; what a provider
    /// accepts beyond that is [`ModelSpec::check_supported`]'s.
    pub fn validate(&self) -> Result<(), SpecError> {
        crucible_types::names::check("model", &self.id)?;
        for (setting, value) in [
            ("base_url", &self.base_url),
            ("api_key_env", &self.api_key_env),
            ("reasoning_effort", &self.reasoning_effort),
            ("thinking", &self.thinking),
            ("effort", &self.effort),
            ("api", &self.api),
            ("prompt_cache", &self.prompt_cache),
        ] {
            if let Some(value) = value {
                crucible_types::names::check(
                    &format!("model `{}`: {setting}", self.id.escape_debug()),
                    value,
                )?;
            }
        }
        match self.id.split_once('/') {
            // A comma starts the command line's settings, never a name.
            Some((provider, model))
                if !provider.is_empty() && !model.is_empty() && !self.id.contains(',') => {}
            _ => {
                return Err(SpecError::Malformed {
                    id: self.id.clone(),
                });
            }
        }
        if let Some(t) = self.temperature
            && !(0.0..=2.0).contains(&t)
        {
            return Err(self.bad("temperature", &format!("must be between 0 and 2, not {t}")));
        }
        if let Some(p) = self.top_p
            && !(0.0..=1.0).contains(&p)
        {
            return Err(self.bad("top_p", &format!("must be between 0 and 1, not {p}")));
        }
        if self.max_tokens == Some(0) {
            return Err(self.bad("max_tokens", "must be at least 1"));
        }
        if self.timeout_secs == Some(0) {
            return Err(self.bad("timeout_secs", "must be at least 1"));
        }
        if let Some(effort) = &self.reasoning_effort
            && !REASONING_EFFORTS.contains(&effort.as_str())
        {
            return Err(self.bad(
                "reasoning_effort",
                &format!(
                    "must be one of {}, not `{effort}`",
                    REASONING_EFFORTS.join(", ")
                ),
            ));
        }
        for (setting, value, values) in [
            ("thinking", &self.thinking, THINKING_MODES),
            ("effort", &self.effort, EFFORTS),
            ("api", &self.api, APIS),
            ("prompt_cache", &self.prompt_cache, PROMPT_CACHES),
        ] {
            if let Some(value) = value
                && !values.contains(&value.as_str())
            {
                return Err(self.bad(
                    setting,
                    &format!("must be one of {}, not `{value}`", values.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// Refuses a setting the provider's API has no place for, naming what
    /// to use instead where there is something like it.
    pub(super) fn check_supported(&self, supports: Supports) -> Result<(), SpecError> {
        let unsupported = |setting: &'static str, hint: &str| SpecError::Unsupported {
            id: self.id.clone(),
            provider: self.provider().to_owned(),
            setting,
            hint: hint.to_owned(),
        };
        if self.top_p.is_some() && !supports.top_p {
            return Err(unsupported("top_p", ""));
        }
        if self.seed.is_some() && !supports.seed {
            return Err(unsupported("seed", ""));
        }
        let efforts = supports.reasoning_efforts;
        if let Some(effort) = &self.reasoning_effort {
            if efforts.is_empty() {
                let hint = match (supports.thinking_modes, supports.thinking_budget) {
                    (true, _) => "; set effort (output_config.effort) or thinking_budget instead",
                    (false, true) => "; set thinking_budget instead",
                    (false, false) => "",
                };
                return Err(unsupported("reasoning_effort", hint));
            }
            if !efforts.contains(&effort.as_str()) {
                return Err(self.bad(
                    "reasoning_effort",
                    &format!(
                        "must be one of {} for {}, not `{effort}`",
                        efforts.join(", "),
                        self.provider()
                    ),
                ));
            }
        }
        if self.thinking_budget.is_some() && !supports.thinking_budget {
            let hint = if !efforts.is_empty() {
                "; set reasoning_effort instead"
            } else {
                ""
            };
            return Err(unsupported("thinking_budget", hint));
        }
        if !supports.thinking_modes {
            // What this provider has in their place, if anything.
            let hint = match (supports.thinking_budget, efforts.is_empty()) {
                (true, _) => "; set thinking_budget instead",
                (false, false) => "; set reasoning_effort instead",
                (false, true) => "",
            };
            if self.thinking.is_some() {
                return Err(unsupported("thinking", hint));
            }
            if self.effort.is_some() {
                let hint = if efforts.is_empty() {
                    hint
                } else {
                    "; set reasoning_effort instead"
                };
                return Err(unsupported("effort", hint));
            }
        }
        if self.api.is_some() && !supports.apis {
            return Err(unsupported("api", ""));
        }
        if let Some(cache) = &self.prompt_cache
            && !supports.prompt_caches.contains(&cache.as_str())
        {
            let note = supports.prompt_cache_note;
            if supports.prompt_caches.is_empty() {
                return Err(unsupported("prompt_cache", &format!(" ({note})")));
            }
            return Err(self.bad(
                "prompt_cache",
                &format!(
                    "must be one of {} for {}, not `{cache}` ({note})",
                    supports.prompt_caches.join(", "),
                    self.provider()
                ),
            ));
        }
        Ok(())
    }

    /// An error about one of this model's settings.
    pub(super) fn setting_error(&self, setting: &str, reason: impl Into<String>) -> SpecError {
        SpecError::BadSetting {
            id: self.id.clone(),
            setting: setting.to_owned(),
            reason: reason.into(),
        }
    }

    pub fn provider(&self) -> &str {
        self.id.split_once('/').map_or("", |(p, _)| p)
    }

    pub fn model(&self) -> &str {
        self.id.split_once('/').map_or("", |(_, m)| m)
    }
}

/// A setting's number as it was written: an `f32` widened to `f64` as is
/// would put `0.699999988079071` on the wire for `0.7`.
pub(super) fn decimal(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(f64::from(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> ModelSpec {
        match ModelSpec::parse(text) {
            Ok(spec) => spec,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn error(text: &str) -> String {
        match ModelSpec::parse(text) {
            Ok(spec) => panic!("{text} parsed as {spec:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn numbers_go_out_as_written() {
        assert_eq!(serde_json::json!(decimal(0.7)).to_string(), "0.7");
        assert_eq!(serde_json::json!(decimal(1.0)).to_string(), "1.0");
    }

    #[test]
    fn a_bare_name_has_no_settings() {
        assert_eq!(
            parsed("openai/gpt-4.1"),
            ModelSpec::named("openai/gpt-4.1").expect("valid")
        );
        // A model name may itself hold slashes.
        assert_eq!(
            parsed("together/meta-llama/Llama-3").model(),
            "meta-llama/Llama-3"
        );
    }

    #[test]
    fn every_setting_parses_from_the_command_line() {
        let spec = parsed(
            "openrouter/x, base_url=http://127.0.0.1:8000/v1 ,api_key_env=MY_KEY,temperature=0.5,\
             max_tokens=4000,timeout_secs=30,top_p=0.9,seed=7,reasoning_effort=high,thinking_budget=2048,\
             thinking=adaptive,effort=max,api=responses,prompt_cache=1h",
        );
        assert_eq!(spec.id, "openrouter/x");
        assert_eq!(spec.base_url.as_deref(), Some("http://127.0.0.1:8000/v1"));
        assert_eq!(spec.api_key_env.as_deref(), Some("MY_KEY"));
        assert_eq!(spec.temperature, Some(0.5));
        assert_eq!(spec.max_tokens, Some(4000));
        assert_eq!(spec.timeout_secs, Some(30));
        assert_eq!(spec.top_p, Some(0.9));
        assert_eq!(spec.seed, Some(7));
        assert_eq!(spec.reasoning_effort.as_deref(), Some("high"));
        assert_eq!(spec.thinking_budget, Some(2048));
        assert_eq!(spec.thinking.as_deref(), Some("adaptive"));
        assert_eq!(spec.effort.as_deref(), Some("max"));
        assert_eq!(spec.api.as_deref(), Some("responses"));
        assert_eq!(spec.prompt_cache.as_deref(), Some("1h"));
    }

    #[test]
    fn bad_settings_are_named() {
        let e = error("openai/x,temprature=1");
        assert!(e.contains("unknown setting `temprature`"), "{e}");
        let e = error("openai/x,temperature=3");
        assert!(e.contains("temperature must be between 0 and 2"), "{e}");
        let e = error("openai/x,top_p=1.5");
        assert!(e.contains("top_p must be between 0 and 1"), "{e}");
        let e = error("openai/x,top_p=abc");
        assert!(e.contains("top_p must be a number, not `abc`"), "{e}");
        let e = error("openai/x,seed=-1");
        assert!(e.contains("seed must be a whole number"), "{e}");
        let e = error("openai/x,max_tokens");
        assert!(e.contains("max_tokens needs a value"), "{e}");
        let e = error("openai/x,reasoning_effort=hgih");
        assert!(e.contains("reasoning_effort must be one of"), "{e}");
        let e = error("openai/x,base_url=");
        assert!(e.contains("base_url needs a value"), "{e}");
        let e = error("anthropic/x,thinking=enabled");
        assert!(
            e.contains("thinking must be one of adaptive, not `enabled`"),
            "{e}"
        );
        let e = error("anthropic/x,effort=extreme");
        assert!(
            e.contains("effort must be one of low, medium, high, xhigh, max"),
            "{e}"
        );
        let e = error("openai/x,api=assistants");
        assert!(e.contains("api must be one of chat, responses"), "{e}");
        let e = error("anthropic/x,prompt_cache=forever");
        assert!(
            e.contains("prompt_cache must be one of on, off, 5m, 1h, 24h, not `forever`"),
            "{e}"
        );
        let e = error("openai,temperature=1");
        assert!(e.contains("not of the form"), "{e}");
    }

    #[test]
    fn a_key_on_the_command_line_is_refused_without_being_echoed() {
        let e = error("openai/x,api_key=sk-do-not-echo-me");
        assert!(e.contains("api_key_env"), "{e}");
        assert!(!e.contains("sk-do-not-echo-me"), "{e}");
    }

    #[test]
    fn command_line_settings_win_over_the_suites() {
        let mut suite = ModelSpec::named("openai/x").expect("valid");
        suite.base_url = Some("http://suite/v1".into());
        suite.temperature = Some(1.0);
        suite.max_tokens = Some(100);
        let merged = parsed("openai/x,max_tokens=900,seed=3").over(&suite);
        assert_eq!(merged.base_url.as_deref(), Some("http://suite/v1"));
        assert_eq!(merged.temperature, Some(1.0));
        assert_eq!(merged.max_tokens, Some(900));
        assert_eq!(merged.seed, Some(3));
    }

    #[test]
    fn unsupported_settings_name_the_alternative() {
        let spec = parsed("anthropic/x,reasoning_effort=high");
        let anthropic = Supports {
            top_p: true,
            seed: false,
            reasoning_efforts: &[],
            thinking_budget: true,
            thinking_modes: true,
            apis: false,
            prompt_caches: &[],
            prompt_cache_note: "",
        };
        let e = spec
            .check_supported(anthropic)
            .expect_err("refused")
            .to_string();
        assert!(
            e.contains("anthropic API has no reasoning_effort setting; set effort"),
            "{e}"
        );
        let none = Supports {
            thinking_modes: false,
            ..anthropic
        };
        let e = parsed("anthropic/x,seed=1")
            .check_supported(none)
            .expect_err("refused")
            .to_string();
        assert!(e.contains("no seed setting"), "{e}");
        let openai = Supports {
            top_p: true,
            seed: true,
            reasoning_efforts: &["low", "high"],
            thinking_budget: false,
            thinking_modes: false,
            apis: true,
            prompt_caches: &[],
            prompt_cache_note: "",
        };
        let e = parsed("openai/x,effort=high")
            .check_supported(openai)
            .expect_err("refused")
            .to_string();
        assert!(
            e.contains("openai API has no effort setting; set reasoning_effort"),
            "{e}"
        );
        let e = parsed("gemini/x,thinking=adaptive")
            .check_supported(none)
            .expect_err("refused")
            .to_string();
        assert!(
            e.contains("no thinking setting; set thinking_budget"),
            "{e}"
        );
        let e = parsed("anthropic/x,api=responses")
            .check_supported(anthropic)
            .expect_err("refused")
            .to_string();
        assert!(e.contains("anthropic API has no api setting"), "{e}");
    }

    #[test]
    fn each_provider_takes_the_efforts_its_api_lists() {
        let together = Supports {
            top_p: true,
            seed: true,
            reasoning_efforts: &["low", "medium", "high"],
            thinking_budget: false,
            thinking_modes: false,
            apis: false,
            prompt_caches: &[],
            prompt_cache_note: "",
        };
        assert!(
            parsed("together/x,reasoning_effort=low")
                .check_supported(together)
                .is_ok()
        );
        let e = parsed("together/x,reasoning_effort=xhigh")
            .check_supported(together)
            .expect_err("refused")
            .to_string();
        assert!(
            e.contains(
                "reasoning_effort must be one of low, medium, high for together, not `xhigh`"
            ),
            "{e}"
        );
        // Every value any provider lists parses; `max` among them.
        assert_eq!(
            parsed("openai/x,reasoning_effort=max")
                .reasoning_effort
                .as_deref(),
            Some("max")
        );
    }
}
