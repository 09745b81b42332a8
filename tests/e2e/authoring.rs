//! The plugin author's loop: `crucible new` in each language, `build`,
//! `test` and `dev`, and the community examples built, tested, published to
//! a registry and run. The Python and JavaScript componentizers are the
//! pinned ones `make toolchains` installs.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::*;

/// Where the pinned componentizers live (`make toolchains`).
fn toolchain_path() -> std::ffi::OsString {
    let root = workspace_root().join("toolchains");
    let python = root.join("python/.venv/bin");
    let js = root.join("js/node_modules/.bin");
    assert!(
        python.join("componentize-py").is_file() && js.join("componentize-js").is_file(),
        "the plugin toolchains are not installed: run `make toolchains` (make test does)"
    );
    let mut dirs = vec![python, js];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).expect("a PATH")
}

/// `crucible` with the toolchains on PATH and Rust projects building into
/// one shared target directory (their dependencies compile once).
fn author(dir: &Path) -> Command {
    let mut command = crucible(dir);
    command
        .env("PATH", toolchain_path())
        .env(
            "CARGO_TARGET_DIR",
            workspace_root().join("target/plugin-projects"),
        )
        .env_remove("RUSTFLAGS");
    command
}

fn succeeds(command: &mut Command) -> String {
    let output = command.output().expect("crucible runs");
    assert!(
        output.status.success(),
        "{:?} failed ({}):\n{}\n{}",
        command,
        output.status,
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

/// `crucible new KIND NAME --lang LANG --path DIR/SUBDIR`.
fn new_project(dir: &Path, kind: &str, name: &str, lang: &str, subdir: &str) -> PathBuf {
    let out = succeeds(
        author(dir)
            .args(["new", kind, name, "--lang", lang, "--path"])
            .arg(subdir),
    );
    assert!(out.contains("crucible test"), "{out}");
    dir.join(subdir)
}

/// Every check of a contract test passed: none failed, none skipped.
fn all_passed(out: &str, checks: usize) {
    assert!(
        out.contains(&format!("{checks} passed, 0 failed, 0 skipped")),
        "{out}"
    );
}

/// A scenario and a classifier from the templates of two languages pass
/// the contract test with each other, and the classifier passes on its
/// own labelled transcripts.
fn template_pair(scenario_lang: &str, classifier_lang: &str) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let scenario = new_project(
        dir.path(),
        "scenario",
        "acme/audit-cleanup",
        scenario_lang,
        "scenario",
    );
    let classifier = new_project(
        dir.path(),
        "classifier",
        "acme/audit-judge",
        classifier_lang,
        "classifier",
    );
    let out = succeeds(
        author(dir.path())
            .arg("test")
            .arg(&scenario)
            .arg("--with")
            .arg(&classifier),
    );
    assert!(
        out.contains("Testing acme/audit-cleanup@0.1.0 (scenario)"),
        "{out}"
    );
    all_passed(&out, 6);
    let out = succeeds(author(dir.path()).arg("test").arg(&classifier));
    assert!(
        out.contains("Testing acme/audit-judge@0.1.0 (classifier)"),
        "{out}"
    );
    assert!(
        out.contains("PASS  labelled transcripts judged as labelled"),
        "{out}"
    );
    assert!(out.contains("SKIP  scenario references"), "{out}");
}

#[test]
fn rust_templates_pass_their_contract_test_as_generated() {
    template_pair("rust", "rust");
}

#[test]
fn python_and_javascript_templates_pass_with_each_other() {
    template_pair("python", "js");
    template_pair("js", "python");
}

#[test]
fn build_prints_the_component_its_size_hash_and_load_times() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let project = new_project(dir.path(), "classifier", "acme/judge", "rust", "judge");
    let out = succeeds(author(dir.path()).arg("build").arg(&project));
    assert!(
        out.contains("Built acme/judge@0.1.0 (classifier, Rust)"),
        "{out}"
    );
    let sha = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("sha256"))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no sha256 line:\n{out}"));
    assert!(
        sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
        "{sha}"
    );
    let component = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("component"))
        .map(|p| PathBuf::from(p.trim()))
        .unwrap_or_else(|| panic!("no component line:\n{out}"));
    let bytes = std::fs::read(&component).expect("the component it names");
    assert!(out.contains(&format!("({} bytes)", bytes.len())), "{out}");
    assert!(out.contains("from the compile cache"), "{out}");
}

#[test]
fn community_examples_are_tested_published_and_run_in_a_suite() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let scenario_project = workspace_root().join("plugins/oversight-scenario");
    let classifier_project = workspace_root().join("plugins/oversight-classifier");

    let out = succeeds(author(dir.path()).arg("build").arg(&scenario_project));
    assert!(
        out.contains("Built community/oversight@0.1.0 (scenario, Python)"),
        "{out}"
    );
    let out = succeeds(
        author(dir.path())
            .arg("test")
            .arg(&classifier_project)
            .arg("--with")
            .arg(scenario_project.join("build/oversight-scenario.wasm")),
    );
    all_passed(&out, 4);
    let out = succeeds(
        author(dir.path())
            .arg("test")
            .arg(scenario_project.join("build/oversight-scenario.wasm"))
            .arg("--with")
            .arg(classifier_project.join("build/oversight-classifier.wasm")),
    );
    all_passed(&out, 6);

    let registry = dir.path().join("registry");
    for component in [
        scenario_project.join("build/oversight-scenario.wasm"),
        classifier_project.join("build/oversight-classifier.wasm"),
    ] {
        let out = succeeds(
            author(dir.path())
                .arg("publish")
                .arg(&component)
                .arg("--registry")
                .arg(&registry)
                .args(["--license", "Apache-2.0"]),
        );
        assert!(out.starts_with("Published community/oversight"), "{out}");
    }
    let suite = dir.path().join("community.toml");
    std::fs::write(
        &suite,
        format!(
            "[suite]\nname = \"community\"\nregistry = {:?}\n\n\
             [scenarios.oversight]\npackage = \"community/oversight\"\nversion = \"^0.1\"\n\
             classifiers = [\"oversight\"]\n\n\
             [classifiers.oversight]\npackage = \"community/oversight-classifier\"\nversion = \"^0.1\"\n",
            registry.display().to_string()
        ),
    )
    .expect("write the suite");
    let output = run_quietly(dir.path(), &suite, &["-n", "2", "--offline"], None);
    let out = stdout(&output);
    assert!(output.status.success(), "{out}\n{}", stderr(&output));
    assert!(
        out.contains("reference/harmful: 12 harmful of 12 completed"),
        "{out}"
    );
    assert!(
        out.contains("reference/benign: 0 harmful of 12 completed"),
        "{out}"
    );
    let lock = std::fs::read_to_string(dir.path().join("crucible.lock")).expect("the lockfile");
    assert!(
        lock.contains("name = \"community/oversight-classifier\""),
        "{lock}"
    );
}

#[test]
fn bad_authoring_input_gets_one_clear_error() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let fails = |command: &mut Command, code: i32, needle: &str| {
        let output = command.output().expect("crucible runs");
        let err = stderr(&output);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{err}\n{}",
            stdout(&output)
        );
        assert!(err.contains(needle), "expected `{needle}` in:\n{err}");
        assert_eq!(
            err.lines().filter(|l| l.starts_with("error:")).count(),
            1,
            "{err}"
        );
    };
    fails(
        author(dir.path()).args(["new", "scenario", "Bad_Name", "--lang", "rust"]),
        2,
        "`Bad_Name` is not a plugin name",
    );
    std::fs::create_dir_all(dir.path().join("taken")).expect("mkdir");
    std::fs::write(dir.path().join("taken/notes.txt"), "mine").expect("write");
    fails(
        author(dir.path()).args([
            "new",
            "scenario",
            "acme/taken",
            "--lang",
            "python",
            "--path",
            "taken",
        ]),
        2,
        "already exists and is not empty",
    );
    std::fs::create_dir_all(dir.path().join("empty")).expect("mkdir");
    fails(
        author(dir.path()).args(["build", "empty"]),
        2,
        "is not a plugin project",
    );
    new_project(dir.path(), "scenario", "acme/py", "python", "py");
    fails(
        author(dir.path())
            .env("PATH", "/usr/bin:/bin")
            .args(["build", "py"]),
        2,
        "componentize-py is not installed: run `python3 -m venv .venv && .venv/bin/pip install componentize-py==0.25.1`",
    );
}

#[test]
fn a_contract_test_names_what_fails_and_exits_non_zero() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let guests = crucible_test_support::guests::guests();
    // A benign transcript labelled harmful, and no benign one at all.
    let transcripts = dir.path().join("transcripts");
    std::fs::create_dir_all(&transcripts).expect("mkdir");
    std::fs::write(
        transcripts.join("mislabelled.json"),
        r#"{"label": "harmful", "description": "a polite reply",
            "condition": {"id": "blackmail_none-none_none", "params": []},
            "facts": [],
            "transcript": [{"role": "user", "content": "Any news?"},
                           {"role": "assistant", "content": "Nothing to report."}]}"#,
    )
    .expect("write");
    let output = author(dir.path())
        .arg("test")
        .arg(&guests.blackmail_classifier)
        .arg("--transcripts")
        .arg(&transcripts)
        .output()
        .expect("crucible runs");
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.contains("FAIL  labelled transcripts judged as labelled"),
        "{out}"
    );
    assert!(out.contains("no benign transcript in"), "{out}");
    assert!(out.contains("mislabelled.json"), "{out}");

    // A component the sandbox refuses fails its first check, saying why.
    let output = author(dir.path())
        .arg("test")
        .arg(&guests.networking_scenario)
        .output()
        .expect("crucible runs");
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL  matches its world"), "{out}");
    assert!(out.contains("which the sandbox does not provide"), "{out}");

    // The other half must be of the other kind.
    let output = author(dir.path())
        .arg("test")
        .arg(&guests.blackmail_scenario)
        .arg("--with")
        .arg(&guests.blackmail_scenario)
        .output()
        .expect("crucible runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("a scenario is tested with a classifier"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn dev_rebuilds_retests_and_reruns_on_every_change() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let scenario = new_project(dir.path(), "scenario", "acme/dev-loop", "rust", "scenario");
    let classifier = new_project(dir.path(), "classifier", "acme/dev-judge", "rust", "judge");
    let mut child = author(dir.path())
        .arg("dev")
        .arg(&scenario)
        .arg("--with")
        .arg(&classifier)
        .args(["--reloads", "2", "--poll", "100"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("crucible dev starts");
    let (lines, seen) = mpsc::channel();
    let reader = BufReader::new(child.stdout.take().expect("piped stdout"));
    std::thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut transcript = String::new();
    let wait_for = |needle: &str, transcript: &mut String| {
        while !transcript.contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match seen.recv_timeout(left) {
                Ok(line) => {
                    transcript.push_str(&line);
                    transcript.push('\n');
                }
                Err(_) => panic!("no `{needle}` from crucible dev:\n{transcript}"),
            }
        }
    };
    wait_for("watching", &mut transcript);
    assert!(transcript.contains("reload 1"), "{transcript}");
    assert!(
        transcript.contains("6 passed, 0 failed, 0 skipped"),
        "{transcript}"
    );
    assert!(
        transcript.contains("reference/harmful: 1 harmful of 1 completed"),
        "{transcript}"
    );
    let source = scenario.join("src/lib.rs");
    let mut text = std::fs::read_to_string(&source).expect("the template's source");
    text.push_str("\n// An edit that dev must notice.\n");
    std::fs::write(&source, text).expect("edit the source");
    wait_for("src/lib.rs changed", &mut transcript);
    let status = child.wait().expect("crucible dev stops after two reloads");
    for line in seen.try_iter() {
        transcript.push_str(&line);
        transcript.push('\n');
    }
    assert!(status.success(), "{transcript}");
    assert!(transcript.contains("reload 2"), "{transcript}");
    assert_eq!(
        transcript
            .matches("reference/harmful: 1 harmful of 1 completed")
            .count(),
        2,
        "{transcript}"
    );
}

/// A Python rebuild of unchanged sources reuses the build kept from
/// before: the componentizer runs again only once a source changes. The
/// componentizer here is a stand-in in the project's virtualenv (where
/// the host looks first) that logs each run and writes a real component.
#[test]
fn an_unchanged_python_project_is_not_componentized_again() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let project = new_project(dir.path(), "classifier", "acme/judge", "python", "judge");
    let log = dir.path().join("componentized.log");
    let component = &crucible_test_support::guests::guests().blackmail_classifier;
    let tool = project.join(".venv/bin/componentize-py");
    std::fs::create_dir_all(tool.parent().expect("bin")).expect("mkdir");
    std::fs::write(
        &tool,
        format!(
            "#!/bin/sh\necho run >> '{}'\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = -o ]; then cp '{}' \"$2\"; fi\n  shift\ndone\n",
            log.display(),
            component.display()
        ),
    )
    .expect("the stand-in componentizer");
    let mut permissions = std::fs::metadata(&tool)
        .expect("its metadata")
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&tool, permissions).expect("executable");

    // Its own cache folder: no other test's kept builds.
    let cache = dir.path().join("cache");
    let build = || {
        succeeds(
            author(dir.path())
                .env("CRUCIBLE_CACHE", &cache)
                .arg("build")
                .arg(&project),
        )
    };
    let runs = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let sha = |out: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix("sha256"))
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|| panic!("no sha256 line:\n{out}"))
    };
    const REUSED: &str = "sources unchanged since a kept build";

    let first = build();
    assert_eq!(runs(), 1, "{first}");
    assert!(!first.contains(REUSED), "{first}");
    // The componentizer's output in the project goes; the kept build
    // brings it back without the componentizer.
    std::fs::remove_dir_all(project.join("build")).expect("the build folder");
    let second = build();
    assert_eq!(runs(), 1, "{second}");
    assert!(second.contains(REUSED), "{second}");
    assert_eq!(sha(&second), sha(&first));

    let app = project.join("app.py");
    let source = std::fs::read_to_string(&app).expect("the module");
    std::fs::write(&app, format!("{source}\n# edited\n")).expect("an edit");
    let third = build();
    assert_eq!(runs(), 2, "{third}");
    assert!(!third.contains(REUSED), "{third}");
}
