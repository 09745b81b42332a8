//! `crucible export`: a run's samples as CSV, as JSON Lines and as Inspect
//! AI's eval logs, read back as a colleague would read them: with a CSV
//! parser, line by line as JSON, and with the real inspect-ai package.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use crucible_export::{SAMPLE_FORMAT, SampleLine};
use crucible_test_support::fake_openai::{FakeOpenAi, FakeReply, text_completion};

use super::*;

/// The bundled suite, run offline once for the module: 468 samples of the
/// reference pair, each model's samples all harmful or all not.
fn offline_run() -> &'static Path {
    static RUN: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, run) = RUN.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let output = crucible(dir.path())
            .args(["run", "--quiet"])
            .arg(bundled_suite())
            .output()
            .expect("crucible runs");
        assert_success(&output);
        let run = run_dir(dir.path());
        (dir, run)
    });
    run
}

/// `crucible export RUN ARGS`, run in `dir`.
fn export(dir: &Path, run: &Path, args: &[&str]) -> Output {
    crucible(dir)
        .arg("export")
        .arg(run)
        .args(args)
        .output()
        .expect("crucible runs")
}

fn csv_rows(text: &str) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("a header row")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|record| {
            let record = record.expect("a well-formed row");
            assert_eq!(record.len(), header.len(), "a field per column");
            header
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_owned))
                .collect()
        })
        .collect();
    (header, rows)
}

/// Harmful samples per model in the run's own summary.
fn summary_harmful(run: &Path) -> BTreeMap<String, u64> {
    let mut harmful = BTreeMap::new();
    for cell in summary(run)["cells"].as_array().expect("cells") {
        let model = cell["model"].as_str().expect("a model").to_owned();
        *harmful.entry(model).or_default() += cell["harmful"].as_u64().expect("a count");
    }
    harmful
}

#[test]
fn csv_has_a_header_and_a_row_per_sample_counted_as_the_run_counts() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = export(dir.path(), offline_run(), &["--format", "csv"]);
    assert_success(&output);
    let (header, rows) = csv_rows(&stdout(&output));

    assert_eq!(
        header[..8],
        [
            "run_id",
            "model",
            "scenario",
            "condition_id",
            "goal_type",
            "goal_value",
            "urgency",
            "sample_index"
        ],
        "each condition parameter has its own column, in the scenario's order"
    );
    for column in [
        "seed",
        "status",
        "outcome",
        "stop",
        "classifier",
        "harmful",
        "label",
        "judged",
        "judge_model",
        "error_stage",
        "error",
        "turns",
        "end_reason",
        "agent_input_tokens",
        "agent_output_tokens",
        "eval-awareness_label",
        "eval-awareness_positive",
        "eval-awareness_error",
        "deliberation_label",
    ] {
        assert!(header.iter().any(|h| h == column), "{column} in {header:?}");
    }
    assert_eq!(rows.len(), 468, "one row per sample");

    let mut harmful: BTreeMap<String, u64> = BTreeMap::new();
    for row in &rows {
        assert_eq!(row["status"], "completed");
        assert!(
            row["classifier"].contains("-classifier@"),
            "the primary classifier as name@version: {}",
            row["classifier"]
        );
        if row["judged"] == "true" {
            assert_eq!(row["judge_model"], "reference/judge");
        }
        assert!(!row["goal_type"].is_empty() && !row["urgency"].is_empty());
        assert_eq!(
            row["outcome"],
            if row["harmful"] == "true" {
                "harmful"
            } else {
                "not_harmful"
            }
        );
        *harmful.entry(row["model"].clone()).or_default() += u64::from(row["harmful"] == "true");
    }
    assert_eq!(harmful["reference/harmful"], 234);
    assert_eq!(harmful["reference/benign"], 0);
    assert_eq!(harmful, summary_harmful(offline_run()));
}

#[test]
fn jsonl_lines_parse_into_the_schema_and_count_as_the_run_does() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("samples.jsonl");
    let output = export(
        dir.path(),
        offline_run(),
        &["--format", "jsonl", "-o", "samples.jsonl"],
    );
    assert_success(&output);
    assert!(
        stdout(&output).contains("Wrote 468 samples"),
        "{}",
        stdout(&output)
    );

    let text = std::fs::read_to_string(&file).expect("the export");
    let mut harmful: BTreeMap<String, u64> = BTreeMap::new();
    let mut lines = 0;
    for line in text.lines() {
        lines += 1;
        let value: Value = serde_json::from_str(line).expect("each line is JSON");
        assert_eq!(value["format"], SAMPLE_FORMAT);
        // The line is the documented schema, whole: read into it and
        // written again, nothing is lost or added.
        let sample: SampleLine = serde_json::from_value(value.clone()).expect("the schema");
        assert_eq!(serde_json::to_value(&sample).expect("serializes"), value);

        assert!(sample.transcript.len() >= 3, "system, opening, reply");
        assert!(
            sample.seed.parse::<u64>().is_ok(),
            "the seed in decimal: {}",
            sample.seed
        );
        let primary = &sample.verdicts[0];
        assert!(primary.primary && primary.error.is_none());
        assert_eq!(
            primary.harmful,
            Some(sample.outcome == crucible_export::Outcome::Harmful)
        );
        assert!(
            sample
                .judge_exchanges
                .iter()
                .all(|exchange| !exchange.system_prompt.is_empty()),
            "each judge exchange carries what the judge was sent"
        );
        assert!(
            !sample.plugin_logs.is_empty(),
            "every plugin's log is carried"
        );
        *harmful.entry(sample.model).or_default() +=
            u64::from(sample.outcome == crucible_export::Outcome::Harmful);
    }
    assert_eq!(lines, 468);
    assert_eq!(harmful, summary_harmful(offline_run()));
}

/// Text a CSV writer must quote, and a JSON writer escape.
const HOSTILE: &str = "She said \"stop, now\",\nthen left; 'a,b'\r\n\"\"\" \u{2028} é";

/// A run of the blackmail headline cell against a fake model: one sample
/// answers with hostile text, the other fails on an error quoting it.
fn hostile_run(dir: &Path, server: &FakeOpenAi) -> PathBuf {
    let extra = format!(
        "[run]\nmodels = [\"openai/fake\"]\nsamples = 2\nconcurrency = 1\n\n\
         [[models]]\nid = \"openai/fake\"\nbase_url = \"{}\"\n",
        server.base_url
    );
    let suite = blackmail_suite(
        dir,
        &extra,
        "conditions = [\"blackmail_explicit-america_replacement\"]",
    );
    let output = run_quietly(dir, &suite, &[], Some("test-key"));
    assert_eq!(
        output.status.code(),
        Some(1),
        "one sample failed: {}\n{}",
        stdout(&output),
        stderr(&output)
    );
    run_dir(dir)
}

fn hostile_server() -> FakeOpenAi {
    let calls = AtomicUsize::new(0);
    FakeOpenAi::start(move |_| {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            FakeReply::Json(text_completion(HOSTILE))
        } else {
            FakeReply::Status(
                400,
                json!({"error": {"message": HOSTILE, "type": "invalid_request_error"}}),
            )
        }
    })
}

#[test]
fn hostile_text_survives_csv_jsonl_and_inspect() {
    let server = hostile_server();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = hostile_run(dir.path(), &server);

    let output = export(dir.path(), &run, &["--format", "csv"]);
    assert_success(&output);
    let (_, rows) = csv_rows(&stdout(&output));
    assert_eq!(rows.len(), 2);
    let failed: Vec<_> = rows.iter().filter(|r| r["status"] == "error").collect();
    assert_eq!(failed.len(), 1, "{rows:?}");
    assert_eq!(failed[0]["error_stage"], "model");
    assert!(
        failed[0]["error"].contains(HOSTILE),
        "the provider's message, quotes, commas and newlines intact: {:?}",
        failed[0]["error"]
    );
    assert_eq!(failed[0]["outcome"], "error");
    assert_eq!(
        failed[0]["harmful"], "",
        "an error is never \"not harmful\""
    );
    let answered: Vec<_> = rows.iter().filter(|r| r["status"] == "completed").collect();
    assert_eq!(answered[0]["harmful"], "false");

    let output = export(dir.path(), &run, &["--format", "jsonl"]);
    assert_success(&output);
    let samples: Vec<SampleLine> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a sample line"))
        .collect();
    let replies: Vec<&str> = samples
        .iter()
        .flat_map(|s| &s.transcript)
        .filter(|m| m.role == crucible_export::RoleLine::Assistant)
        .map(|m| m.content.as_str())
        .collect();
    assert_eq!(replies, [HOSTILE], "the reply exactly as the model sent it");
    let reply = samples
        .iter()
        .flat_map(|s| &s.transcript)
        .find_map(|m| m.call.as_ref())
        .expect("the reply's call record");
    assert_eq!(reply.stop.kind, "end");

    let Some(python) = inspect_python() else {
        return;
    };
    let logs = dir.path().join("inspect");
    assert_success(&export(
        dir.path(),
        &run,
        &["--format", "inspect", "-o", "inspect"],
    ));
    let read = read_with_inspect(&python, &logs);
    let log = &read["logs"][0];
    assert_eq!(log["samples"], 2);
    assert_eq!(log["completed_samples"], 1);
    let errors = log["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].as_str().is_some_and(|e| e.contains(HOSTILE)),
        "{errors:?}"
    );
    assert_eq!(read["samples_df"]["errors"], 1);
    assert_eq!(log["metrics"]["blackmail-classifier"]["mean"], 0.0);
    assert_eq!(log["primary_scored"], 1, "the failed sample has no score");
}

#[test]
fn the_inspect_export_opens_with_the_real_inspect_ai() {
    let Some(python) = inspect_python() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = crucible(dir.path())
        .args([
            "run",
            "--quiet",
            "--conditions",
            "*_explicit-america_*",
            "--samples",
            "2",
        ])
        .arg(bundled_suite())
        .output()
        .expect("crucible runs");
    assert_success(&output);
    let run = run_dir(dir.path());

    let output = export(dir.path(), &run, &["--format", "inspect", "-o", "logs"]);
    assert_success(&output);
    let out = stdout(&output);
    assert!(out.contains("Wrote 6 Inspect log(s)"), "{out}");
    assert!(out.contains("inspect view --log-dir logs"), "{out}");

    let read = read_with_inspect(&python, &dir.path().join("logs"));
    assert_eq!(read["files"], 6, "one log per model x scenario: {read}");
    assert_eq!(read["listed"], 6, "Inspect lists them as eval logs");
    let run_id = run
        .file_name()
        .and_then(|n| n.to_str())
        .expect("the run's id");
    let mut seen = Vec::new();
    for log in read["logs"].as_array().expect("logs") {
        let model = log["model"].as_str().expect("a model");
        let task = log["task"].as_str().expect("a task");
        seen.push(format!("{model} {task}"));
        assert_eq!(log["status"], "success");
        assert_eq!(log["run_id"], run_id);
        assert_eq!(log["epochs"], 2, "the condition's samples are epochs");
        assert_eq!(log["dataset_samples"], 3, "each condition a sample");
        assert_eq!(log["samples"], 6);
        assert_eq!(log["summaries"], 6);
        assert_eq!(log["total_samples"], 6);
        assert_eq!(log["completed_samples"], 6);
        let primary = log["scorers"][0].as_str().expect("a primary scorer");
        assert!(primary.ends_with("-classifier"), "{primary}");
        assert_eq!(log["primary_scored"], 6);
        let (harmful, mean) = if model == "reference/harmful" {
            (6, 1.0)
        } else {
            (0, 0.0)
        };
        assert_eq!(log["primary_harmful"], harmful, "{log}");
        assert_eq!(log["metrics"][primary]["mean"], mean, "{log}");
        assert_eq!(
            log["roles"],
            json!(["assistant", "system", "tool", "user"]),
            "the transcript, tool calls and results included: {log}"
        );
        assert!(log["tool_calls"].as_u64() > Some(0));
        assert_eq!(log["tool_calls"], log["tool_results_named"]);
        assert_eq!(
            log["metadata_params"],
            json!(["goal_type", "goal_value", "urgency"])
        );
        assert_eq!(log["first_sample"]["epoch"], 1);
        assert_eq!(log["first_sample"]["output_model"], model);
        assert!(
            log["first_sample"]["id"]
                .as_str()
                .is_some_and(|id| id.contains("_explicit-america_")),
            "{log}"
        );
        assert_eq!(log["errors"], json!([]));
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "reference/benign agentic-misalignment/blackmail",
            "reference/benign agentic-misalignment/leaking",
            "reference/benign agentic-misalignment/lethal-action",
            "reference/harmful agentic-misalignment/blackmail",
            "reference/harmful agentic-misalignment/leaking",
            "reference/harmful agentic-misalignment/lethal-action",
        ]
    );

    let evals = &read["evals_df"];
    assert_eq!(evals["rows"], 6);
    assert_eq!(
        evals["models"],
        json!(["reference/benign", "reference/harmful"])
    );
    assert_eq!(evals["statuses"], json!(["success"]));
    let samples = &read["samples_df"];
    assert_eq!(samples["rows"], 36);
    assert_eq!(samples["sample_uuids"], 36, "each sample has its own id");
    assert_eq!(samples["errors"], 0);
    for column in [
        "metadata_goal_type",
        "metadata_goal_value",
        "metadata_urgency",
        "metadata_condition_id",
        "metadata_seed",
        "metadata_outcome",
    ] {
        assert!(
            samples["metadata_columns"]
                .as_array()
                .is_some_and(|c| c.contains(&json!(column))),
            "{column}: {samples}"
        );
    }
    for (key, rate) in samples["rates"].as_object().expect("rates") {
        assert_eq!(rate["rows"], 6, "{key}");
        assert_eq!(rate["scored"], 6, "{key}");
        let expected = if key.starts_with("reference/harmful") {
            1.0
        } else {
            0.0
        };
        assert_eq!(rate["mean"], expected, "{key}");
    }

    // The same run exports to the same bytes.
    let again = export(dir.path(), &run, &["--format", "inspect", "-o", "again"]);
    assert_success(&again);
    for entry in std::fs::read_dir(dir.path().join("logs")).expect("the logs") {
        let path = entry.expect("an entry").path();
        let twin = dir
            .path()
            .join("again")
            .join(path.file_name().expect("a name"));
        assert_eq!(
            std::fs::read(&path).expect("a log"),
            std::fs::read(&twin).expect("its twin"),
            "{}",
            path.display()
        );
    }
}

#[test]
fn a_run_in_progress_is_refused_unless_partial() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = harmful_reference_run(dir.path(), "blackmail_*", &["--samples", "2"]);
    // As a run stopped halfway leaves it: the second samples never ran.
    let store = results(&run);
    store
        .execute_batch(
            "DELETE FROM verdicts WHERE sample_id IN (SELECT id FROM samples WHERE sample_index = 1);
             UPDATE samples SET status = 'pending', transcript = NULL, facts = NULL, end_reason = NULL,
                 turns = NULL, logs = NULL, usage = NULL, stop = NULL WHERE sample_index = 1;",
        )
        .expect("the run is made unfinished");
    drop(store);

    for format in ["csv", "jsonl", "inspect"] {
        let output = export(dir.path(), &run, &["--format", format, "-o", "out"]);
        assert_eq!(output.status.code(), Some(2), "{format}");
        let err = stderr(&output);
        assert!(
            err.contains("is not finished: 78 of 156 samples are still pending")
                && err.contains("--partial"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "one clear error: {err}");
        assert!(!dir.path().join("out").exists(), "nothing written");
    }

    let output = export(dir.path(), &run, &["--format", "csv", "--partial"]);
    assert_success(&output);
    let (_, rows) = csv_rows(&stdout(&output));
    assert_eq!(rows.len(), 156, "the pending samples are rows too");
    let pending = rows.iter().filter(|r| r["status"] == "pending").count();
    assert_eq!(pending, 78);
    assert!(
        rows.iter()
            .filter(|r| r["status"] == "pending")
            .all(|r| r["outcome"] == "pending" && r["harmful"].is_empty())
    );

    let Some(python) = inspect_python() else {
        return;
    };
    let output = export(
        dir.path(),
        &run,
        &["--format", "inspect", "--partial", "-o", "logs"],
    );
    assert_success(&output);
    let read = read_with_inspect(&python, &dir.path().join("logs"));
    let log = &read["logs"][0];
    assert_eq!(log["status"], "cancelled", "a log missing samples: {log}");
    assert_eq!(log["samples"], 78);
    assert_eq!(log["total_samples"], 156);
    assert_eq!(log["metrics"]["blackmail-classifier"]["mean"], 1.0);
}

#[test]
fn bad_input_gets_one_clear_error() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("a-file"), "not a directory").expect("a file");
    let cases: [(&Path, &[&str], &str); 4] = [
        (
            Path::new("no-such-run"),
            &["--format", "csv"],
            "no-such-run is not a run",
        ),
        (
            offline_run(),
            &["--format", "inspect"],
            "--format inspect writes a directory of logs: name it with -o DIR",
        ),
        (
            offline_run(),
            &["--format", "inspect", "-o", "a-file"],
            "a-file exists and is not a directory",
        ),
        (
            offline_run(),
            &["--format", "csv", "-o", "missing/out.csv"],
            "writing missing/out.csv: No such file or directory",
        ),
    ];
    for (run, args, expected) in cases {
        let output = export(dir.path(), run, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let err = stderr(&output);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
}

/// The pinned inspect-ai's Python (`make inspect`), or `None` with the
/// reason printed when it is not installed. Under CI it must be.
fn inspect_python() -> Option<PathBuf> {
    let python = workspace_root().join("tests/inspect/.venv/bin/python");
    if python.is_file() {
        return Some(python);
    }
    let reason = format!(
        "{} is missing: `make inspect` installs the pinned inspect-ai",
        python.display()
    );
    assert!(std::env::var_os("CI").is_none(), "{reason}");
    eprintln!("skipping the inspect-ai check: {reason}");
    None
}

/// What inspect-ai made of the logs in `dir` (tests/inspect/read_export.py).
fn read_with_inspect(python: &Path, dir: &Path) -> Value {
    let output = Command::new(python)
        .arg(workspace_root().join("tests/inspect/read_export.py"))
        .arg(dir)
        .output()
        .expect("python runs");
    assert_success(&output);
    serde_json::from_str(&stdout(&output)).expect("the script prints JSON")
}
