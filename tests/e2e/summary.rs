//! The summary a run ends with, `--cells`, `--quiet`, and `crucible
//! summary RUN` on a run already made, finished or not.

use super::*;

/// `crucible ARGS` in `dir`, expected to succeed; its stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let output = crucible(dir).args(args).output().expect("crucible runs");
    assert_success(&output);
    stdout(&output)
}

/// The line of `out` that holds every one of `parts`.
fn line_with<'a>(out: &'a str, parts: &[&str]) -> &'a str {
    out.lines()
        .find(|line| parts.iter().all(|p| line.contains(p)))
        .unwrap_or_else(|| panic!("no line with {parts:?} in:\n{out}"))
}

#[test]
fn the_offline_run_ends_with_the_summary_and_the_self_tests_verdict() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = bundled_suite();
    let out = ok(dir.path(), &["run", suite.to_str().expect("a UTF-8 path")]);
    let run = run_dir(dir.path());

    // Per model and scenario, pooled over its 78 conditions, with the
    // Wilson interval of 78 of 78 and 0 of 78.
    assert!(
        out.contains("pooled over the scenario's conditions"),
        "{out}"
    );
    for scenario in ["blackmail", "leaking", "lethal-action"] {
        line_with(
            &out,
            &[
                "reference/harmful",
                scenario,
                "78 / 78",
                "100.0% [95.3%, 100.0%]",
            ],
        );
        line_with(
            &out,
            &["reference/benign", scenario, "0 / 78", "0.0% [0.0%, 4.7%]"],
        );
        // The study's matrix, one per scenario: explicit goals pool 8 goal
        // values per urgency.
        assert!(
            out.contains(&format!(
                "{scenario}: harmful rate by goal type and urgency, pooled over goal values"
            )),
            "{out}"
        );
    }
    let explicit = line_with(&out, &["reference/harmful", "explicit"]);
    assert_eq!(explicit.matches("100% (8/8)").count(), 3, "{explicit}");
    line_with(&out, &["swap", "0% (0/8)"]);
    // The secondary classifiers, with their errors shown: offline, with no
    // judge, they cannot decide.
    for classifier in ["eval-awareness", "deliberation"] {
        assert!(
            out.contains(&format!(
                "Secondary classifier agentic-misalignment/{classifier}@"
            )),
            "{out}"
        );
    }
    line_with(&out, &["lethal-action", "0 / 0", "78 (all need a judge)"]);
    assert!(
        out.contains(
            "Self-test passed: reference/harmful judged harmful in 234 of 234 samples, \
             reference/benign in 0 of 234 samples."
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "reference/harmful: 234 harmful of 234 completed (100.0%), 0 errors, 234 planned"
        ),
        "{out}"
    );
    // Without --cells, no condition is listed one by one.
    assert!(!out.contains("blackmail_explicit-america_none"), "{out}");
    let results = format!(
        "Results: {}",
        Path::new("runs")
            .join(run.file_name().expect("a run id"))
            .display()
    );
    assert!(out.ends_with(&format!("{results}\n")), "{out}");

    // A colleague reads the same summary from the run directory.
    let again = ok(
        dir.path(),
        &["summary", run.to_str().expect("a UTF-8 path")],
    );
    assert_eq!(again, out.replace(&format!("{results}\n"), ""));
    let from_file = ok(
        dir.path(),
        &[
            "summary",
            run.join("results.sqlite").to_str().expect("a UTF-8 path"),
        ],
    );
    assert_eq!(from_file, again);
}

#[test]
fn cells_adds_every_cell_with_its_scenario() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = bundled_suite();
    let out = ok(
        dir.path(),
        &[
            "run",
            "--cells",
            "--model",
            "reference/harmful",
            "--conditions",
            "*_explicit-america_*",
            suite.to_str().expect("a UTF-8 path"),
        ],
    );
    let header = line_with(&out, &["model", "scenario", "condition", "rate", "95% CI"]);
    assert!(
        header.find("scenario") < header.find("condition"),
        "{header}"
    );
    for scenario in ["blackmail", "leaking", "lethal-action"] {
        line_with(
            &out,
            &[
                "reference/harmful",
                &format!("agentic-misalignment/{scenario}"),
                &format!("{scenario}_explicit-america_none"),
                "100.0%",
                "[20.7%, 100.0%]",
            ],
        );
    }
    // The summary follows the cells.
    let cells_at = out.find("blackmail_explicit-america_none").expect("a cell");
    let summary_at = out.find("Self-test passed").expect("the verdict");
    assert!(cells_at < summary_at, "{out}");

    let run = run_dir(dir.path());
    let summary = ok(
        dir.path(),
        &["summary", "--cells", run.to_str().expect("a UTF-8 path")],
    );
    line_with(
        &summary,
        &[
            "agentic-misalignment/leaking",
            "leaking_explicit-america_replacement",
        ],
    );
}

#[test]
fn quiet_prints_the_summary_and_where_the_results_are() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = run_quietly(
        dir.path(),
        &bundled_suite(),
        &["--conditions", "blackmail_none-*"],
        None,
    );
    assert_success(&output);
    let (out, err) = (stdout(&output), stderr(&output));
    assert!(
        out.contains("reference/benign: 0 harmful of 3 completed (0.0%), 0 errors, 3 planned"),
        "{out}"
    );
    assert!(
        out.contains(
            "Self-test passed: reference/harmful judged harmful in 3 of 3 samples, \
             reference/benign in 0 of 3 samples."
        ),
        "{out}"
    );
    assert!(out.contains("Results: runs"), "{out}");
    assert!(
        !err.contains("No model named"),
        "quiet prints no notices:\n{err}"
    );
}

#[test]
fn a_run_in_progress_is_summarised_as_it_stands() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = bundled_suite();
    ok(
        dir.path(),
        &[
            "run",
            "--quiet",
            "--model",
            "reference/harmful",
            "--conditions",
            "blackmail_explicit-*",
            suite.to_str().expect("a UTF-8 path"),
        ],
    );
    let run = run_dir(dir.path());
    // The 8 `none`-urgency samples back to pending, as a run stopped
    // before them leaves them.
    results(&run)
        .execute_batch(
            "DELETE FROM verdicts WHERE sample_id IN
                 (SELECT id FROM samples WHERE condition_id LIKE '%_none');
             UPDATE samples SET status = 'pending', transcript = NULL, facts = NULL,
                 end_reason = NULL, turns = NULL, logs = NULL, usage = NULL, stop = NULL
                 WHERE condition_id LIKE '%_none';",
        )
        .expect("eight samples are pending again");
    let output = crucible(dir.path())
        .arg("summary")
        .arg(&run)
        .output()
        .expect("crucible runs");
    assert_success(&output);
    let (out, err) = (stdout(&output), stderr(&output));
    assert!(
        out.contains("8 of 24 samples are pending (not run yet)"),
        "{out}"
    );
    assert!(
        out.contains("Self-test not finished: 8 of the reference models' 24 samples are pending."),
        "{out}"
    );
    // The matrix has what ran: no `none` urgency yet.
    line_with(
        &out,
        &["reference/harmful", "explicit", "100% (8/8)", "- (0/0)"],
    );
    line_with(&out, &["reference/harmful", "blackmail", "16 / 16"]);
    assert!(
        err.contains("is not finished: 8 of 24 samples are still pending")
            && err.contains("crucible run --resume"),
        "{err}"
    );
}

#[test]
fn summary_of_what_is_not_a_run_is_one_clear_error() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("a directory");
    let garbage = dir.path().join("results.sqlite");
    std::fs::write(&garbage, "not a database").expect("a file");
    let missing = dir.path().join("missing");
    for (path, expected) in [
        (empty.as_path(), "is not a run: it has no results.sqlite"),
        (missing.as_path(), "is not a run"),
        (garbage.as_path(), "not a database"),
    ] {
        let output = crucible(dir.path())
            .arg("summary")
            .arg(path)
            .output()
            .expect("crucible runs");
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{err}");
        assert!(err.contains(expected), "{err}");
        assert_eq!(err.lines().count(), 1, "one line:\n{err}");
        assert!(stdout(&output).is_empty());
    }
}
