//! Every seed and every recorded crash of every fuzz target, through the
//! function the target calls: a crash fixed once stays fixed, without the
//! fuzzer.

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_seed_and_regression_parses_without_a_panic() {
    let mut replayed = 0;
    for (target, run) in crucible_fuzz_cases::TARGETS {
        let seeds = inputs(&fuzz_dir().join("seeds").join(target));
        assert!(!seeds.is_empty(), "fuzz/seeds/{target} has no seed");
        for path in seeds
            .iter()
            .chain(&inputs(&fuzz_dir().join("regressions").join(target)))
        {
            let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            run(&data);
            replayed += 1;
        }
    }
    assert!(replayed >= crucible_fuzz_cases::TARGETS.len());
}

#[test]
fn every_target_has_its_fuzz_binary() {
    for (target, _) in crucible_fuzz_cases::TARGETS {
        let binary = fuzz_dir().join("fuzz_targets").join(format!("{target}.rs"));
        assert!(binary.is_file(), "{} is missing", binary.display());
    }
}
