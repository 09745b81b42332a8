//! Hostile input never becomes a path.

use crucible_registry::{Checksum, PackageName};

use crate::support::{registry, snapshot};

const HOSTILE: &[&str] = &[
    "../etc",
    "../../etc/passwd",
    "ns/../../x",
    "ns/..",
    "./x",
    "/abs",
    "ns/",
    "",
    "a",
    "a/b/c",
    "Foo/bar",
    "foo/Bar",
    "%2e%2e/x",
    "ns/%2e%2e",
    "ns\\..\\x/y",
    "ns/x\0y",
    "ns/x.jsonl",
    "ns/con",
];

#[test]
fn invalid_and_hostile_names_are_refused_and_nothing_is_written() {
    let (dir, registry) = registry();
    let before = snapshot(dir.path());
    let long = format!("ns/{}", "x".repeat(65));
    for input in HOSTILE.iter().copied().chain([long.as_str()]) {
        let err = input
            .parse::<PackageName>()
            .expect_err(&format!("{input:?} must be refused"));
        assert!(err.to_string().starts_with("invalid package name"), "{err}");
        // Names reach the registry typed, also from JSON: no way around it.
        let json = serde_json::to_string(input).expect("json");
        serde_json::from_str::<PackageName>(&json).expect_err("refused through serde too");
    }
    // Blob addresses are as strict: no path in a "sha256".
    for input in ["../../../etc/passwd", "aa/../../x", ""] {
        input.parse::<Checksum>().expect_err(input);
    }
    assert_eq!(snapshot(dir.path()), before, "nothing written anywhere");
    drop(registry);
}

#[test]
fn an_index_record_naming_another_package_is_refused() {
    // A record smuggled into the wrong file cannot make a package serve
    // another package's bytes.
    let (_dir, registry) = registry();
    crate::support::publish_all(&registry, "ns/a", &["1.0.0"]);
    let a = crate::support::index_file(&registry, "ns/a");
    let b = crate::support::index_file(&registry, "ns/b");
    std::fs::copy(&a, &b).expect("copy");
    use crucible_registry::Registry;
    let err = registry
        .versions(&crate::support::name("ns/b"))
        .expect_err("wrong package");
    assert!(
        err.to_string()
            .contains("the record is for `ns/a`, but this is the index of `ns/b`"),
        "{err}"
    );
}
