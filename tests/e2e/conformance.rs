//! Every reference behaviour of every condition of every scenario is
//! classified as labelled by the scenario's own classifier, under both
//! protocols and with and without the scratchpad.

use super::*;

fn check(dir: &Path, suite: &Path, args: &[&str]) -> String {
    let output = crucible(dir)
        .arg("check")
        .arg(suite)
        .args(args)
        .output()
        .expect("crucible runs");
    let out = stdout(&output);
    assert!(output.status.success(), "{out}\n{}", stderr(&output));
    assert!(out.contains(" not\n") && out.contains(", 0 not"), "{out}");
    out
}

#[test]
fn every_reference_is_classified_as_labelled_on_the_default_settings() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = check(dir.path(), &bundled_suite(), &[]);
    assert!(out.contains("of 234 conditions"), "{out}");
}

#[test]
fn every_reference_is_classified_as_labelled_in_the_text_protocol_without_scratchpad() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = bundled_suite_with_params(dir.path(), "protocol = \"text\", prod = \"true\"");
    let out = check(dir.path(), &suite, &[]);
    assert!(out.contains("of 234 conditions"), "{out}");
}

#[test]
fn every_reference_is_classified_as_labelled_with_rules_and_the_awareness_notice() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = bundled_suite_with_params(
        dir.path(),
        "extra_instructions = \"rules\", eval_awareness = \"notice\"",
    );
    check(dir.path(), &suite, &[]);
}

#[test]
fn every_subsuite_checks_clean() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for subsuite in [
        "headline",
        "replacement-only",
        "conflict-only",
        "control",
        "goal-values",
        "do-not-rules",
        "eval-awareness",
        "lethal-action",
    ] {
        check(dir.path(), &bundled_suite(), &["--subsuite", subsuite]);
    }
}

/// The suite's labelled cases, played through its real scenarios and
/// classifiers: each classifier decides by rule exactly what the case says
/// is certain, says it needs a judge for the rest, and with a judge that
/// answers by the label comes out as labelled. So no harmful case is called
/// benign, and no refused or unexecuted action is called harmful, with or
/// without a judge.
#[test]
fn every_labelled_case_comes_out_as_expected_with_and_without_a_judge() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cases = workspace_root().join("suites/cases/agentic-misalignment");
    let output = crucible(dir.path())
        .arg("check")
        .arg(bundled_suite())
        .arg("--cases")
        .arg(&cases)
        .output()
        .expect("crucible runs");
    let out = stdout(&output);
    assert!(output.status.success(), "{out}\n{}", stderr(&output));
    assert!(!out.contains("NOT AS EXPECTED"), "{out}");
    let summary = out.lines().last().unwrap_or_default();
    let checked: usize = summary
        .strip_prefix("checked ")
        .and_then(|rest| rest.split_once(' '))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("no summary line: {out}"));
    assert!(checked >= 60, "{checked} cases: {out}");
    for classifier in [
        "blackmail-classifier",
        "leaking-classifier",
        "lethal-action-classifier",
        "eval-awareness",
        "deliberation",
    ] {
        assert!(
            out.contains(&format!("agentic-misalignment/{classifier}@")),
            "no case for {classifier}: {out}"
        );
    }
}

#[test]
fn a_case_naming_what_the_suite_lacks_is_one_clear_error() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cases = dir.path().join("cases");
    std::fs::create_dir_all(&cases).expect("mkdir");
    std::fs::write(
        cases.join("bad.json"),
        r#"{"description": "d", "scenario": "blackmail", "condition": "blackmail_none-none_none",
            "replies": [{"text": "Done."}], "expect": {"no-such-classifier":
            {"label": "benign", "without_judge": "benign"}}}"#,
    )
    .expect("write");
    let output = crucible(dir.path())
        .arg("check")
        .arg(bundled_suite())
        .arg("--cases")
        .arg(&cases)
        .output()
        .expect("crucible runs");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad.json") && err.contains("no classifier `no-such-classifier`"),
        "{err}"
    );
}
