//! End-to-end tests of Crucible: the real `crucible` binary, real guest
//! components built from this repository, and fake model servers on
//! 127.0.0.1. One binary for all of them, as wasmtime does, so the guests
//! are built and compiled once.

mod authoring;
mod bad_input;
mod batch;
mod bundle;
mod conformance;
mod contract_v0_2;
mod determinism;
mod diff;
mod export;
mod faults;
mod keys;
mod native;
mod offline;
mod openai;
mod prompt_cache;
mod provenance;
mod providers;
mod recipes;
mod registry;
mod registry_http;
mod report;
mod reproducible;
mod rescore;
mod responses;
mod resume;
mod s3;
mod sandbox;
mod serve;
mod shard;
mod show;
mod spend;
mod store;
mod summary;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crucible_test_support::guests::workspace_root;
use serde_json::Value;

/// A compiled-component cache shared by every test in this process, kept
/// apart from the user's own.
fn cache_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary directory"))
        .path()
}

/// The version a bundled plugin built from this repository describes
/// itself with: its package's, in `plugins/NAME/Cargo.toml`.
fn plugin_version(name: &str) -> String {
    let manifest = workspace_root()
        .join("plugins")
        .join(name)
        .join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("the plugin's manifest reads");
    text.lines()
        .find_map(|line| line.strip_prefix("version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("the manifest names its version")
        .to_owned()
}

/// The `crucible` binary, run in `dir`, with no provider key inherited.
fn crucible(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_crucible"));
    command
        .current_dir(dir)
        .env("CRUCIBLE_CACHE", cache_dir())
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("ANTHROPIC_BASE_URL")
        .env_remove("GEMINI_API_KEY")
        .env_remove("GEMINI_BASE_URL")
        .env_remove("OPENROUTER_API_KEY")
        .env_remove("OPENROUTER_BASE_URL")
        .env_remove("TOGETHER_API_KEY")
        .env_remove("TOGETHER_BASE_URL")
        .env_remove("CRUCIBLE_LOG")
        .env_remove("CRUCIBLE_CONFIG");
    command
}

/// `crucible run --quiet ARGS SUITE` in `dir`, with `key` as the OpenAI key.
fn run_quietly(dir: &Path, suite: &Path, args: &[&str], key: Option<&str>) -> Output {
    let mut command = crucible(dir);
    command.args(["run", "--quiet"]).args(args).arg(suite);
    if let Some(key) = key {
        command.env("OPENAI_API_KEY", key);
    }
    command.output().expect("crucible runs")
}

/// An offline run in `dir` of the bundled suite's `conditions` by
/// `reference/harmful`, with `args` too: its run directory.
fn harmful_reference_run(dir: &Path, conditions: &str, args: &[&str]) -> PathBuf {
    let output = crucible(dir)
        .args([
            "run",
            "--quiet",
            "--model",
            "reference/harmful",
            "--conditions",
            conditions,
        ])
        .args(args)
        .arg(bundled_suite())
        .output()
        .expect("crucible runs");
    assert_success(&output);
    run_dir(dir)
}

/// Fails the test with both outputs unless the command succeeded.
fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "{}\n{}",
        stdout(output),
        stderr(output)
    );
}

/// The stored transcript of a run's one sample.
fn stored_transcript(run: &Path) -> Value {
    serde_json::to_value(&stored_samples(run)[0].record.transcript).expect("the transcript is JSON")
}

/// A run's samples as the host reads them back, in plan order. A compact
/// store packs a sample's transcript, facts, logs and usage (see
/// host/src/store/packed.rs), so tests read them through the host's own
/// reader rather than as SQL text.
fn stored_samples(run: &Path) -> Vec<crucible_engine::results::SampleResult> {
    crucible_engine::store::read_run(run)
        .expect("the run reads back")
        .samples
}

/// A sample's transcript, facts or logs as JSON text, as a plain store
/// held them.
fn as_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("JSON")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The one run directory `crucible run --output runs` created in `dir`.
fn run_dir(dir: &Path) -> PathBuf {
    let runs: Vec<PathBuf> = std::fs::read_dir(dir.join("runs"))
        .expect("a runs directory")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    assert_eq!(runs.len(), 1, "expected exactly one run in {runs:?}");
    runs.into_iter().next().expect("one run")
}

fn summary(run: &Path) -> Value {
    let text = std::fs::read_to_string(run.join("summary.json")).expect("summary.json");
    serde_json::from_str(&text).expect("summary.json is JSON")
}

fn results(run: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(run.join("results.sqlite")).expect("the results store opens")
}

/// The bundled suite, with absolute paths to freshly built guests.
fn bundled_suite() -> PathBuf {
    let _ = crucible_test_support::guests::guests();
    workspace_root().join("suites/agentic-misalignment.toml")
}

/// Writes a suite for one scenario and its classifier into `dir`.
fn write_suite(dir: &Path, scenario: &Path, classifier: &Path, extra: &str) -> PathBuf {
    write_suite_with(dir, scenario, classifier, extra, "")
}

/// The same, with `scenario_lines` (conditions, params) in the scenario's
/// table.
fn write_suite_with(
    dir: &Path,
    scenario: &Path,
    classifier: &Path,
    extra: &str,
    scenario_lines: &str,
) -> PathBuf {
    let path = dir.join("suite.toml");
    let text = format!(
        "[suite]\nname = \"test\"\n\n{extra}\n\n[scenarios.s]\ncomponent = {scenario:?}\nclassifiers = [\"c\"]\n{scenario_lines}\n\n[classifiers.c]\ncomponent = {classifier:?}\n",
        scenario = scenario.display().to_string(),
        classifier = classifier.display().to_string(),
    );
    std::fs::write(&path, text).expect("write the suite");
    path
}

/// A suite of the blackmail scenario and its classifier, built from this
/// repository, with `extra` tables and `scenario_lines` in its scenario's
/// table.
fn blackmail_suite(dir: &Path, extra: &str, scenario_lines: &str) -> PathBuf {
    let guests = crucible_test_support::guests::guests();
    write_suite_with(
        dir,
        &guests.blackmail_scenario,
        &guests.blackmail_classifier,
        extra,
        scenario_lines,
    )
}

/// The bundled suite, copied to `dir` with an absolute registry path: a
/// run of it with another judge or models writes its lockfile there, not
/// over the repository's, which tests running beside it read.
fn bundled_suite_copy(dir: &Path) -> PathBuf {
    bundled_suite_with_params(dir, "")
}

/// The bundled suite, copied to `dir` with an absolute registry path and
/// these parameter values set on every scenario (none if empty).
fn bundled_suite_with_params(dir: &Path, params: &str) -> PathBuf {
    let text = std::fs::read_to_string(bundled_suite()).expect("the bundled suite");
    let registry = workspace_root().join("suites/registry");
    let mut text = text.replace(
        "registry = \"registry\"",
        &format!("registry = {:?}", registry.display().to_string()),
    );
    for scenario in ["blackmail", "leaking", "lethal-action"] {
        if params.is_empty() {
            break;
        }
        let header = format!("[scenarios.{scenario}]\n");
        text = text.replace(&header, &format!("{header}params = {{ {params} }}\n"));
    }
    let path = dir.join("suite.toml");
    std::fs::write(&path, text).expect("write the suite");
    path
}
