//! Bad input gets one clear line naming the problem and a non-zero exit,
//! never a panic or a backtrace.

use super::*;

/// Runs crucible with `args` in `dir` and returns its stderr, asserting it
/// failed the way bad input must.
fn refused(dir: &Path, args: &[&str]) -> String {
    let output = crucible(dir).args(args).output().expect("crucible runs");
    let err = stderr(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "exit status for {args:?}; stderr:\n{err}"
    );
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    err
}

#[test]
fn a_missing_suite_is_named() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let err = refused(dir.path(), &["run", "no-such-suite.toml"]);
    assert!(err.contains("no-such-suite.toml"), "{err}");
}

#[test]
fn a_malformed_suite_names_its_file_and_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        dir.path().join("bad.toml"),
        "[suite]\nname = \"x\"\n[run]\nsamples = \"many\"\n",
    )
    .expect("write");
    let err = refused(dir.path(), &["run", "bad.toml"]);
    assert!(err.contains("bad.toml:4:"), "{err}");
}

#[test]
fn an_unknown_provider_is_named() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = bundled_suite();
    let err = refused(
        dir.path(),
        &[
            "run",
            suite.to_str().expect("utf-8"),
            "--model",
            "acme/rocket-1",
        ],
    );
    assert!(err.contains("unknown provider `acme`"), "{err}");
}

#[test]
fn an_unknown_offline_model_is_named() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = bundled_suite();
    let err = refused(
        dir.path(),
        &[
            "run",
            suite.to_str().expect("utf-8"),
            "--model",
            "reference/evil",
        ],
    );
    assert!(err.contains("reference/evil"), "{err}");
}

#[test]
fn a_missing_api_key_names_the_variable() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = bundled_suite();
    let err = refused(
        dir.path(),
        &[
            "run",
            suite.to_str().expect("utf-8"),
            "--model",
            "openai/gpt-4.1",
        ],
    );
    assert!(err.contains("OPENAI_API_KEY"), "{err}");
}

#[test]
fn a_missing_anthropic_key_names_the_variable() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = bundled_suite();
    let err = refused(
        dir.path(),
        &[
            "run",
            suite.to_str().expect("utf-8"),
            "--model",
            "anthropic/claude-x",
        ],
    );
    assert!(err.contains("ANTHROPIC_API_KEY"), "{err}");
}

#[test]
fn a_component_of_the_wrong_world_is_refused_with_its_contract() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let guests = crucible_test_support::guests::guests();
    // The classifier where the scenario should be.
    let suite = write_suite(
        dir.path(),
        &guests.blackmail_classifier,
        &guests.blackmail_classifier,
        "",
    );
    let err = refused(dir.path(), &["run", suite.to_str().expect("utf-8")]);
    assert!(err.contains("is a classifier, not a scenario"), "{err}");
    assert!(err.contains("crucible:plugin/classifier@0.1.0"), "{err}");
}

#[test]
fn a_file_that_is_not_a_component_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let guests = crucible_test_support::guests::guests();
    let fake = dir.path().join("fake.wasm");
    std::fs::write(&fake, b"\0asm\x01\0\0\0").expect("write a core module header");
    let suite = write_suite(dir.path(), &fake, &guests.blackmail_classifier, "");
    let err = refused(dir.path(), &["run", suite.to_str().expect("utf-8")]);
    assert!(
        err.contains("core WebAssembly module, not a component"),
        "{err}"
    );
}

#[test]
fn a_pinned_hash_that_does_not_match_names_both_hashes() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let guests = crucible_test_support::guests::guests();
    let suite = write_suite(
        dir.path(),
        &guests.blackmail_scenario,
        &guests.blackmail_classifier,
        "",
    );
    let wrong = "0".repeat(64);
    let text = std::fs::read_to_string(&suite).expect("read the suite");
    let pinned = text.replacen(
        "classifiers = [\"c\"]",
        &format!("sha256 = \"{wrong}\"\nclassifiers = [\"c\"]"),
        1,
    );
    std::fs::write(&suite, pinned).expect("write the suite");
    let err = refused(dir.path(), &["run", "suite.toml"]);
    assert!(
        err.contains("sha256 mismatch") && err.contains(&wrong),
        "{err}"
    );
}

#[test]
fn a_condition_pattern_that_matches_nothing_is_named() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = bundled_suite();
    let err = refused(
        dir.path(),
        &[
            "run",
            suite.to_str().expect("utf-8"),
            "--conditions",
            "nothing-like-this",
        ],
    );
    assert!(err.contains("nothing-like-this"), "{err}");
}

#[test]
fn a_component_that_imports_networking_is_refused_before_it_runs() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let guests = crucible_test_support::guests::guests();
    let suite = write_suite(
        dir.path(),
        &guests.networking_scenario,
        &guests.blackmail_classifier,
        "",
    );
    let err = refused(dir.path(), &["run", suite.to_str().expect("utf-8")]);
    assert!(err.contains("`wasi:sockets/tcp@"), "{err}");
    assert!(err.contains("which the sandbox does not provide"), "{err}");
    assert!(
        !dir.path().join("runs").exists(),
        "nothing ran, nothing was written"
    );
}
