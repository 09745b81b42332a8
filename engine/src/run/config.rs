//! The configuration a run actually used: stored with the run, and read
//! back to resume it exactly as it began.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::prompt_bytes::PromptLimits;
use super::{DEFAULT_MODELS, RunError, RunRequest};
use crate::plugin::Limits;
use crate::plugin::WASMTIME_VERSION;
use crate::suite::LoadedSuite;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// The suite manifest's file name. A store is shared, so where the
    /// suite lies on this machine is kept apart, in the run directory's
    /// `local.json` (see `LocalPaths`). Runs begun before that recorded an
    /// absolute path here.
    pub suite: PathBuf,
    pub suite_name: String,
    pub models: Vec<String>,
    /// True when no model was named and the offline pair runs.
    #[serde(default)]
    pub default_models: bool,
    pub judge: Option<String>,
    pub samples: u32,
    pub seed: u64,
    pub max_turns: u32,
    /// The agents' sampling temperature from the suite's `[run]`, sent to
    /// a model whose own settings set none and that accepts one. Runs
    /// begun before it was recorded resume without one, as they began.
    #[serde(default)]
    pub temperature: Option<f32>,
    pub concurrency: u32,
    /// The prompt bytes a scenario may send. Runs begun before the caps
    /// resume under the defaults.
    #[serde(default)]
    pub prompt: PromptLimits,
    /// The spend ceiling, in US dollars (`--max-cost`): a resume keeps it
    /// unless given a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cost_usd: Option<f64>,
    /// `--batch`: model calls go through the providers' batch APIs. A
    /// resume keeps it. Runs begun before it resume live, as they began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchConfig>,
    pub conditions: Vec<String>,
    pub subsuite: Option<String>,
    pub limits: Limits,
    /// The share of the plan this run runs (`--shard K/N`); none for the
    /// whole plan. A resume keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<super::Shard>,
    pub host_version: String,
    pub wasmtime_version: String,
}

/// How a `--batch` run uses the batch APIs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BatchConfig {
    /// Seconds between two polls of a batch in progress (`--batch-poll`).
    pub poll_secs: f64,
}

impl BatchConfig {
    /// A minute between polls: a batch takes minutes to hours.
    pub const DEFAULT_POLL_SECS: f64 = 60.0;

    pub fn poll(&self) -> std::time::Duration {
        std::time::Duration::try_from_secs_f64(self.poll_secs)
            .unwrap_or(std::time::Duration::from_secs(60))
    }
}

impl RunConfig {
    /// What a fresh run will use: the request, else the sub-suite's and the
    /// suite's settings.
    pub fn resolve(request: &RunRequest, suite: &LoadedSuite) -> Result<Self, RunError> {
        let settings = &suite.manifest.run;
        for (what, text) in request
            .conditions
            .iter()
            .map(|c| ("condition pattern", c))
            .chain(request.subsuite.iter().map(|s| ("sub-suite", s)))
        {
            crate::names::check(what, text)?;
        }
        let subsuite = request
            .subsuite
            .as_deref()
            .map(|name| suite.subsuite(name))
            .transpose()?;
        let mut models = if request.models.is_empty() {
            settings.models.clone()
        } else {
            request.models.clone()
        };
        let default_models = models.is_empty();
        if default_models {
            models = DEFAULT_MODELS.iter().map(|m| (*m).to_owned()).collect();
        }
        let suite_path = suite
            .path
            .file_name()
            .map_or_else(|| suite.path.clone(), PathBuf::from);
        Ok(Self {
            suite: suite_path,
            suite_name: suite.manifest.suite.name.clone(),
            models,
            default_models,
            judge: request.judge.clone().or_else(|| settings.judge.clone()),
            samples: request
                .samples
                .or(subsuite.and_then(|s| s.samples))
                .unwrap_or(settings.samples)
                .max(1),
            seed: request.seed.unwrap_or(settings.seed),
            max_turns: request.max_turns.unwrap_or(settings.max_turns).max(1),
            temperature: settings.temperature,
            // A batch carries what is in flight when it goes: under
            // --batch as many samples as the host allows are (each holds
            // its scenario's instance while it waits).
            concurrency: request
                .concurrency
                .unwrap_or(if request.batch.is_some() {
                    crate::suite::MAX_CONCURRENCY
                } else {
                    settings.concurrency
                })
                .max(1),
            prompt: PromptLimits {
                turn_bytes: request
                    .prompt_bytes_per_turn
                    .or(settings.prompt_bytes_per_turn)
                    .unwrap_or(PromptLimits::DEFAULT_TURN_BYTES)
                    .max(1),
                sample_bytes: request
                    .prompt_bytes_per_sample
                    .or(settings.prompt_bytes_per_sample)
                    .unwrap_or(PromptLimits::DEFAULT_SAMPLE_BYTES)
                    .max(1),
            },
            max_cost_usd: request.max_cost_usd,
            batch: request.batch,
            conditions: request.conditions.clone(),
            subsuite: request.subsuite.clone(),
            limits: settings.plugin_limits(request.limits.clone()),
            shard: request.shard,
            host_version: env!("CARGO_PKG_VERSION").to_owned(),
            wasmtime_version: WASMTIME_VERSION.to_owned(),
        })
    }

    /// Whether a stored run's configuration (`stored`, as its store keeps
    /// it) is what `request` would run: the first setting that differs,
    /// if one does. A restarted shard resumes its stored run only if so.
    pub fn differs_from_stored(
        request: &RunRequest,
        stored: &str,
    ) -> Result<Option<String>, RunError> {
        let suite = LoadedSuite::load(&request.suite)?;
        let wanted = serde_json::to_value(Self::resolve(request, &suite)?).unwrap_or_default();
        let stored: serde_json::Value = serde_json::from_str(stored).unwrap_or_default();
        let (Some(wanted), Some(stored)) = (wanted.as_object(), stored.as_object()) else {
            return Ok(Some("its stored configuration cannot be read".into()));
        };
        Ok(wanted
            .keys()
            .chain(stored.keys())
            .find(|key| wanted.get(*key) != stored.get(*key))
            .map(|key| {
                let show = |v: Option<&serde_json::Value>| {
                    v.map_or_else(|| "none".to_owned(), serde_json::Value::to_string)
                };
                format!(
                    "{key} is {} there, {} here",
                    show(stored.get(key)),
                    show(wanted.get(key))
                )
            }))
    }

    pub fn to_json(&self) -> String {
        // Plain data with string keys: serializing cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Where a run's inputs lie on the machine it ran on: kept in the run
/// directory's `local.json`, beside the store and never in it, so that
/// the store (and a bundle made from it) carries no path of the machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalPaths {
    /// The suite manifest, as an absolute path.
    pub suite: PathBuf,
}

impl LocalPaths {
    const FILE: &'static str = "local.json";

    pub fn write(&self, run_dir: &std::path::Path) -> Result<(), RunError> {
        let path = run_dir.join(Self::FILE);
        // Plain data with string keys: serializing cannot fail.
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        std::fs::write(&path, text).map_err(|source| RunError::Io { path, source })
    }

    /// What the run directory records, if anything.
    pub fn read(run_dir: &std::path::Path) -> Option<Self> {
        let text = std::fs::read_to_string(run_dir.join(Self::FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }
}
