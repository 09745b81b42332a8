//! `crucible show`: the opening a model is sent for a condition, the same
//! bytes a run sends, and one clear error for a condition the suite does
//! not offer.

use super::*;

use crucible_engine::results::RunResults;

const CONDITION: &str = "blackmail_explicit-america_replacement";

/// `crucible show ARGS --json` in `dir`, parsed.
fn show_json(dir: &Path, args: &[&str]) -> Value {
    let output = crucible(dir)
        .arg("show")
        .args(args)
        .arg("--json")
        .output()
        .expect("crucible runs");
    assert_success(&output);
    serde_json::from_str(&stdout(&output)).expect("show --json prints JSON")
}

/// Runs `suite` for the one condition, two samples, with run seed 7, and
/// reads the run back.
fn run_condition(dir: &Path, suite: &Path) -> RunResults {
    let output = run_quietly(
        dir,
        suite,
        &[
            "--model",
            "reference/harmful",
            "--conditions",
            CONDITION,
            "-n",
            "2",
            "--seed",
            "7",
        ],
        None,
    );
    assert_success(&output);
    let run = crucible_engine::store::read_run(&run_dir(dir)).expect("the run reads back");
    assert_eq!(run.samples.len(), 2);
    run
}

/// What `show` printed matches what the run's sample was sent.
fn assert_same_opening(shown: &Value, sample: &crucible_engine::results::SampleResult) {
    let transcript = &sample.record.transcript;
    assert_eq!(
        shown["seed"].as_u64(),
        Some(sample.seed),
        "the sample's seed"
    );
    assert_eq!(shown["label"].as_str(), Some(sample.condition_id.as_str()));
    assert_eq!(
        shown["system_prompt"].as_str(),
        Some(transcript[0].content.as_str()),
        "the system prompt, byte for byte"
    );
    let messages = shown["messages"].as_array().expect("messages");
    assert!(!messages.is_empty());
    for (index, message) in messages.iter().enumerate() {
        assert_eq!(
            message["content"].as_str(),
            Some(transcript[index + 1].content.as_str()),
            "opening message {index}, byte for byte"
        );
    }
    let params: Vec<(String, String)> = sample
        .condition
        .params
        .iter()
        .map(|p| (p.name.clone(), p.value.clone()))
        .collect();
    let shown_params: Vec<(String, String)> = shown["condition"]["params"]
        .as_array()
        .expect("params")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_owned(),
                p["value"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(shown_params, params);
}

#[test]
fn show_prints_the_opening_a_run_sends() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = bundled_suite();
    let run = run_condition(dir.path(), &suite);
    let suite_arg = suite.to_str().expect("a UTF-8 path");
    for sample in &run.samples {
        let index = sample.sample_index.to_string();
        let shown = show_json(
            dir.path(),
            &[CONDITION, suite_arg, "--seed", "7", "--sample", &index],
        );
        assert_same_opening(&shown, sample);
        assert_eq!(shown["run_seed"].as_u64(), Some(7));
        assert_eq!(shown["run_seed_source"].as_str(), Some("given"));
        let tools = shown["tools"].as_array().expect("tools");
        assert!(
            tools.iter().any(|t| t["name"] == "send_email"
                && t["parameters"]
                    .as_str()
                    .is_some_and(|p| p.contains("\"to\""))),
            "{tools:?}"
        );
    }

    // As text: the same system prompt, unwrapped, and the seed said.
    let output = crucible(dir.path())
        .args(["show", CONDITION, suite_arg, "--seed", "7"])
        .output()
        .expect("crucible runs");
    assert_success(&output);
    let out = stdout(&output);
    let system = &run.samples[0].record.transcript[0].content;
    assert!(out.contains(system.as_str()), "{out}");
    assert!(
        out.contains(&format!(
            "seed:       {}: sample 0 of a run with seed 7 (given with --seed)",
            run.samples[0].seed
        )),
        "{out}"
    );
    assert!(
        out.contains("parameters: goal_type=explicit, goal_value=america, urgency=replacement"),
        "{out}"
    );
    assert!(out.contains("===== tool send_email: parameters"), "{out}");

    // Without --seed, the suite's own run seed, said so.
    let shown = show_json(dir.path(), &[CONDITION, suite_arg]);
    assert_eq!(shown["run_seed"].as_u64(), Some(20_250_620));
    assert_eq!(shown["run_seed_source"].as_str(), Some("suite"));
}

#[test]
fn parameters_set_on_the_command_line_open_as_the_suite_would() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = bundled_suite_with_params(dir.path(), "protocol = \"text\"");
    let run = run_condition(dir.path(), &suite);
    let labelled = format!("{CONDITION}[protocol=text]");
    assert_eq!(run.samples[0].condition_id, labelled);
    let bundled = bundled_suite();
    let bundled = bundled.to_str().expect("a UTF-8 path");
    // The bundled suite with the parameter given, by flag or by label.
    for args in [
        vec![CONDITION, bundled, "--param", "protocol=text"],
        vec![labelled.as_str(), bundled],
    ] {
        let mut args = args;
        args.extend(["--seed", "7"]);
        let shown = show_json(dir.path(), &args);
        assert_same_opening(&shown, &run.samples[0]);
    }
    // The text protocol's prompt differs from the native one's.
    let native = show_json(dir.path(), &[CONDITION, bundled, "--seed", "7"]);
    assert_ne!(
        native["system_prompt"],
        run.samples[0].record.transcript[0].content.as_str()
    );
}

#[test]
fn an_unknown_condition_is_one_clear_error() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = bundled_suite();
    let suite = suite.to_str().expect("a UTF-8 path");
    let output = crucible(dir.path())
        .args(["show", "blackmail_explict-america_replacement", suite])
        .output()
        .expect("crucible runs");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "one line:\n{err}");
    assert!(
        err.contains("the suite offers no condition `blackmail_explict-america_replacement`")
            && err.contains("the closest it offers: blackmail_explicit-america_replacement,"),
        "{err}"
    );
    assert!(stdout(&output).is_empty());

    for (args, expected) in [
        (
            vec![CONDITION, suite, "--param", "protocol=morse"],
            "parameter `protocol` cannot be `morse`; allowed: native, text",
        ),
        (
            vec![
                "blackmail_explicit-america_replacement[protocol=text",
                suite,
            ],
            "is not a condition label",
        ),
        (
            vec![CONDITION, suite, "--scenario", "leaking"],
            "the suite offers no condition",
        ),
    ] {
        let output = crucible(dir.path())
            .arg("show")
            .args(&args)
            .output()
            .expect("crucible runs");
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}
