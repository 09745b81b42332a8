//! `crucible.lock`: round trip, determinism, versioning, diff.

use std::path::Path;

use crucible_registry::{
    Change, Checksum, HostInfo, JudgeInfo, Kind, LockedPlugin, Lockfile, Registry, Source,
    VersionReq, diff, resolve, resolve_locked,
};

use crate::support::{name, publish_all, registry};

fn pin(package: &str, version: &str, kind: Kind) -> LockedPlugin {
    LockedPlugin {
        name: name(package),
        version: version.parse().expect("version"),
        source: "registry+file:///srv/registry".parse().expect("source"),
        sha256: Checksum::of(format!("{package}@{version}").as_bytes()),
        contract: "crucible:plugin@0.1.0".to_owned(),
        kind,
    }
}

fn sample() -> Lockfile {
    Lockfile {
        host: Some(HostInfo {
            crucible: Some("0.1.0".to_owned()),
            wasmtime: Some("48.0.8".to_owned()),
            engine: [("fuel", "off"), ("memory_mib", "64")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }),
        judge: Some(JudgeInfo {
            model: Some("openai/gpt-4.1".to_owned()),
            temperature: Some(0.0),
            max_tokens: Some(1024),
            prompts: [("blackmail".to_owned(), "sha256:abcd".to_owned())].into(),
        }),
        // Out of order on purpose: the output is sorted.
        plugins: vec![
            pin("crucible/leaking-scenario", "0.1.0", Kind::Scenario),
            pin("crucible/blackmail-classifier", "0.2.0", Kind::Classifier),
        ],
    }
}

#[test]
fn round_trips_with_deterministic_sorted_output() {
    let lock = sample();
    let text = lock.to_toml();
    let expected = format!(
        r#"# Written by crucible: exact plugins, host and judge of a run. Do not edit by hand.
version = 1

[host]
crucible = "0.1.0"
wasmtime = "48.0.8"

[host.engine]
fuel = "off"
memory_mib = "64"

[judge]
model = "openai/gpt-4.1"
temperature = 0.0
max_tokens = 1024

[judge.prompts]
blackmail = "sha256:abcd"

[[plugin]]
name = "crucible/blackmail-classifier"
version = "0.2.0"
source = "registry+file:///srv/registry"
sha256 = "{}"
contract = "crucible:plugin@0.1.0"
kind = "classifier"

[[plugin]]
name = "crucible/leaking-scenario"
version = "0.1.0"
source = "registry+file:///srv/registry"
sha256 = "{}"
contract = "crucible:plugin@0.1.0"
kind = "scenario"
"#,
        Checksum::of(b"crucible/blackmail-classifier@0.2.0"),
        Checksum::of(b"crucible/leaking-scenario@0.1.0"),
    );
    assert_eq!(text, expected);

    let parsed = Lockfile::parse(Path::new("crucible.lock"), &text).expect("parses");
    assert_eq!(parsed.to_toml(), text, "stable through a round trip");
    let mut sorted = lock.clone();
    sorted.plugins.reverse();
    assert_eq!(parsed, sorted);
    assert!(diff(&lock, &parsed).is_empty(), "order is not a change");

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("crucible.lock");
    lock.save(&path).expect("save");
    assert_eq!(Lockfile::load(&path).expect("load"), sorted);
}

#[test]
fn a_minimal_lockfile_is_just_the_version() {
    let empty = Lockfile::default();
    let text = empty.to_toml();
    assert!(text.ends_with("version = 1\nplugin = []\n"), "{text}");
    assert_eq!(
        Lockfile::parse(Path::new("l"), "version = 1\n").expect("parses"),
        empty
    );
}

#[test]
fn an_unknown_lockfile_version_is_refused_clearly() {
    let path = Path::new("suites/crucible.lock");
    // A newer lockfile may have keys this one does not know: the version is
    // what is reported, not the keys.
    let err = Lockfile::parse(path, "version = 2\n[[plugin]]\nfrom_the_future = true\n")
        .expect_err("newer");
    assert_eq!(
        err.to_string(),
        "suites/crucible.lock: lockfile version 2 is not supported (this crucible reads version 1); a newer crucible wrote it: upgrade crucible"
    );
    let err = Lockfile::parse(path, "version = 0\n").expect_err("older");
    assert_eq!(
        err.to_string(),
        "suites/crucible.lock: lockfile version 0 is not supported (this crucible reads version 1)"
    );
    let err = Lockfile::parse(path, "[[plugin]]\n").expect_err("no version");
    assert!(err.to_string().contains("no `version` key"), "{err}");
    let err = Lockfile::parse(path, "version = \"1\"\n").expect_err("string version");
    assert!(
        err.to_string().contains("not a lockfile version number"),
        "{err}"
    );
}

#[test]
fn malformed_entries_are_refused_with_their_line_and_column() {
    let good = sample().to_toml();
    let cases = [
        (
            good.replace("kind = \"scenario\"", "kind = \"scenario\"\nextra = 1"),
            "unknown field `extra`",
        ),
        (
            good.replace("crucible/leaking-scenario", "../leaking"),
            "invalid package name",
        ),
        (
            good.replacen("sha256 = \"", "sha256 = \"zz", 1),
            "invalid sha256",
        ),
        (
            good.replacen("registry+file", "git+file", 1),
            "invalid source",
        ),
        (
            good.replacen("kind = \"classifier\"", "kind = \"judge\"", 1),
            "unknown variant `judge`",
        ),
        (
            good.replacen("[judge]", "[judge]\nseed = 1", 1),
            "unknown field `seed`",
        ),
    ];
    for (text, expected) in cases {
        let err = Lockfile::parse(Path::new("x.lock"), &text).expect_err(expected);
        let message = err.to_string();
        assert!(message.starts_with("x.lock:"), "{message}");
        assert!(
            message
                .split(':')
                .nth(1)
                .is_some_and(|l| l.parse::<usize>().is_ok()),
            "{message}"
        );
        assert!(message.contains(expected), "{message}");
        assert!(!message.contains('\n'), "one line: {message}");
    }
    let twice = format!(
        "{good}\n[[plugin]]\nname = \"crucible/leaking-scenario\"\nversion = \"0.1.0\"\nsource = \"path+file:///x.wasm\"\nsha256 = \"{}\"\ncontract = \"crucible:plugin@0.1.0\"\nkind = \"scenario\"\n",
        Checksum::of(b"x")
    );
    let err = Lockfile::parse(Path::new("x.lock"), &twice).expect_err("pinned twice");
    assert_eq!(
        err.to_string(),
        "x.lock: plugin crucible/leaking-scenario@0.1.0 is pinned twice"
    );
    let contract = good.replacen("crucible:plugin@0.1.0", "crucible:plugin", 1);
    let err = Lockfile::parse(Path::new("x.lock"), &contract).expect_err("contract");
    assert!(
        err.to_string()
            .contains("contract `crucible:plugin` is not"),
        "{err}"
    );
}

#[test]
fn diff_describes_every_change() {
    let old = sample();
    let mut new = sample();
    // leaking-scenario moves to a new version; blackmail-classifier's bytes
    // change under the same version; a plugin is added; one host setting,
    // the wasmtime version and the judge's temperature change.
    new.plugins[0] = pin("crucible/leaking-scenario", "0.2.0", Kind::Scenario);
    new.plugins[1].sha256 = Checksum::of(b"changed");
    new.plugins
        .push(pin("crucible/eval-awareness", "1.0.0", Kind::Classifier));
    let host = new.host.as_mut().expect("host");
    host.wasmtime = Some("49.0.0".to_owned());
    host.engine.remove("fuel");
    host.engine
        .insert("call_timeout".to_owned(), "5s".to_owned());
    new.judge.as_mut().expect("judge").temperature = Some(0.5);

    let changes: Vec<String> = diff(&old, &new).iter().map(ToString::to_string).collect();
    assert_eq!(
        changes,
        [
            format!(
                "crucible/blackmail-classifier@0.2.0: sha256 {} -> {}",
                Checksum::of(b"crucible/blackmail-classifier@0.2.0"),
                Checksum::of(b"changed")
            ),
            format!(
                "add crucible/eval-awareness@1.0.0 (classifier, sha256 {})",
                Checksum::of(b"crucible/eval-awareness@1.0.0")
            ),
            "update crucible/leaking-scenario 0.1.0 -> 0.2.0".to_owned(),
            "host.wasmtime: 48.0.8 -> 49.0.0".to_owned(),
            "host.engine.call_timeout: (unset) -> 5s".to_owned(),
            "host.engine.fuel: off -> (unset)".to_owned(),
            "judge.temperature: 0 -> 0.5".to_owned(),
        ]
    );
    assert!(matches!(diff(&old, &new)[2], Change::Updated { .. }));

    // Removing everything lists each removal; two versions of one plugin
    // are two pins, not an update.
    let two = Lockfile {
        plugins: vec![
            pin("ns/x", "1.0.0", Kind::Scenario),
            pin("ns/x", "2.0.0", Kind::Scenario),
        ],
        ..Lockfile::default()
    };
    let changes: Vec<String> = diff(&two, &Lockfile::default())
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(changes, ["remove ns/x@1.0.0", "remove ns/x@2.0.0"]);
    assert!(diff(&old, &old).is_empty());
}

#[test]
fn a_lockfile_pins_what_was_resolved_and_survives_a_yank() {
    let (_dir, registry) = registry();
    publish_all(&registry, "ns/pkg", &["1.0.0", "1.1.0"]);
    let pkg = name("ns/pkg");
    let record = resolve(&registry, &pkg, &VersionReq::parse("^1").expect("req")).expect("resolve");
    let lock = Lockfile {
        plugins: vec![LockedPlugin::from_record(&record, registry.source())],
        ..Lockfile::default()
    };
    assert!(matches!(lock.plugins[0].source, Source::Registry(_)));

    registry.yank(&pkg, &record.version, true).expect("yank");
    let pinned = &lock.plugins[0];
    let again = resolve_locked(&registry, &pinned.name, &pinned.version).expect("still served");
    assert_eq!(again.sha256, pinned.sha256);
    registry.blob(&pinned.sha256).expect("bytes still served");
    // New resolution moves on to what is left.
    let fresh = resolve(&registry, &pkg, &VersionReq::parse("^1").expect("req")).expect("resolve");
    assert_eq!(fresh.version.to_string(), "1.0.0");
    assert!(lock.plugin(&pkg, &record.version).is_some());
}

#[test]
fn odd_but_legal_values_still_write_and_read_back() {
    let lock = Lockfile {
        host: Some(HostInfo {
            engine: [(
                "key with \"quotes\"\nand a newline".to_owned(),
                "ünïcode".to_owned(),
            )]
            .into(),
            ..HostInfo::default()
        }),
        judge: Some(JudgeInfo {
            temperature: Some(f64::NAN),
            ..JudgeInfo::default()
        }),
        plugins: Vec::new(),
    };
    let text = lock.to_toml();
    let parsed = Lockfile::parse(Path::new("l"), &text).expect("reads back");
    assert_eq!(parsed.host, lock.host);
    let temperature = parsed
        .judge
        .and_then(|j| j.temperature)
        .expect("temperature");
    assert!(temperature.is_nan());
}
