//! `crucible verify`: checks a bundle offline, on any machine, by
//! re-deriving it. Every member and component is re-hashed; every sample
//! is played again through the bundled scenario from its condition and
//! seed with the agent's stored replies, so that its opening, the
//! scenario's answers and its facts are re-derived byte for byte; every
//! classifier judges it again with the judge answers the run recorded;
//! and every figure is recomputed. What differs is said, one line each.

mod compare;
mod integrity;
mod replay;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use crate::Bundle;
use crucible_engine::plugin::{Limits, PluginRuntime, PluginSource, RuntimeConfig};
use crucible_engine::results::{PluginRecord, RunResults, SampleResult, figures};
use crucible_engine::run::PreparedScenario;

pub use replay::ReplayJudge;

/// What a difference concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// A member of the bundle against its manifest.
    Member,
    /// A plugin component against its sha256.
    Component,
    /// The lockfile's pins against the components the run loaded.
    Lockfile,
    /// The messages a model was first sent.
    Opening,
    /// The scenario's answers, facts and ending.
    Episode,
    /// A classifier's verdict.
    Verdict,
    /// A figure of the results.
    Figures,
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Category::Member => "member",
            Category::Component => "component",
            Category::Lockfile => "lockfile",
            Category::Opening => "opening",
            Category::Episode => "episode",
            Category::Verdict => "verdict",
            Category::Figures => "figures",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub category: Category,
    pub detail: String,
}

/// What `verify` checked, and what it found different.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verification {
    pub run_id: String,
    pub components: usize,
    pub samples: usize,
    /// Samples re-derived whole: opening, episode, facts and verdicts.
    pub replayed: usize,
    /// Samples that failed part-way: what they stored was re-derived.
    pub partial: usize,
    /// Samples that could not be re-derived (their scenario would not load).
    pub skipped: usize,
    pub verdicts: usize,
    /// Verdicts of label sets made after the run (`crucible rescore`),
    /// re-derived with their recorded judge answers.
    pub label_verdicts: usize,
    pub cells: usize,
    pub differences: Vec<Difference>,
}

impl Verification {
    pub fn passed(&self) -> bool {
        self.differences.is_empty() && self.skipped == 0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot start the plugin runtime: {0}")]
    Runtime(String),
}

/// Verifies `bundle`. Runs its plugins sandboxed as a run would, under the
/// limits the run recorded.
pub async fn verify(
    bundle: &Bundle,
    cache_dir: Option<PathBuf>,
) -> Result<Verification, VerifyError> {
    let results = &bundle.results;
    let mut report = Verification {
        run_id: results.run_id.clone(),
        components: bundle.manifest.components.len(),
        samples: results.samples.len(),
        ..Verification::default()
    };
    report.differences.extend(integrity::check(bundle));

    let limits: Limits = results
        .config
        .get("limits")
        .and_then(|l| serde_json::from_value(l.clone()).ok())
        .unwrap_or_default();
    let max_turns = results
        .config
        .get("max_turns")
        .and_then(serde_json::Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(crucible_engine::run::SCRIPT_TURNS);
    // A run recorded before the caps ran under the defaults' protection
    // too when resumed; its replay does the same.
    let prompt: crucible_engine::run::PromptLimits = results
        .config
        .get("prompt")
        .and_then(|p| serde_json::from_value(p.clone()).ok())
        .unwrap_or_default();
    let runtime = PluginRuntime::new(RuntimeConfig {
        limits,
        max_instances: PARALLEL as u32,
        cache_dir,
    })
    .map_err(|e| VerifyError::Runtime(format!("{e:#}")))?;
    let scenarios = load_scenarios(bundle, &runtime, &mut report.differences);

    let mut derived: Vec<Option<crucible_engine::record::SampleRecord>> =
        vec![None; results.samples.len()];
    let semaphore = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, sample) in results.samples.iter().enumerate() {
        let Some(scenario) = scenario_of(&scenarios, sample) else {
            report.skipped += 1;
            continue;
        };
        let (scenario, sample, semaphore) =
            (Arc::clone(scenario), sample.clone(), Arc::clone(&semaphore));
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            (
                index,
                replay::replay(&scenario, &sample, max_turns, prompt).await,
            )
        });
    }
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((index, record)) => derived[index] = Some(record),
            Err(e) => report.differences.push(Difference {
                category: Category::Episode,
                detail: format!("a sample's re-derivation failed: {e}"),
            }),
        }
    }

    let mut rederived = results.clone();
    for ((sample, stored), again) in rederived
        .samples
        .iter_mut()
        .zip(&results.samples)
        .zip(&derived)
    {
        let Some(again) = again else { continue };
        report.differences.extend(compare::compare(stored, again));
        if compare::replayable_whole(stored) {
            report.replayed += 1;
            report.verdicts += again.verdicts.len();
            sample.record.verdicts = again.verdicts.clone();
            sample.record.error = again.error.clone();
        } else {
            report.partial += 1;
        }
    }
    check_figures(bundle, &rederived, &mut report);
    check_label_sets(bundle, &runtime, &mut report).await;
    report.differences.sort_by_key(|d| d.category);
    Ok(report)
}

/// Every label set made after the run: its classifier, from the bundle,
/// judges each sample's stored episode again with the judge answers the
/// set recorded, and must give the verdict the set holds.
async fn check_label_sets(bundle: &Bundle, runtime: &PluginRuntime, report: &mut Verification) {
    let samples: std::collections::HashMap<i64, &SampleResult> =
        bundle.results.samples.iter().map(|s| (s.id, s)).collect();
    for set in &bundle.results.label_sets {
        let classifier = match source(bundle, &set.classifier, &set.sha256)
            .and_then(|s| runtime.load_classifier(&s))
        {
            Ok(classifier) => classifier,
            Err(e) => {
                report.differences.push(Difference {
                    category: Category::Component,
                    detail: format!(
                        "label set {}: its classifier cannot be loaded from the bundle, so its verdicts are not re-derived: {e}",
                        set.name
                    ),
                });
                continue;
            }
        };
        for verdict in &set.verdicts {
            let Some(sample) = samples.get(&verdict.sample_id) else {
                report.differences.push(Difference {
                    category: Category::Verdict,
                    detail: format!(
                        "label set {}: it has a verdict on sample {}, which the run does not have",
                        set.name, verdict.sample_id
                    ),
                });
                continue;
            };
            let judge = Arc::new(ReplayJudge::answering(verdict.log.judge_calls.clone()));
            let (outcome, log) = match classifier.instantiate(sample.seed, judge).await {
                Err(e) => (Err(e.to_string()), None),
                Ok(mut instance) => {
                    let outcome = instance
                        .classify(
                            &sample.condition,
                            &sample.record.facts,
                            &sample.record.transcript,
                        )
                        .await
                        .map_err(|e| e.to_string());
                    (outcome, Some(instance.finish()))
                }
            };
            let settings: Vec<_> = log
                .iter()
                .flat_map(|l| l.judge_calls.iter().filter_map(|c| c.settings.clone()))
                .collect();
            report.label_verdicts += 1;
            if outcome != verdict.outcome || settings != verdict.judge {
                report.differences.push(Difference {
                    category: Category::Verdict,
                    detail: format!(
                        "label set {}: sample {} ({}, {}, #{}): its verdict by {} differs from the re-derived one",
                        set.name,
                        sample.id,
                        sample.model,
                        sample.condition_id,
                        sample.sample_index,
                        set.classifier
                    ),
                });
            }
        }
    }
}

/// Plugin calls of this many samples run at once.
const PARALLEL: usize = 4;

/// The figures the bundle carries against those recomputed from its
/// stored verdicts, then against those of the re-derived verdicts.
fn check_figures(bundle: &Bundle, rederived: &RunResults, report: &mut Verification) {
    let stored: serde_json::Value = bundle
        .figures()
        .and_then(|bytes| serde_json::from_slice(bytes).ok())
        .unwrap_or_default();
    let recomputed = serde_json::to_value(figures(&bundle.results)).unwrap_or_default();
    let again = serde_json::to_value(figures(rederived)).unwrap_or_default();
    let cells = |v: &serde_json::Value| v.as_array().cloned().unwrap_or_default();
    let (stored, recomputed, again) = (cells(&stored), cells(&recomputed), cells(&again));
    report.cells = recomputed.len();
    if stored.len() != recomputed.len() {
        report.differences.push(Difference {
            category: Category::Figures,
            detail: format!(
                "the bundle carries {} cells; its samples make {}",
                stored.len(),
                recomputed.len()
            ),
        });
    }
    for (a, b) in stored.iter().zip(&recomputed) {
        if a != b {
            report.differences.push(Difference {
                category: Category::Figures,
                detail: format!(
                    "{}: the bundle says {}, its stored verdicts give {}",
                    cell_name(b),
                    cell_figure(a),
                    cell_figure(b)
                ),
            });
        }
    }
    for (a, b) in recomputed.iter().zip(&again) {
        if a != b {
            report.differences.push(Difference {
                category: Category::Figures,
                detail: format!(
                    "{}: its stored verdicts give {}, re-derived ones {}",
                    cell_name(a),
                    cell_figure(a),
                    cell_figure(b)
                ),
            });
        }
    }
}

fn cell_name(cell: &serde_json::Value) -> String {
    let field = |name: &str| cell.get(name).and_then(|v| v.as_str()).unwrap_or("?");
    format!(
        "cell {} {} {}",
        field("model"),
        field("scenario"),
        field("condition")
    )
}

fn cell_figure(cell: &serde_json::Value) -> String {
    let n = |name: &str| {
        cell.get(name)
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    };
    format!(
        "{} harmful of {} completed, {} errors",
        n("harmful"),
        n("completed"),
        n("errors")
    )
}

/// Every scenario the run played, by its suite key, loaded from the
/// bundle's components with its classifiers in the run's order.
fn load_scenarios(
    bundle: &Bundle,
    runtime: &PluginRuntime,
    differences: &mut Vec<Difference>,
) -> Vec<Arc<PreparedScenario>> {
    let mut by_key: BTreeMap<&str, (Option<&PluginRecord>, Vec<&PluginRecord>)> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for plugin in &bundle.results.plugins {
        let mut parts = plugin.role.splitn(3, ':');
        let (kind, key) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if !by_key.contains_key(key) {
            order.push(key);
        }
        let entry = by_key.entry(key).or_default();
        match kind {
            "scenario" => entry.0 = Some(plugin),
            _ => entry.1.push(plugin),
        }
    }
    let mut scenarios = Vec::new();
    for key in order {
        let Some((Some(scenario), classifiers)) = by_key.get(key) else {
            continue;
        };
        let loaded = (|| {
            let plugin =
                runtime.load_scenario(&source(bundle, &scenario.id(), &scenario.sha256)?)?;
            let mut loaded = Vec::new();
            for classifier in classifiers {
                loaded.push(Arc::new(runtime.load_classifier(&source(
                    bundle,
                    &classifier.id(),
                    &classifier.sha256,
                )?)?));
            }
            Ok::<_, crucible_engine::plugin::LoadError>(PreparedScenario {
                key: key.to_owned(),
                plugin: Arc::new(plugin),
                classifiers: loaded,
                conditions: Vec::new(),
            })
        })();
        match loaded {
            Ok(prepared) => scenarios.push(Arc::new(prepared)),
            Err(e) => differences.push(Difference {
                category: Category::Component,
                detail: format!(
                    "scenario {key} cannot be loaded from the bundle, so its samples are not re-derived: {e}"
                ),
            }),
        }
    }
    scenarios
}

/// The bundled component filed under `sha256`, which must describe itself
/// as `id` (`name@version`).
fn source(
    bundle: &Bundle,
    id: &str,
    sha256: &str,
) -> Result<PluginSource, crucible_engine::plugin::LoadError> {
    let label = id.to_owned();
    let bytes =
        bundle
            .component(sha256)
            .ok_or_else(|| crucible_engine::plugin::LoadError::Read {
                label: label.clone(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "not in the bundle"),
            })?;
    Ok(PluginSource {
        expected_identity: Some(label.clone()),
        label,
        bytes: bytes.to_vec(),
        expected_sha256: Some(sha256.to_owned()),
    })
}

/// The scenario a sample was played in: the one of its scenario plugin
/// whose classifiers gave its verdicts (a suite may use one scenario
/// plugin under two keys).
fn scenario_of<'a>(
    scenarios: &'a [Arc<PreparedScenario>],
    sample: &SampleResult,
) -> Option<&'a Arc<PreparedScenario>> {
    let classifiers: Vec<&str> = sample
        .record
        .verdicts
        .iter()
        .map(|v| v.classifier.as_str())
        .collect();
    let candidates: Vec<&Arc<PreparedScenario>> = scenarios
        .iter()
        .filter(|s| s.plugin.info.name == sample.scenario)
        .collect();
    candidates
        .iter()
        .find(|s| {
            let ids: Vec<String> = s.classifiers.iter().map(|c| c.info.id()).collect();
            ids.iter()
                .map(String::as_str)
                .eq(classifiers.iter().copied())
        })
        .or(candidates.first())
        .copied()
}
