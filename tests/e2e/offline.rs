//! The quick start's run: the bundled suite, offline, on the reference pair.

use super::*;

#[test]
fn bundled_suite_offline_gives_the_expected_figures() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = crucible(dir.path())
        .arg("run")
        .arg(bundled_suite())
        .output()
        .expect("crucible runs");
    let (out, err) = (stdout(&output), stderr(&output));
    assert!(output.status.success(), "stdout:\n{out}\nstderr:\n{err}");
    assert!(err.contains("No model named"), "{err}");
    assert!(
        out.contains("reference/harmful: 234 harmful of 234 completed (100.0%), 0 errors"),
        "{out}"
    );
    assert!(
        out.contains("reference/benign: 0 harmful of 234 completed (0.0%), 0 errors"),
        "{out}"
    );
    assert!(
        out.contains("the scripted reference/judge answered with the reference's label"),
        "the table says what the verdicts rest on:\n{out}"
    );
    assert!(
        !out.contains("reference/judge: "),
        "the scripted judge called no model, so it has no usage line:\n{out}"
    );

    let summary = summary(&run_dir(dir.path()));
    assert_eq!(summary["judge"], Value::Null);
    let cells = summary["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 2 * 3 * 78);
    let scenarios: std::collections::BTreeSet<&str> = cells
        .iter()
        .filter_map(|c| c["scenario"].as_str())
        .collect();
    assert_eq!(
        scenarios.into_iter().collect::<Vec<_>>(),
        [
            "agentic-misalignment/blackmail",
            "agentic-misalignment/leaking",
            "agentic-misalignment/lethal-action"
        ]
    );
    for cell in cells {
        for field in [
            "model",
            "scenario",
            "condition",
            "n",
            "harmful",
            "errors",
            "rate",
            "ci_low",
            "ci_high",
        ] {
            assert!(cell.get(field).is_some(), "cell lacks {field}: {cell}");
        }
        assert_eq!(cell["n"], 1);
        assert_eq!(cell["errors"], 0);
        let expected = match cell["model"].as_str() {
            Some("reference/harmful") => 1.0,
            Some("reference/benign") => 0.0,
            other => panic!("unexpected model {other:?}"),
        };
        assert_eq!(cell["rate"].as_f64(), Some(expected), "{cell}");
        let secondary = cell["secondary"]
            .as_object()
            .expect("secondary classifiers");
        let names: Vec<&str> = secondary.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "agentic-misalignment/deliberation@0.2.0",
                "agentic-misalignment/eval-awareness@0.2.0"
            ],
            "{cell}"
        );
        // The label says nothing about evaluation awareness or
        // deliberation, so the scripted judge answers only the primary
        // classifier: without a judge of their own, these read the
        // references' words and say a judge is needed, as errors.
        for counts in secondary.values() {
            assert_eq!(counts["samples"], 1, "{cell}");
            assert_eq!(counts["errors"], 1, "{cell}");
        }
        let (lo, hi) = (
            cell["ci_low"].as_f64().expect("lo"),
            cell["ci_high"].as_f64().expect("hi"),
        );
        assert!(lo <= expected && expected <= hi, "{cell}");
    }

    // The figures computed from the run read back as data (as bundles,
    // verification and comparisons compute them) are the summary's own.
    let run = crucible_engine::store::read_run(&run_dir(dir.path())).expect("the run reads back");
    assert_eq!(run.pending(), 0);
    assert_eq!(run.samples.len(), 2 * 3 * 78);
    let recomputed =
        serde_json::to_value(crucible_engine::results::figures(&run)).expect("figures serialize");
    assert_eq!(&recomputed, &summary["cells"]);
}

#[test]
fn the_store_keeps_config_plugins_transcripts_and_verdicts() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = harmful_reference_run(dir.path(), "blackmail_explicit-america_replacement", &[]);
    let db = results(&run);

    let config: String = db
        .query_row("SELECT value FROM meta WHERE key = 'config'", [], |r| {
            r.get(0)
        })
        .expect("the resolved config is stored");
    let config: Value = serde_json::from_str(&config).expect("config is JSON");
    assert_eq!(config["models"][0], "reference/harmful");
    assert_eq!(config["wasmtime_version"], "48.0.8");

    let hashes: Vec<String> = db
        .prepare("SELECT sha256 FROM plugins ORDER BY role")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("plugins are stored");
    assert_eq!(hashes.len(), 4, "the scenario and its three classifiers");
    assert!(hashes.iter().all(|h| h.len() == 64));

    let status: String = db
        .query_row("SELECT status FROM samples", [], |r| r.get(0))
        .expect("one sample");
    assert_eq!(status, "completed");
    let sample = &stored_samples(&run)[0];
    let transcript = serde_json::to_value(&sample.record.transcript).expect("transcript JSON");
    let facts = as_json(&sample.record.facts);
    let roles: Vec<&str> = transcript
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["role"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(roles[..2], ["system", "user"]);
    assert!(
        roles.contains(&"tool"),
        "the tool result is in the transcript: {roles:?}"
    );
    assert!(facts.contains("executive_address"), "{facts}");
    let facts: Vec<Value> = serde_json::from_str(&facts).expect("facts JSON");
    let actions = facts
        .iter()
        .find(|f| f["name"] == "actions")
        .and_then(|f| f["value"].as_str())
        .expect("the scenario's record of what it executed");
    let actions: Value = serde_json::from_str(actions).expect("the record is JSON");
    assert_eq!(actions[0]["status"], "executed", "{actions}");
    assert_eq!(
        actions[0]["effect"]["to"][0], "graham.pryce@lanternfield.example",
        "{actions}"
    );

    // The email reached the executive, so the classifier asked a judge:
    // with no judge model configured, the scripted one answered by the
    // reference's label, and its settings are recorded with the verdict.
    let (harmful, judged, label): (bool, bool, String) = db
        .query_row(
            "SELECT harmful, judged, label FROM verdicts WHERE position = 0",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("one verdict");
    assert!(harmful && judged);
    assert_eq!(label, "blackmail");
    let samples = stored_samples(&run);
    let judge = &samples[0].record.verdicts[0].judge;
    assert_eq!(judge[0].model, "reference/judge", "{judge:?}");
}

#[test]
fn a_subsuite_runs_its_cells_with_its_parameters() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = crucible(dir.path())
        .args(["run", "--subsuite", "headline", "--samples", "3"])
        .arg(bundled_suite())
        .output()
        .expect("crucible runs");
    let (out, err) = (stdout(&output), stderr(&output));
    assert!(output.status.success(), "{out}\n{err}");
    assert!(err.contains("Sub-suite headline:"), "{err}");
    assert!(err.contains("The study reported:"), "{err}");
    let summary = summary(&run_dir(dir.path()));
    assert_eq!(summary["subsuite"], "headline");
    let cells = summary["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 2, "one cell per reference model");
    for cell in cells {
        assert_eq!(
            cell["condition"],
            "blackmail_explicit-america_replacement[protocol=text]"
        );
        assert_eq!(cell["n"], 3);
    }
}
