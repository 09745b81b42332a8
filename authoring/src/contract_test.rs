//! `crucible test`: the contract test of one component. Each check passes,
//! fails with the problems it found, or is skipped with the reason; the
//! plugin's own logs are kept for the reader.
//!
//! Everything runs offline, under the sandbox's limits: no model, and a
//! judge that is never configured.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::labelled::LabelledTranscript;
use crucible_engine::run::{
    Disagreement, PreparedCondition, PreparedScenario, SCRIPT_TURNS, play_reference,
};
use crucible_runtime::{
    CallError, ClassifierPlugin, LoadError, PluginInfo, PluginLog, ScenarioPlugin,
};
use crucible_types::judge::NoJudge;
use crucible_types::transcript::{Condition, Label, Reference, Reply, Step};

/// Turns a reference may take before the test calls it endless.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

/// One check's outcome.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    /// What was checked, or why it was skipped.
    pub detail: String,
    /// What went wrong, one line each.
    pub problems: Vec<String>,
}

impl Check {
    fn judged(name: &'static str, detail: String, problems: Vec<String>) -> Self {
        Self {
            name,
            status: if problems.is_empty() {
                Status::Pass
            } else {
                Status::Fail
            },
            detail,
            problems,
        }
    }

    fn skipped(name: &'static str, why: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Skip,
            detail: why.into(),
            problems: Vec::new(),
        }
    }
}

/// The contract test of one component.
#[derive(Debug, Default)]
pub struct Report {
    pub plugin: Option<PluginInfo>,
    pub checks: Vec<Check>,
    /// What the plugins logged, by `name@version`, in the order they ran.
    pub logs: Vec<(String, PluginLog)>,
}

impl Report {
    pub fn passed(&self) -> bool {
        !self.checks.iter().any(|c| c.status == Status::Fail)
    }

    /// The report of a component that could not be loaded at all.
    pub fn failed_to_load(error: &LoadError) -> Self {
        Self {
            plugin: None,
            checks: vec![Check::judged(
                "matches its world",
                "the component loads, links and describes itself".into(),
                vec![error.to_string()],
            )],
            logs: Vec::new(),
        }
    }

    fn keep(&mut self, plugin: &str, log: PluginLog) {
        keep(&mut self.logs, plugin, log);
    }
}

/// Adds a plugin's log to `logs`, unless it logged nothing.
fn keep(logs: &mut Vec<(String, PluginLog)>, plugin: &str, log: PluginLog) {
    let quiet = log.records.is_empty() && log.stdout.is_empty() && log.stderr.is_empty();
    if !quiet {
        logs.push((plugin.to_owned(), log));
    }
}

impl Report {
    /// A report whose first check, loading, passed.
    fn loaded(info: &PluginInfo) -> Self {
        Self {
            plugin: Some(info.clone()),
            checks: vec![loaded(info)],
            logs: Vec::new(),
        }
    }
}

fn loaded(info: &PluginInfo) -> Check {
    let (wasi, own): (Vec<&String>, Vec<&String>) =
        info.imports.iter().partition(|i| i.starts_with("wasi:"));
    let own: Vec<&str> = own.into_iter().map(String::as_str).collect();
    Check::judged(
        "matches its world",
        format!(
            "{} is a {} of {}, importing {} and {} WASI interfaces",
            info.id(),
            info.kind,
            info.contract,
            own.join(", "),
            wasi.len()
        ),
        Vec::new(),
    )
}

/// Tests a scenario; `classifier`, if any, must classify every reference
/// as labelled.
pub fn test_scenario(
    plugin: Arc<ScenarioPlugin>,
    classifier: Option<Arc<ClassifierPlugin>>,
    seed: u64,
) -> Report {
    let mut report = Report::loaded(&plugin.info);
    report.checks.push(conditions_check(&plugin));
    report
        .checks
        .push(open_check(&plugin, seed, &mut report.logs));
    let references = collect_references(&plugin, seed);
    report
        .checks
        .push(references_check(&plugin, &references, seed));
    report
        .checks
        .push(determinism_check(&plugin, &references, seed));
    report.checks.push(match classifier {
        Some(classifier) => labels_check(
            "references classified as labelled",
            &plugin,
            &classifier,
            &references,
            seed,
            &mut report.logs,
        ),
        None => Check::skipped(
            "references classified as labelled",
            "no classifier given: `--with CLASSIFIER` (a project or a .wasm) checks the labels",
        ),
    });
    report
}

/// Tests a classifier against labelled transcripts and, if a scenario is
/// given, that scenario's references.
pub fn test_classifier(
    plugin: Arc<ClassifierPlugin>,
    transcripts: &[(PathBuf, LabelledTranscript)],
    transcripts_dir: &std::path::Path,
    scenario: Option<Arc<ScenarioPlugin>>,
    seed: u64,
) -> Report {
    let mut report = Report::loaded(&plugin.info);
    let mut first = Vec::new();
    let mut problems = Vec::new();
    for label in [Label::Harmful, Label::Benign] {
        if !transcripts.iter().any(|(_, t)| t.label == label) {
            problems.push(format!(
                "no {label} transcript in {}: add one (see docs/authoring.md)",
                transcripts_dir.display()
            ));
        }
    }
    for (path, case) in transcripts {
        let name = file_name(path);
        let (outcome, log) = classify_once(&plugin, case, seed);
        report.keep(&plugin.info.id(), log);
        match &outcome {
            Ok(verdict) if verdict.harmful == (case.label == Label::Harmful) => {}
            Ok(verdict) => problems.push(format!(
                "{name}: labelled {}, judged {} ({})",
                case.label,
                if verdict.harmful { "harmful" } else { "benign" },
                verdict.label
            )),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
        first.push(format!("{outcome:?}"));
    }
    report.checks.push(Check::judged(
        "labelled transcripts judged as labelled",
        format!(
            "{} transcripts in {}",
            transcripts.len(),
            transcripts_dir.display()
        ),
        problems,
    ));
    let mut differ = Vec::new();
    for ((path, case), before) in transcripts.iter().zip(&first) {
        let (again, _) = classify_once(&plugin, case, seed);
        if format!("{again:?}") != *before {
            differ.push(format!(
                "{}: a second classification gave a different verdict",
                file_name(path)
            ));
        }
    }
    report.checks.push(Check::judged(
        "deterministic",
        "each transcript classified twice, in fresh instances".into(),
        differ,
    ));
    report.checks.push(match scenario {
        Some(scenario) => {
            let references = collect_references(&scenario, seed);
            labels_check(
                "scenario references classified as labelled",
                &scenario,
                &plugin,
                &references,
                seed,
                &mut report.logs,
            )
        }
        None => Check::skipped(
            "scenario references classified as labelled",
            "no scenario given: `--with SCENARIO` (a project or a .wasm) classifies its references",
        ),
    });
    report
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn classify_once(
    plugin: &ClassifierPlugin,
    case: &LabelledTranscript,
    seed: u64,
) -> (
    Result<crucible_types::transcript::Verdict, CallError>,
    PluginLog,
) {
    crucible_runtime::block_on(async {
        let mut instance = match plugin.instantiate(seed, Arc::new(NoJudge)).await {
            Ok(instance) => instance,
            Err(e) => return (Err(e), PluginLog::default()),
        };
        let verdict = instance
            .classify(&case.condition, &case.facts, &case.transcript)
            .await;
        (verdict, instance.finish())
    })
}

fn conditions_check(plugin: &ScenarioPlugin) -> Check {
    let mut problems = Vec::new();
    if plugin.conditions.is_empty() {
        problems.push("the scenario offers no condition".into());
    }
    let mut seen = std::collections::HashSet::new();
    for condition in &plugin.conditions {
        if !seen.insert(condition.id.as_str()) {
            problems.push(format!("`{}` is listed twice", condition.id));
        }
        for param in &condition.params {
            match plugin.parameters.iter().find(|p| p.name == param.name) {
                None => problems.push(format!(
                    "`{}` sets `{}`, which `parameters` does not declare",
                    condition.id, param.name
                )),
                Some(spec) if !spec.values.contains(&param.value) => problems.push(format!(
                    "`{}` sets `{}` = `{}`, not one of its declared values ({})",
                    condition.id,
                    param.name,
                    param.value,
                    spec.values.join(", ")
                )),
                Some(_) => {}
            }
        }
    }
    Check::judged(
        "conditions are declared",
        format!(
            "{} conditions over {} parameters",
            plugin.conditions.len(),
            plugin.parameters.len()
        ),
        problems,
    )
}

fn open_check(plugin: &ScenarioPlugin, seed: u64, logs: &mut Vec<(String, PluginLog)>) -> Check {
    let mut problems = Vec::new();
    let mut largest = 0;
    let mut slowest = Duration::ZERO;
    for condition in &plugin.conditions {
        let started = Instant::now();
        let opened = crucible_runtime::block_on(async {
            let mut instance = plugin.instantiate(seed, Arc::new(NoJudge)).await?;
            instance.open(condition, seed).await?;
            let opening = instance.opening().await;
            Ok::<_, CallError>((opening, instance.finish()))
        });
        slowest = slowest.max(started.elapsed());
        match opened {
            Ok((Ok(opening), log)) => {
                let size = opening.system_prompt.len()
                    + opening
                        .messages
                        .iter()
                        .map(|m| m.content.len())
                        .sum::<usize>();
                largest = largest.max(size);
                if logs.is_empty() {
                    keep(logs, &plugin.info.id(), log);
                }
            }
            Ok((Err(e), _)) | Err(e) => problems.push(format!("{}: {e}", condition.id)),
        }
    }
    Check::judged(
        "every condition opens within limits",
        format!(
            "{} conditions at seed {seed}; largest opening {:.1} KB, slowest {} ms",
            plugin.conditions.len(),
            largest as f64 / 1024.0,
            slowest.as_millis()
        ),
        problems,
    )
}

/// Each condition's references, or why it has none.
fn collect_references(
    plugin: &ScenarioPlugin,
    seed: u64,
) -> Vec<(Condition, Result<Vec<Reference>, String>)> {
    plugin
        .conditions
        .iter()
        .map(|condition| {
            let references = crucible_runtime::block_on(async {
                let mut instance = plugin.instantiate(seed, Arc::new(NoJudge)).await?;
                instance.references(condition).await
            })
            .map_err(|e| e.to_string());
            (condition.clone(), references)
        })
        .collect()
}

/// An episode played with scripted replies, everything the scenario said
/// rendered in one string so that two plays compare byte for byte.
fn play(
    plugin: &ScenarioPlugin,
    condition: &Condition,
    seed: u64,
    replies: &[Reply],
) -> Result<String, String> {
    crucible_runtime::block_on(async {
        let mut instance = plugin
            .instantiate(seed, Arc::new(NoJudge))
            .await
            .map_err(|e| e.to_string())?;
        instance
            .open(condition, seed)
            .await
            .map_err(|e| e.to_string())?;
        let opening = instance.opening().await.map_err(|e| e.to_string())?;
        let mut record = format!("{opening:?}");
        // As in a run: once the script runs out, empty replies, until the
        // scenario ends the episode or the turn limit does.
        for turn in 0..SCRIPT_TURNS as usize {
            let reply = replies.get(turn).cloned().unwrap_or_default();
            let step = instance
                .step(&reply)
                .await
                .map_err(|e| format!("turn {}: {e}", turn + 1))?;
            record.push_str(&format!("{step:?}"));
            if matches!(step, Step::End(_)) {
                break;
            }
        }
        let facts = instance.facts().await.map_err(|e| e.to_string())?;
        record.push_str(&format!("{facts:?}"));
        Ok(record)
    })
}

fn references_check(
    plugin: &ScenarioPlugin,
    references: &[(Condition, Result<Vec<Reference>, String>)],
    seed: u64,
) -> Check {
    let mut problems = Vec::new();
    let mut count = 0;
    for (condition, offered) in references {
        let offered = match offered {
            Ok(offered) => offered,
            Err(e) => {
                problems.push(format!("{}: references: {e}", condition.id));
                continue;
            }
        };
        for label in [Label::Harmful, Label::Benign] {
            if !offered.iter().any(|r| r.label == label) {
                problems.push(format!("{}: no {label} reference", condition.id));
            }
        }
        for reference in offered {
            count += 1;
            if let Err(e) = play(plugin, condition, seed, &reference.replies) {
                problems.push(format!(
                    "{}: {} reference \"{}\": {e}",
                    condition.id, reference.label, reference.description
                ));
            }
        }
    }
    Check::judged(
        "references play through",
        format!("{count} references over {} conditions", references.len()),
        problems,
    )
}

fn determinism_check(
    plugin: &ScenarioPlugin,
    references: &[(Condition, Result<Vec<Reference>, String>)],
    seed: u64,
) -> Check {
    let mut problems = Vec::new();
    for (condition, offered) in references {
        // The first reference's replies drive the episode past its
        // opening; a condition without references is still opened.
        let replies = offered
            .as_ref()
            .ok()
            .and_then(|r| r.first())
            .map(|r| r.replies.clone())
            .unwrap_or_default();
        let (Ok(first), Ok(second)) = (
            play(plugin, condition, seed, &replies),
            play(plugin, condition, seed, &replies),
        ) else {
            // The failure itself is the other checks' to report.
            continue;
        };
        if first != second {
            let at = first
                .bytes()
                .zip(second.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(first.len().min(second.len()));
            problems.push(format!(
                "{}: the same seed gave a different episode (first difference at byte {at}: {:?} then {:?})",
                condition.id,
                excerpt(&first, at),
                excerpt(&second, at)
            ));
        }
    }
    Check::judged(
        "same seed, same bytes",
        format!(
            "{} conditions opened and played twice at seed {seed}",
            references.len()
        ),
        problems,
    )
}

fn excerpt(text: &str, at: usize) -> String {
    text.char_indices()
        .skip_while(|(i, _)| *i + 20 < at)
        .take(40)
        .map(|(_, c)| c)
        .collect()
}

fn labels_check(
    name: &'static str,
    scenario: &Arc<ScenarioPlugin>,
    classifier: &Arc<ClassifierPlugin>,
    references: &[(Condition, Result<Vec<Reference>, String>)],
    seed: u64,
    logs: &mut Vec<(String, PluginLog)>,
) -> Check {
    let prepared = Arc::new(PreparedScenario {
        key: "test".into(),
        plugin: Arc::clone(scenario),
        classifiers: vec![Arc::clone(classifier)],
        conditions: scenario
            .conditions
            .iter()
            .map(|c| PreparedCondition {
                condition: c.clone(),
                label: c.id.clone(),
            })
            .collect(),
    });
    let mut problems = Vec::new();
    let mut count = 0;
    for (condition, offered) in references {
        let Ok(offered) = offered else { continue };
        for reference in offered {
            count += 1;
            let played = play_reference(&prepared, reference, condition, seed);
            if logs.len() < 2 {
                for (plugin, log) in &played.record.logs {
                    if plugin == &classifier.info.id() && !log.records.is_empty() {
                        logs.push((plugin.clone(), log.clone()));
                    }
                }
            }
            let at = format!(
                "{}: {} reference \"{}\"",
                condition.id, reference.label, reference.description
            );
            match played.disagreement {
                None => {}
                Some(judged @ Disagreement::Judged { .. }) => {
                    problems.push(format!("{at} {judged}"));
                }
                Some(failed @ Disagreement::Failed(_)) => problems.push(format!("{at}: {failed}")),
            }
        }
    }
    Check::judged(
        name,
        format!("{count} references judged by {}", classifier.info.id()),
        problems,
    )
}
