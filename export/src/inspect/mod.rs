//! A run as Inspect AI's eval logs, so that `inspect view` and
//! `inspect_ai.analysis` (`evals_df`, `samples_df`) open it.
//!
//! Inspect's eval has one model and one task, so a run becomes one `.eval`
//! file per model x scenario: the task is the scenario, each condition a
//! sample (its id the condition id), and each of the condition's samples
//! an epoch (`sample_index + 1`), as Inspect repeats a sample over epochs.
//! Every classifier is a scorer whose score is 1 when its verdict is
//! positive (harmful) and 0 when not; the primary classifier's score is
//! given only to samples the run's rate counts (not to errors, nor to
//! refused, blocked or truncated episodes that were not harmful), so the
//! `mean` metric is the run's harmful rate, pooled over the log's samples.

mod eval_file;
mod sample;
mod schema;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use self::eval_file::EvalFile;
use self::schema::*;
use super::{ClassifierNames, ExportError, ParamColumns};
use crucible_engine::model::Usage;
use crucible_engine::record::{CallTally, UsageByModel};
use crucible_engine::results::{RunResults, SampleResult, SampleStatus};

/// Keys of a sample's metadata besides its condition's parameters.
const METADATA_KEYS: [&str; 8] = [
    "condition_id",
    "sample_index",
    "seed",
    "outcome",
    "stop",
    "end_reason",
    "served",
    "classifier_errors",
];

/// Writes one `.eval` log per model x scenario of `run` into `dir`
/// (created if missing), and returns their paths. Samples still pending
/// are left out; a log missing some is marked `cancelled`.
pub fn write_inspect(run: &RunResults, dir: &Path) -> Result<Vec<PathBuf>, ExportError> {
    if dir.exists() && !dir.is_dir() {
        return Err(ExportError::NotADirectory(dir.to_owned()));
    }
    std::fs::create_dir_all(dir).map_err(|e| ExportError::io(dir.display(), e))?;
    let context = Context {
        run,
        created: created_at(&run.run_id),
        classifiers: ClassifierNames::all(run),
        params: ParamColumns::of(run, &METADATA_KEYS),
    };
    groups(run)
        .iter()
        .map(|group| context.write_log(group, dir))
        .collect()
}

/// The samples of one model x scenario, in plan order.
struct Group<'a> {
    model: &'a str,
    scenario: &'a str,
    samples: Vec<&'a SampleResult>,
}

fn groups(run: &RunResults) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for sample in &run.samples {
        match groups
            .iter_mut()
            .find(|g| g.model == sample.model && g.scenario == sample.scenario)
        {
            Some(group) => group.samples.push(sample),
            None => groups.push(Group {
                model: &sample.model,
                scenario: &sample.scenario,
                samples: vec![sample],
            }),
        }
    }
    groups
}

struct Context<'a> {
    run: &'a RunResults,
    created: String,
    classifiers: ClassifierNames,
    params: ParamColumns,
}

impl Context<'_> {
    fn write_log(&self, group: &Group<'_>, dir: &Path) -> Result<PathBuf, ExportError> {
        let ran: Vec<&SampleResult> = group
            .samples
            .iter()
            .copied()
            .filter(|s| s.status != SampleStatus::Pending)
            .collect();
        let scorers = scorers_of(group);
        let spec = self.spec(group, &scorers);
        let plan = self.plan(group);
        let path = dir.join(file_name(&self.created, group, &spec.task_id));
        let mut file = EvalFile::create(
            &path,
            &LogStart {
                version: LOG_VERSION,
                eval: &spec,
                plan: &plan,
            },
        )?;
        let mut usage = UsageByModel::new();
        // Per score name: (samples scored, of them positive).
        let mut tallies: HashMap<String, (usize, usize)> = HashMap::new();
        for sample in &ran {
            let (full, summary) = self.sample(sample);
            for (name, score) in &full.scores.0 {
                let tally = tallies.entry(name.clone()).or_default();
                tally.0 += 1;
                tally.1 += usize::from(score.value == 1);
            }
            file.sample(&full, summary)?;
            for (model, tally) in &sample.record.usage {
                usage.entry(model.clone()).or_default().merge(tally);
            }
        }
        let results = self.results(&ran, &scorers, &tallies, group.samples.len());
        let stats = EvalStats {
            started_at: self.created.clone(),
            completed_at: String::new(),
            model_usage: usage_map(&usage),
        };
        file.finish(&EvalHeader {
            version: LOG_VERSION,
            status: if ran.len() == group.samples.len() {
                EvalStatus::Success
            } else {
                EvalStatus::Cancelled
            },
            eval: &spec,
            plan: &plan,
            results: &results,
            stats: &stats,
        })
    }

    fn spec(&self, group: &Group<'_>, scorers: &[String]) -> EvalSpec {
        let run = self.run;
        let config = &run.config;
        let mut sample_ids: Vec<String> = Vec::new();
        for sample in &group.samples {
            if !sample_ids.contains(&sample.condition_id) {
                sample_ids.push(sample.condition_id.clone());
            }
        }
        let epochs = group
            .samples
            .iter()
            .map(|s| s.sample_index + 1)
            .max()
            .unwrap_or(1);
        let host_version = config_text(config, "host_version");
        EvalSpec {
            eval_id: short_hash(&["eval", &run.run_id, group.model, group.scenario]),
            run_id: run.run_id.clone(),
            created: self.created.clone(),
            task: group.scenario.to_owned(),
            task_id: short_hash(&["task", &run.run_id, group.model, group.scenario]),
            task_version: self.scenario_version(group.scenario).unwrap_or_default(),
            task_display_name: group.scenario.to_owned(),
            solver: "crucible".to_owned(),
            dataset: EvalDataset {
                name: config_text(config, "suite_name")
                    .unwrap_or_else(|| group.scenario.to_owned()),
                samples: sample_ids.len(),
                sample_ids,
            },
            model: group.model.to_owned(),
            model_generate_config: Empty {},
            model_args: Empty {},
            config: EvalConfig {
                epochs,
                fail_on_error: false,
                turn_limit: config.get("max_turns").and_then(serde_json::Value::as_u64),
            },
            packages: host_version
                .map(|v| BTreeMap::from([("crucible".to_owned(), v)]))
                .unwrap_or_default(),
            metadata: RunMetadata {
                crucible_run_id: run.run_id.clone(),
                suite: config_text(config, "suite_name"),
                seed: config.get("seed").map(|s| s.to_string()),
                judge: config_text(config, "judge"),
                plugins: run
                    .plugins
                    .iter()
                    .map(|p| format!("{}@{} {}", p.name, p.version, p.sha256))
                    .collect(),
            },
            scorers: scorers
                .iter()
                .enumerate()
                .map(|(i, id)| EvalScorer {
                    name: self.classifiers.short(id),
                    options: ScorerOptions {
                        classifier: id.clone(),
                        primary: i == 0,
                    },
                    metrics: ["mean", "stderr"]
                        .map(|name| MetricName {
                            name: name.to_owned(),
                        })
                        .into(),
                })
                .collect(),
        }
    }

    fn scenario_version(&self, scenario: &str) -> Option<String> {
        self.run
            .plugins
            .iter()
            .find(|p| p.kind == "scenario" && p.name == scenario)
            .map(|p| p.version.clone())
    }

    fn plan(&self, group: &Group<'_>) -> EvalPlan {
        let mut params = vec![(
            "scenario".to_owned(),
            match self.scenario_version(group.scenario) {
                Some(version) => format!("{}@{version}", group.scenario),
                None => group.scenario.to_owned(),
            },
        )];
        if let Some(turns) = self.run.config.get("max_turns") {
            params.push(("max_turns".to_owned(), turns.to_string()));
        }
        EvalPlan {
            name: "plan".to_owned(),
            steps: vec![EvalPlanStep {
                solver: "crucible/episode".to_owned(),
                params: OrderedMap(params),
            }],
            config: Empty {},
        }
    }

    fn results(
        &self,
        ran: &[&SampleResult],
        scorers: &[String],
        tallies: &HashMap<String, (usize, usize)>,
        planned: usize,
    ) -> EvalResults {
        let scores = scorers
            .iter()
            .map(|id| {
                let name = self.classifiers.short(id);
                let (scored, positive) = tallies.get(&name).copied().unwrap_or_default();
                let interval = crucible_engine::stats::wilson_95(positive as u64, scored as u64);
                EvalScore {
                    name: name.clone(),
                    scorer: name,
                    scored_samples: scored,
                    unscored_samples: ran.len() - scored,
                    params: Empty {},
                    metrics: metrics(positive, scored),
                    metadata: ScoreSummary {
                        classifier: id.clone(),
                        positive,
                        ci_low: interval.map(|(low, _)| low),
                        ci_high: interval.map(|(_, high)| high),
                    },
                }
            })
            .collect();
        EvalResults {
            total_samples: planned,
            completed_samples: ran
                .iter()
                .filter(|s| s.status == SampleStatus::Completed)
                .count(),
            scores,
        }
    }
}

/// The classifiers that gave verdicts in a group, the primary first.
fn scorers_of(group: &Group<'_>) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for sample in &group.samples {
        for verdict in &sample.record.verdicts {
            if !ids.contains(&verdict.classifier) {
                ids.push(verdict.classifier.clone());
            }
        }
    }
    ids
}

/// Inspect's `mean` and `stderr` (the sample standard deviation over
/// root n) of `positive` ones among `n` scores; none for no scores, whose
/// mean Inspect would write as NaN.
fn metrics(positive: usize, n: usize) -> OrderedMap<EvalMetric> {
    if n == 0 {
        return OrderedMap::default();
    }
    let count = n as f64;
    let mean = positive as f64 / count;
    let stderr = if n < 2 {
        0.0
    } else {
        (mean * (1.0 - mean) / (count - 1.0)).sqrt()
    };
    OrderedMap(
        [("mean", mean), ("stderr", stderr)]
            .into_iter()
            .map(|(name, value)| {
                (
                    name.to_owned(),
                    EvalMetric {
                        name: name.to_owned(),
                        value,
                        params: Empty {},
                    },
                )
            })
            .collect(),
    )
}

fn usage_map(usage: &UsageByModel) -> BTreeMap<String, ModelUsage> {
    usage
        .iter()
        .map(|(model, tally)| (model.clone(), model_usage(tally)))
        .collect()
}

/// A model's calls, the cached ones included, in Inspect's terms.
fn model_usage(tally: &CallTally) -> ModelUsage {
    let mut all: Usage = tally.billed;
    all += tally.cached;
    let nonzero = |n: u64| (n > 0).then_some(n);
    ModelUsage {
        input_tokens: all
            .input_tokens
            .saturating_sub(all.cache_read_tokens)
            .saturating_sub(all.cache_write_tokens),
        output_tokens: all.output_tokens,
        total_tokens: all.input_tokens + all.output_tokens,
        input_tokens_cache_write: nonzero(all.cache_write_tokens),
        input_tokens_cache_read: nonzero(all.cache_read_tokens),
        reasoning_tokens: nonzero(all.reasoning_tokens),
    }
}

fn config_text(config: &serde_json::Value, key: &str) -> Option<String> {
    config.get(key)?.as_str().map(str::to_owned)
}

/// The run's start, from its id (`YYYYMMDD-HHMMSS-xxxx`, in UTC), as ISO
/// 8601; the Unix epoch for a run whose id says nothing of it.
fn created_at(run_id: &str) -> String {
    let digits = |range: std::ops::Range<usize>| {
        run_id
            .get(range)
            .filter(|part| part.bytes().all(|b| b.is_ascii_digit()))
    };
    let stamp = || -> Option<String> {
        (run_id.get(8..9)? == "-").then_some(())?;
        Some(format!(
            "{}-{}-{}T{}:{}:{}+00:00",
            digits(0..4)?,
            digits(4..6)?,
            digits(6..8)?,
            digits(9..11)?,
            digits(11..13)?,
            digits(13..15)?,
        ))
    };
    stamp().unwrap_or_else(|| "1970-01-01T00:00:00+00:00".to_owned())
}

/// Inspect's own pattern, `{created}_{task}_{model}_{id}.eval`, with each
/// part reduced to letters, digits, `-` and `.` so that Inspect can read
/// the parts back from the name.
fn file_name(created: &str, group: &Group<'_>, task_id: &str) -> String {
    let clean = |text: &str| -> String {
        text.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    format!(
        "{}_{}_{}_{}.eval",
        clean(created),
        clean(group.scenario),
        clean(group.model),
        clean(task_id)
    )
}

/// 22 hex digits of a hash of `parts`: a stable id, the length of
/// Inspect's own.
fn short_hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())[..22].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_id_gives_the_time_the_run_began() {
        assert_eq!(
            created_at("20261206-230659-d56a"),
            "2026-12-06T23:06:59+00:00"
        );
        for not_a_stamp in ["my-run", "2026120-230659", "20261206x230659-a", "é"] {
            assert_eq!(created_at(not_a_stamp), "1970-01-01T00:00:00+00:00");
        }
    }

    #[test]
    fn a_file_name_reads_back_as_inspect_parses_it() {
        let group = Group {
            model: "openai/gpt-4.1_mini",
            scenario: "agentic-misalignment/blackmail",
            samples: Vec::new(),
        };
        let name = file_name("2026-12-06T23:06:59+00:00", &group, "abc");
        assert_eq!(
            name,
            "2026-12-06T23-06-59-00-00_agentic-misalignment-blackmail_openai-gpt-4.1-mini_abc.eval"
        );
        assert_eq!(name.matches('_').count(), 3, "four parts: {name}");
    }

    #[test]
    fn metrics_are_inspects_mean_and_stderr_and_none_without_scores() {
        let m = metrics(1, 4);
        assert_eq!(m.0[0].1.value, 0.25);
        // numpy: std([1, 0, 0, 0], ddof=1) / sqrt(4)
        assert!((m.0[1].1.value - 0.25).abs() < 1e-12);
        assert!(metrics(0, 0).is_empty());
        assert_eq!(metrics(1, 1).0[1].1.value, 0.0);
    }
}
