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
