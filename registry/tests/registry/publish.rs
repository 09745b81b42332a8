//! Publishing, yanking, reading back, searching.

use crucible_registry::layout::{self, FORMAT};
use crucible_registry::{Checksum, LocalRegistry, Registry, RegistryError, VersionReq, resolve};

use crate::support::{bytes, index_file, name, new_version, publish_all, registry, snapshot};

#[test]
fn publish_then_read_back_and_resolve() {
    let (_dir, registry) = registry();
    let data = bytes("crucible/blackmail", "1.0.0");
    let record = registry
        .publish(&new_version("crucible/blackmail", "1.0.0"), &data)
        .expect("publish");
    assert_eq!(record.sha256, Checksum::of(&data));
    assert_eq!(record.size, data.len() as u64);
    assert!(!record.yanked);
    humantime::parse_rfc3339(&record.published).expect("published is RFC 3339");

    // The static layout, exactly.
    let root = registry.root();
    let config = std::fs::read_to_string(root.join("config.json")).expect("config");
    assert_eq!(config, format!("{{\"format\":{FORMAT}}}\n"));
    let index =
        std::fs::read_to_string(root.join(layout::index_path(&record.name))).expect("index");
    assert_eq!(index, format!("{}\n", record.to_line()));
    assert!(
        index.starts_with(
            r#"{"v":1,"name":"crucible/blackmail","version":"1.0.0","kind":"scenario""#
        )
    );
    let blob_path = root.join(layout::blob_path(&record.sha256));
    assert_eq!(std::fs::read(blob_path).expect("blob"), data);

    assert_eq!(registry.blob(&record.sha256).expect("blob"), data);
    assert_eq!(
        registry.versions(&record.name).expect("versions"),
        std::slice::from_ref(&record)
    );
    let resolved = resolve(
        &registry,
        &record.name,
        &VersionReq::parse("^1").expect("req"),
    )
    .expect("resolve");
    assert_eq!(resolved, record);
    assert!(
        registry
            .source()
            .to_string()
            .starts_with("registry+file:///")
    );

    // Reopening sees the same registry.
    let reopened = LocalRegistry::open(root).expect("open");
    assert_eq!(reopened.versions(&record.name).expect("versions"), [record]);
}

#[test]
fn a_published_version_is_immutable_even_with_identical_bytes() {
    let (_dir, registry) = registry();
    let new = new_version("ns/pkg", "1.0.0");
    let data = bytes("ns/pkg", "1.0.0");
    registry.publish(&new, &data).expect("first publish");
    let before = snapshot(registry.root());

    let err = registry.publish(&new, &data).expect_err("republish");
    assert!(
        matches!(err, RegistryError::AlreadyPublished { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "ns/pkg@1.0.0: already published as ns/pkg@1.0.0; a published version is immutable, publish a new version"
    );
    // Other bytes, or other build metadata, are no way around it either.
    registry.publish(&new, b"other").expect_err("other bytes");
    let build = new_version("ns/pkg", "1.0.0+rebuild");
    let err = registry
        .publish(&build, b"other")
        .expect_err("build metadata");
    assert!(
        err.to_string()
            .contains("already published as ns/pkg@1.0.0"),
        "{err}"
    );

    // The lock file is the only thing a refused publish may leave, and it
    // already existed.
    assert_eq!(snapshot(registry.root()), before);
}

#[test]
fn an_oversized_upload_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let registry = LocalRegistry::create(dir.path())
        .expect("create")
        .with_max_size(16);
    let before = snapshot(dir.path());
    let err = registry
        .publish(&new_version("ns/big", "1.0.0"), &[0u8; 17])
        .expect_err("too large");
    assert_eq!(
        err.to_string(),
        "ns/big@1.0.0: the component is 17 bytes, over this registry's limit of 16"
    );
    assert_eq!(snapshot(dir.path()), before, "nothing written");
    registry
        .publish(&new_version("ns/big", "1.0.0"), &[0u8; 16])
        .expect("at the limit");
}

#[test]
fn empty_components_and_foreign_contracts_are_refused() {
    let (_dir, registry) = registry();
    let before = snapshot(registry.root());
    let err = registry
        .publish(&new_version("ns/pkg", "1.0.0"), b"")
        .expect_err("empty");
    assert_eq!(err.to_string(), "ns/pkg@1.0.0: the component is empty");
    let mut foreign = new_version("ns/pkg", "1.0.0");
    foreign.contract = "wasi:cli/run@0.2.0".to_owned();
    let err = registry.publish(&foreign, b"x").expect_err("contract");
    assert!(err.to_string().contains("`wasi:cli/run@0.2.0`"), "{err}");
    assert_eq!(snapshot(registry.root()), before, "nothing written");
}

#[test]
fn a_tampered_blob_is_detected_on_read_with_both_hashes_named() {
    let (_dir, registry) = registry();
    let data = bytes("ns/pkg", "1.0.0");
    let record = registry
        .publish(&new_version("ns/pkg", "1.0.0"), &data)
        .expect("publish");
    let path = registry.root().join(layout::blob_path(&record.sha256));
    std::fs::write(&path, b"evil").expect("tamper");

    let err = registry.blob(&record.sha256).expect_err("tampered");
    let message = err.to_string();
    assert!(
        message.contains(&format!("expected {}", record.sha256)),
        "{message}"
    );
    assert!(
        message.contains(&format!("the file has {}", Checksum::of(b"evil"))),
        "{message}"
    );
    assert!(message.contains(&path.display().to_string()), "{message}");

    let missing = Checksum::of(b"never published");
    let err = registry.blob(&missing).expect_err("missing");
    assert!(
        err.to_string()
            .starts_with(&format!("no blob with sha256 {missing}")),
        "{err}"
    );
}

#[test]
fn yank_rewrites_only_the_flag_and_can_be_undone() {
    let (_dir, registry) = registry();
    publish_all(&registry, "ns/pkg", &["1.0.0", "1.1.0", "1.2.0"]);
    let path = index_file(&registry, "ns/pkg");
    let before = std::fs::read_to_string(&path).expect("index");
    let pkg = name("ns/pkg");

    let record = registry
        .yank(&pkg, &"1.1.0".parse().expect("v"), true)
        .expect("yank");
    assert!(record.yanked);
    let after = std::fs::read_to_string(&path).expect("index");
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(after.lines().count(), 3);
    assert_eq!(changed.len(), 1, "only one line changes");
    assert_eq!(
        changed[0]
            .0
            .replace(r#""yanked":false"#, r#""yanked":true"#),
        changed[0].1
    );
    assert!(registry.versions(&pkg).expect("versions")[1].yanked);

    // Yanking again changes nothing; unyanking restores the file exactly.
    registry
        .yank(&pkg, &"1.1.0".parse().expect("v"), true)
        .expect("again");
    assert_eq!(std::fs::read_to_string(&path).expect("index"), after);
    registry
        .yank(&pkg, &"1.1.0".parse().expect("v"), false)
        .expect("unyank");
    assert_eq!(std::fs::read_to_string(&path).expect("index"), before);

    let err = registry
        .yank(&pkg, &"9.9.9".parse().expect("v"), true)
        .expect_err("no such version");
    assert_eq!(
        err.to_string(),
        "ns/pkg@9.9.9: no such version (available: 1.0.0, 1.1.0, 1.2.0)"
    );
    let snapshot_before = snapshot(registry.root());
    let err = registry
        .yank(&name("ns/nothing"), &"1.0.0".parse().expect("v"), true)
        .expect_err("no such package");
    assert!(
        err.to_string()
            .starts_with("no package `ns/nothing` in registry+file:///"),
        "{err}"
    );
    assert_eq!(
        snapshot(registry.root()),
        snapshot_before,
        "nothing written"
    );
}

#[test]
fn search_matches_names_and_descriptions_and_skips_fully_yanked_packages() {
    let (_dir, registry) = registry();
    publish_all(
        &registry,
        "crucible/blackmail-scenario",
        &["1.0.0", "1.1.0"],
    );
    publish_all(&registry, "crucible/leaking-scenario", &["0.1.0"]);
    let mut classifier = new_version("other/judge", "2.0.0");
    classifier.description = "Flags BLACKMAIL attempts".to_owned();
    registry.publish(&classifier, b"judge").expect("publish");
    publish_all(&registry, "gone/old", &["1.0.0"]);
    registry
        .yank(&name("gone/old"), &"1.0.0".parse().expect("v"), true)
        .expect("yank");
    // Stray files in the index are not packages.
    std::fs::write(registry.root().join("index/crucible/README"), "x").expect("stray");
    std::fs::create_dir_all(registry.root().join("index/Bad")).expect("stray dir");
    std::fs::write(registry.root().join("index/Bad/x.jsonl"), "junk").expect("stray");

    let found = |text: &str| -> Vec<String> {
        registry
            .search(text)
            .expect("search")
            .iter()
            .map(|r| format!("{}@{}", r.name, r.version))
            .collect()
    };
    assert_eq!(
        found("blackmail"),
        ["crucible/blackmail-scenario@1.1.0", "other/judge@2.0.0"]
    );
    assert_eq!(found("SCENARIO").len(), 2);
    assert_eq!(
        found("old"),
        Vec::<String>::new(),
        "fully yanked packages are hidden"
    );
    assert_eq!(found("").len(), 3);
}

#[test]
fn opening_refuses_a_directory_that_is_not_a_registry_or_is_newer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let err = LocalRegistry::open(dir.path()).expect_err("no config");
    assert!(
        err.to_string()
            .contains("not a Crucible registry (no config.json)"),
        "{err}"
    );

    std::fs::write(dir.path().join("config.json"), r#"{"format":2}"#).expect("write");
    let err = LocalRegistry::open(dir.path()).expect_err("newer");
    assert!(
        err.to_string()
            .contains("registry format 2 is newer than this crucible understands (up to 1)"),
        "{err}"
    );
    std::fs::write(dir.path().join("config.json"), "{").expect("write");
    let err = LocalRegistry::create(dir.path()).expect_err("malformed");
    assert!(err.to_string().contains("malformed config.json"), "{err}");
}

#[test]
fn unknown_record_formats_and_fields_are_tolerated_and_kept() {
    let (_dir, registry) = registry();
    publish_all(&registry, "ns/pkg", &["1.0.0"]);
    let path = index_file(&registry, "ns/pkg");
    let first = std::fs::read_to_string(&path).expect("index");
    let future = r#"{"v":7,"name":"ns/pkg","version":"3.0.0","chunks":["a","b"]}"#;
    let with_field = first
        .trim_end()
        .replace(r#""version":"1.0.0""#, r#""version":"1.5.0""#)
        .replacen(r#""v":1,"#, r#""v":1,"signature":"abc","#, 1);
    std::fs::write(&path, format!("{first}{future}\n{with_field}\n")).expect("write");

    let pkg = name("ns/pkg");
    let versions: Vec<String> = registry
        .versions(&pkg)
        .expect("tolerated")
        .iter()
        .map(|r| r.version.to_string())
        .collect();
    assert_eq!(versions, ["1.0.0", "1.5.0"]);

    // A new publish keeps the lines it does not understand verbatim...
    publish_all(&registry, "ns/pkg", &["2.0.0"]);
    let text = std::fs::read_to_string(&path).expect("index");
    assert!(text.contains(&format!("\n{future}\n")), "{text}");
    assert!(text.contains(r#""signature":"abc""#), "{text}");
    // ...a yank keeps the unknown field of the line it rewrites...
    registry
        .yank(&pkg, &"1.5.0".parse().expect("v"), true)
        .expect("yank");
    let text = std::fs::read_to_string(&path).expect("index");
    assert!(text.contains(r#""signature":"abc""#), "{text}");
    // ...and a version recorded in the newer format is still taken.
    let err = registry
        .publish(&new_version("ns/pkg", "3.0.0"), b"x")
        .expect_err("taken");
    assert!(err.to_string().contains("already published"), "{err}");
    let err = registry
        .yank(&pkg, &"3.0.0".parse().expect("v"), true)
        .expect_err("newer format");
    assert!(err.to_string().contains("index format 7"), "{err}");
}

#[test]
fn a_malformed_index_line_is_an_error_naming_the_file_and_line() {
    let (_dir, registry) = registry();
    publish_all(&registry, "ns/pkg", &["1.0.0"]);
    let path = index_file(&registry, "ns/pkg");
    let first = std::fs::read_to_string(&path).expect("index");
    std::fs::write(&path, format!("{first}{{\"v\":1,\"name\":\"ns/pkg\"\n")).expect("write");

    let pkg = name("ns/pkg");
    let expected = format!("{}:2: ", path.display());
    let err = registry.versions(&pkg).expect_err("malformed");
    assert!(err.to_string().starts_with(&expected), "{err}");
    let err = resolve(&registry, &pkg, &VersionReq::STAR).expect_err("malformed");
    assert!(err.to_string().starts_with(&expected), "{err}");
    // Publishing on top of a corrupt index is refused too.
    let err = registry
        .publish(&new_version("ns/pkg", "2.0.0"), b"x")
        .expect_err("corrupt index");
    assert!(err.to_string().starts_with(&expected), "{err}");
}
