//! The suite manifest: which scenarios and classifiers, which conditions,
//! which models, how many samples. Its own typed schema, parsed strictly:
//! an unknown key is an error, not a silent default.

mod pattern;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::{ModelSpec, ProviderSettings};
use crate::plugin::Limits;

pub use pattern::matches as pattern_matches;

/// Samples in flight at once, at most. Each holds plugin instances whose
/// memories reserve address space in the pooling allocator.
pub const MAX_CONCURRENCY: u32 = 1024;

/// The suite `crucible run` uses when none is named.
pub const DEFAULT_SUITE: &str = "suites/agentic-misalignment.toml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    pub suite: SuiteInfo,
    #[serde(default)]
    pub run: RunSettings,
    /// Settings for models named in `run.models`, `run.judge` or on the
    /// command line.
    #[serde(default)]
    pub models: Vec<ModelSpec>,
    pub scenarios: BTreeMap<String, ScenarioEntry>,
    #[serde(default)]
    pub classifiers: BTreeMap<String, ClassifierEntry>,
    /// Named selections that mirror published experiments, run with
    /// `crucible run --subsuite NAME`.
    #[serde(default)]
    pub subsuites: BTreeMap<String, SubSuite>,
    /// Prices in US dollars per million tokens, by model id (which also
    /// prices its dated snapshots), over the built-in table.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prices: BTreeMap<String, crate::pricing::Price>,
    /// Limits and retries per provider (`[providers.openai]`), shared by
    /// every model of that provider in a run.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub providers: BTreeMap<String, ProviderSettings>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteInfo {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The registry `package` entries resolve against: a directory,
    /// relative to the suite file, or an `http(s)://` URL.
    #[serde(default)]
    pub registry: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunSettings {
    /// Models to run; empty means the offline reference pair.
    pub models: Vec<String>,
    /// Model the classifiers may consult; none means verdicts rest on the
    /// classifiers' own deterministic checks.
    pub judge: Option<String>,
    /// Samples per model and condition.
    pub samples: u32,
    /// The run seed every sample's seed derives from.
    pub seed: u64,
    /// Agent turns per episode before the host ends it.
    pub max_turns: u32,
    /// The agents' sampling temperature, pinned for the suite (the study
    /// sampled at 1): sent to every agent whose own settings set none,
    /// where its API accepts one. None leaves each model's default.
    pub temperature: Option<f32>,
    /// Samples in flight at once.
    pub concurrency: u32,
    /// Judge calls the whole run may make.
    pub judge_budget: Option<u64>,
    /// Judge calls one sample may make (default 20).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judge_calls_per_sample: Option<u32>,
    /// Bytes one judge request may carry (default 1 MiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judge_request_bytes: Option<usize>,
    /// Bytes of structured logs a plugin may keep per sample (default 1 MiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_bytes: Option<usize>,
    /// Prompt bytes a scenario may add in one turn (its opening counts as
    /// the first); none keeps the host's default.
    pub prompt_bytes_per_turn: Option<u64>,
    /// Prompt bytes a scenario may add over a whole sample; none keeps
    /// the host's default.
    pub prompt_bytes_per_sample: Option<u64>,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            models: Vec::new(),
            judge: None,
            samples: 1,
            seed: 0,
            max_turns: 10,
            temperature: None,
            concurrency: 8,
            judge_budget: None,
            judge_calls_per_sample: None,
            judge_request_bytes: None,
            log_bytes: None,
            prompt_bytes_per_turn: None,
            prompt_bytes_per_sample: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioEntry {
    /// Path of a local component, relative to the suite file (for
    /// development); or else `package` and `version`.
    #[serde(default)]
    pub component: Option<PathBuf>,
    /// A registry package, `namespace/name`.
    #[serde(default)]
    pub package: Option<String>,
    /// A semver requirement on the package's version, such as `^0.1`.
    #[serde(default)]
    pub version: Option<String>,
    /// Expected sha256 of the component, if pinned.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Patterns (`*` matches any run of characters) over condition ids;
    /// empty means every condition the scenario offers.
    #[serde(default)]
    pub conditions: Vec<String>,
    /// Keys of `[classifiers.*]` entries; the first is the primary one,
    /// whose verdict the results table counts.
    pub classifiers: Vec<String>,
    /// Values for the scenario's parameters beyond its matrix.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifierEntry {
    #[serde(default)]
    pub component: Option<PathBuf>,
    #[serde(default)]
    pub package: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
}

/// Where a plugin comes from, as a suite entry names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginRef {
    /// A component file, resolved against the suite's directory.
    Path(PathBuf),
    /// A registry package and a requirement on its version.
    Package {
        name: crucible_registry::PackageName,
        req: crucible_registry::VersionReq,
    },
}

/// The fields every plugin entry shares.
fn plugin_ref(
    what: &str,
    component: &Option<PathBuf>,
    package: &Option<String>,
    version: &Option<String>,
) -> Result<PluginRef, String> {
    match (component, package, version) {
        (Some(path), None, None) => Ok(PluginRef::Path(path.clone())),
        (None, Some(name), Some(req)) => Ok(PluginRef::Package {
            name: name
                .parse()
                .map_err(|e| format!("{what}: package `{name}`: {e}"))?,
            req: req
                .parse()
                .map_err(|e| format!("{what}: version requirement `{req}`: {e}"))?,
        }),
        (None, Some(name), None) => Err(format!(
            "{what}: package `{name}` needs a version requirement (for example `version = \"^0.1\"`)"
        )),
        (Some(_), Some(_), _) => Err(format!(
            "{what}: names both a `component` path and a `package`; keep one"
        )),
        (None, None, _) => Err(format!(
            "{what}: names no plugin (give `component = \"path.wasm\"` or `package` and `version`)"
        )),
        (Some(_), None, Some(_)) => Err(format!(
            "{what}: `version` goes with `package`, not with a `component` path"
        )),
    }
}

impl ScenarioEntry {
    pub fn plugin(&self, key: &str) -> Result<PluginRef, String> {
        plugin_ref(
            &format!("scenarios.{key}"),
            &self.component,
            &self.package,
            &self.version,
        )
    }
}

impl ClassifierEntry {
    pub fn plugin(&self, key: &str) -> Result<PluginRef, String> {
        plugin_ref(
            &format!("classifiers.{key}"),
            &self.component,
            &self.package,
            &self.version,
        )
    }
}

/// A named part of a suite: some of its scenarios, some conditions, and
/// parameter values that override the scenarios' own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubSuite {
    pub description: String,
    /// What the original study reported for this experiment, for the record.
    #[serde(default)]
    pub reported: Option<String>,
    /// Keys of `[scenarios.*]` entries.
    pub scenarios: Vec<String>,
    /// Condition patterns; each must match a condition of some listed
    /// scenario. Empty means every condition.
    #[serde(default)]
    pub conditions: Vec<String>,
    /// Parameter values laid over each listed scenario's `params`.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Samples per model and condition, instead of `run.samples`.
    #[serde(default)]
    pub samples: Option<u32>,
}

impl RunSettings {
    /// `limits` with this suite's settings for them applied.
    pub fn plugin_limits(&self, mut limits: Limits) -> Limits {
        if let Some(calls) = self.judge_calls_per_sample {
            limits.judge_calls_per_sample = calls;
        }
        if let Some(bytes) = self.judge_request_bytes {
            limits.judge_request_bytes = bytes;
        }
        if let Some(bytes) = self.log_bytes {
            limits.log_bytes = bytes;
        }
        limits
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("{path}: cannot read the suite: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// A suite read from disk, with the directory its paths are relative to.
#[derive(Debug, Clone)]
pub struct LoadedSuite {
    pub path: PathBuf,
    pub manifest: Suite,
}

impl LoadedSuite {
    pub fn load(path: &Path) -> Result<Self, SuiteError> {
        let text = crucible_registry::input_file::read_to_string(
            path,
            crucible_registry::input_file::SUITE_MANIFEST,
        )
        .map_err(|source| SuiteError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self, SuiteError> {
        let manifest: Suite = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map_or((1, 1), |span| line_and_column(text, span.start));
            SuiteError::Parse {
                path: path.to_owned(),
                line,
                column,
                message: e.message().trim().to_owned(),
            }
        })?;
        let suite = Self {
            path: path.to_owned(),
            manifest,
        };
        suite.validate()?;
        Ok(suite)
    }

    fn invalid(&self, message: impl Into<String>) -> SuiteError {
        SuiteError::Invalid {
            path: self.path.clone(),
            message: message.into(),
        }
    }

    fn validate(&self) -> Result<(), SuiteError> {
        self.check_names()?;
        let m = &self.manifest;
        if m.scenarios.is_empty() {
            return Err(self.invalid("the suite names no scenario (add a [scenarios.NAME] table)"));
        }
        if m.run.samples == 0 {
            return Err(self.invalid("run.samples must be at least 1"));
        }
        if m.run.max_turns == 0 {
            return Err(self.invalid("run.max_turns must be at least 1"));
        }
        for (name, value) in [
            ("prompt_bytes_per_turn", m.run.prompt_bytes_per_turn),
            ("prompt_bytes_per_sample", m.run.prompt_bytes_per_sample),
        ] {
            if value == Some(0) {
                return Err(self.invalid(format!("run.{name} must be at least 1")));
            }
        }
        if let Some(t) = m.run.temperature
            && !(0.0..=2.0).contains(&t)
        {
            return Err(self.invalid(format!("run.temperature must be between 0 and 2, not {t}")));
        }
        if m.run.concurrency == 0 || m.run.concurrency > MAX_CONCURRENCY {
            return Err(self.invalid(format!(
                "run.concurrency must be between 1 and {MAX_CONCURRENCY}"
            )));
        }
        for spec in &m.models {
            spec.validate().map_err(|e| self.invalid(e.to_string()))?;
        }
        if let Some(name) = m
            .providers
            .keys()
            .find(|n| !crate::model::PROVIDERS.contains(&n.as_str()))
        {
            return Err(self.invalid(format!(
                "providers.{name}: unknown provider `{name}`; known providers are {}",
                crate::model::PROVIDERS.join(", ")
            )));
        }
        for (name, subsuite) in &m.subsuites {
            if subsuite.scenarios.is_empty() {
                return Err(self.invalid(format!("subsuites.{name}: names no scenario")));
            }
            for key in &subsuite.scenarios {
                if !m.scenarios.contains_key(key) {
                    return Err(self.invalid(format!(
                        "subsuites.{name}: scenario `{key}` has no [scenarios.{key}] table"
                    )));
                }
            }
            if subsuite.samples == Some(0) {
                return Err(self.invalid(format!("subsuites.{name}.samples must be at least 1")));
            }
        }
        let mut uses_packages = false;
        for (key, scenario) in &m.scenarios {
            let plugin = scenario.plugin(key).map_err(|e| self.invalid(e))?;
            uses_packages |= matches!(plugin, PluginRef::Package { .. });
        }
        for (key, classifier) in &m.classifiers {
            let plugin = classifier.plugin(key).map_err(|e| self.invalid(e))?;
            uses_packages |= matches!(plugin, PluginRef::Package { .. });
        }
        if uses_packages && m.suite.registry.is_none() {
            return Err(self.invalid(
                "the suite names registry packages but no registry (add `registry = \"DIR\"` or `registry = \"https://...\"` to [suite])",
            ));
        }
        self.registry()?;
        for (key, scenario) in &m.scenarios {
            if scenario.classifiers.is_empty() {
                return Err(self.invalid(format!(
                    "scenarios.{key}: names no classifier; a sample needs one to be judged"
                )));
            }
            for classifier in &scenario.classifiers {
                if !m.classifiers.contains_key(classifier) {
                    return Err(self.invalid(format!(
                        "scenarios.{key}: classifier `{classifier}` has no [classifiers.{classifier}] table"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Every name, key, pattern and URL of the manifest is free of line
    /// breaks and other control characters: each is shown on a line of its
    /// own in tables, logs and errors (see [`crate::names`]).
    fn check_names(&self) -> Result<(), SuiteError> {
        let m = &self.manifest;
        let mut names = Names::default();
        names.add("suite.name", [&m.suite.name]);
        names.add("suite.registry", &m.suite.registry);
        names.add("run.models", &m.run.models);
        names.add("run.judge", &m.run.judge);
        for (key, entry) in &m.scenarios {
            let table = format!("scenarios.{}", key.escape_debug());
            names.add("a [scenarios.*] key", [key]);
            names.add(format!("{table}.package"), &entry.package);
            names.add(format!("{table}.version"), &entry.version);
            names.add(format!("{table}.conditions"), &entry.conditions);
            names.add(format!("{table}.classifiers"), &entry.classifiers);
            names.params(&table, &entry.params);
        }
        for (key, entry) in &m.classifiers {
            let table = format!("classifiers.{}", key.escape_debug());
            names.add("a [classifiers.*] key", [key]);
            names.add(format!("{table}.package"), &entry.package);
            names.add(format!("{table}.version"), &entry.version);
        }
        for (key, entry) in &m.subsuites {
            let table = format!("subsuites.{}", key.escape_debug());
            names.add("a [subsuites.*] key", [key]);
            names.add(format!("{table}.scenarios"), &entry.scenarios);
            names.add(format!("{table}.conditions"), &entry.conditions);
            names.params(&table, &entry.params);
        }
        names.add("a [prices] model", m.prices.keys());
        names.add("a [providers.*] key", m.providers.keys());
        for (what, text) in names.0 {
            crate::names::check(&what, text).map_err(|e| self.invalid(e.to_string()))?;
        }
        Ok(())
    }

    /// The named sub-suite, or an error listing the ones there are.
    pub fn subsuite(&self, name: &str) -> Result<&SubSuite, SuiteError> {
        self.manifest.subsuites.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.manifest.subsuites.keys().map(String::as_str).collect();
            self.invalid(if known.is_empty() {
                format!("no sub-suite `{name}`: the suite defines none")
            } else {
                format!(
                    "no sub-suite `{name}`; the suite defines {}",
                    known.join(", ")
                )
            })
        })
    }

    /// The suite's registry, a directory resolved against the suite's
    /// directory or a URL; `None` if it names none.
    pub fn registry(&self) -> Result<Option<crucible_registry::RegistryLocation>, SuiteError> {
        let Some(text) = &self.manifest.suite.registry else {
            return Ok(None);
        };
        let location = crucible_registry::RegistryLocation::parse(text)
            .map_err(|e| self.invalid(format!("suite.registry: {e}")))?;
        let dir = self.path.parent().unwrap_or(Path::new(""));
        Ok(Some(location.relative_to(dir)))
    }

    /// A path in the manifest, resolved against the suite's directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        match self.path.parent() {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.to_owned(),
        }
    }

    /// The settings for a model id: the suite's `[[models]]` entry, or none.
    pub fn model_spec(&self, id: &str) -> Result<ModelSpec, crate::model::SpecError> {
        // `id` may carry settings (`provider/model,key=value,...`); they
        // win over the suite's entry of the same `provider/model`.
        let given = ModelSpec::parse(id)?;
        let spec = match self.manifest.models.iter().find(|s| s.id == given.id) {
            Some(entry) => given.over(entry),
            None => given,
        };
        spec.validate()?;
        Ok(spec)
    }
}

fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}

/// The texts of a manifest that must be single-line names, each with where
/// in the manifest it came from.
#[derive(Default)]
struct Names<'a>(Vec<(String, &'a str)>);

impl<'a> Names<'a> {
    fn add(&mut self, what: impl Into<String>, texts: impl IntoIterator<Item = &'a String>) {
        let what = what.into();
        self.0
            .extend(texts.into_iter().map(|t| (what.clone(), t.as_str())));
    }

    /// A table's `params`: their names and values.
    fn params(&mut self, table: &str, params: &'a BTreeMap<String, String>) {
        for (name, value) in params {
            self.0.push((format!("{table}.params"), name));
            self.0.push((format!("{table}.params.{name}"), value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[suite]
name = "t"

[scenarios.s]
component = "s.wasm"
classifiers = ["c"]

[classifiers.c]
component = "c.wasm"
"#;

    #[test]
    fn parses_a_minimal_suite_with_defaults() {
        let suite = LoadedSuite::parse(Path::new("dir/suite.toml"), MINIMAL).expect("valid");
        assert_eq!(suite.manifest.run.samples, 1);
        assert_eq!(
            suite.resolve(Path::new("s.wasm")),
            PathBuf::from("dir/s.wasm")
        );
    }

    #[test]
    fn names_the_line_of_a_syntax_error() {
        let text = "[suite]\nname = \"t\"\nsamples = = 3\n";
        let err = LoadedSuite::parse(Path::new("x.toml"), text).expect_err("invalid");
        let message = err.to_string();
        assert!(message.starts_with("x.toml:3:"), "{message}");
    }

    #[test]
    fn rejects_unknown_keys_with_their_line() {
        let text = MINIMAL.replace("name = \"t\"", "name = \"t\"\nsampels = 3");
        let err = LoadedSuite::parse(Path::new("x.toml"), &text).expect_err("unknown key");
        let message = err.to_string();
        assert!(message.contains("sampels"), "{message}");
        assert!(message.starts_with("x.toml:4:"), "{message}");
    }

    #[test]
    fn rejects_a_classifier_reference_without_a_table() {
        let text = MINIMAL.replace("classifiers = [\"c\"]", "classifiers = [\"nope\"]");
        let err = LoadedSuite::parse(Path::new("x.toml"), &text).expect_err("dangling");
        assert!(err.to_string().contains("`nope`"), "{err}");
    }

    #[test]
    fn a_subsuite_must_name_existing_scenarios() {
        let text =
            format!("{MINIMAL}\n[subsuites.x]\ndescription = \"d\"\nscenarios = [\"nope\"]\n");
        let err = LoadedSuite::parse(Path::new("x.toml"), &text).expect_err("dangling");
        assert!(err.to_string().contains("subsuites.x"), "{err}");
    }

    #[test]
    fn an_unknown_subsuite_lists_the_known_ones() {
        let text =
            format!("{MINIMAL}\n[subsuites.headline]\ndescription = \"d\"\nscenarios = [\"s\"]\n");
        let suite = LoadedSuite::parse(Path::new("x.toml"), &text).expect("valid");
        let err = suite.subsuite("nope").expect_err("unknown");
        assert!(err.to_string().contains("headline"), "{err}");
    }

    #[test]
    fn a_package_entry_needs_a_version_and_a_registry() {
        let text = MINIMAL.replace("component = \"s.wasm\"", "package = \"ns/s\"");
        let err = LoadedSuite::parse(Path::new("x.toml"), &text).expect_err("no version");
        assert!(
            err.to_string().contains("needs a version requirement"),
            "{err}"
        );
        let text = MINIMAL.replace(
            "component = \"s.wasm\"",
            "package = \"ns/s\"\nversion = \"^0.1\"",
        );
        let err = LoadedSuite::parse(Path::new("x.toml"), &text).expect_err("no registry");
        assert!(err.to_string().contains("no registry"), "{err}");
        let with = |registry: &str| {
            text.replace(
                "name = \"t\"",
                &format!("name = \"t\"\nregistry = \"{registry}\""),
            )
        };
        let suite = LoadedSuite::parse(Path::new("suites/x.toml"), &with("reg")).expect("valid");
        assert_eq!(
            suite.registry().expect("valid"),
            Some(crucible_registry::RegistryLocation::Dir(
                "suites/reg".into()
            ))
        );
        let suite =
            LoadedSuite::parse(Path::new("x.toml"), &with("https://r.example/reg")).expect("a URL");
        assert!(suite.registry().expect("valid").is_some_and(|r| r.is_url()));
        let err =
            LoadedSuite::parse(Path::new("x.toml"), &with("ftp://r.example")).expect_err("scheme");
        assert!(err.to_string().contains("suite.registry"), "{err}");
        assert!(err.to_string().contains("`ftp`"), "{err}");
    }

    #[test]
    fn a_hostile_package_name_is_refused() {
        let text = MINIMAL
            .replace("name = \"t\"", "name = \"t\"\nregistry = \"reg\"")
            .replace(
                "component = \"s.wasm\"",
                "package = \"../../etc/passwd\"\nversion = \"1\"",
            );
        let err = LoadedSuite::parse(Path::new("x.toml"), &text).expect_err("hostile");
        assert!(
            err.to_string()
                .contains("scenarios.s: package `../../etc/passwd`"),
            "{err}"
        );
    }

    #[test]
    fn provider_settings_take_durations_as_people_write_them() {
        let text = format!(
            "{MINIMAL}\n[providers.openai]\nconcurrency = 4\nrequests_per_minute = 500\n\
             tokens_per_minute = 200000\nmax_attempts = 3\nmax_retry_time = \"10m\"\n\
             initial_backoff = \"250ms\"\nmax_backoff = \"1m 30s\"\n"
        );
        let suite = LoadedSuite::parse(Path::new("x.toml"), &text).expect("valid");
        let openai = &suite.manifest.providers["openai"];
        assert_eq!(openai.concurrency.map(|n| n.get()), Some(4));
        assert_eq!(openai.tokens_per_minute.map(|n| n.get()), Some(200_000));
        assert_eq!(
            openai.max_retry_time,
            Some(std::time::Duration::from_secs(600))
        );
        assert_eq!(
            openai.initial_backoff,
            Some(std::time::Duration::from_millis(250))
        );
        assert_eq!(openai.max_backoff, Some(std::time::Duration::from_secs(90)));

        let bad = |table: &str| {
            let text = format!("{MINIMAL}\n[providers.openai]\n{table}\n");
            LoadedSuite::parse(Path::new("x.toml"), &text)
                .expect_err(table)
                .to_string()
        };
        let e = bad("max_retry_time = \"ten minutes\"");
        assert!(e.contains("`ten minutes` is not a duration"), "{e}");
        let e = bad("concurrency = 0");
        assert!(e.contains("nonzero"), "{e}");
        let e = bad("concurency = 2");
        assert!(e.contains("concurency"), "{e}");
    }

    #[test]
    fn rejects_zero_samples() {
        let text = format!("{MINIMAL}\n[run]\nsamples = 0\n");
        let err = LoadedSuite::parse(Path::new("x.toml"), &text).expect_err("zero");
        assert!(err.to_string().contains("run.samples"), "{err}");
    }
}
