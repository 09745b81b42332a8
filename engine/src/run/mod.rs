//! Running a suite: resolve models, load plugins, plan, execute samples
//! concurrently, store each as it finishes, then summarise from the store.
//! A run that stops early (interrupted, killed) resumes from its store.

mod cache_estimate;
mod cases;
mod check;
mod config;
mod conformance;
mod dry_run;
mod episode;
mod execute;
mod models;
mod plan;
mod prepare;
mod prompt_bytes;
mod resume;
mod shard;
mod show;
mod spend;
mod stop;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::Notify;

use crate::figures::Cell;
use crate::judge::{Judge, ModelJudge, NoJudge};
use crate::model::batch::{Batching, Ledger};
use crate::model::response_cache::{CacheError, CachedModel, ResponseCache};
use crate::model::{Agent, KeyPolicy, Model, ModelSpec, SpecError, WithDefaultTemperature};
use crate::packages::{self, LockPolicy, Resolver};
use crate::plugin::{Limits, PluginRuntime, RuntimeConfig};
use crate::pricing::{PriceError, PriceTable};
use crate::record::PlannedSample;
use crate::report::Summary;
use crate::report::groups::ConditionParams;
use crate::store::{BatchLedger, SampleFailure, Store, StoreError, results_path};
use crate::suite::{LoadedSuite, SuiteError};

pub use cache_estimate::CacheEstimate;
pub use cases::{
    Case, CaseError, CaseResult, Expected, Found, check_cases, load_cases, render as render_cases,
};
pub use check::{CheckOutcome, Mismatch, check};
pub use config::{BatchConfig, LocalPaths, RunConfig};
pub use conformance::{Disagreement, Played, play_reference};
pub use dry_run::{DryRun, ModelEstimate, PluginBudgets, ShardPlan, dry_run};
pub use episode::{SCRIPT_TURNS, SampleContext, open_episode, run_sample};
pub use plan::{PlanEntry, fingerprint as plan_fingerprint, plan, sample_seed};
pub use prepare::{PrepareError, PreparedCondition, PreparedScenario, Selection, prepare};
pub use prompt_bytes::{PromptLimits, PromptMeter};
pub use resume::{ResumeRequest, resume};
pub use shard::{Shard, ShardError};
pub use show::{SeedSource, ShowError, ShowRequest, ShownOpening, show};
pub use spend::{SPENT_META, SpendMeter};

use execute::{Execution, Tally};
use models::RunModels;

/// The store's meta key for the whole plan's fingerprint.
pub const PLAN_FINGERPRINT_META: &str = "plan_fingerprint";

/// The offline pair, run when no model is named.
pub const DEFAULT_MODELS: &[&str] = &["reference/harmful", "reference/benign"];

/// Everything `crucible run` was asked for; `None` keeps the suite's value.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    pub suite: PathBuf,
    pub models: Vec<String>,
    pub judge: Option<String>,
    pub samples: Option<u32>,
    pub seed: Option<u64>,
    pub concurrency: Option<u32>,
    pub max_turns: Option<u32>,
    /// Caps on the prompt bytes a scenario may send, a turn and a sample.
    pub prompt_bytes_per_turn: Option<u64>,
    pub prompt_bytes_per_sample: Option<u64>,
    /// A ceiling, in US dollars, on what the run may spend on model calls.
    pub max_cost_usd: Option<f64>,
    pub conditions: Vec<String>,
    /// A named sub-suite to run instead of the whole suite.
    pub subsuite: Option<String>,
    pub output_dir: PathBuf,
    pub limits: Limits,
    pub cache_dir: Option<PathBuf>,
    pub responses: ResponseCacheSettings,
    /// Refuse to run if `crucible.lock` is missing or would change.
    pub locked: bool,
    /// Read HTTP registries only from the local cache.
    pub offline: bool,
    /// Notified to stop the run early (on Ctrl-C): what is stored stays,
    /// and the run can be resumed.
    pub interrupt: Option<Arc<Notify>>,
    /// Where the user lets keys go beyond their providers' own hosts.
    pub keys: KeyPolicy,
    /// Run only this share of the plan (`--shard K/N`).
    pub shard: Option<Shard>,
    /// `--batch`: send the calls through the providers' batch APIs.
    pub batch: Option<BatchConfig>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    NoBatchApi(#[from] crate::model::batch::NoBatchApi),
    #[error(transparent)]
    BatchLedger(#[from] crate::store::LedgerError),
    #[error(transparent)]
    Suite(#[from] SuiteError),
    #[error(transparent)]
    Model(#[from] SpecError),
    #[error("judge `{0}`: the offline reference models cannot judge; name a real model")]
    ReferenceJudge(String),
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Price(#[from] PriceError),
    #[error(transparent)]
    ResponseCache(#[from] CacheError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Runtime(String),
    #[error(transparent)]
    Name(#[from] crate::names::ForbiddenChar),
    #[error("the selection leaves nothing to run: no condition matches {0}")]
    EmptyPlan(String),
    #[error(
        "model `{0}` is named twice; results name a model by provider/model, so run each of its settings in a run of its own"
    )]
    DuplicateModel(String),
    #[error(
        "the plan has {0} samples, over the {max} a run may record (every planned sample is stored before the run starts); run fewer samples (-n), models or conditions, or split the run",
        max = plan::MAX_PLANNED_SAMPLES
    )]
    PlanTooLarge(u64),
    #[error(
        "--max-cost needs a price for every model the run calls, and `{0}` has none: give it one in the suite's [prices] (\"{0}\" = {{ input = USD per million input tokens, output = USD per million output tokens }})"
    )]
    Unpriced(String),
    #[error("--max-cost must be a positive number of US dollars, not {0}")]
    BadCeiling(f64),
    #[error("cannot resume {dir}: {reason}")]
    Resume { dir: PathBuf, reason: String },
    #[error(transparent)]
    Cases(#[from] CaseError),
}

/// Where model answers are cached, and whether to read them.
#[derive(Debug, Clone, Default)]
pub struct ResponseCacheSettings {
    /// The cache file; `None` runs without a response cache.
    pub path: Option<PathBuf>,
    /// Send every call to its provider even when the cache holds its
    /// answer; the fresh answer replaces the cached one.
    pub refresh: bool,
}

/// How far a run has come.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    pub errors: usize,
    /// US dollars spent on model calls so far, at the price table's rates.
    pub spend_usd: f64,
    /// Some calls went to a model without a price: `spend_usd` leaves
    /// them out.
    pub unpriced_calls: bool,
}

/// Receives what a run has to say while it goes.
pub trait Observer: Send + Sync {
    fn notice(&self, message: &str);
    fn progress(&self, progress: &Progress);
}

/// The result of a finished (or interrupted) run.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub run_id: String,
    pub dir: PathBuf,
    pub summary: Summary,
    pub planned: usize,
    /// Samples stored as errors, over every session of the run.
    pub errors: usize,
    /// Samples still pending: the run was interrupted before them.
    pub pending: usize,
    pub interrupted: bool,
    /// When the run stopped at its spend ceiling: the ceiling and what the
    /// run had spent by then, in US dollars.
    pub ceiling_reached: Option<(f64, f64)>,
    /// The first few failed samples, to show.
    pub first_failures: Vec<SampleFailure>,
    /// Of the failed samples, those a classifier could not decide without
    /// a judge, in a run that had none.
    pub need_a_judge: usize,
    /// The parameters of every condition the run planned, for the
    /// summary's condition matrix.
    pub conditions: ConditionParams,
}

/// Everything loaded for a run: its models, judge, plugins and plan.
struct Session {
    suite: LoadedSuite,
    config: RunConfig,
    /// The agents' and the judge's specs, parsed once, and the agents'
    /// `provider/model` ids as results name them.
    models: RunModels,
    agents: Vec<Agent>,
    judge: Arc<dyn Judge>,
    /// Kept alive for the run: it drives the plugins' deadlines.
    _runtime: PluginRuntime,
    resolver: Resolver,
    scenarios: Vec<Arc<PreparedScenario>>,
    /// The plan, for a run (only its share, for a shard); empty for a dry
    /// run, which counts.
    planned: Vec<PlannedSample>,
    /// Samples in the whole plan, every shard's.
    planned_count: u64,
    /// The whole plan's fingerprint (see `plan::fingerprint`), for a run.
    plan_fingerprint: Option<String>,
    prices: PriceTable,
    /// The run's spend ceiling, when it has one.
    meter: Option<Arc<spend::SpendMeter>>,
    /// What the batching models share, under `--batch`, and the run
    /// store's record of their batches.
    batching: Option<Batched>,
}

/// A `--batch` run's batching, and the store's record of its batches that
/// the batching models write through.
struct Batched {
    batching: Arc<Batching>,
    ledger: Arc<BatchLedger>,
}

/// How a session is loaded, besides its suite and configuration: the
/// caches, the lock policy, the network, the scale and where keys may go.
struct LoadOptions<'a> {
    cache_dir: Option<PathBuf>,
    responses: &'a ResponseCacheSettings,
    policy: LockPolicy,
    offline: bool,
    scale: Scale,
    keys: &'a KeyPolicy,
}

/// Whether a session lays out its plan sample by sample (a run, which
/// records every one) or only counts it (a dry run, of any size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scale {
    Plan,
    Counts,
}

impl Session {
    /// The session a fresh run (or a dry run) of `request` would have.
    fn for_request(
        request: &RunRequest,
        responses: &ResponseCacheSettings,
        scale: Scale,
    ) -> Result<Self, RunError> {
        let suite = LoadedSuite::load(&request.suite)?;
        let config = RunConfig::resolve(request, &suite)?;
        let policy = if request.locked {
            LockPolicy::Locked
        } else {
            LockPolicy::Normal
        };
        Self::load(
            suite,
            config,
            LoadOptions {
                cache_dir: request.cache_dir.clone(),
                responses,
                policy,
                offline: request.offline,
                scale,
                keys: &request.keys,
            },
        )
    }

    fn load(
        suite: LoadedSuite,
        config: RunConfig,
        options: LoadOptions<'_>,
    ) -> Result<Self, RunError> {
        let LoadOptions {
            cache_dir,
            responses,
            policy,
            offline,
            scale,
            keys,
        } = options;
        let models = RunModels::resolve(&suite, &config)?;
        // Offline models call nothing: only a run with a remote model
        // needs the cache.
        let remote = models.all().any(|m| !m.id.starts_with("reference/"));
        let cache = match &responses.path {
            Some(path) if remote => Some(Arc::new(ResponseCache::open(path)?)),
            _ => None,
        };
        let politeness = crate::model::Politeness::new(&suite.manifest.providers).map_err(|e| {
            SuiteError::Invalid {
                path: suite.path.clone(),
                message: e.to_string(),
            }
        })?;
        let prices = PriceTable::with_overrides(&suite.manifest.prices)?;
        let meter = spend_meter(&models, &config, &prices)?;
        let batching = batching(&models, &config)?;
        // Limits and retries go under the cache: a cached answer costs
        // the provider nothing and cannot fail. The ceiling goes over it,
        // for the same reason. A batched model has neither: its batch API
        // queues the requests, and its collector retries what manages a
        // batch (see `model::batch`).
        let connected = connect_models(
            &suite,
            &models,
            &config,
            keys,
            batching.as_ref().map(|b| &*b.batching),
            |model, spec| {
                let model: Arc<dyn Model> = match batching {
                    Some(_) => model,
                    None => Arc::new(politeness.resilient(model, spec)),
                };
                let model: Arc<dyn Model> = match &cache {
                    None => model,
                    Some(cache) => Arc::new(CachedModel::new(
                        model,
                        spec,
                        Arc::clone(cache),
                        !responses.refresh,
                    )),
                };
                match &meter {
                    None => model,
                    Some(meter) => Arc::new(spend::Metered::new(model, Arc::clone(meter))),
                }
            },
        );
        let (agents, judge) = connected?;
        let runtime = PluginRuntime::new(RuntimeConfig {
            limits: config.limits.clone(),
            // A sample holds one instance at a time: its scenario's is
            // finished before its classifiers run, one after another. Every
            // pooled fiber stack a run may use ends up resident, so the pool
            // is no bigger than that.
            max_instances: config.concurrency,
            cache_dir,
        })
        .map_err(|e| RunError::Runtime(format!("{e:#}")))?;
        let selection = Selection {
            subsuite: config.subsuite.clone(),
            patterns: config.conditions.clone(),
        };
        let resolver =
            Resolver::with_network(&suite, policy, network(offline)).map_err(PrepareError::from)?;
        let scenarios: Vec<Arc<PreparedScenario>> =
            prepare(&suite, &runtime, &selection, &resolver)?
                .into_iter()
                .map(Arc::new)
                .collect();
        let planned_count = plan::count(models.agents.len(), &scenarios, config.samples);
        if planned_count == 0 {
            return Err(RunError::EmptyPlan(config.conditions.join(", ")));
        }
        let (planned, plan_fingerprint) = match scale {
            Scale::Counts => (Vec::new(), None),
            Scale::Plan if planned_count > plan::MAX_PLANNED_SAMPLES => {
                return Err(RunError::PlanTooLarge(planned_count));
            }
            Scale::Plan => {
                let whole = plan(models.agent_ids(), &scenarios, config.samples, config.seed);
                let fingerprint = plan::fingerprint(whole.iter().map(|s| PlanEntry {
                    model: &s.model,
                    scenario: &scenarios[s.scenario].plugin.info.name,
                    condition: &s.label,
                    sample_index: s.sample_index,
                    seed: s.seed,
                }));
                let planned = match config.shard {
                    None => whole,
                    Some(shard) => whole
                        .into_iter()
                        .enumerate()
                        .filter(|(i, _)| shard.takes(*i as u64))
                        .map(|(_, s)| s)
                        .collect(),
                };
                (planned, Some(fingerprint))
            }
        };
        Ok(Self {
            suite,
            config,
            models,
            agents,
            judge,
            _runtime: runtime,
            resolver,
            scenarios,
            planned,
            planned_count,
            plan_fingerprint,
            prices,
            meter,
            batching,
        })
    }

    /// Under `--batch`, the run store records its batches from now on.
    fn attach_batches(&self, store: &Path) -> Result<(), RunError> {
        if let Some(batched) = &self.batching {
            batched.ledger.attach(store)?;
        }
        Ok(())
    }

    fn execution(
        &self,
        observer: Arc<dyn Observer>,
        interrupt: Option<Arc<Notify>>,
    ) -> Execution<'_> {
        Execution {
            scenarios: &self.scenarios,
            models: self.models.agent_ids(),
            agents: &self.agents,
            judge: Arc::clone(&self.judge),
            max_turns: self.config.max_turns,
            prompt: self.config.prompt,
            concurrency: self.config.concurrency,
            observer,
            prices: &self.prices,
            interrupt,
            meter: self.meter.clone(),
            gate: self.batching.as_ref().map(|b| Arc::clone(&b.batching.gate)),
        }
    }

    /// Records what the run is, before any sample runs: its configuration,
    /// its plugins and its whole plan.
    fn record(
        &self,
        store: &mut Store,
        run_id: &str,
    ) -> Result<Vec<crate::store::SampleId>, RunError> {
        let suite_text = crucible_registry::input_file::read_to_string(
            &self.suite.path,
            crucible_registry::input_file::SUITE_MANIFEST,
        )
        .unwrap_or_default();
        store.set_meta("run_id", run_id)?;
        store.set_meta("config", &self.config.to_json())?;
        if let Some(fingerprint) = &self.plan_fingerprint {
            store.set_meta(PLAN_FINGERPRINT_META, fingerprint)?;
        }
        store.set_meta("suite_manifest", &crate::portable::toml(&suite_text))?;
        if let Ok(lockfile) = crucible_registry::input_file::read_to_string(
            &crate::packages::lockfile_path(&self.suite),
            crucible_registry::input_file::LOCKFILE,
        ) {
            store.set_meta("lockfile", &crate::portable::toml(&lockfile))?;
        }
        let roles = self.plugin_roles();
        for (role, info) in &roles {
            store.add_plugin(role, info, &crate::portable::path(&info.label))?;
        }
        // Each component's bytes, where they still hash as loaded (a local
        // file rewritten meanwhile is not kept, and its run not bundled).
        for source in prepare::component_sources(&self.suite, &self.resolver, &self.scenarios)? {
            let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&source.bytes));
            if roles.iter().any(|(_, info)| info.sha256 == sha256) {
                store.add_component(&sha256, &source.bytes)?;
            }
        }
        Ok(store.insert_plan(&self.planned, |i| {
            self.scenarios[i].plugin.info.name.clone()
        })?)
    }

    /// Every loaded plugin under the role the store names it by.
    fn plugin_roles(&self) -> Vec<(String, &crate::plugin::PluginInfo)> {
        let mut roles = Vec::new();
        for scenario in &self.scenarios {
            roles.push((format!("scenario:{}", scenario.key), &scenario.plugin.info));
            for classifier in &scenario.classifiers {
                roles.push((
                    format!("classifier:{}:{}", scenario.key, classifier.info.name),
                    &classifier.info,
                ));
            }
        }
        roles
    }

    /// Summarises the run from its store and writes `summary.json`.
    fn finish(
        &self,
        run_id: String,
        dir: PathBuf,
        executed: &execute::Executed,
    ) -> Result<RunOutcome, RunError> {
        let interrupted = executed.interrupted;
        let store = &executed.store;
        if let Some(meter) = &self.meter {
            // What the run has paid, abandoned samples' calls included,
            // for a resume's ceiling to count from.
            store.set_meta(spend::SPENT_META, &meter.spent_usd().to_string())?;
        }
        let mut cells: Vec<Cell> = store.cells()?.iter().map(Cell::from).collect();
        crate::figures::attach_secondary(&mut cells, &store.secondary_counts()?);
        let usage = crate::report::usage(&store.usage()?, &self.prices);
        let warnings = crate::report::snapshot_warnings(&usage);
        let (mut errors, mut pending) = (0, 0);
        for cell in &cells {
            errors += cell.errors as usize;
            pending += cell.pending() as usize;
        }
        let summary = Summary {
            run_id: run_id.clone(),
            suite: self.suite.manifest.suite.name.clone(),
            subsuite: self.config.subsuite.clone(),
            judge: self.config.judge.clone(),
            cells,
            usage,
            warnings,
        };
        let summary_path = dir.join("summary.json");
        let json = serde_json::to_string_pretty(&summary).unwrap_or_default();
        std::fs::write(&summary_path, json + "\n").map_err(|source| RunError::Io {
            path: summary_path,
            source,
        })?;
        let failures = store.failures()?;
        let need_a_judge = failures.iter().filter(|f| f.error.needs_a_judge()).count();
        let first_failures = failures.into_iter().take(5).collect();
        Ok(RunOutcome {
            run_id,
            dir,
            summary,
            planned: self.planned.len(),
            errors,
            pending,
            interrupted,
            ceiling_reached: executed
                .ceiling_reached
                .then(|| {
                    self.meter
                        .as_ref()
                        .map(|m| (m.ceiling_usd(), m.spent_usd()))
                })
                .flatten(),
            first_failures,
            need_a_judge,
            conditions: self.condition_params(),
        })
    }

    /// Every planned condition's parameters, by scenario and label.
    fn condition_params(&self) -> ConditionParams {
        let mut params = ConditionParams::new();
        for scenario in &self.scenarios {
            for prepared in &scenario.conditions {
                params.insert(
                    &scenario.plugin.info.name,
                    &prepared.label,
                    prepared.condition.params.clone(),
                );
            }
        }
        params
    }
}

/// Under `--batch`, what the run's batching models share; every model the
/// run calls, agents and judge, must have a batch API here, checked before
/// anything is sent.
fn batching(models: &RunModels, config: &RunConfig) -> Result<Option<Batched>, RunError> {
    let Some(batch) = config.batch else {
        return Ok(None);
    };
    for spec in models.all() {
        crate::model::batch::check_batchable(spec)?;
    }
    let ledger = Arc::new(BatchLedger::default());
    let batching = Batching::new(batch.poll(), Arc::clone(&ledger) as Arc<dyn Ledger>);
    Ok(Some(Batched {
        batching: Arc::new(batching),
        ledger,
    }))
}

/// The agents of the run's models, in order, and its judge; `wrap` puts
/// each remote model behind what the run adds (the response cache).
fn connect_models(
    suite: &LoadedSuite,
    models: &RunModels,
    config: &RunConfig,
    keys: &KeyPolicy,
    batching: Option<&Batching>,
    wrap: impl Fn(Arc<dyn Model>, &ModelSpec) -> Arc<dyn Model>,
) -> Result<(Vec<Agent>, Arc<dyn Judge>), RunError> {
    let settings = &suite.manifest.run;
    let connect = |spec: &ModelSpec| match batching {
        Some(batching) => Agent::from_spec_batched(spec, keys, batching),
        None => Agent::from_spec(spec, keys),
    };
    let mut agents = Vec::with_capacity(models.agents.len());
    for spec in &models.agents {
        agents.push(match connect(spec)? {
            Agent::Remote(model) => {
                let model = wrap(model, spec);
                Agent::Remote(match config.temperature {
                    // Outside the cache: the temperature asked for is part
                    // of what is cached.
                    Some(t) => Arc::new(WithDefaultTemperature::new(model, t)),
                    None => model,
                })
            }
            other => other,
        });
    }
    let judge: Arc<dyn Judge> = match &models.judge {
        None => Arc::new(NoJudge),
        Some(spec) => match connect(spec)? {
            Agent::Remote(model) => Arc::new(ModelJudge::new(
                wrap(model, spec),
                settings.judge_budget.unwrap_or(u64::MAX),
                config.limits.judge_caps(),
            )),
            Agent::Reference(_) | Agent::Scripted(_) => {
                return Err(RunError::ReferenceJudge(spec.id.clone()));
            }
        },
    };
    Ok((agents, judge))
}

pub async fn run(request: RunRequest, observer: Arc<dyn Observer>) -> Result<RunOutcome, RunError> {
    let session = Session::for_request(&request, &request.responses, Scale::Plan)?;
    let suite = &session.suite;
    let config = &session.config;
    let plan_of_lock = packages::plan_lock(
        suite,
        &loaded_infos(&session.scenarios),
        &session.resolver.origins(),
        session.resolver.pins(),
        packages::host_info(&config.limits),
        packages::judge_info(config.judge.as_deref()),
        packages::Coverage::Part,
        request.locked,
    )
    .map_err(PrepareError::from)?;
    // Like Cargo: a suite of registry packages always gets its lockfile; a
    // suite of local paths only keeps one it already has up to date.
    if !plan_of_lock.changes.is_empty() && (plan_of_lock.existed || uses_packages(suite)) {
        plan_of_lock
            .lockfile
            .save(&plan_of_lock.path)
            .map_err(|e| PrepareError::from(packages::PackageError::from(e)))?;
        observer.notice(&format!("Wrote {}", plan_of_lock.path.display()));
    }
    if let Some(name) = config.subsuite.as_deref() {
        let sub = suite.subsuite(name)?;
        observer.notice(&format!("Sub-suite {name}: {}", sub.description));
        if let Some(reported) = &sub.reported {
            observer.notice(&format!("The study reported: {reported}"));
        }
    }
    if config.default_models {
        observer.notice(&format!(
            "No model named: running the offline reference models {} (name one with --model provider/model).",
            DEFAULT_MODELS.join(" and ")
        ));
    }

    let run_id = new_run_id();
    let dir = request.output_dir.join(&run_id);
    std::fs::create_dir_all(&dir).map_err(|source| RunError::Io {
        path: dir.clone(),
        source,
    })?;
    config::LocalPaths {
        suite: std::path::absolute(&session.suite.path)
            .unwrap_or_else(|_| session.suite.path.clone()),
    }
    .write(&dir)?;
    let mut store = Store::create(&results_path(&dir))?;
    session.attach_batches(&results_path(&dir))?;
    let ids = session.record(&mut store, &run_id)?;
    let work = session.planned.iter().cloned().zip(ids).collect();
    let tally = Tally {
        total: session.planned.len(),
        ..Tally::default()
    };
    let executed = session
        .execution(observer, request.interrupt.clone())
        .run(store, work, tally)
        .await?;
    session.finish(run_id, dir, &executed)
}

/// The run's spend meter, when it has a ceiling: every remote model it
/// calls, agents and judge, must then have a price, checked before
/// anything is sent.
fn spend_meter(
    models: &RunModels,
    config: &RunConfig,
    prices: &PriceTable,
) -> Result<Option<Arc<spend::SpendMeter>>, RunError> {
    let Some(ceiling) = config.max_cost_usd else {
        return Ok(None);
    };
    if !(ceiling.is_finite() && ceiling > 0.0) {
        return Err(RunError::BadCeiling(ceiling));
    }
    for spec in models.all() {
        if !spec.id.starts_with("reference/") && prices.price(&spec.id).is_none() {
            return Err(RunError::Unpriced(spec.id.clone()));
        }
    }
    Ok(Some(Arc::new(spend::SpendMeter::new(
        ceiling,
        0.0,
        prices.clone(),
    ))))
}

/// The identity of every plugin loaded for a run, each once.
fn loaded_infos(scenarios: &[Arc<PreparedScenario>]) -> Vec<&crate::plugin::PluginInfo> {
    let mut infos: Vec<&crate::plugin::PluginInfo> = Vec::new();
    for scenario in scenarios {
        infos.push(&scenario.plugin.info);
        infos.extend(scenario.classifiers.iter().map(|c| &c.info));
    }
    infos.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    infos.dedup_by(|a, b| a.sha256 == b.sha256);
    infos
}

fn uses_packages(suite: &LoadedSuite) -> bool {
    let m = &suite.manifest;
    m.scenarios.values().any(|s| s.package.is_some())
        || m.classifiers.values().any(|c| c.package.is_some())
}

/// What `crucible lock` and `crucible update` ask for.
#[derive(Debug, Clone)]
pub struct LockRequest {
    pub suite: PathBuf,
    pub policy: LockPolicy,
    pub judge: Option<String>,
    pub limits: Limits,
    pub cache_dir: Option<PathBuf>,
    /// Read HTTP registries only from the local cache.
    pub offline: bool,
}

fn network(offline: bool) -> packages::Network {
    if offline {
        packages::Network::Offline
    } else {
        packages::Network::Online
    }
}

/// Resolves and loads every plugin of the suite and writes its lockfile.
pub fn lock(request: &LockRequest) -> Result<packages::LockPlan, RunError> {
    let suite = LoadedSuite::load(&request.suite)?;
    let runtime = PluginRuntime::new(RuntimeConfig {
        limits: request.limits.clone(),
        max_instances: 8,
        cache_dir: request.cache_dir.clone(),
    })
    .map_err(|e| RunError::Runtime(format!("{e:#}")))?;
    let resolver = Resolver::with_network(&suite, request.policy.clone(), network(request.offline))
        .map_err(PrepareError::from)?;
    let scenarios: Vec<Arc<PreparedScenario>> =
        prepare(&suite, &runtime, &Selection::default(), &resolver)?
            .into_iter()
            .map(Arc::new)
            .collect();
    let judge = request
        .judge
        .clone()
        .or_else(|| suite.manifest.run.judge.clone());
    let plan = packages::plan_lock(
        &suite,
        &loaded_infos(&scenarios),
        &resolver.origins(),
        resolver.pins(),
        packages::host_info(&request.limits),
        packages::judge_info(judge.as_deref()),
        packages::Coverage::Whole,
        false,
    )
    .map_err(PrepareError::from)?;
    plan.lockfile
        .save(&plan.path)
        .map_err(|e| PrepareError::from(packages::PackageError::from(e)))?;
    Ok(plan)
}

/// `YYYYMMDD-HHMMSS-xxxx`: sortable, and unique enough for one machine.
fn new_run_id() -> String {
    let now = SystemTime::now();
    let stamp = humantime::format_rfc3339_seconds(now).to_string();
    let digits: String = stamp.chars().filter(char::is_ascii_digit).collect();
    let nanos = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let suffix = (nanos ^ std::process::id().rotate_left(16)) & 0xffff;
    format!(
        "{}-{}-{suffix:04x}",
        &digits[..8.min(digits.len())],
        &digits[8.min(digits.len())..]
    )
}
