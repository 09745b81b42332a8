//! `crucible merge`: joining the run directories of a plan's shards
//! (`crucible run --shard K/N`) into one run directory that reports,
//! verifies, exports, bundles and resumes like a run made in one piece.
//!
//! Shards join only if they are the same run cut N ways: the same plan
//! (its fingerprint), plugins, lockfile, suite manifest and configuration
//! (all but the shard), every shard of 1..=N once. The rows are copied by
//! the store (`store::merge`); the merged rows are then checked against the
//! plan's fingerprint, so a merge either gives exactly the plan or nothing.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::remote::{Remote, RemoteUrl};
use crate::report::Summary;
use crate::run::{PLAN_FINGERPRINT_META, PlanEntry, RunConfig, SPENT_META, Shard};
use crate::store::merge::{ShardFacts, shard_facts};
use crate::store::results_path;
use crate::store::{Store, StoreError};

/// What `crucible merge` asks for.
#[derive(Debug, Clone)]
pub struct MergeRequest {
    /// The merged run's directory, which must not exist; its name is the
    /// merged run's id.
    pub out: PathBuf,
    /// The shards' run directories (or their results.sqlite), any order;
    /// or `s3://BUCKET/PREFIX` locations, each a run or holding runs (see
    /// `remote`), downloaded first.
    pub shards: Vec<PathBuf>,
    /// The suite manifest on this machine, for a resume of the merged run;
    /// none takes the first shard's record of it (`local.json`), if any.
    pub suite: Option<PathBuf>,
}

/// The merged run.
#[derive(Debug, Clone)]
pub struct MergeOutcome {
    pub dir: PathBuf,
    pub summary: Summary,
    pub samples: u64,
    /// Samples still pending or in error, which a resume of the merged run
    /// picks up.
    pub unfinished: u64,
    pub shards: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{0}: already exists; merge into a new directory")]
    Exists(PathBuf),
    #[error("name at least one shard's run directory to merge")]
    NoShards,
    #[error("{0}: no results store (results.sqlite) there; name a shard's run directory")]
    NoStore(PathBuf),
    #[error("{path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("{0}: not a shard (it was not run with --shard K/N)")]
    NotAShard(PathBuf),
    #[error(
        "{path} (shard {shard}) does not belong with {first} (shard {first_shard}): {difference}"
    )]
    Mismatch {
        path: PathBuf,
        shard: Shard,
        first: PathBuf,
        first_shard: Shard,
        difference: String,
    },
    #[error("{path} and {other} are both shard {shard}")]
    Duplicate {
        path: PathBuf,
        other: PathBuf,
        shard: Shard,
    },
    #[error(
        "shard {missing} of {count} is missing: merge every shard of the plan (run the missing ones with --shard K/{count})"
    )]
    Missing { missing: String, count: u32 },
    #[error(
        "{path} (shard {shard}) holds no samples: it stopped before recording its plan; resume it (crucible run --resume) and merge again"
    )]
    EmptyShard { path: PathBuf, shard: Shard },
    #[error(
        "{path} (shard {shard}) holds {found} samples where its share of the plan is {expected}: its store is incomplete or was altered"
    )]
    WrongShare {
        path: PathBuf,
        shard: Shard,
        found: u64,
        expected: u64,
    },
    #[error(
        "the merged samples are not the plan the shards recorded (plan fingerprint {expected}, merged {found}): a shard's store was altered"
    )]
    NotThePlan { expected: String, found: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reading the merged run back: {0}")]
    Results(#[from] crate::results::ResultsError),
    #[error(transparent)]
    Remote(#[from] crate::remote::RemoteError),
    #[error("{0}: no run there (no results.sqlite under it)")]
    NoRemoteRun(String),
}

/// One shard as named, with what its store says.
struct ShardRun {
    /// As the user named it (a directory, or an s3:// location).
    path: PathBuf,
    /// Its run directory on this machine.
    dir: PathBuf,
    store: PathBuf,
    facts: ShardFacts,
    config: Value,
    shard: Shard,
}

pub fn merge(request: &MergeRequest) -> Result<MergeOutcome, MergeError> {
    if request.out.exists() {
        return Err(MergeError::Exists(request.out.clone()));
    }
    // Shards in object storage are downloaded here first, and named by
    // where they came from.
    let scratch = tempfile::tempdir().map_err(|source| MergeError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let mut shards = Vec::new();
    for (n, named) in request.shards.iter().enumerate() {
        let text = named.to_string_lossy();
        if !RemoteUrl::is_remote(&text) {
            shards.push(read_shard(named, named)?);
            continue;
        }
        let url: RemoteUrl = text.parse()?;
        for (run, dir) in download(&url, &scratch.path().join(n.to_string()))? {
            shards.push(read_shard(&PathBuf::from(run.to_string()), &dir)?);
        }
    }
    shards.sort_by_key(|s| s.shard.index);
    let first = shards.first().ok_or(MergeError::NoShards)?;
    let count = first.shard.count;
    for (a, b) in shards.iter().zip(shards.iter().skip(1)) {
        if a.shard == b.shard {
            return Err(MergeError::Duplicate {
                path: b.path.clone(),
                other: a.path.clone(),
                shard: b.shard,
            });
        }
    }
    for shard in &shards[1..] {
        if let Some(difference) = difference(first, shard) {
            return Err(MergeError::Mismatch {
                path: shard.path.clone(),
                shard: shard.shard,
                first: first.path.clone(),
                first_shard: first.shard,
                difference,
            });
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|k| !shards.iter().any(|s| s.shard.index == *k))
        .map(|k| k.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing {
            missing: missing.join(", "),
            count,
        });
    }
    if let Some(empty) = shards.iter().find(|s| s.facts.samples == 0) {
        return Err(MergeError::EmptyShard {
            path: empty.path.clone(),
            shard: empty.shard,
        });
    }
    let total: u64 = shards.iter().map(|s| s.facts.samples).sum();
    for shard in &shards {
        let expected = shard.shard.share_of(0, total);
        if shard.facts.samples != expected {
            return Err(MergeError::WrongShare {
                path: shard.path.clone(),
                shard: shard.shard,
                found: shard.facts.samples,
                expected,
            });
        }
    }

    // Written beside OUT and renamed into place at the end: a merge that
    // fails leaves nothing that looks like a run.
    let partial = partial_dir(&request.out);
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| MergeError::Io { path, source }
    };
    std::fs::create_dir_all(&partial).map_err(io(&partial))?;
    let written = write_merged(request, &shards, &partial, total);
    let outcome = match written {
        Ok(outcome) => outcome,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, &request.out).map_err(io(&request.out))?;
    Ok(MergeOutcome {
        dir: request.out.clone(),
        ..outcome
    })
}

fn write_merged(
    request: &MergeRequest,
    shards: &[ShardRun],
    dir: &Path,
    total: u64,
) -> Result<MergeOutcome, MergeError> {
    let first = &shards[0];
    let run_id = request
        .out
        .file_name()
        .map_or_else(|| "merged".to_owned(), |n| n.to_string_lossy().into_owned());
    let mut store = Store::create(&results_path(dir))?;
    // The first shard's meta, but the run's own id, its configuration as
    // a whole run's, and what all the shards spent together.
    let mut spent: Option<f64> = None;
    for shard in shards {
        if let Some(usd) = shard
            .facts
            .meta(SPENT_META)
            .and_then(|t| t.parse::<f64>().ok())
        {
            spent = Some(spent.unwrap_or(0.0) + usd);
        }
    }
    for (key, value) in &first.facts.meta {
        match key.as_str() {
            "run_id" | "config" => {}
            k if k == SPENT_META => {}
            _ => store.set_meta(key, value)?,
        }
    }
    store.set_meta("run_id", &run_id)?;
    let mut config = first.config.clone();
    if let Value::Object(map) = &mut config {
        map.remove("shard");
    }
    store.set_meta(
        "config",
        &serde_json::to_string_pretty(&config).unwrap_or_default(),
    )?;
    if let Some(usd) = spent {
        store.set_meta(SPENT_META, &usd.to_string())?;
    }
    for shard in shards {
        store.copy_shard(&shard.store, shard.shard.index, shard.shard.count)?;
    }

    let planned = store.planned()?;
    let found = crate::run::plan_fingerprint(planned.iter().map(|s| PlanEntry {
        model: &s.model,
        scenario: &s.scenario,
        condition: &s.condition,
        sample_index: s.sample_index,
        seed: s.seed.parse().unwrap_or_default(),
    }));
    let expected = first.facts.meta(PLAN_FINGERPRINT_META).unwrap_or_default();
    if found != expected || planned.len() as u64 != total {
        return Err(MergeError::NotThePlan {
            expected: expected.to_owned(),
            found,
        });
    }
    let unfinished = planned.iter().filter(|s| s.status != "completed").count() as u64;
    drop(store);

    let local = match &request.suite {
        Some(suite) => Some(crate::run::LocalPaths {
            suite: std::path::absolute(suite).unwrap_or_else(|_| suite.clone()),
        }),
        None => shards
            .iter()
            .find_map(|s| crate::run::LocalPaths::read(&s.dir)),
    };
    if let Some(local) = local {
        local.write(dir).map_err(|e| MergeError::Unreadable {
            path: dir.to_owned(),
            reason: e.to_string(),
        })?;
    }
    let summary = summary_of(dir)?;
    let path = dir.join("summary.json");
    let json = serde_json::to_string_pretty(&summary).unwrap_or_default();
    std::fs::write(&path, json + "\n").map_err(|source| MergeError::Io { path, source })?;
    Ok(MergeOutcome {
        dir: dir.to_owned(),
        summary,
        samples: total,
        unfinished,
        shards: first.shard.count,
    })
}

/// The summary `crucible run` writes, computed from the merged store.
fn summary_of(dir: &Path) -> Result<Summary, MergeError> {
    let run = Store::read_results(&results_path(dir))?;
    let usage = crate::report::usage_of_run(&run);
    let setting = |key: &str| {
        run.config
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Ok(Summary {
        run_id: run.run_id.clone(),
        suite: setting("suite_name").unwrap_or_default(),
        subsuite: setting("subsuite"),
        judge: setting("judge"),
        cells: crate::results::figures(&run),
        warnings: crate::report::snapshot_warnings(&usage),
        usage,
    })
}

/// Every run at or under `url`, downloaded into directories under
/// `scratch`.
fn download(url: &RemoteUrl, scratch: &Path) -> Result<Vec<(RemoteUrl, PathBuf)>, MergeError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| MergeError::Io {
            path: scratch.to_owned(),
            source,
        })?;
    runtime.block_on(async {
        let remote = Remote::connect(url)?;
        let runs = remote.runs().await?;
        if runs.is_empty() {
            return Err(MergeError::NoRemoteRun(url.to_string()));
        }
        let mut local = Vec::new();
        for (n, run) in runs.into_iter().enumerate() {
            let dir = scratch.join(n.to_string());
            remote.download_run(&run, &dir).await?;
            local.push((run, dir));
        }
        Ok(local)
    })
}

/// The shard named `shown` (in messages), whose run directory or store is
/// at `path`.
fn read_shard(shown: &Path, location: &Path) -> Result<ShardRun, MergeError> {
    let (dir, store) = if location.is_file() {
        let dir = location
            .parent()
            .map_or_else(PathBuf::new, Path::to_path_buf);
        (dir, location.to_owned())
    } else {
        (location.to_owned(), results_path(location))
    };
    let path = shown;
    if !store.is_file() {
        return Err(MergeError::NoStore(path.to_owned()));
    }
    let facts = shard_facts(&store)?;
    let unreadable = |reason: String| MergeError::Unreadable {
        path: path.to_owned(),
        reason,
    };
    let text = facts
        .meta("config")
        .ok_or_else(|| unreadable("the run stored no configuration".into()))?;
    let config: Value = serde_json::from_str(text)
        .map_err(|e| unreadable(format!("its stored configuration cannot be read: {e}")))?;
    let typed: RunConfig = serde_json::from_value(config.clone())
        .map_err(|e| unreadable(format!("its stored configuration cannot be read: {e}")))?;
    let shard = typed
        .shard
        .ok_or_else(|| MergeError::NotAShard(path.to_owned()))?;
    if facts.meta(PLAN_FINGERPRINT_META).is_none() {
        return Err(unreadable("it recorded no plan fingerprint".into()));
    }
    Ok(ShardRun {
        path: if shown == location {
            dir.clone()
        } else {
            shown.to_owned()
        },
        dir,
        store,
        facts,
        config,
        shard,
    })
}

/// How `shard` differs from `first` where shards of one run must agree,
/// if it does.
fn difference(first: &ShardRun, shard: &ShardRun) -> Option<String> {
    if shard.shard.count != first.shard.count {
        return Some(format!(
            "it is one of {} shards, not {}",
            shard.shard.count, first.shard.count
        ));
    }
    let meta = |run: &ShardRun, key: &str| run.facts.meta(key).map(str::to_owned);
    if meta(shard, PLAN_FINGERPRINT_META) != meta(first, PLAN_FINGERPRINT_META) {
        return Some("its plan differs (another plan fingerprint)".into());
    }
    if shard.facts.plugins != first.facts.plugins {
        let role = shard
            .facts
            .plugins
            .iter()
            .chain(&first.facts.plugins)
            .find(|p| !first.facts.plugins.contains(p) || !shard.facts.plugins.contains(p))
            .map_or("?", |(role, _)| role.as_str());
        return Some(format!("its plugins differ (plugin {role})"));
    }
    if meta(shard, "lockfile") != meta(first, "lockfile") {
        return Some("its lockfile differs".into());
    }
    if meta(shard, "suite_manifest") != meta(first, "suite_manifest") {
        return Some("its suite manifest differs".into());
    }
    if let (Value::Object(a), Value::Object(b)) = (&first.config, &shard.config) {
        let keys = a.keys().chain(b.keys()).filter(|k| *k != "shard");
        for key in keys {
            if a.get(key) != b.get(key) {
                let show =
                    |v: Option<&Value>| v.map_or_else(|| "none".to_owned(), Value::to_string);
                return Some(format!(
                    "its configuration's {key} is {}, not {}",
                    show(b.get(key)),
                    show(a.get(key))
                ));
            }
        }
    }
    if shard.facts.label_sets != first.facts.label_sets {
        return Some(
            "its label sets differ (crucible rescore ran on some shards only): rescore the merged run instead".into(),
        );
    }
    None
}

/// `OUT.partial-PID` beside `out`.
fn partial_dir(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map_or_else(|| "merged".to_owned(), |n| n.to_string_lossy().into_owned());
    out.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}
