//! The compact store (host/src/store/packed.rs): a run's samples packed
//! against their condition's opening and their scenario's reference
//! sample, each kept once per run, read back exactly as the plain layout
//! held them; a store in the plain layout of earlier
//! releases still opens, resumes (in its own layout), reports, bundles,
//! verifies and rescores; and a damaged blob or packed column is one clear
//! error naming the sample, never a panic or a wrong answer.

use rusqlite::params;

use super::*;

/// Three conditions of each scenario: 2 models x 3 scenarios x 3 x 2
/// samples.
const CONDITIONS: &str = "*_explicit-america_*";
const SAMPLES: usize = 2 * 3 * 3 * 2;

/// An offline run of the bundled suite over `CONDITIONS` in `dir`.
fn offline_run(dir: &Path) -> PathBuf {
    let output = crucible(dir)
        .args([
            "run",
            "--quiet",
            "--samples",
            "2",
            "--conditions",
            CONDITIONS,
        ])
        .arg(bundled_suite())
        .output()
        .expect("crucible runs");
    assert_success(&output);
    run_dir(dir)
}

/// A copy of the run directory `run` at `to`.
fn copy_run(run: &Path, to: &Path) -> PathBuf {
    std::fs::create_dir_all(to).expect("a directory for the copy");
    for entry in std::fs::read_dir(run).expect("the run lists") {
        let path = entry.expect("an entry").path();
        if path.is_file() {
            std::fs::copy(&path, to.join(path.file_name().expect("a name"))).expect("copied");
        }
    }
    to.to_owned()
}

/// Rewrites a compact store as the host before the compact layout wrote
/// it: every text column (the verdicts' too) plain JSON, no `packed`, `opening` or
/// `reference` column, no `blobs` table, no layout mark.
fn to_plain_layout(run: &Path) {
    let samples = stored_samples(run);
    let db = results(run);
    for s in samples
        .iter()
        .filter(|s| s.status != crucible_engine::results::SampleStatus::Pending)
    {
        db.execute(
            "UPDATE samples SET transcript = ?2, facts = ?3, logs = ?4 WHERE id = ?1",
            params![
                s.id,
                as_json(&s.record.transcript),
                as_json(&s.record.facts),
                as_json(&s.record.logs)
            ],
        )
        .expect("a plain row");
        for (position, verdict) in s.record.verdicts.iter().enumerate() {
            let ok = verdict.outcome.as_ref().ok();
            db.execute(
                "UPDATE verdicts SET explanation = ?3, evidence = ?4, judge = ?5
                 WHERE sample_id = ?1 AND position = ?2",
                params![
                    s.id,
                    position as i64,
                    ok.map(|v| v.explanation.clone()),
                    ok.map(|v| as_json(&v.evidence)),
                    (!verdict.judge.is_empty()).then(|| as_json(&verdict.judge)),
                ],
            )
            .expect("a plain verdict");
        }
    }
    db.execute_batch(
        "ALTER TABLE samples DROP COLUMN opening;
         ALTER TABLE samples DROP COLUMN packed;
         ALTER TABLE samples DROP COLUMN reference;
         DROP TABLE blobs;
         DELETE FROM meta WHERE key = 'store_layout';
         VACUUM;",
    )
    .expect("the plain layout");
}

/// `crucible ARGS` in `dir`, which must succeed; its stdout.
fn succeeds(dir: &Path, args: &[&str]) -> String {
    let output = crucible(dir).args(args).output().expect("crucible runs");
    assert_success(&output);
    stdout(&output)
}

/// What the commands that read a run make of it: its summary, its JSON
/// Lines and CSV exports, and its samples as the host reads them.
fn readings(dir: &Path, run: &Path) -> (String, String, String) {
    let path = run.to_str().expect("a UTF-8 path");
    (
        succeeds(dir, &["summary", path]),
        succeeds(dir, &["export", path, "--format", "jsonl"]),
        succeeds(dir, &["export", path, "--format", "csv"]),
    )
}

/// The kinds of value the finished samples' transcript and logs columns
/// hold, and their packed column's if the store has one.
fn column_types(run: &Path) -> Vec<String> {
    let db = results(run);
    let packed = if db.prepare("SELECT packed FROM samples").is_ok() {
        "typeof(packed)"
    } else {
        "'none'"
    };
    db.prepare(&format!(
        "SELECT DISTINCT typeof(transcript) || ' ' || typeof(logs) || ' ' || {packed}
         FROM samples WHERE status != 'pending' ORDER BY 1"
    ))
    .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
    .expect("the column types")
}

/// A compact run reads back, in every command that reads runs, exactly as
/// the same run rewritten in the plain layout; each condition's opening is
/// kept once, not once a sample.
#[test]
fn a_compact_run_reads_exactly_as_the_same_run_stored_plain() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = offline_run(dir.path());
    assert_eq!(column_types(&run), ["null null blob"], "packed");
    let db = results(&run);
    let (blobs, openings, references, samples): (i64, i64, i64, i64) = db
        .query_row(
            "SELECT (SELECT COUNT(*) FROM blobs), COUNT(DISTINCT opening),
                    COUNT(DISTINCT reference), COUNT(*)
             FROM samples",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("counted");
    assert_eq!(samples as usize, SAMPLES);
    assert_eq!(references, 3, "one reference sample a scenario");
    assert_eq!(blobs, openings + references, "each kept once");
    assert!(
        openings * 2 <= samples,
        "{openings} openings for {samples} samples: shared, not one a sample"
    );
    drop(db);

    let plain = copy_run(&run, &dir.path().join("plain"));
    to_plain_layout(&plain);
    assert_eq!(column_types(&plain), ["text text none"]);
    assert_eq!(stored_samples(&plain), stored_samples(&run));
    assert_eq!(readings(dir.path(), &plain), readings(dir.path(), &run));
    let size = |run: &Path| {
        std::fs::metadata(run.join("results.sqlite"))
            .expect("the store")
            .len()
    };
    assert!(size(&run) < size(&plain), "compact is smaller");

    // A bundle of each holds the same results, and both verify.
    let compact_bundle = dir.path().join("compact.crucible");
    let plain_bundle = dir.path().join("plain.crucible");
    for (run, bundle) in [(&run, &compact_bundle), (&plain, &plain_bundle)] {
        succeeds(
            dir.path(),
            &[
                "bundle",
                run.to_str().expect("a path"),
                "-o",
                bundle.to_str().expect("a path"),
            ],
        );
        succeeds(dir.path(), &["verify", bundle.to_str().expect("a path")]);
    }
    let summary_of =
        |bundle: &Path| succeeds(dir.path(), &["summary", bundle.to_str().expect("a path")]);
    assert_eq!(summary_of(&compact_bundle), summary_of(&plain_bundle));
}

/// A run stored by an earlier release (the plain layout, before `opening`
/// and `blobs`) opens, resumes in its own layout, reports, bundles,
/// verifies and rescores.
#[test]
fn a_plain_store_from_an_earlier_release_resumes_in_its_own_layout() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = offline_run(dir.path());
    let expected = stored_samples(&run);
    let old = copy_run(&run, &dir.path().join("old"));
    to_plain_layout(&old);
    // As a run stopped halfway leaves it: the second samples never ran.
    results(&old)
        .execute_batch(
            "DELETE FROM verdicts WHERE sample_id IN (SELECT id FROM samples WHERE sample_index = 1);
             UPDATE samples SET status = 'pending', transcript = NULL, facts = NULL, end_reason = NULL,
                 turns = NULL, logs = NULL, usage = NULL, stop = NULL WHERE sample_index = 1;",
        )
        .expect("the run is made unfinished");
    let old_path = old.to_str().expect("a UTF-8 path");
    succeeds(dir.path(), &["run", "--quiet", "--resume", old_path]);

    // Everything it wrote is in the layout the store began with, which the
    // release that began it reads.
    assert_eq!(column_types(&old), ["text text null"]);
    let (blobs, layout): (i64, i64) = results(&old)
        .query_row(
            "SELECT (SELECT COUNT(*) FROM blobs),
                    (SELECT COUNT(*) FROM meta WHERE key = 'store_layout')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("counted");
    assert_eq!((blobs, layout), (0, 0));
    let transcripts = |samples: &[crucible_engine::results::SampleResult]| -> Vec<String> {
        samples
            .iter()
            .map(|s| as_json(&s.record.transcript))
            .collect()
    };
    assert_eq!(transcripts(&stored_samples(&old)), transcripts(&expected));

    succeeds(dir.path(), &["summary", old_path]);
    succeeds(dir.path(), &["report", old_path]);
    assert!(old.join("report.html").is_file());
    let bundle = dir.path().join("old.crucible");
    let bundle_path = bundle.to_str().expect("a path");
    succeeds(dir.path(), &["bundle", old_path, "-o", bundle_path]);
    succeeds(dir.path(), &["verify", bundle_path]);
    let classifier: String = results(&old)
        .query_row(
            "SELECT name || '@' || version FROM plugins
             WHERE role LIKE 'classifier:blackmail:%blackmail-classifier'",
            [],
            |r| r.get(0),
        )
        .expect("the run's blackmail classifier");
    succeeds(
        dir.path(),
        &["rescore", old_path, "--quiet", "--classifier", &classifier],
    );
    let label_sets: i64 = results(&old)
        .query_row("SELECT COUNT(*) FROM label_sets", [], |r| r.get(0))
        .expect("counted");
    assert_eq!(label_sets, 1);
}

/// Runs `export` on a damaged store: it must fail with one line naming
/// what could not be read, and write nothing.
fn export_fails(dir: &Path, run: &Path) -> String {
    let out = dir.join("out.jsonl");
    let output = crucible(dir)
        .arg("export")
        .arg(run)
        .args(["--format", "jsonl", "-o"])
        .arg(&out)
        .output()
        .expect("crucible runs");
    assert!(!output.status.success(), "{}", stdout(&output));
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(!message.contains("panicked"), "{message}");
    assert!(!out.exists(), "nothing written");
    message
}

/// A missing, altered or unreadable blob, or a damaged packed column, is
/// one error naming the sample and the blob at fault.
#[test]
fn a_damaged_blob_or_packed_column_is_one_clear_error_naming_the_sample() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = offline_run(dir.path());
    let db = results(&run);
    let (id, condition, opening, reference): (i64, String, String, String) = db
        .query_row(
            "SELECT id, condition_id, opening, reference FROM samples ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("the first sample");
    let blob = |sha256: &str| -> (Vec<u8>, Option<String>) {
        db.query_row(
            "SELECT bytes, base FROM blobs WHERE sha256 = ?1",
            [sha256],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("a blob")
    };
    let restore = |sha256: &str, (bytes, base): &(Vec<u8>, Option<String>)| {
        db.execute(
            "INSERT OR REPLACE INTO blobs (sha256, bytes, base) VALUES (?1, ?2, ?3)",
            params![sha256, bytes, base],
        )
        .expect("restored");
    };
    let kept_opening = blob(&opening);
    let sample = format!("sample {id} ({condition})'s record cannot be read");

    db.execute("DELETE FROM blobs WHERE sha256 = ?1", [&opening])
        .expect("deleted");
    let message = export_fails(dir.path(), &run);
    assert!(
        message.contains(&format!("{sample}: its opening: blob {opening} is missing")),
        "{message}"
    );

    // Another blob's text under this one's name.
    db.execute(
        "INSERT INTO blobs (sha256, bytes)
         SELECT ?1, bytes FROM blobs WHERE sha256 != ?1 AND base IS NULL LIMIT 1",
        [&opening],
    )
    .expect("swapped");
    let message = export_fails(dir.path(), &run);
    assert!(
        message.contains(&format!(
            "{sample}: its opening: blob {opening} does not match"
        )),
        "{message}"
    );

    let half = kept_opening.0[..kept_opening.0.len() / 2].to_vec();
    restore(&opening, &(half, kept_opening.1.clone()));
    let message = export_fails(dir.path(), &run);
    assert!(
        message.contains(&format!(
            "{sample}: its opening: blob {opening} cannot be unpacked"
        )),
        "{message}"
    );

    // The opening restored, the scenario's reference sample lost instead.
    restore(&opening, &kept_opening);
    succeeds(
        dir.path(),
        &["export", run.to_str().expect("a path"), "--format", "csv"],
    );
    let kept_reference = blob(&reference);
    db.execute("DELETE FROM blobs WHERE sha256 = ?1", [&reference])
        .expect("deleted");
    let message = export_fails(dir.path(), &run);
    assert!(
        message.contains(&format!(
            "{sample}: its reference sample: blob {reference} is missing"
        )),
        "{message}"
    );
    restore(&reference, &kept_reference);

    // The sample's own packed column damaged.
    db.execute(
        "UPDATE samples SET packed = x'09deadbeef' WHERE id = ?1",
        [id],
    )
    .expect("damaged");
    let message = export_fails(dir.path(), &run);
    assert!(
        message.contains(&format!(
            "{sample}: its packed columns: its format tag 9 is unknown"
        )),
        "{message}"
    );
}
