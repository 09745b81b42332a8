//! The same seed gives byte-identical prompts and transcripts.

use super::*;

/// Each sample's name, seed and transcript, as JSON.
fn transcripts(seed: &str) -> Vec<(String, String, String)> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = crucible(dir.path())
        .args([
            "run",
            "--quiet",
            "--samples",
            "2",
            "--seed",
            seed,
            "--conditions",
            "*_explicit-*",
        ])
        .arg(bundled_suite())
        .output()
        .expect("crucible runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let mut samples: Vec<(String, String, String)> = stored_samples(&run_dir(dir.path()))
        .iter()
        .map(|s| {
            (
                format!("{} {} {}", s.model, s.condition_id, s.sample_index),
                s.seed.to_string(),
                as_json(&s.record.transcript),
            )
        })
        .collect();
    samples.sort();
    samples
}

#[test]
fn two_runs_with_one_seed_are_byte_identical() {
    let first = transcripts("7");
    let second = transcripts("7");
    // 2 models x 3 scenarios x 24 explicit cells x 2 samples.
    assert_eq!(first.len(), 2 * 3 * 24 * 2);
    assert_eq!(first, second);
    // Seeds differ per sample but not per run: one per condition and sample
    // index, shared by the models.
    let seeds: std::collections::BTreeSet<&String> = first.iter().map(|t| &t.1).collect();
    assert_eq!(seeds.len(), 3 * 24 * 2);
}
