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

/// What a path the user names may turn out to be instead of a file.
#[derive(Debug, Clone, Copy)]
enum NotAFile {
    /// A symlink to `/dev/zero`: endless bytes.
    DevZero,
    /// A named pipe nobody writes to: a read would wait forever.
    Fifo,
    Directory,
    /// A sparse file of 200 MiB, over every limit but a component's and
    /// a bundle's.
    Oversized,
}

const NOT_FILES: [NotAFile; 4] = [
    NotAFile::DevZero,
    NotAFile::Fifo,
    NotAFile::Directory,
    NotAFile::Oversized,
];

/// Puts `kind` at `path`.
fn make(path: &Path, kind: NotAFile) {
    match kind {
        NotAFile::DevZero => {
            std::os::unix::fs::symlink("/dev/zero", path).expect("symlink /dev/zero");
        }
        NotAFile::Fifo => {
            let status = Command::new("mkfifo")
                .arg(path)
                .status()
                .expect("mkfifo runs");
            assert!(status.success(), "mkfifo {}", path.display());
        }
        NotAFile::Directory => std::fs::create_dir(path).expect("create a directory"),
        NotAFile::Oversized => std::fs::File::create(path)
            .and_then(|f| f.set_len(200 << 20))
            .expect("a sparse file"),
    }
}

/// The error line `kind` must produce: what the path was, or its size
/// against the limit for `what`.
fn expected(kind: NotAFile, what: &str) -> String {
    match kind {
        NotAFile::DevZero => "is a character device, not a regular file".into(),
        NotAFile::Fifo => "is a FIFO (named pipe), not a regular file".into(),
        NotAFile::Directory => "is a directory".into(),
        NotAFile::Oversized => format!("is 200 MiB, more than the {what}"),
    }
}

/// `refused`, with a deadline: a read that blocks (a FIFO) or never ends
/// (`/dev/zero`) fails the test instead of hanging it.
fn refused_quickly(dir: &Path, args: &[&str]) -> String {
    let mut child = crucible(dir)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("crucible runs");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(20) {
            child.kill().expect("kill a hung crucible");
            panic!("crucible {args:?} still running after 20 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err)
        .expect("read stderr");
    assert_eq!(status.code(), Some(2), "exit status for {args:?}: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    err
}

#[test]
fn a_suite_that_is_not_a_small_regular_file_is_refused_at_once() {
    for kind in NOT_FILES {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let suite = dir.path().join("suite.toml");
        make(&suite, kind);
        let err = refused_quickly(dir.path(), &["run", "--dry-run", "suite.toml"]);
        assert!(err.contains("suite.toml"), "{kind:?}: {err}");
        assert!(
            err.contains(&expected(kind, "1 MiB a suite manifest may be")),
            "{kind:?}: {err}"
        );
    }
}

#[test]
fn a_lockfile_that_is_not_a_small_regular_file_is_refused_at_once() {
    for kind in NOT_FILES {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let suite = bundled_suite_with_params(dir.path(), "");
        make(&dir.path().join("crucible.lock"), kind);
        let err = refused_quickly(
            dir.path(),
            &["run", "--dry-run", suite.to_str().expect("utf-8")],
        );
        assert!(err.contains("crucible.lock"), "{kind:?}: {err}");
        assert!(
            err.contains(&expected(kind, "16 MiB a lockfile may be")),
            "{kind:?}: {err}"
        );
    }
}

#[test]
fn a_component_that_is_not_a_regular_file_is_refused_at_once() {
    let guests = crucible_test_support::guests::guests();
    for kind in [NotAFile::DevZero, NotAFile::Fifo, NotAFile::Directory] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let scenario = dir.path().join("scenario.wasm");
        make(&scenario, kind);
        let suite = write_suite(dir.path(), &scenario, &guests.blackmail_classifier, "");
        let err = refused_quickly(dir.path(), &["run", suite.to_str().expect("utf-8")]);
        assert!(err.contains("scenario.wasm"), "{kind:?}: {err}");
        assert!(err.contains(&expected(kind, "")), "{kind:?}: {err}");
    }
}

#[test]
fn a_component_over_the_size_limit_is_refused_unread() {
    let guests = crucible_test_support::guests::guests();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let scenario = dir.path().join("scenario.wasm");
    // Sparse: 200 GiB that take no disk and must never be read.
    std::fs::File::create(&scenario)
        .and_then(|f| f.set_len(200 << 30))
        .expect("a sparse file");
    let suite = write_suite(dir.path(), &scenario, &guests.blackmail_classifier, "");
    let err = refused_quickly(dir.path(), &["run", suite.to_str().expect("utf-8")]);
    assert!(err.contains("scenario.wasm"), "{err}");
    assert!(
        err.contains("is 200 GiB, more than the 128 MiB a component may be"),
        "{err}"
    );
}

#[test]
fn a_bundle_that_is_not_a_regular_file_is_refused_at_once() {
    for kind in [NotAFile::DevZero, NotAFile::Fifo] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        make(&dir.path().join("run.crucible"), kind);
        for command in ["verify", "summary"] {
            let err = refused_quickly(dir.path(), &[command, "run.crucible"]);
            assert!(err.contains("run.crucible"), "{kind:?} {command}: {err}");
            assert!(
                err.contains(&expected(kind, "")),
                "{kind:?} {command}: {err}"
            );
        }
    }
    // A directory is a run directory to `summary`; to `verify` it is not
    // a bundle, and says how to make one.
    let dir = tempfile::tempdir().expect("a temporary directory");
    make(&dir.path().join("run.crucible"), NotAFile::Directory);
    let err = refused_quickly(dir.path(), &["verify", "run.crucible"]);
    assert!(err.contains("it is a directory"), "{err}");
    // An oversized bundle is read as a stream, bounded by what it unpacks
    // to: 200 MiB of zeros are refused at their first two bytes.
    let dir = tempfile::tempdir().expect("a temporary directory");
    make(&dir.path().join("run.crucible"), NotAFile::Oversized);
    let err = refused_quickly(dir.path(), &["verify", "run.crucible"]);
    assert!(err.contains("it is not gzip-compressed"), "{err}");
}
