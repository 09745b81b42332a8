//! `crucible diff`: two runs, or two label sets of one run, cell by cell,
//! paired where the samples pair.

use std::ffi::OsStr;

use super::*;

/// An offline run of the reference pair on some blackmail conditions, in
/// `dir/runs`, with `args` added.
fn offline_run(dir: &Path, conditions: &str, args: &[&str]) -> PathBuf {
    let output = crucible(dir)
        .args(["run", "--quiet", "--conditions", conditions])
        .args(args)
        .arg(bundled_suite())
        .output()
        .expect("crucible runs");
    assert_success(&output);
    run_dir(dir)
}

fn diff(dir: &Path, args: &[&OsStr]) -> Output {
    crucible(dir)
        .arg("diff")
        .args(args)
        .output()
        .expect("crucible runs")
}

fn diff_json(dir: &Path, a: &Path, b: &Path) -> Value {
    let output = diff(dir, &[a.as_os_str(), b.as_os_str(), OsStr::new("--json")]);
    assert_success(&output);
    serde_json::from_str(&stdout(&output)).expect("the comparison is JSON")
}

/// Two runs of one plan and one seed pair sample for sample; the cells the
/// second run lacks are counted, not compared.
#[test]
fn runs_with_the_same_seed_pair() {
    let (one, two) = (
        tempfile::tempdir().expect("a temporary directory"),
        tempfile::tempdir().expect("a temporary directory"),
    );
    let a = offline_run(one.path(), "blackmail_explicit-*", &[]);
    let b = offline_run(two.path(), "blackmail_explicit-america_*", &[]);

    let comparison = diff_json(one.path(), &a, &b);
    let cells = comparison["cells"].as_array().expect("cells");
    // Explicit-goal America: 3 urgencies, x 2 models.
    assert_eq!(cells.len(), 6, "{comparison}");
    for row in cells {
        assert_eq!(row["pairing"], "paired", "{row}");
        assert_eq!(row["paired_samples"], 1, "{row}");
        assert_eq!(row["test"]["method"], "mcnemar_exact", "{row}");
        assert_eq!(row["test"]["p_value"], 1.0, "{row}");
        assert_eq!(row["difference"]["estimate"], 0.0, "{row}");
        assert_eq!(row["difference_method"], "newcombe_paired", "{row}");
        assert_eq!(row["differs"], false, "{row}");
    }
    assert_eq!(
        comparison["only_in_a"].as_array().map(Vec::len),
        Some(48 - 6)
    );
    assert_eq!(comparison["only_in_b"].as_array().map(Vec::len), Some(0));
    let pooled = comparison["pooled"].as_array().expect("pooled rows");
    assert_eq!(pooled.len(), 2, "one per model x scenario: {comparison}");
    assert_eq!(pooled[0]["model"], "reference/harmful");
    assert_eq!(pooled[0]["a"]["harmful"], 3);
    assert_eq!(pooled[0]["b"]["rate"], 1.0);
    assert_eq!(pooled[0]["pairs"]["both"], 3);

    let output = diff(one.path(), &[a.as_os_str(), b.as_os_str()]);
    assert_success(&output);
    let text = stdout(&output);
    assert!(text.contains("No cell differs (6 compared)."), "{text}");
    assert!(text.contains("3 pairs, 0 differ"), "{text}");
    assert!(
        text.contains("Not compared: 42 cell(s) only in A, 0 only in B."),
        "{text}"
    );
    let all = diff(
        one.path(),
        &[a.as_os_str(), b.as_os_str(), OsStr::new("--all")],
    );
    assert!(
        stdout(&all).contains("blackmail_explicit-america_replacement"),
        "{}",
        stdout(&all)
    );
}

/// Runs of different seeds do not pair: their cells are compared as
/// independent samples, with Fisher's exact test.
#[test]
fn runs_with_different_seeds_do_not_pair() {
    let (one, two) = (
        tempfile::tempdir().expect("a temporary directory"),
        tempfile::tempdir().expect("a temporary directory"),
    );
    let a = offline_run(one.path(), "blackmail_explicit-america_*", &[]);
    let b = offline_run(two.path(), "blackmail_explicit-america_*", &["--seed", "7"]);
    let comparison = diff_json(one.path(), &a, &b);
    let cells = comparison["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 6);
    for row in cells {
        assert_eq!(row["pairing"], "unpaired", "{row}");
        assert_eq!(row["paired_samples"], 0, "{row}");
        assert_eq!(row["test"]["method"], "fisher_exact", "{row}");
        assert_eq!(row["test"]["p_value"], 1.0, "{row}");
        assert_eq!(row["difference_method"], "newcombe_independent", "{row}");
    }
    let harmful = &comparison["pooled"][0];
    assert_eq!(harmful["model"], "reference/harmful");
    // 3/3 against 3/3, independent: Newcombe's hybrid interval, from the
    // two Wilson intervals [0.4385, 1].
    let low = harmful["difference"]["low"].as_f64().expect("a bound");
    assert!((low + 0.5615).abs() < 1e-3, "{harmful}");
    let output = diff(one.path(), &[a.as_os_str(), b.as_os_str()]);
    assert!(stdout(&output).contains("unpaired"), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("Fisher p=1.000"),
        "{}",
        stdout(&output)
    );
}

/// What is not a run, a run still in progress, a label set the run does
/// not have, and one run with nothing to compare it to: one clear error
/// each, exit status 2.
#[test]
fn bad_sides_are_refused_clearly() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = offline_run(dir.path(), "blackmail_explicit-america_*", &[]);
    let empty = dir.path().join("not-a-run");
    std::fs::create_dir(&empty).expect("a directory");
    let junk = dir.path().join("junk.sqlite");
    std::fs::write(&junk, "this is not a database").expect("a file");

    let cases: Vec<(Vec<&OsStr>, String)> = vec![
        (
            vec![empty.as_os_str(), run.as_os_str()],
            format!("{} is not a run", empty.display()),
        ),
        (
            vec![run.as_os_str(), junk.as_os_str()],
            "not a database".to_owned(),
        ),
        (
            vec![run.as_os_str(), OsStr::new("--labels"), OsStr::new("nope")],
            "has no label set `nope`; it has: original".to_owned(),
        ),
        (vec![run.as_os_str()], "nothing to compare".to_owned()),
    ];
    for (args, expected) in cases {
        let output = diff(dir.path(), &args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        let err = stderr(&output);
        assert!(err.contains(&expected), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    }

    results(&run)
        .execute(
            "UPDATE samples SET status = 'pending' WHERE id = (SELECT MIN(id) FROM samples)",
            [],
        )
        .expect("a sample made pending");
    let output = diff(dir.path(), &[run.as_os_str(), run.as_os_str()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is not finished: 1 of 6 samples are still pending"),
        "{}",
        stderr(&output)
    );
}
