//! Resolution: highest non-yanked match; pins served even when yanked.

use crucible_registry::{
    RegistryError, ResolveError, Version, VersionReq, resolve, resolve_locked,
};

use crate::support::{name, publish_all, registry};

fn req(s: &str) -> VersionReq {
    VersionReq::parse(s).expect("valid requirement")
}

fn version(s: &str) -> Version {
    s.parse().expect("valid version")
}

#[test]
fn picks_the_highest_non_yanked_matching_version() {
    let (_dir, registry) = registry();
    // Published out of order: resolution goes by semver, not by file order.
    publish_all(
        &registry,
        "ns/pkg",
        &["1.2.0", "1.0.0", "1.10.0", "2.0.0", "2.1.0-beta.1", "0.9.0"],
    );
    let pkg = name("ns/pkg");
    let pick = |r: &str| {
        resolve(&registry, &pkg, &req(r))
            .expect("resolves")
            .version
            .to_string()
    };
    assert_eq!(pick("^1"), "1.10.0", "semver order, not string order");
    assert_eq!(
        pick("*"),
        "2.0.0",
        "a pre-release is not picked unless asked for"
    );
    assert_eq!(pick("=2.1.0-beta.1"), "2.1.0-beta.1");
    assert_eq!(pick(">=1.0.0, <1.5.0"), "1.2.0");

    registry.yank(&pkg, &version("1.10.0"), true).expect("yank");
    assert_eq!(pick("^1"), "1.2.0", "yanked versions are skipped");
}

#[test]
fn a_yanked_version_is_hidden_from_resolution_but_served_to_a_lockfile() {
    let (_dir, registry) = registry();
    publish_all(&registry, "ns/pkg", &["1.0.0", "2.0.0"]);
    let pkg = name("ns/pkg");
    let record = registry.yank(&pkg, &version("1.0.0"), true).expect("yank");

    let err = resolve(&registry, &pkg, &req("^1")).expect_err("only yanked");
    assert!(matches!(err, ResolveError::OnlyYanked { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "only yanked versions of ns/pkg match `^1` (1.0.0); a yanked version is served only to a lockfile that pins it"
    );

    let locked = resolve_locked(&registry, &pkg, &version("1.0.0")).expect("pinned");
    assert!(locked.yanked);
    assert_eq!(locked, record);
    use crucible_registry::Registry;
    registry
        .blob(&locked.sha256)
        .expect("a yanked blob is still served");
}

#[test]
fn errors_say_what_is_missing_and_what_there_is() {
    let (_dir, registry) = registry();
    publish_all(&registry, "ns/pkg", &["1.0.0", "1.1.0", "3.0.0"]);
    let pkg = name("ns/pkg");
    registry.yank(&pkg, &version("3.0.0"), true).expect("yank");

    let err = resolve(&registry, &pkg, &req("^2")).expect_err("no match");
    assert_eq!(
        err.to_string(),
        "no version of ns/pkg matches `^2` (available: 1.0.0, 1.1.0)"
    );

    let err = resolve(&registry, &name("ns/missing"), &req("*")).expect_err("no package");
    assert!(
        matches!(
            err,
            ResolveError::Registry(RegistryError::NoSuchPackage { .. })
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("no package `ns/missing` in registry+file:///"),
        "{err}"
    );

    let err = resolve_locked(&registry, &pkg, &version("2.0.0")).expect_err("no such pin");
    assert_eq!(
        err.to_string(),
        "ns/pkg@2.0.0: no such version (available: 1.0.0, 1.1.0, 3.0.0 (yanked))"
    );
}
