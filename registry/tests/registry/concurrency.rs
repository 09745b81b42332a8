//! Concurrent publishes, from threads and from processes.

use std::process::Command;
use std::sync::{Arc, Barrier};

use crucible_registry::{LocalRegistry, Registry, RegistryError};

use crate::support::{bytes, index_file, name, new_version, registry, snapshot};

/// Every file in the registry is whole and consistent: one index line per
/// version, every blob there and matching its hash, no temporary file left.
fn assert_consistent(registry: &LocalRegistry, package: &str, versions: usize) {
    let records = registry.versions(&name(package)).expect("index readable");
    assert_eq!(records.len(), versions);
    let text = std::fs::read_to_string(index_file(registry, package)).expect("index");
    assert_eq!(text.lines().count(), versions);
    assert!(text.ends_with('\n'));
    for record in &records {
        let blob = registry.blob(&record.sha256).expect("blob verifies");
        assert_eq!(blob.len() as u64, record.size);
    }
    let leftovers: Vec<String> = snapshot(registry.root())
        .into_keys()
        .filter(|path| path.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn of_eight_threads_publishing_one_version_exactly_one_succeeds() {
    let (_dir, registry) = registry();
    let root = registry.root().to_owned();
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (root, barrier) = (root.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                // Each thread opens the registry itself, as a separate
                // process would, with its own lock handle.
                let registry = LocalRegistry::open(&root).expect("open");
                let data = format!("bytes of thread {i}").into_bytes();
                barrier.wait();
                registry
                    .publish(&new_version("ns/race", "1.0.0"), &data)
                    .map(|record| (record, data))
            })
        })
        .collect();
    let results: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("no panic"))
        .collect();

    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "exactly one publish succeeds");
    for err in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            matches!(err, RegistryError::AlreadyPublished { .. }),
            "{err}"
        );
    }
    let (record, data) = winners[0];
    assert_consistent(&registry, "ns/race", 1);
    assert_eq!(
        registry.versions(&name("ns/race")).expect("versions"),
        std::slice::from_ref(record)
    );
    assert_eq!(&registry.blob(&record.sha256).expect("blob"), data);
}

#[test]
fn eight_threads_publishing_different_versions_lose_nothing() {
    let (_dir, registry) = registry();
    let registry = Arc::new(registry);
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (registry, barrier) = (Arc::clone(&registry), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let version = format!("1.{i}.0");
                barrier.wait();
                registry.publish(
                    &new_version("ns/many", &version),
                    &bytes("ns/many", &version),
                )
            })
        })
        .collect();
    for handle in handles {
        handle
            .join()
            .expect("no panic")
            .expect("every version publishes");
    }
    assert_consistent(&registry, "ns/many", 8);
}

const CHILD_ROOT: &str = "CRUCIBLE_REGISTRY_TEST_CHILD_ROOT";
const CHILD_ID: &str = "CRUCIBLE_REGISTRY_TEST_CHILD_ID";

/// Run by `separate_processes_publishing_one_version`, in a child process;
/// does nothing when run on its own. Exits 0 when its publish succeeded, 3
/// when the version was already published.
#[test]
#[ignore = "a helper the process test runs in child processes"]
fn child_publish() {
    let (Ok(root), Ok(id)) = (std::env::var(CHILD_ROOT), std::env::var(CHILD_ID)) else {
        return;
    };
    let registry = LocalRegistry::open(root.as_ref()).expect("open");
    let data = format!("bytes of process {id}").into_bytes();
    match registry.publish(&new_version("ns/proc", "1.0.0"), &data) {
        Ok(_) => std::process::exit(0),
        Err(RegistryError::AlreadyPublished { .. }) => std::process::exit(3),
        Err(e) => panic!("unexpected error: {e}"),
    }
}

#[test]
fn of_processes_publishing_one_version_exactly_one_succeeds() {
    let (_dir, registry) = registry();
    let exe = std::env::current_exe().expect("test binary");
    let children: Vec<_> = (0..4)
        .map(|i| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "concurrency::child_publish",
                    "--ignored",
                    "--quiet",
                ])
                .env(CHILD_ROOT, registry.root())
                .env(CHILD_ID, i.to_string())
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("spawn child")
        })
        .collect();
    let codes: Vec<i32> = children
        .into_iter()
        .map(|mut c| c.wait().expect("wait").code().expect("exit code"))
        .collect();
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 3).count(), 3, "{codes:?}");
    assert_consistent(&registry, "ns/proc", 1);
}
