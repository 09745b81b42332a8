//! Resuming a run that stopped early: the same configuration, plugins and
//! plan, read back from its store; only the samples still pending (and,
//! when asked, those that ended in error) run, each in the row it already
//! has, so no sample is ever run twice into the results.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Notify;

use super::execute::Tally;
use super::{Observer, ResponseCacheSettings, RunConfig, RunError, RunOutcome, Session};
use crate::packages::LockPolicy;
use crate::store::{Store, StoredSample, results_path};
use crate::suite::LoadedSuite;

/// What `crucible run --resume` asks for.
#[derive(Debug, Clone, Default)]
pub struct ResumeRequest {
    /// The run's directory, or its id under `output_dir`.
    pub run: PathBuf,
    pub output_dir: PathBuf,
    /// Run again the samples that ended in error.
    pub retry_errors: bool,
    pub cache_dir: Option<PathBuf>,
    pub responses: ResponseCacheSettings,
    /// Read HTTP registries only from the local cache.
    pub offline: bool,
    /// A new spend ceiling for the whole run, what it already spent
    /// included; none keeps the ceiling it began with, if any.
    pub max_cost_usd: Option<f64>,
    pub interrupt: Option<Arc<Notify>>,
    /// Where the user lets keys go. The stored configuration's models came
    /// from a suite or an earlier command line, so their `base_url` and
    /// `api_key_env` are held to it as a suite's are.
    pub keys: crate::model::KeyPolicy,
    /// A new interval between polls for a `--batch` run (`--batch-poll`);
    /// none keeps the run's.
    pub batch_poll_secs: Option<f64>,
}

pub async fn resume(
    request: ResumeRequest,
    observer: Arc<dyn Observer>,
) -> Result<RunOutcome, RunError> {
    let dir = locate(&request);
    let refuse = |reason: String| RunError::Resume {
        dir: dir.clone(),
        reason,
    };
    let path = results_path(&dir);
    if !path.is_file() {
        return Err(refuse(format!(
            "no results store at {}; name a run directory (or a run id under {})",
            path.display(),
            request.output_dir.display()
        )));
    }
    let mut store = Store::open(&path)?;
    let mut config: RunConfig = match store.meta("config")? {
        None => {
            return Err(refuse(
                "the run stored no configuration: it stopped before it began; start it afresh"
                    .into(),
            ));
        }
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| refuse(format!("its stored configuration cannot be read: {e}")))?,
    };
    let run_id = store.meta("run_id")?.unwrap_or_else(|| {
        dir.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    });
    if config.host_version != env!("CARGO_PKG_VERSION") {
        observer.notice(&format!(
            "The run began under crucible {}; this is {}.",
            config.host_version,
            env!("CARGO_PKG_VERSION")
        ));
    }
    let suite_path = match super::config::LocalPaths::read(&dir) {
        Some(local) => local.suite,
        None if config.suite.is_absolute() => config.suite.clone(),
        None => {
            return Err(refuse(format!(
                "its local.json, which says where its suite ({}) lies on this machine, is \
                 missing: resume it on the machine and in the directory it ran in",
                config.suite.display()
            )));
        }
    };
    if let Some(poll_secs) = request.batch_poll_secs {
        let Some(batch) = config.batch.as_mut() else {
            return Err(refuse(
                "--batch-poll: the run was not begun with --batch; it calls its models live".into(),
            ));
        };
        batch.poll_secs = poll_secs;
    }
    if let Some(ceiling) = request.max_cost_usd {
        config.max_cost_usd = Some(ceiling);
        // Kept, so that a later resume without --max-cost keeps it too.
        store.set_meta("config", &config.to_json())?;
    }
    let suite = LoadedSuite::load(&suite_path)?;
    let session = Session::load(
        suite,
        config,
        super::LoadOptions {
            cache_dir: request.cache_dir.clone(),
            responses: &request.responses,
            policy: LockPolicy::Normal,
            offline: request.offline,
            scale: super::Scale::Plan,
            keys: &request.keys,
        },
    )?;
    check_plugins(&session, &store).map_err(refuse)?;
    session.attach_batches(&path)?;

    let mut stored = store.planned()?;
    if stored.is_empty() {
        // Stopped between recording its configuration and its plan.
        session.record(&mut store, &run_id)?;
        stored = store.planned()?;
    }
    check_plan(&session, &stored).map_err(refuse)?;
    // A shard's rows are only its share: the whole plan must be the same
    // too, or its store would no longer merge with the other shards'.
    if let (Some(recorded), Some(now)) = (
        store.meta(super::PLAN_FINGERPRINT_META)?,
        &session.plan_fingerprint,
    ) && recorded != *now
    {
        return Err(refuse(format!(
            "the suite's whole plan changed since the run began (plan fingerprint {} then, {} now)",
            short(&recorded),
            short(now)
        )));
    }

    let mut tally = Tally {
        total: stored.len(),
        usage: store.usage()?,
        ..Tally::default()
    };
    if let Some(meter) = &session.meter {
        // What the stored samples cost, or what the last session recorded
        // it had paid, abandoned samples' calls included (a kill leaves
        // no record: their answers were cached, and cost nothing again).
        let recorded = store
            .meta(super::spend::SPENT_META)?
            .and_then(|text| text.parse::<f64>().ok())
            .unwrap_or(0.0);
        let spent = super::spend::spent_by(&tally.usage, &session.prices)
            .unwrap_or(0.0)
            .max(recorded);
        meter.start_from(spent);
        if meter.is_reached() {
            return Err(refuse(format!(
                "it has spent ${spent:.4}, which reaches its spend ceiling of ${:.4}; give a                  higher one with --max-cost USD",
                meter.ceiling_usd()
            )));
        }
    }
    let mut work = Vec::new();
    let (mut pending, mut retried) = (0, 0);
    for (planned, row) in session.planned.iter().zip(&stored) {
        match row.status.as_str() {
            "pending" => {
                pending += 1;
                work.push((planned.clone(), row.id));
            }
            "error" if request.retry_errors => {
                retried += 1;
                work.push((planned.clone(), row.id));
            }
            "error" => {
                tally.done += 1;
                tally.errors += 1;
            }
            _ => tally.done += 1,
        }
    }
    let share = session
        .config
        .shard
        .map_or_else(String::new, |shard| format!(" (shard {shard})"));
    observer.notice(&format!(
        "Resuming run {run_id}{share}: {} of {} samples to run ({pending} pending, {retried} errors to retry).",
        work.len(),
        stored.len()
    ));
    let executed = session
        .execution(observer, request.interrupt.clone())
        .run(store, work, tally)
        .await?;
    session.finish(run_id, dir, &executed)
}

/// A directory as given, else a run id under the output directory.
fn locate(request: &ResumeRequest) -> PathBuf {
    if request.run.is_dir() || request.run.components().count() > 1 {
        request.run.clone()
    } else {
        request.output_dir.join(&request.run)
    }
}

/// The plugins must be byte for byte those the run began with.
fn check_plugins(session: &Session, store: &Store) -> Result<(), String> {
    let stored = store.plugin_hashes().map_err(|e| e.to_string())?;
    let loaded: Vec<(String, String)> = session
        .plugin_roles()
        .into_iter()
        .map(|(role, info)| (role, info.sha256.clone()))
        .collect();
    for (role, sha256) in &stored {
        match loaded.iter().find(|(r, _)| r == role) {
            None => return Err(format!("its plugin {role} is no longer in the suite")),
            Some((_, now)) if now != sha256 => {
                return Err(format!(
                    "its plugin {role} changed since the run began (sha256 {} then, {} now)",
                    short(sha256),
                    short(now)
                ));
            }
            Some(_) => {}
        }
    }
    if let Some((role, _)) = loaded
        .iter()
        .find(|(r, _)| !stored.iter().any(|(s, _)| s == r))
    {
        return Err(format!(
            "the suite now has a plugin the run did not: {role}"
        ));
    }
    Ok(())
}

/// The plan rebuilt from the stored configuration must be the stored plan.
fn check_plan(session: &Session, stored: &[StoredSample]) -> Result<(), String> {
    if stored.len() != session.planned.len() {
        return Err(format!(
            "the suite now plans {} samples where the run planned {}",
            session.planned.len(),
            stored.len()
        ));
    }
    for (planned, row) in session.planned.iter().zip(stored) {
        let scenario = &session.scenarios[planned.scenario].plugin.info.name;
        let same = *row.model == *planned.model
            && row.scenario == *scenario
            && *row.condition == *planned.label
            && row.sample_index == planned.sample_index
            && row.seed == planned.seed.to_string();
        if !same {
            return Err(format!(
                "the suite's plan changed since the run began: sample {} was {} {} #{}, now {} {} #{}",
                row.id,
                row.model,
                row.condition,
                row.sample_index,
                planned.model,
                planned.label,
                planned.sample_index
            ));
        }
    }
    Ok(())
}

fn short(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
}
