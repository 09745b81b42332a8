//! A plan cut N ways (`crucible run --shard K/N`) and joined again
//! (`crucible merge`): the merged run is the run made in one piece, in its
//! summary, its report, its bundle's verification and its resume; shards
//! that do not belong together are refused by name.

use super::*;

/// The bundled suite's offline run, with `args`, into `dir/runs`: its run
/// directory.
fn offline_run(dir: &Path, args: &[&str]) -> PathBuf {
    std::fs::create_dir_all(dir).expect("a directory");
    let output = run_quietly(dir, &bundled_suite(), args, None);
    assert_success(&output);
    run_dir(dir)
}

/// Runs shard `k` of `n` of the bundled suite offline, in `root/shard-k`.
fn shard(root: &Path, k: u32, n: u32, args: &[&str]) -> PathBuf {
    let share = format!("{k}/{n}");
    let mut all = vec!["--shard", share.as_str()];
    all.extend_from_slice(args);
    offline_run(&root.join(format!("shard-{k}")), &all)
}

fn merge(dir: &Path, out: &str, shards: &[&Path]) -> Output {
    crucible(dir)
        .arg("merge")
        .arg(out)
        .args(shards)
        .output()
        .expect("crucible runs")
}

/// summary.json without what names the run itself.
fn figures(run: &Path) -> Value {
    let mut summary = summary(run);
    summary.as_object_mut().expect("an object").remove("run_id");
    summary
}

/// `crucible summary RUN`, without the line naming the run.
fn summary_text(run: &Path) -> String {
    let output = crucible(run)
        .arg("summary")
        .arg(run)
        .output()
        .expect("crucible runs");
    assert_success(&output);
    stdout(&output)
        .lines()
        .filter(|line| !line.contains("Run "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Marks the samples `ids` of a run's store as a kill leaves them: pending,
/// with nothing stored.
fn unfinish(run: &Path, ids: &str) {
    let db = results(run);
    db.execute_batch(&format!(
        "DELETE FROM verdicts WHERE sample_id IN ({ids});
         UPDATE samples SET status = 'pending', transcript = NULL, facts = NULL,
             end_reason = NULL, turns = NULL, logs = NULL, usage = NULL, stop = NULL
         WHERE id IN ({ids});"
    ))
    .expect("the store updates");
}

fn status_counts(run: &Path) -> (i64, i64) {
    results(run)
        .query_row(
            "SELECT COUNT(*), SUM(status = 'pending') FROM samples",
            [],
            |r| Ok((r.get(0)?, r.get::<_, Option<i64>>(1)?.unwrap_or(0))),
        )
        .expect("counts")
}

#[test]
fn three_shards_merge_into_the_run_made_in_one_piece() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path();
    let whole = offline_run(&root.join("whole"), &[]);
    let shards: Vec<PathBuf> = (1..=3).map(|k| shard(root, k, 3, &[])).collect();

    // Each shard holds its share, a third of every model's samples.
    for shard in &shards {
        let per_model: Vec<(String, i64)> = {
            let db = results(shard);
            let mut stmt = db
                .prepare("SELECT model, COUNT(*) FROM samples GROUP BY model ORDER BY model")
                .expect("a query");
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("rows")
        };
        assert_eq!(
            per_model,
            vec![
                ("reference/benign".to_owned(), 78),
                ("reference/harmful".to_owned(), 78)
            ]
        );
    }
    // A shard's resume keeps its shard: a killed shard's samples run
    // again in the rows they have, and none of another shard's.
    unfinish(&shards[1], "1, 7, 150");
    let output = crucible(root)
        .args(["run", "--resume"])
        .arg(&shards[1])
        .output()
        .expect("crucible runs");
    assert_success(&output);
    assert!(
        stderr(&output).contains("(shard 2/3): 3 of 156 samples to run"),
        "{}",
        stderr(&output)
    );
    assert_eq!(status_counts(&shards[1]), (156, 0));

    // Merged in any order, they are the whole run.
    let order: Vec<&Path> = vec![&shards[2], &shards[0], &shards[1]];
    let output = merge(root, "merged", &order);
    assert_success(&output);
    assert!(
        stdout(&output).contains("Merged 3 shards: 468 samples"),
        "{}",
        stdout(&output)
    );
    let merged = root.join("merged");
    assert_eq!(figures(&merged), figures(&whole));
    assert_eq!(summary(&merged)["run_id"], "merged");
    assert_eq!(summary_text(&merged), summary_text(&whole));
    // Sample by sample, in the plan's order, with the same verdicts.
    let rows = |run: &Path| -> Vec<(String, String, i64, String, String, Option<String>)> {
        let db = results(run);
        let mut stmt = db
            .prepare(
                "SELECT s.model, s.condition_id, s.sample_index, s.seed, s.status, v.label
                 FROM samples s LEFT JOIN verdicts v ON v.sample_id = s.id AND v.position = 0
                 ORDER BY s.id",
            )
            .expect("a query");
        stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows")
    };
    assert_eq!(rows(&merged), rows(&whole));
    let config: Value = serde_json::from_str(
        &results(&merged)
            .query_row("SELECT value FROM meta WHERE key = 'config'", [], |r| {
                r.get::<_, String>(0)
            })
            .expect("a config"),
    )
    .expect("JSON");
    assert!(config.get("shard").is_none(), "{config}");

    // It bundles and verifies like any run.
    let bundle = root.join("merged.crucible");
    let output = crucible(root)
        .arg("bundle")
        .arg(&merged)
        .arg("--output")
        .arg(&bundle)
        .output()
        .expect("crucible runs");
    assert_success(&output);
    let output = crucible(root)
        .arg("verify")
        .arg(&bundle)
        .output()
        .expect("crucible runs");
    assert_success(&output);

    // A resume of the merged run picks up what is pending, and ends where
    // the run made in one piece ended.
    unfinish(&merged, "2, 3, 240, 468");
    let output = crucible(root)
        .args(["run", "--resume"])
        .arg(&merged)
        .output()
        .expect("crucible runs");
    assert_success(&output);
    assert!(
        stderr(&output).contains("4 of 468 samples to run"),
        "{}",
        stderr(&output)
    );
    assert_eq!(status_counts(&merged), (468, 0));
    assert_eq!(figures(&merged), figures(&whole));
}

#[test]
fn shards_that_do_not_belong_together_are_refused_by_name() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path();
    let conditions = ["--conditions", "blackmail_explicit-*"];
    let one = shard(root, 1, 2, &conditions);
    let two = shard(root, 2, 2, &conditions);
    let refused = |shards: &[&Path], out: &str, expected: &[&str]| {
        let output = merge(root, out, shards);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        let message = stderr(&output);
        for part in expected {
            assert!(message.contains(part), "{part:?} not in: {message}");
        }
        assert!(!root.join(out).exists(), "a refused merge wrote {out}");
        message
    };

    // Another seed: another plan.
    let other_seed = offline_run(
        &root.join("seed"),
        &[
            "--shard",
            "2/2",
            "--seed",
            "7",
            conditions[0],
            conditions[1],
        ],
    );
    refused(&[&one, &other_seed], "a", &["shard 2/2", "plan differs"]);
    // The same plan under another configuration.
    let other_turns = offline_run(
        &root.join("turns"),
        &[
            "--shard",
            "2/2",
            "--max-turns",
            "3",
            conditions[0],
            conditions[1],
        ],
    );
    refused(
        &[&one, &other_turns],
        "b",
        &["configuration's max_turns is 3"],
    );
    // Another N.
    let third = offline_run(
        &root.join("third"),
        &["--shard", "3/3", conditions[0], conditions[1]],
    );
    refused(&[&one, &third], "c", &["one of 3 shards, not 2"]);
    // Twice the same shard; a shard missing.
    refused(&[&one, &one], "d", &["both shard 1/2"]);
    refused(&[&one], "e", &["shard 2 of 2 is missing"]);
    // A run that is no shard.
    let whole = offline_run(&root.join("whole"), &conditions);
    refused(&[&one, &whole], "f", &["not a shard"]);
    // An altered plugin.
    let altered = offline_run(
        &root.join("altered"),
        &["--shard", "2/2", conditions[0], conditions[1]],
    );
    results(&altered)
        .execute(
            "UPDATE plugins SET sha256 = 'beef' WHERE role = 'scenario:blackmail'",
            [],
        )
        .expect("the store updates");
    refused(
        &[&one, &altered],
        "g",
        &["plugins differ", "scenario:blackmail"],
    );
    // A directory that holds no run.
    std::fs::create_dir_all(root.join("empty")).expect("a directory");
    refused(&[&one, &root.join("empty")], "h", &["no results store"]);

    // Into a directory that exists: refused, and left as it was.
    std::fs::create_dir_all(root.join("taken")).expect("a directory");
    let output = merge(root, "taken", &[&one, &two]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("already exists"),
        "{}",
        stderr(&output)
    );
    // The right two merge.
    assert_success(&merge(root, "merged", &[&two, &one]));
}

#[test]
fn a_bad_shard_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (value, expected) in [
        ("0/3", "JOB_COMPLETION_INDEX + 1"),
        ("4/3", "no shard 4 of 3"),
        ("1/0", "0 shards"),
        ("one/3", "not a shard"),
        ("1-3", "not a shard"),
    ] {
        let output = run_quietly(dir.path(), &bundled_suite(), &["--shard", value], None);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{value}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(expected),
            "{value}: {}",
            stderr(&output)
        );
        assert!(!dir.path().join("runs").exists(), "{value} started a run");
    }
}

#[test]
fn the_dry_run_shows_the_shards_share() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = run_quietly(
        dir.path(),
        &bundled_suite(),
        &["--dry-run", "--shard", "2/5"],
        None,
    );
    assert_success(&output);
    let out = stdout(&output);
    // 468 samples: shard 2 of 5 takes numbers 2, 7, 12, ...: 94 of them,
    // 47 of each model's 234.
    assert!(
        out.contains("Shard 2/5 (--shard): 94 of the plan's 468 samples, numbers 2, 7, 12, ... of the plan (reference/harmful 47, reference/benign 47)"),
        "{out}"
    );
}
