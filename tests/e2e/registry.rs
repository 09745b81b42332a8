//! Publishing to a registry directory, resolving a suite against it,
//! pinning in `crucible.lock`, and the refusals that keep a pin honest.

use super::*;

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}\n{}",
        stdout(output),
        stderr(output)
    );
    stdout(output)
}

/// `crucible ARGS` in `dir`, which must fail with one line naming `needle`.
fn refused_with(dir: &Path, args: &[&str], needle: &str) {
    let output = crucible(dir).args(args).output().expect("crucible runs");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
    assert!(
        err.starts_with("error: ") && err.trim_end().lines().count() == 1,
        "{err}"
    );
    assert!(err.contains(needle), "`{needle}` not in: {err}");
}

fn publish(dir: &Path, component: &Path) -> Output {
    crucible(dir)
        .arg("publish")
        .arg(component)
        .args(["--registry", "reg"])
        .output()
        .expect("crucible runs")
}

/// A registry with the blackmail pair, and a suite that names them by
/// package and requirement.
fn published(dir: &Path) -> PathBuf {
    let guests = crucible_test_support::guests::guests();
    assert!(
        ok(&publish(dir, &guests.blackmail_scenario)).contains(&format!(
            "Published agentic-misalignment/blackmail@{}",
            plugin_version("blackmail-scenario")
        ))
    );
    ok(&publish(dir, &guests.blackmail_classifier));
    let suite = dir.join("suite.toml");
    std::fs::write(
        &suite,
        "[suite]\nname = \"pinned\"\nregistry = \"reg\"\n\n\
         [scenarios.blackmail]\npackage = \"agentic-misalignment/blackmail\"\nversion = \"^0.2\"\n\
         classifiers = [\"blackmail\"]\nconditions = [\"blackmail_explicit-america_*\"]\n\n\
         [classifiers.blackmail]\npackage = \"agentic-misalignment/blackmail-classifier\"\nversion = \"^0.2\"\n",
    )
    .expect("write the suite");
    suite
}

#[test]
fn publish_resolve_lock_and_run_locked() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = published(dir.path());
    let out = ok(&run_quietly(dir.path(), &suite, &[], None));
    assert!(
        out.contains("reference/harmful: 3 harmful of 3 completed"),
        "{out}"
    );
    let lock =
        std::fs::read_to_string(dir.path().join("crucible.lock")).expect("a lockfile was written");
    assert!(
        lock.contains("name = \"agentic-misalignment/blackmail\""),
        "{lock}"
    );
    assert!(lock.contains("version = \"0.2.0\""), "{lock}");
    assert!(lock.contains("wasmtime = \"48.0.8\""), "{lock}");
    ok(&run_quietly(dir.path(), &suite, &["--locked"], None));
    // Named bare, from its own directory: the same lock, the same pins.
    assert_eq!(suite.parent(), Some(dir.path()));
    let bare = Path::new(suite.file_name().expect("a file name"));
    ok(&run_quietly(dir.path(), bare, &["--locked"], None));
    let again = ok(&crucible(dir.path())
        .arg("lock")
        .arg(&suite)
        .output()
        .expect("runs"));
    assert!(again.contains("is up to date"), "{again}");
}

#[test]
fn locked_refuses_any_change_to_the_lockfile() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = published(dir.path());
    let suite_arg = suite.to_str().expect("utf-8");
    refused_with(dir.path(), &["run", suite_arg, "--locked"], "no lockfile");
    ok(&crucible(dir.path())
        .arg("lock")
        .arg(&suite)
        .output()
        .expect("runs"));
    refused_with(
        dir.path(),
        &["run", suite_arg, "--locked", "--call-timeout", "9"],
        "call_timeout_ms: 5000 -> 9000",
    );
}

#[test]
fn a_yanked_version_serves_its_lockfile_but_not_new_resolution() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = published(dir.path());
    ok(&crucible(dir.path())
        .arg("lock")
        .arg(&suite)
        .output()
        .expect("runs"));
    let out = ok(&crucible(dir.path())
        .args([
            "yank",
            &format!(
                "agentic-misalignment/blackmail@{}",
                plugin_version("blackmail-scenario")
            ),
            "--registry",
            "reg",
        ])
        .output()
        .expect("runs"));
    assert!(out.contains("yanked"), "{out}");
    ok(&run_quietly(dir.path(), &suite, &["--locked"], None));
    std::fs::remove_file(dir.path().join("crucible.lock")).expect("remove the lockfile");
    refused_with(
        dir.path(),
        &["run", suite.to_str().expect("utf-8")],
        "only yanked versions of agentic-misalignment/blackmail match",
    );
}

#[test]
fn a_tampered_blob_is_refused_naming_both_hashes() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = published(dir.path());
    ok(&crucible(dir.path())
        .arg("lock")
        .arg(&suite)
        .output()
        .expect("runs"));
    let lock = std::fs::read_to_string(dir.path().join("crucible.lock")).expect("lockfile");
    let pinned = lock
        .lines()
        .find_map(|l| l.strip_prefix("sha256 = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("a pinned sha256")
        .to_owned();
    let blob = dir
        .path()
        .join("reg/blobs/sha256")
        .join(&pinned[..2])
        .join(&pinned);
    let mut bytes = std::fs::read(&blob).expect("the blob");
    bytes[100] ^= 0xff;
    std::fs::write(&blob, bytes).expect("tamper");
    refused_with(
        dir.path(),
        &["run", suite.to_str().expect("utf-8"), "--locked"],
        &format!("expected {pinned}"),
    );
}

#[test]
fn publishing_refuses_republication_and_anything_but_a_sandboxable_component() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let guests = crucible_test_support::guests::guests();
    ok(&publish(dir.path(), &guests.blackmail_classifier));
    let component = guests.blackmail_classifier.to_str().expect("utf-8");
    refused_with(
        dir.path(),
        &["publish", component, "--registry", "reg"],
        "a published version is immutable",
    );
    let networking = guests.networking_scenario.to_str().expect("utf-8");
    refused_with(
        dir.path(),
        &["publish", networking, "--registry", "reg"],
        "`wasi:sockets/tcp@",
    );
    std::fs::write(dir.path().join("junk.wasm"), [7u8; 300]).expect("write junk");
    refused_with(
        dir.path(),
        &["publish", "junk.wasm", "--registry", "reg"],
        "not a WebAssembly component",
    );
    refused_with(
        dir.path(),
        &["yank", "../../etc/passwd@1.0.0", "--registry", "reg"],
        "invalid package name",
    );
    // Nothing of the refused uploads reached the registry.
    let out = ok(&crucible(dir.path())
        .args(["search", "", "--registry", "reg"])
        .output()
        .expect("runs"));
    assert_eq!(out.lines().count(), 1, "{out}");
}

#[test]
fn a_mirror_copies_every_version_and_checks_every_hash() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let source = workspace_root().join("suites/registry");
    let out = ok(&crucible(dir.path())
        .args(["registry", "mirror"])
        .arg(&source)
        .arg("copy")
        .output()
        .expect("runs"));
    // One index line per published version.
    let versions: usize = std::fs::read_dir(source.join("index/agentic-misalignment"))
        .expect("the bundled registry's index")
        .map(|entry| {
            let path = entry.expect("an index entry").path();
            let lines = std::fs::read_to_string(path).expect("an index file");
            lines.lines().filter(|l| !l.trim().is_empty()).count()
        })
        .sum();
    assert!(out.contains("Mirrored 8 packages"), "{out}");
    assert!(
        out.contains(&format!(
            "{versions} versions added, {versions} blobs written"
        )),
        "{out}"
    );
    let again = ok(&crucible(dir.path())
        .args(["registry", "mirror"])
        .arg(&source)
        .arg("copy")
        .output()
        .expect("runs"));
    assert!(
        again.contains("0 versions added, 0 blobs written"),
        "{again}"
    );
    let info = ok(&crucible(dir.path())
        .args(["info", "agentic-misalignment/leaking", "--registry", "copy"])
        .output()
        .expect("runs"));
    assert!(
        info.contains(&format!(
            "agentic-misalignment/leaking@{}",
            plugin_version("leaking-scenario")
        )),
        "{info}"
    );
}

/// Copies the tree at `from` to `to`, files and folders.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the tree") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

#[test]
fn a_registry_beside_the_suite_is_pinned_relative_and_the_tree_moves_together() {
    let guests = crucible_test_support::guests::guests();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("suite")).expect("create the tree");
    for component in [&guests.blackmail_scenario, &guests.blackmail_classifier] {
        ok(&crucible(&tree)
            .arg("publish")
            .arg(component)
            .args(["--registry", "shared-registry"])
            .output()
            .expect("crucible runs"));
    }
    let suite = tree.join("suite/suite.toml");
    std::fs::write(
        &suite,
        "[suite]\nname = \"shared\"\nregistry = \"../shared-registry\"\n\n\
         [scenarios.blackmail]\npackage = \"agentic-misalignment/blackmail\"\nversion = \"^0.2\"\n\
         classifiers = [\"blackmail\"]\nconditions = [\"blackmail_explicit-america_*\"]\n\n\
         [classifiers.blackmail]\npackage = \"agentic-misalignment/blackmail-classifier\"\nversion = \"^0.2\"\n",
    )
    .expect("write the suite");
    ok(&crucible(&tree)
        .arg("lock")
        .arg(&suite)
        .output()
        .expect("runs"));
    let lock_path = tree.join("suite/crucible.lock");
    let lock = std::fs::read_to_string(&lock_path).expect("a lockfile");
    assert_eq!(
        lock.matches("source = \"registry+file:../shared-registry\"")
            .count(),
        2,
        "{lock}"
    );
    let machine = dir.path().to_string_lossy().into_owned();
    assert!(!lock.contains(&machine), "an absolute path in: {lock}");
    assert!(!lock.contains("file://"), "an absolute URL in: {lock}");

    // The whole tree copied elsewhere: still locked, byte for byte.
    let elsewhere = tempfile::tempdir().expect("another temporary directory");
    let copy = elsewhere.path().join("moved");
    copy_tree(&tree, &copy);
    std::fs::remove_dir_all(&tree).expect("the original is gone");
    let copied_suite = copy.join("suite/suite.toml");
    let out = ok(&run_quietly(&copy, &copied_suite, &["--locked"], None));
    assert!(
        out.contains("reference/harmful: 3 harmful of 3 completed"),
        "{out}"
    );
    let again = ok(&crucible(&copy)
        .arg("lock")
        .arg(&copied_suite)
        .output()
        .expect("runs"));
    assert!(again.contains("is up to date"), "{again}");
    let copied_lock = copy.join("suite/crucible.lock");
    assert_eq!(
        std::fs::read_to_string(&copied_lock).expect("the lockfile"),
        lock
    );

    // An older lockfile pinned it by absolute URL: still read, still locked.
    let registry = std::fs::canonicalize(copy.join("shared-registry")).expect("canonical");
    let absolute = format!("registry+file://{}", registry.display());
    let old = lock.replace("registry+file:../shared-registry", &absolute);
    std::fs::write(&copied_lock, &old).expect("write the old form");
    ok(&run_quietly(&copy, &copied_suite, &["--locked"], None));
    assert_eq!(
        std::fs::read_to_string(&copied_lock).expect("the lockfile"),
        old,
        "--locked leaves an equivalent old pin as it was"
    );
}
