//! Hostile plugins: each attack is contained, fails its own sample with an
//! error naming the plugin, the call and the cause, and the run completes.

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
    let err = stderr(&output);
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
    assert_eq!(outcomes.len(), 12, "every planned sample is accounted for");
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
        "hostile_prompt-flood",
        "scenario",
        &[
            "sent 900000 prompt bytes in its answer to turn 1",
            "cap of 262144 bytes a turn",
        ],
    );
    for condition in ["hostile_well-behaved", "hostile_nondeterminism"] {
        let (status, _, error) = &outcomes[condition];
        assert_eq!(status, "completed", "{condition}: {error}");
    }

    // Nothing the attacks tried to read reached the transcripts.
    let db = results(&run_dir(dir.path()));
    let leaked: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM samples WHERE transcript LIKE '%root:%' OR transcript LIKE '%secret-home%'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(leaked, 0);

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
        out.contains("agentic-misalignment/blackmail@0.2.0 (scenario)"),
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
    let transcript: String = results(&run_dir(dir.path()))
        .query_row("SELECT transcript FROM samples", [], |r| r.get(0))
        .expect("a transcript");
    let transcript: Value = serde_json::from_str(&transcript).expect("JSON");
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
