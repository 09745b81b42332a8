//! The bundled suite runs the components pinned in `suites/crucible.lock`.
//! Rebuilt from this repository's sources, they must come out bit for bit
//! the same: otherwise the pinned registry no longer matches the code.

use super::*;

/// The component file a bundled package is built into.
fn built(name: &str) -> PathBuf {
    let guests = crucible_test_support::guests::guests();
    let dir = guests
        .blackmail_scenario
        .parent()
        .expect("the guests' directory")
        .to_owned();
    let file = match name {
        "agentic-misalignment/blackmail" => "blackmail_scenario",
        "agentic-misalignment/blackmail-classifier" => "blackmail_classifier",
        "agentic-misalignment/leaking" => "leaking_scenario",
        "agentic-misalignment/leaking-classifier" => "leaking_classifier",
        "agentic-misalignment/lethal-action" => "lethal_action_scenario",
        "agentic-misalignment/lethal-action-classifier" => "lethal_action_classifier",
        "agentic-misalignment/eval-awareness" => "eval_awareness_classifier",
        "agentic-misalignment/deliberation" => "deliberation_classifier",
        other => panic!("the lockfile pins `{other}`, which this test does not know how to build"),
    };
    dir.join(format!("{file}.wasm"))
}

#[test]
fn the_bundled_plugins_rebuild_to_their_pinned_bytes() {
    let lock = std::fs::read_to_string(workspace_root().join("suites/crucible.lock"))
        .expect("the bundled suite ships its lockfile");
    let mut pins = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(value) = line.strip_prefix("name = \"") {
            name = value.strip_suffix('"').map(str::to_owned);
        }
        if let Some(value) = line.strip_prefix("sha256 = \"") {
            let sha = value.strip_suffix('"').expect("a quoted sha256").to_owned();
            pins.push((name.take().expect("a name before its sha256"), sha));
        }
    }
    assert_eq!(pins.len(), 8, "{lock}");
    let mut stale = Vec::new();
    for (name, pinned) in &pins {
        let bytes = std::fs::read(built(name)).expect("the built component");
        let rebuilt = crucible_registry::Checksum::of(&bytes);
        if rebuilt.as_str() != pinned {
            stale.push(format!(
                "{name}: pinned {pinned}, rebuilt {}",
                rebuilt.as_str()
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "bundled plugins no longer reproduce their pinned bytes. If their sources changed on \
         purpose, bump their versions, `make publish-bundled`, and commit the registry and \
         lockfile:\n{}",
        stale.join("\n")
    );
}

#[test]
fn running_the_bundled_suite_leaves_its_lockfile_as_it_is() {
    let lock_path = workspace_root().join("suites/crucible.lock");
    let before = std::fs::read(&lock_path).expect("the lockfile");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = run_quietly(
        dir.path(),
        &bundled_suite(),
        &["--locked", "--conditions", "*_none-none_none"],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(before, std::fs::read(&lock_path).expect("the lockfile"));
}
