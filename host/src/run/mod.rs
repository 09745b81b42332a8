//! Running a suite: resolve models, load plugins, plan, execute samples
//! concurrently, store each as it finishes, then summarise from the store.

mod check;
mod episode;
mod plan;
mod prepare;
mod usage;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::judge::{Judge, ModelJudge, NoJudge};
use crate::model::{Agent, SpecError};
use crate::packages::{self, LockPolicy, Resolver};
use crate::plugin::{Limits, PluginRuntime, RuntimeConfig};
use crate::report::{Cell, Summary};
use crate::store::{SampleFailure, Store, StoreError};
use crate::suite::{LoadedSuite, SuiteError};

pub use check::{CheckOutcome, Mismatch, check};
pub use episode::{SampleContext, SampleError, SampleRecord, VerdictRecord, run_sample};
pub use plan::{PlannedSample, plan, sample_seed};
pub use prepare::{PrepareError, PreparedCondition, PreparedScenario, Selection, prepare};
pub use usage::{CallTally, UsageByModel};

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
    pub conditions: Vec<String>,
    /// A named sub-suite to run instead of the whole suite.
    pub subsuite: Option<String>,
    pub output_dir: PathBuf,
    pub limits: Limits,
    pub cache_dir: Option<PathBuf>,
    /// Refuse to run if `crucible.lock` is missing or would change.
    pub locked: bool,
    /// Read HTTP registries only from the local cache.
    pub offline: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
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
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Runtime(String),
    #[error("the selection leaves nothing to run: no condition matches {0}")]
    EmptyPlan(String),
}

/// Receives what a run has to say while it goes.
pub trait Observer: Send + Sync {
    fn notice(&self, message: &str);
    fn progress(&self, done: usize, total: usize, errors: usize);
}

/// The result of a finished run.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub run_id: String,
    pub dir: PathBuf,
    pub summary: Summary,
    pub planned: usize,
    pub errors: usize,
    /// The first few failed samples, to show.
    pub first_failures: Vec<SampleFailure>,
}

/// The configuration a run actually used, stored with it.
#[derive(Debug, Serialize)]
struct ResolvedConfig<'a> {
    suite: &'a str,
    suite_name: &'a str,
    models: &'a [String],
    judge: Option<&'a str>,
    samples: u32,
    seed: u64,
    max_turns: u32,
    concurrency: u32,
    conditions: &'a [String],
    subsuite: Option<&'a str>,
    limits: &'a Limits,
    host_version: &'a str,
    wasmtime_version: &'a str,
}

pub async fn run(request: RunRequest, observer: Arc<dyn Observer>) -> Result<RunOutcome, RunError> {
    let suite = LoadedSuite::load(&request.suite)?;
    let settings = &suite.manifest.run;
    let subsuite = request
        .subsuite
        .as_deref()
        .map(|name| suite.subsuite(name))
        .transpose()?;
    let samples = request
        .samples
        .or(subsuite.and_then(|s| s.samples))
        .unwrap_or(settings.samples)
        .max(1);
    let seed = request.seed.unwrap_or(settings.seed);
    let concurrency = request.concurrency.unwrap_or(settings.concurrency).max(1);
    let max_turns = request.max_turns.unwrap_or(settings.max_turns).max(1);

    let mut models = if !request.models.is_empty() {
        request.models.clone()
    } else {
        settings.models.clone()
    };
    let defaulted = models.is_empty();
    if defaulted {
        models = DEFAULT_MODELS.iter().map(|m| (*m).to_owned()).collect();
    }
    let mut agents = Vec::with_capacity(models.len());
    for id in &models {
        agents.push(Agent::from_spec(&suite.model_spec(id)?)?);
    }
    let judge_id = request.judge.clone().or_else(|| settings.judge.clone());
    let judge: Arc<dyn Judge> = match &judge_id {
        None => Arc::new(NoJudge),
        Some(id) => match Agent::from_spec(&suite.model_spec(id)?)? {
            Agent::Remote(model) => Arc::new(ModelJudge::new(
                model,
                tokio::runtime::Handle::current(),
                settings.judge_budget.unwrap_or(u64::MAX),
            )),
            Agent::Reference(_) | Agent::Scripted(_) => {
                return Err(RunError::ReferenceJudge(id.clone()));
            }
        },
    };

    let runtime = PluginRuntime::new(RuntimeConfig {
        limits: request.limits.clone(),
        max_instances: concurrency * 2,
        cache_dir: request.cache_dir.clone(),
    })
    .map_err(|e| RunError::Runtime(format!("{e:#}")))?;
    let selection = Selection {
        subsuite: request.subsuite.clone(),
        patterns: request.conditions.clone(),
    };
    let policy = if request.locked {
        LockPolicy::Locked
    } else {
        LockPolicy::Normal
    };
    let resolver = Resolver::with_network(&suite, policy, network(request.offline))
        .map_err(PrepareError::from)?;
    let scenarios: Vec<Arc<PreparedScenario>> = prepare(&suite, &runtime, &selection, &resolver)?
        .into_iter()
        .map(Arc::new)
        .collect();
    let plan_of_lock = packages::plan_lock(
        &suite,
        &loaded_infos(&scenarios),
        &resolver.origins(),
        resolver.pins(),
        packages::host_info(&request.limits),
        packages::judge_info(judge_id.as_deref()),
        packages::Coverage::Part,
        request.locked,
    )
    .map_err(PrepareError::from)?;
    // Like Cargo: a suite of registry packages always gets its lockfile; a
    // suite of local paths only keeps one it already has up to date.
    if !plan_of_lock.changes.is_empty() && (plan_of_lock.existed || uses_packages(&suite)) {
        plan_of_lock
            .lockfile
            .save(&plan_of_lock.path)
            .map_err(|e| PrepareError::from(packages::PackageError::from(e)))?;
        observer.notice(&format!("Wrote {}", plan_of_lock.path.display()));
    }
    let planned = plan(&models, &scenarios, samples, seed);
    if planned.is_empty() {
        return Err(RunError::EmptyPlan(request.conditions.join(", ")));
    }
    if let (Some(name), Some(sub)) = (request.subsuite.as_deref(), subsuite) {
        observer.notice(&format!("Sub-suite {name}: {}", sub.description));
        if let Some(reported) = &sub.reported {
            observer.notice(&format!("The study reported: {reported}"));
        }
    }
    if defaulted {
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
    let mut store = Store::create(&results_path(&dir))?;
    let suite_text = std::fs::read_to_string(&suite.path).unwrap_or_default();
    let config = ResolvedConfig {
        suite: &suite.path.display().to_string(),
        suite_name: &suite.manifest.suite.name,
        models: &models,
        judge: judge_id.as_deref(),
        samples,
        seed,
        max_turns,
        concurrency,
        conditions: &request.conditions,
        subsuite: request.subsuite.as_deref(),
        limits: &request.limits,
        host_version: env!("CARGO_PKG_VERSION"),
        wasmtime_version: WASMTIME_VERSION,
    };
    store.set_meta("run_id", &run_id)?;
    store.set_meta(
        "config",
        &serde_json::to_string_pretty(&config).unwrap_or_default(),
    )?;
    store.set_meta("suite_manifest", &suite_text)?;
    for scenario in &scenarios {
        store.add_plugin(&format!("scenario:{}", scenario.key), &scenario.plugin.info)?;
        for classifier in &scenario.classifiers {
            store.add_plugin(
                &format!("classifier:{}:{}", scenario.key, classifier.info.name),
                &classifier.info,
            )?;
        }
    }
    let ids = store.insert_plan(&planned, |i| scenarios[i].plugin.info.name.clone())?;

    let (store, errors) = execute(
        store,
        planned.iter().cloned().zip(ids).collect(),
        &scenarios,
        &models,
        &agents,
        judge,
        max_turns,
        concurrency,
        Arc::clone(&observer),
    )
    .await?;

    let mut cells: Vec<Cell> = store.cells()?.iter().map(Cell::from).collect();
    crate::report::attach_secondary(&mut cells, &store.secondary_counts()?);
    let summary = Summary {
        run_id: run_id.clone(),
        suite: suite.manifest.suite.name.clone(),
        subsuite: request.subsuite.clone(),
        judge: judge_id,
        cells,
    };
    let summary_path = dir.join("summary.json");
    let json = serde_json::to_string_pretty(&summary).unwrap_or_default();
    std::fs::write(&summary_path, json + "\n").map_err(|source| RunError::Io {
        path: summary_path,
        source,
    })?;
    let first_failures = store.failures()?.into_iter().take(5).collect();
    Ok(RunOutcome {
        run_id,
        dir,
        summary,
        planned: planned.len(),
        errors,
        first_failures,
    })
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

/// Runs every sample with at most `concurrency` in flight; a dedicated
/// thread writes each finished sample to the store as it arrives.
#[allow(clippy::too_many_arguments)]
async fn execute(
    store: Store,
    work: Vec<(PlannedSample, i64)>,
    scenarios: &[Arc<PreparedScenario>],
    models: &[String],
    agents: &[Agent],
    judge: Arc<dyn Judge>,
    max_turns: u32,
    concurrency: u32,
    observer: Arc<dyn Observer>,
) -> Result<(Store, usize), RunError> {
    let total = work.len();
    let (sender, receiver) = std::sync::mpsc::channel::<(i64, SampleRecord)>();
    let writer = std::thread::Builder::new()
        .name("crucible-store".into())
        .spawn(move || -> Result<Store, StoreError> {
            let mut store = store;
            // Whatever has arrived goes in one transaction: far fewer writes
            // than a transaction per sample when samples finish quickly.
            while let Ok(first) = receiver.recv() {
                let mut batch = vec![first];
                batch.extend(receiver.try_iter().take(255));
                store.record_all(&batch)?;
            }
            Ok(store)
        })
        .map_err(|e| RunError::Runtime(format!("cannot start the store writer: {e}")))?;

    let permits = Arc::new(Semaphore::new(concurrency as usize));
    let mut tasks = JoinSet::new();
    for (planned, id) in work {
        let model_index = models.iter().position(|m| *m == planned.model).unwrap_or(0);
        let ctx = SampleContext {
            scenario: Arc::clone(&scenarios[planned.scenario]),
            agent: agents[model_index].clone(),
            judge: Arc::clone(&judge),
            max_turns,
            runtime: tokio::runtime::Handle::current(),
        };
        let permits = Arc::clone(&permits);
        tasks.spawn(async move {
            // The semaphore is never closed, so acquiring cannot fail.
            let _permit = permits.acquire_owned().await.ok();
            tokio::task::spawn_blocking(move || {
                let record = run_sample(&ctx, &planned);
                (id, record)
            })
            .await
        });
    }
    let mut done = 0;
    let mut errors = 0;
    let mut last_report = Instant::now();
    while let Some(joined) = tasks.join_next().await {
        let (id, record) = joined
            .map_err(|e| RunError::Runtime(format!("a sample task failed: {e}")))?
            .map_err(|e| RunError::Runtime(format!("a sample thread failed: {e}")))?;
        done += 1;
        if record.error.is_some() {
            errors += 1;
        }
        if sender.send((id, record)).is_err() {
            // The writer stopped: its error is reported when it is joined.
            break;
        }
        if last_report.elapsed() >= Duration::from_secs(1) || done == total {
            observer.progress(done, total, errors);
            last_report = Instant::now();
        }
    }
    drop(sender);
    let store = writer
        .join()
        .map_err(|_| RunError::Runtime("the store writer panicked".into()))??;
    Ok((store, errors))
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

/// The wasmtime the host was built with, recorded with every run.
pub const WASMTIME_VERSION: &str = "48.0.8";

/// The run directory's results file.
pub fn results_path(dir: &Path) -> PathBuf {
    dir.join("results.sqlite")
}
