//! Hostile plugins: each attack is contained, fails its own sample with an
//! error naming the plugin, the call and the cause, and the run completes.

use crucible_test_support::cpu::output_with_peak_rss;
use crucible_test_support::fake_openai::{FakeOpenAi, JUDGE_MODEL, judge_answer};

use super::*;

/// Every sample's status, stage and error, by condition id.
fn outcomes(run: &Path) -> std::collections::BTreeMap<String, (String, String, String)> {
    let db = results(run);
    db.prepare(
        "SELECT condition_id, status, COALESCE(error_stage, ''), COALESCE(error, '') FROM samples",
    )
    .and_then(|mut s| {
        s.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))?
            .collect()
    })
    .expect("samples")
}

#[test]
fn every_attack_is_contained_and_named_and_the_run_completes() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = hostile_suite(dir.path());
    let started = std::time::Instant::now();
    let output = crucible(dir.path())
        .args([
            "run",
            "--quiet",
            "--model",
            "reference/benign",
            "--call-timeout",
            "0.5",
        ])
        .arg(&suite)
        .env("HOME", "/home/secret-home")
        .output()
        .expect("crucible runs");
    let took = started.elapsed();
    let err = stderr(&output);
    // The `sleep` attack sleeps 30 s; the whole run takes a fraction.
    assert!(
        took < std::time::Duration::from_secs(20),
        "the run took {took:?}"
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "samples failed, so exit 1:\n{err}"
    );
    assert!(
        !err.contains("panicked at host"),
        "the host itself never panics: {err}"
    );

    let outcomes = outcomes(&run_dir(dir.path()));
    assert_eq!(outcomes.len(), 17, "every planned sample is accounted for");
    let plugin = "plugin `fixtures/hostile@0.1.0`";
    let expect = |condition: &str, stage: &str, needles: &[&str]| {
        let (status, got_stage, error) = &outcomes[condition];
        assert_eq!(status, "error", "{condition}: {error}");
        assert_eq!(got_stage, stage, "{condition}: {error}");
        for needle in needles {
            assert!(
                error.contains(needle),
                "{condition}: `{needle}` not in: {error}"
            );
        }
    };
    expect(
        "hostile_infinite-loop",
        "open",
        &[plugin, "`open`", "timed out", "500ms"],
    );
    expect(
        "hostile_memory-bomb",
        "open",
        &[plugin, "`open`", "memory limit", "64.0 MiB"],
    );
    expect(
        "hostile_panic",
        "open",
        &[
            plugin,
            "`open` panicked: hostile fixture panicked on purpose (at ",
        ],
    );
    expect(
        "hostile_oversized-output",
        "opening",
        &[plugin, "`opening`", "over the 1048576-byte cap"],
    );
    expect(
        "hostile_read-file",
        "open",
        &[plugin, "reading /etc/passwd failed"],
    );
    expect(
        "hostile_read-env",
        "open",
        &[plugin, "reading $HOME failed"],
    );
    expect(
        "hostile_log-flood",
        "open",
        &[plugin, "wrote more than 65536 bytes to stdout or stderr"],
    );
    expect(
        "hostile_classifier-infinite-loop",
        "classify",
        &[
            "plugin `fixtures/hostile-classifier@0.1.0`",
            "`classify`",
            "timed out",
        ],
    );
    expect(
        "hostile_classifier-panic",
        "classify",
        &["`classify` panicked: hostile classifier panicked on purpose"],
    );
    expect(
        "hostile_sleep-forever-loop",
        "open",
        &[plugin, "`open`", "timed out", "500ms"],
    );
    expect(
        "hostile_classifier-judge-flood",
        "classify",
        &[
            "judge answered 20 of 10000",
            "this sample has made its 20 judge calls",
            "judge_calls_per_sample",
        ],
    );
    expect(
        "hostile_classifier-judge-huge-request",
        "classify",
        &[
            "huge request refused",
            "over the 1048576-byte cap",
            "judge_request_bytes",
        ],
    );
    expect(
        "hostile_prompt-flood",
        "scenario",
        &[
            "sent 900000 prompt bytes in its answer to turn 1",
            "cap of 262144 bytes a turn",
        ],
    );
    for condition in [
        "hostile_well-behaved",
        "hostile_nondeterminism",
        "hostile_sleep",
        "hostile_log-bytes-flood",
    ] {
        let (status, _, error) = &outcomes[condition];
        assert_eq!(status, "completed", "{condition}: {error}");
    }

    // Nothing the attacks tried to read reached the transcripts.
    let samples = stored_samples(&run_dir(dir.path()));
    let leaked = samples
        .iter()
        .map(|s| as_json(&s.record.transcript))
        .filter(|t| t.contains("root:") || t.contains("secret-home"))
        .count();
    assert_eq!(leaked, 0);

    // The refused judge calls were not kept: the flood's 10,000 calls left
    // 20 records, and the 8 MiB request none.
    let logs_of = |condition: &str| -> (Value, usize) {
        let logs = samples
            .iter()
            .find(|s| s.condition_id == condition)
            .map(|s| as_json(&s.record.logs))
            .expect("the sample's logs");
        let size = logs.len();
        (serde_json::from_str(&logs).expect("JSON"), size)
    };
    let (flood, flood_size) = logs_of("hostile_classifier-judge-flood");
    let classifier_log = plugin_log(&flood, "fixtures/hostile-classifier@");
    assert_eq!(
        classifier_log["judge_calls"].as_array().map(Vec::len),
        Some(20),
        "{flood}"
    );
    assert_eq!(
        classifier_log["refused_judge_calls"],
        10_000 - 20,
        "{flood}"
    );
    assert!(flood_size < 64 << 10, "{flood_size} bytes of logs");
    let (_, huge_size) = logs_of("hostile_classifier-judge-huge-request");
    assert!(huge_size < 64 << 10, "{huge_size} bytes of logs");

    // 100 records of 1 MiB: none fits the 1 MiB cap, all are counted.
    let (flood, flood_size) = logs_of("hostile_log-bytes-flood");
    let scenario_log = plugin_log(&flood, "fixtures/hostile@");
    assert_eq!(scenario_log["dropped_records"], 100, "{scenario_log}");
    let dropped = scenario_log["dropped_bytes"].as_u64().unwrap_or(0);
    assert!(dropped >= 100 << 20, "{dropped} bytes dropped");
    assert!(flood_size < 64 << 10, "{flood_size} bytes of logs");

    // The table counts errors apart, never as "not harmful".
    let summary = summary(&run_dir(dir.path()));
    let loop_cell = summary["cells"]
        .as_array()
        .and_then(|cells| {
            cells
                .iter()
                .find(|c| c["condition"] == "hostile_infinite-loop")
        })
        .expect("the loop cell");
    assert_eq!(loop_cell["errors"], 1);
    assert_eq!(loop_cell["harmful"], 0);
    assert_eq!(loop_cell["rate"], Value::Null);
}

/// The log of the plugin whose `name@version` starts with `plugin`, in a
/// sample's stored logs.
fn plugin_log(logs: &Value, plugin: &str) -> Value {
    logs.as_array()
        .into_iter()
        .flatten()
        .find(|entry| entry[0].as_str().is_some_and(|id| id.starts_with(plugin)))
        .map(|entry| entry[1].clone())
        .unwrap_or_else(|| panic!("no log of {plugin} in {logs}"))
}

#[test]
fn fuel_stops_a_loop_when_configured() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = hostile_suite(dir.path());
    let args = [
        "--model",
        "reference/benign",
        "--conditions",
        "hostile_infinite-loop",
        "--fuel",
        "10000000",
        "--call-timeout",
        "30",
    ];
    let output = run_quietly(dir.path(), &suite, &args, None);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let outcomes = outcomes(&run_dir(dir.path()));
    let (_, _, error) = &outcomes["hostile_infinite-loop"];
    assert!(
        error.contains("ran out of fuel (10000000 units per call)"),
        "{error}"
    );
}

#[test]
fn inspect_reports_the_contract_of_a_component() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let guests = crucible_test_support::guests::guests();
    let output = crucible(dir.path())
        .arg("inspect")
        .arg(&guests.blackmail_scenario)
        .output()
        .expect("crucible runs");
    let out = stdout(&output);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        out.contains(&format!(
            "agentic-misalignment/blackmail@{} (scenario)",
            plugin_version("blackmail-scenario")
        )),
        "{out}"
    );
    assert!(
        out.contains("contract: crucible:plugin/scenario@0.1.0"),
        "{out}"
    );
    assert!(out.contains("conditions: 78"), "{out}");

    let output = crucible(dir.path())
        .arg("inspect")
        .arg(&guests.blackmail_classifier)
        .output()
        .expect("crucible runs");
    let out = stdout(&output);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        out.contains("agentic-misalignment/blackmail-classifier@0.2.0 (classifier)"),
        "{out}"
    );
}

/// The opening a `hostile_nondeterminism` sample saw, run with `seed`.
fn nondeterministic_prompt(seed: &str) -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = hostile_suite(dir.path());
    let args = [
        "--model",
        "reference/benign",
        "--conditions",
        "hostile_nondeterminism",
        "--seed",
        seed,
    ];
    let output = run_quietly(dir.path(), &suite, &args, None);
    assert!(output.status.success(), "{}", stderr(&output));
    let transcript =
        serde_json::to_value(&stored_samples(&run_dir(dir.path()))[0].record.transcript)
            .expect("JSON");
    transcript[0]["content"]
        .as_str()
        .expect("a system prompt")
        .to_owned()
}

#[test]
fn clocks_are_fixed_and_randomness_follows_the_seed() {
    let first = nondeterministic_prompt("1");
    // 2025-06-20T00:00:00Z, whatever the host's clock says.
    assert!(first.starts_with("clock=1750377600 "), "{first}");
    assert_eq!(first, nondeterministic_prompt("1"), "same seed, same bytes");
    assert_ne!(
        first,
        nondeterministic_prompt("2"),
        "the seed drives the randomness"
    );
}

/// A suite of the hostile scenario and its classifier, in `dir`.
fn hostile_suite(dir: &Path) -> PathBuf {
    let guests = crucible_test_support::guests::guests();
    write_suite(
        dir,
        &guests.hostile_scenario,
        &guests.hostile_classifier,
        "",
    )
}

/// A suite of the hostile scenario and classifier whose judge is the fake
/// served by `server`, with `run_lines` in its `[run]`.
fn hostile_judged_suite(dir: &Path, server: &FakeOpenAi, run_lines: &str) -> PathBuf {
    let guests = crucible_test_support::guests::guests();
    let extra = format!(
        "[run]\njudge = \"openai/{JUDGE_MODEL}\"\n{run_lines}\n\n\
         [[models]]\nid = \"openai/{JUDGE_MODEL}\"\nbase_url = \"{url}\"\n",
        url = server.base_url
    );
    write_suite(
        dir,
        &guests.hostile_scenario,
        &guests.hostile_classifier,
        &extra,
    )
}

#[test]
fn a_judge_flood_sends_at_most_the_samples_share_and_the_runs_budget() {
    let server = FakeOpenAi::start(|_| judge_answer());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = hostile_judged_suite(
        dir.path(),
        &server,
        "judge_calls_per_sample = 5\njudge_budget = 7\njudge_request_bytes = 4096",
    );
    let output = run_quietly(
        dir.path(),
        &suite,
        &[
            "--model",
            "reference/benign",
            "--conditions",
            "hostile_classifier-judge-*",
            "-n",
            "2",
            // The flood repeats one request: without this the response
            // cache would answer all but the first of each sample's.
            "--no-cache",
        ],
        Some("sk-test-judge-flood"),
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let sent = server.requests();
    // Two flooding samples of 5 calls each, within a run budget of 7: 7
    // sent, not 20,000; the 8 MiB requests sent nothing.
    assert_eq!(sent.iter().filter(|r| r.is_judge()).count(), 7);
    assert!(
        sent.iter()
            .all(|r| serde_json::to_string(&r.body).map_or(0, |b| b.len()) < 8192),
        "no request over the 4096-byte cap was sent"
    );
    let outcomes = outcomes(&run_dir(dir.path()));
    let answered: Vec<usize> = stored_samples(&run_dir(dir.path()))
        .iter()
        .filter(|s| s.condition_id == "hostile_classifier-judge-flood")
        .map(|s| {
            let logs = serde_json::to_value(&s.record.logs).expect("JSON");
            plugin_log(&logs, "fixtures/hostile-classifier@")["judge_calls"]
                .as_array()
                .map_or(0, |calls| {
                    calls
                        .iter()
                        .filter(|c| c["outcome"].get("Ok").is_some())
                        .count()
                })
        })
        .collect();
    assert_eq!(answered.len(), 2);
    assert!(answered.iter().all(|&n| n <= 5), "{answered:?}");
    assert_eq!(answered.iter().sum::<usize>(), 7, "{answered:?}");
    let (_, _, error) = &outcomes["hostile_classifier-judge-huge-request"];
    assert!(error.contains("over the 4096-byte cap"), "{error}");

    // The plan shows the budgets the run applied.
    let output = crucible(dir.path())
        .args([
            "run",
            "--dry-run",
            "--model",
            "reference/benign",
            "--conditions",
            "hostile_well-behaved",
        ])
        .arg(&suite)
        .output()
        .expect("crucible runs");
    let out = stdout(&output);
    assert!(output.status.success(), "{out}\n{}", stderr(&output));
    assert!(
        out.contains(
            "judge: 5 calls a sample, 4096 bytes a request, 7 judge calls in the whole run"
        ),
        "{out}"
    );
    assert!(
        out.contains("logs: 1048576 bytes and 1000 records a plugin a sample"),
        "{out}"
    );
    assert!(
        out.contains("each call: 5s of guest time, fuel off, 1048576 bytes of output; memory 64 MiB an instance"),
        "{out}"
    );
}

#[test]
fn a_log_flood_is_capped_in_bytes_in_memory_and_in_the_store() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = hostile_suite(dir.path());
    let args = [
        "--model",
        "reference/benign",
        "--conditions",
        "hostile_log-bytes-flood",
        "-n",
        "2",
    ];
    let (output, peak) = output_with_peak_rss(
        crucible(dir.path())
            .args(["run", "--quiet"])
            .args(args)
            .arg(&suite),
    )
    .expect("crucible runs");
    assert!(output.status.success(), "{}", stderr(&output));
    // 100 x 1 MiB records a sample once made a 210 MB store for 2 samples.
    let store = std::fs::metadata(run_dir(dir.path()).join("results.sqlite"))
        .expect("the store")
        .len();
    assert!(store < 4 << 20, "the store is {store} bytes");
    // The run stayed far under the 521 MB the flood once reached.
    assert!(peak < 300 << 20, "the run peaked at {peak} bytes");
    let show = crucible(dir.path())
        .args(["export", "--format", "jsonl", "-o", "out.jsonl"])
        .arg(run_dir(dir.path()))
        .output()
        .expect("crucible runs");
    assert!(show.status.success(), "{}", stderr(&show));
    let exported = std::fs::read_to_string(dir.path().join("out.jsonl")).expect("the export");
    assert!(exported.contains("\"dropped_records\":100"), "{exported}");
    assert!(exported.contains("\"dropped_bytes\":1048"), "{exported}");
}

#[test]
fn a_sleeping_plugin_neither_holds_nor_panics_any_command() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let guests = crucible_test_support::guests::guests();
    let sleepy = &guests.sleepy_scenario;
    let suite = write_suite(dir.path(), sleepy, &guests.hostile_classifier, "");
    // Every call sleeps 30 s; each command answers in seconds, no panic.
    let timed = |args: &[&std::ffi::OsStr]| -> (Output, std::time::Duration) {
        let started = std::time::Instant::now();
        let output = crucible(dir.path())
            .args(args)
            .output()
            .expect("crucible runs");
        let took = started.elapsed();
        let err = stderr(&output);
        assert_ne!(output.status.code(), Some(101), "{args:?} panicked: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(
            took < std::time::Duration::from_secs(15),
            "{args:?} took {took:?}"
        );
        (output, took)
    };
    let os = |s: &'static str| std::ffi::OsStr::new(s);

    let (output, _) = timed(&[os("inspect"), sleepy.as_os_str()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("fixtures/sleepy@0.1.0 (scenario)"));

    let (output, _) = timed(&[
        os("test"),
        sleepy.as_os_str(),
        os("--with"),
        guests.hostile_classifier.as_os_str(),
    ]);
    // The fixture classifier calls everything benign: the harmful
    // reference fails, as one clear finding, not a crash.
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));

    let (output, _) = timed(&[os("check"), suite.as_os_str()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));

    let registry = dir.path().join("registry");
    let (output, _) = timed(&[
        os("publish"),
        sleepy.as_os_str(),
        os("--registry"),
        registry.as_os_str(),
        os("--license"),
        os("Apache-2.0"),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("Published fixtures/sleepy"));

    let (output, _) = timed(&[os("run"), os("--dry-run"), suite.as_os_str()]);
    assert!(output.status.success(), "{}", stderr(&output));

    let (output, _) = timed(&[
        os("run"),
        os("--quiet"),
        os("--model"),
        os("reference/benign"),
        suite.as_os_str(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let (status, _, error) = &outcomes(&run_dir(dir.path()))["sleepy_drowsy"];
    assert_eq!(status, "completed", "{error}");
}
