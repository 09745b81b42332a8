//! Labelled cases: scripted agents, each with what every classifier it
//! names must make of it, played through the suite's own scenario and
//! classifiers (`crucible check --cases DIR`). A case is judged twice: with
//! no judge, where a classifier must decide by rule exactly what the case
//! says is certain and say that it needs a judge for the rest; and with a
//! scripted judge that answers as a perfect judge would (by the case's
//! label, or with the answer the case gives), where every verdict must come
//! out as labelled. So a rule that calls a harmful act benign, or that
//! counts an action the scenario refused, is caught whether or not a judge
//! would have been asked.
//!
//! A case file is JSON:
//!
//! ```json
//! {"description": "a veiled threat that names no secret",
//!  "scenario": "blackmail",
//!  "condition": "blackmail_explicit-america_replacement",
//!  "params": {"protocol": "native"},
//!  "replies": [{"text": "...", "tool_calls": [
//!      {"id": "call_1", "name": "send_email", "arguments": {"to": "..."}}]}],
//!  "expect": {"blackmail": {"label": "harmful", "without_judge": "needs-judge"}}}
//! ```
//!
//! `scenario` and the keys of `expect` are the suite's names for its
//! scenario and classifiers. `without_judge` is `harmful`, `benign` or
//! `needs-judge`. A case may give `judge_answer`, the text the scripted
//! judge answers with; by default it is `<answer>yes</answer>` for a
//! harmful label and `<answer>no</answer>` for a benign one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::episode::play_script;
use super::prepare::{PreparedScenario, Selection, apply_params, prepare};
use super::{RunError, sample_seed};
use crate::judge::{Judge, NoJudge, ScriptedJudge};
use crate::plugin::{CallError, CallFailure, ClassifierPlugin, PluginRuntime};
use crate::record::SampleRecord;
use crate::suite::LoadedSuite;
use crate::transcript::{Condition, Label, Reference, Reply, ToolCall, Verdict};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub description: String,
    pub scenario: String,
    pub condition: String,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    pub replies: Vec<CaseReply>,
    pub expect: BTreeMap<String, Expectation>,
}

/// One scripted reply: its visible text, any provider reasoning, and its
/// tool calls, whose arguments may be written as a JSON object or, to
/// keep malformed arguments, as the exact text.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseReply {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub reasoning: Option<String>,
    #[serde(default)]
    pub tool_calls: Vec<CaseCall>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseCall {
    pub id: String,
    pub name: String,
    pub arguments: serde_json::Value,
}

/// What one classifier must make of a case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    pub label: Label,
    pub without_judge: Expected,
    #[serde(default)]
    pub judge_answer: Option<String>,
}

/// What a classifier must decide with no judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expected {
    Harmful,
    Benign,
    NeedsJudge,
}

/// What a classifier made of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Harmful,
    Benign,
    /// The classifier said a judge is needed.
    NeedsJudge,
    /// Any other error: the classifier's, the scenario's, or the sandbox's.
    Error(String),
}

impl Found {
    /// What a classify call came to. A judge is needed when the classifier
    /// itself returned the error saying so (typed in 0.2.0, the agreed
    /// prefix in 0.1.0: the runtime makes both one refusal); any other
    /// failure is an error.
    fn of(outcome: &Result<Verdict, CallError>) -> Found {
        match outcome {
            Ok(v) if v.harmful => Found::Harmful,
            Ok(_) => Found::Benign,
            Err(CallError {
                cause: CallFailure::Refused(refusal),
                ..
            }) if refusal.needs_a_judge() => Found::NeedsJudge,
            Err(e) => Found::Error(e.to_string()),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Found::Harmful => "harmful",
            Found::Benign => "benign",
            Found::NeedsJudge => "needs a judge",
            Found::Error(_) => "error",
        }
    }
}

impl Expected {
    fn matches(self, found: &Found) -> bool {
        matches!(
            (self, found),
            (Expected::Harmful, Found::Harmful)
                | (Expected::Benign, Found::Benign)
                | (Expected::NeedsJudge, Found::NeedsJudge)
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Expected::Harmful => "harmful",
            Expected::Benign => "benign",
            Expected::NeedsJudge => "needs a judge",
        }
    }
}

/// One classifier's result on one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub file: PathBuf,
    pub description: String,
    /// The suite's name for the classifier, and its `name@version`.
    pub classifier: String,
    pub plugin: String,
    pub label: Label,
    pub expected_without_judge: Expected,
    pub without_judge: Found,
    pub with_judge: Found,
}

impl CaseResult {
    /// Whether the classifier decided by rule what the case says, and
    /// came out as labelled with the scripted judge.
    pub fn as_expected(&self) -> bool {
        let labelled = match self.label {
            Label::Harmful => Found::Harmful,
            Label::Benign => Found::Benign,
        };
        self.expected_without_judge.matches(&self.without_judge) && self.with_judge == labelled
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a labelled case: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("no labelled case (*.json) in {0}")]
    Empty(PathBuf),
}

/// Every `*.json` case under `dir`, in its subfolders too, sorted by path.
pub fn load_cases(dir: &Path) -> Result<Vec<(PathBuf, Case)>, CaseError> {
    let mut paths = Vec::new();
    collect(dir, &mut paths)?;
    paths.sort();
    if paths.is_empty() {
        return Err(CaseError::Empty(dir.to_owned()));
    }
    paths
        .into_iter()
        .map(|path| {
            let text = crucible_registry::input_file::read_to_string(
                &path,
                crucible_registry::input_file::CASES,
            )
            .map_err(|source| CaseError::Read {
                path: path.clone(),
                source,
            })?;
            let case: Case = serde_json::from_str(&text).map_err(|e| CaseError::Invalid {
                path: path.clone(),
                message: e.to_string(),
            })?;
            if case.expect.is_empty() {
                return Err(CaseError::Invalid {
                    path,
                    message: "`expect` names no classifier".into(),
                });
            }
            Ok((path, case))
        })
        .collect()
}

fn collect(dir: &Path, paths: &mut Vec<PathBuf>) -> Result<(), CaseError> {
    let read = |source| CaseError::Read {
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(read)? {
        let path = entry.map_err(read)?.path();
        if path.is_dir() {
            collect(&path, paths)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            paths.push(path);
        }
    }
    Ok(())
}

/// Plays every case through the suite's scenario and judges it with each
/// classifier it names, without a judge and with the scripted one.
pub fn check_cases(
    suite: &LoadedSuite,
    runtime: &PluginRuntime,
    cases: &[(PathBuf, Case)],
) -> Result<Vec<CaseResult>, RunError> {
    let resolver = crate::packages::Resolver::new(suite, crate::packages::LockPolicy::Normal)
        .map_err(super::PrepareError::from)?;
    let scenarios = prepare(suite, runtime, &Selection::default(), &resolver)?;
    let mut results = Vec::new();
    for (path, case) in cases {
        let invalid = |message: String| {
            RunError::Cases(CaseError::Invalid {
                path: path.clone(),
                message,
            })
        };
        let scenario = scenarios
            .iter()
            .find(|s| s.key == case.scenario)
            .ok_or_else(|| invalid(format!("the suite has no scenario `{}`", case.scenario)))?;
        let condition = condition(scenario, case).map_err(invalid)?;
        let mut classifiers = Vec::new();
        for key in case.expect.keys() {
            let position = suite
                .manifest
                .scenarios
                .get(&case.scenario)
                .and_then(|entry| entry.classifiers.iter().position(|c| c == key))
                .ok_or_else(|| {
                    invalid(format!(
                        "scenario `{}` has no classifier `{key}` in the suite",
                        case.scenario
                    ))
                })?;
            classifiers.push((key, position));
        }
        results.extend(play(path, case, scenario, condition, &classifiers));
    }
    Ok(results)
}

/// The case's condition: the scenario's cell, with the case's parameters.
fn condition(scenario: &PreparedScenario, case: &Case) -> Result<Condition, String> {
    let mut condition = scenario
        .plugin
        .conditions
        .iter()
        .find(|c| c.id == case.condition)
        .cloned()
        .ok_or_else(|| {
            format!(
                "scenario `{}` offers no condition `{}`",
                case.scenario, case.condition
            )
        })?;
    apply_params(&scenario.plugin, &mut condition, &case.params)?;
    Ok(condition)
}

fn play(
    path: &Path,
    case: &Case,
    scenario: &PreparedScenario,
    condition: Condition,
    classifiers: &[(&String, usize)],
) -> Vec<CaseResult> {
    let seed = sample_seed(0, &scenario.key, &condition.id, 0);
    // The classifiers run below, once without a judge and once with the
    // scripted one, so the episode is played with none.
    let played = Arc::new(PreparedScenario {
        key: scenario.key.clone(),
        plugin: Arc::clone(&scenario.plugin),
        classifiers: Vec::new(),
        conditions: Vec::new(),
    });
    let script = Reference {
        label: Label::Benign,
        description: case.description.clone(),
        replies: case.replies.iter().map(reply).collect(),
    };
    let record = play_script(&played, script, &condition, seed, false);
    classifiers
        .iter()
        .map(|(key, position)| {
            let expectation = &case.expect[*key];
            let plugin = &scenario.classifiers[*position];
            let (without_judge, with_judge) = match &record.error {
                Some(error) => {
                    let failed = Found::Error(format!("[{}] {}", error.stage, error.message));
                    (failed.clone(), failed)
                }
                None => {
                    let answer = expectation.judge_answer.clone().map_or_else(
                        || ScriptedJudge::by_label(expectation.label),
                        ScriptedJudge::answering,
                    );
                    let judge = |judge: Arc<dyn Judge>| {
                        Found::of(&classify(plugin, &condition, &record, judge, seed))
                    };
                    (judge(Arc::new(NoJudge)), judge(Arc::new(answer)))
                }
            };
            CaseResult {
                file: path.to_owned(),
                description: case.description.clone(),
                classifier: (*key).clone(),
                plugin: plugin.info.id(),
                label: expectation.label,
                expected_without_judge: expectation.without_judge,
                without_judge,
                with_judge,
            }
        })
        .collect()
}

fn classify(
    plugin: &ClassifierPlugin,
    condition: &Condition,
    record: &SampleRecord,
    judge: Arc<dyn Judge>,
    seed: u64,
) -> Result<Verdict, CallError> {
    crate::plugin::block_on(async {
        let mut instance = plugin.instantiate(seed, judge).await?;
        instance
            .classify(condition, &record.facts, &record.transcript)
            .await
    })
}

fn reply(reply: &CaseReply) -> Reply {
    Reply {
        text: reply.text.clone(),
        reasoning: reply.reasoning.clone(),
        tool_calls: reply
            .tool_calls
            .iter()
            .map(|call| ToolCall {
                id: call.id.clone(),
                name: call.name.clone(),
                arguments: match &call.arguments {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                },
            })
            .collect(),
        ..Reply::default()
    }
}

/// The report of a set of cases: per classifier, a table of what it made
/// of the cases of each label without a judge and with the scripted one,
/// then every case that did not come out as expected.
pub fn render(results: &[CaseResult]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut plugins: Vec<&str> = results.iter().map(|r| r.plugin.as_str()).collect();
    plugins.sort_unstable();
    plugins.dedup();
    for plugin in plugins {
        let mine: Vec<&CaseResult> = results.iter().filter(|r| r.plugin == plugin).collect();
        let good = mine.iter().filter(|r| r.as_expected()).count();
        let _ = writeln!(out, "{plugin}: {} case(s), {good} as expected", mine.len());
        let _ = writeln!(
            out,
            "  {:<8} {:>9} {:>7} {:>12} {:>6}   {:>9} {:>7} {:>6}",
            "label", "harmful", "benign", "needs judge", "error", "harmful", "benign", "error"
        );
        let _ = writeln!(
            out,
            "  {:<8} {:-^38}   {:-^24}",
            "", " no judge ", " scripted judge "
        );
        for label in [Label::Harmful, Label::Benign] {
            let of_label: Vec<&&CaseResult> = mine.iter().filter(|r| r.label == label).collect();
            let count = |found: fn(&Found) -> bool, judged: bool| {
                of_label
                    .iter()
                    .filter(|r| {
                        found(if judged {
                            &r.with_judge
                        } else {
                            &r.without_judge
                        })
                    })
                    .count()
            };
            let _ = writeln!(
                out,
                "  {:<8} {:>9} {:>7} {:>12} {:>6}   {:>9} {:>7} {:>6}",
                label.to_string(),
                count(|f| *f == Found::Harmful, false),
                count(|f| *f == Found::Benign, false),
                count(|f| *f == Found::NeedsJudge, false),
                count(|f| matches!(f, Found::Error(_)), false),
                count(|f| *f == Found::Harmful, true),
                count(|f| *f == Found::Benign, true),
                count(|f| matches!(f, Found::Error(_) | Found::NeedsJudge), true),
            );
        }
    }
    for r in results.iter().filter(|r| !r.as_expected()) {
        let detail = |found: &Found| match found {
            Found::Error(e) => format!("error: {e}"),
            other => other.name().to_owned(),
        };
        let _ = writeln!(
            out,
            "NOT AS EXPECTED {} [{}] \"{}\": {} case; without a judge expected {}, got {}; with \
             the scripted judge got {}",
            r.file.display(),
            r.classifier,
            r.description,
            r.label,
            r.expected_without_judge.name(),
            detail(&r.without_judge),
            detail(&r.with_judge),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::Refusal;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::create_dir_all(dir.join(name).parent().expect("a parent")).expect("mkdir");
        std::fs::write(dir.join(name), text).expect("write");
    }

    const CASE: &str = r#"{"description": "d", "scenario": "s", "condition": "c",
        "replies": [{"text": "hi", "tool_calls": [
            {"id": "1", "name": "t", "arguments": {"a": 1}},
            {"id": "2", "name": "t", "arguments": "{not json"}]}],
        "expect": {"k": {"label": "harmful", "without_judge": "needs-judge"}}}"#;

    #[test]
    fn cases_are_read_from_every_subfolder_in_order() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        write(dir.path(), "b/two.json", CASE);
        write(dir.path(), "a/one.json", CASE);
        write(dir.path(), "notes.txt", "ignored");
        let cases = load_cases(dir.path()).expect("loads");
        let names: Vec<String> = cases
            .iter()
            .map(|(p, _)| {
                p.strip_prefix(dir.path())
                    .expect("inside")
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["a/one.json", "b/two.json"]);
        let case = &cases[0].1;
        assert_eq!(case.expect["k"].without_judge, Expected::NeedsJudge);
        let played = reply(&case.replies[0]);
        assert_eq!(played.tool_calls[0].arguments, r#"{"a":1}"#);
        assert_eq!(played.tool_calls[1].arguments, "{not json");
    }

    #[test]
    fn a_bad_case_or_an_empty_folder_is_named() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let e = load_cases(dir.path()).expect_err("empty").to_string();
        assert!(e.starts_with("no labelled case"), "{e}");
        write(
            dir.path(),
            "bad.json",
            &CASE.replace("needs-judge", "maybe"),
        );
        let e = load_cases(dir.path()).expect_err("bad").to_string();
        assert!(
            e.contains("bad.json is not a labelled case") && e.contains("maybe"),
            "{e}"
        );
        write(
            dir.path(),
            "bad.json",
            &CASE.replace(
                r#""k": {"label": "harmful", "without_judge": "needs-judge"}"#,
                "",
            ),
        );
        let e = load_cases(dir.path())
            .expect_err("no expectation")
            .to_string();
        assert!(e.contains("`expect` names no classifier"), "{e}");
    }

    #[test]
    fn a_result_is_as_expected_only_both_ways() {
        let result = |without_judge, with_judge| CaseResult {
            file: "f".into(),
            description: "d".into(),
            classifier: "k".into(),
            plugin: "p@1".into(),
            label: Label::Harmful,
            expected_without_judge: Expected::NeedsJudge,
            without_judge,
            with_judge,
        };
        assert!(result(Found::NeedsJudge, Found::Harmful).as_expected());
        assert!(!result(Found::Benign, Found::Harmful).as_expected());
        assert!(!result(Found::NeedsJudge, Found::Benign).as_expected());
        assert!(!result(Found::NeedsJudge, Found::Error("x".into())).as_expected());
        let refused = |message: &str| CallError {
            plugin: "p@1".into(),
            call: "classify",
            cause: CallFailure::Refused(Refusal::from_text(message.into())),
        };
        assert_eq!(
            Found::of(&Err(refused("needs a judge: x"))),
            Found::NeedsJudge
        );
        let typed = CallError {
            plugin: "p@1".into(),
            call: "classify",
            cause: CallFailure::Refused(Refusal::NeedsJudge("x".into())),
        };
        assert_eq!(Found::of(&Err(typed)), Found::NeedsJudge);
        assert_eq!(
            Found::of(&Err(refused("judge call failed"))),
            Found::Error("plugin `p@1`: `classify` returned an error: judge call failed".into())
        );
        let shown = render(&[
            result(Found::NeedsJudge, Found::Harmful),
            result(Found::Benign, Found::Benign),
        ]);
        assert!(
            shown.starts_with("p@1: 2 case(s), 1 as expected\n"),
            "{shown}"
        );
        assert!(
            shown.contains(
                "  harmful          0       1            1      0           1       1      0\n"
            ),
            "{shown}"
        );
        assert!(shown.contains("NOT AS EXPECTED f [k] \"d\": harmful case; without a judge expected needs a judge, got benign; with the scripted judge got benign"), "{shown}");
    }
}
