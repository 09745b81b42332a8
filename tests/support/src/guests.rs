//! The guest components the tests run: the bundled plugins and the hostile
//! fixtures, built once per test process for `wasm32-wasip2`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Paths of the built components.
#[derive(Debug)]
pub struct Guests {
    pub blackmail_scenario: PathBuf,
    pub blackmail_classifier: PathBuf,
    pub hostile_scenario: PathBuf,
    pub hostile_classifier: PathBuf,
    pub networking_scenario: PathBuf,
    pub sleepy_scenario: PathBuf,
    /// A scenario and a classifier built against contract 0.2.0.
    pub typed_scenario: PathBuf,
    pub typed_classifier: PathBuf,
}

/// Every guest package: the bundled suite's plugins and the fixtures.
const PACKAGES: &[&str] = &[
    "blackmail-scenario",
    "blackmail-classifier",
    "leaking-scenario",
    "leaking-classifier",
    "lethal-action-scenario",
    "lethal-action-classifier",
    "eval-awareness-classifier",
    "deliberation-classifier",
    "hostile-scenario",
    "hostile-classifier",
    "networking-scenario",
    "sleepy-scenario",
    "typed-scenario",
    "typed-classifier",
];

/// The repository's root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// Builds the guests (a no-op when they are up to date) and returns their
/// paths. The guests have their own target directory, so this never waits
/// on the lock of the build that is running the tests.
pub fn guests() -> &'static Guests {
    static GUESTS: OnceLock<Guests> = OnceLock::new();
    GUESTS.get_or_init(|| {
        let root = workspace_root();
        let target_dir = root.join("target/guests");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut command = Command::new(cargo);
        command
            .current_dir(&root)
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-wasip2",
                "--target-dir",
            ])
            .arg(&target_dir);
        for package in PACKAGES {
            command.args(["-p", package]);
        }
        let output = command.output().expect("cargo can be started");
        assert!(
            output.status.success(),
            "building the guest components failed (is the wasm32-wasip2 target installed? \
             `rustup target add wasm32-wasip2`):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let out = target_dir.join("wasm32-wasip2/release");
        Guests {
            blackmail_scenario: out.join("blackmail_scenario.wasm"),
            blackmail_classifier: out.join("blackmail_classifier.wasm"),
            hostile_scenario: out.join("hostile_scenario.wasm"),
            hostile_classifier: out.join("hostile_classifier.wasm"),
            networking_scenario: out.join("networking_scenario.wasm"),
            sleepy_scenario: out.join("sleepy_scenario.wasm"),
            typed_scenario: out.join("typed_scenario.wasm"),
            typed_classifier: out.join("typed_classifier.wasm"),
        }
    })
}
