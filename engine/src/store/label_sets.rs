//! Label sets in the store: written whole, in one transaction, beside the
//! run's own verdicts, which nothing here touches; read back with the run.

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use super::erased::Json;
use super::read::VerdictColumns;
use super::{Store, StoreError};
use crate::results::{LabelSet, LabelVerdict, ORIGINAL, ResultsError};

/// Why a label set could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum LabelSetError {
    #[error(
        "run already has a label set `{name}` (by {classifier}, made {created}); \
         label sets are never replaced: choose another name with --name"
    )]
    Exists {
        name: String,
        classifier: String,
        created: String,
    },
    #[error("`{ORIGINAL}` names the run's own verdicts; choose another name for a label set")]
    Reserved,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Stores a label set, whole or not at all. A name already taken is
    /// an error naming the set that has it: nothing is ever overwritten.
    pub fn add_label_set(&mut self, set: &LabelSet) -> Result<(), LabelSetError> {
        if set.name == ORIGINAL {
            return Err(LabelSetError::Reserved);
        }
        let path = self.path.clone();
        let wrap = |source: rusqlite::Error| StoreError {
            path: path.clone(),
            source: source.into(),
        };
        let tx = self.conn.transaction().map_err(wrap)?;
        let inserted = tx.execute(
            "INSERT INTO label_sets (name, classifier, sha256, source, judge, created, host_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                set.name,
                set.classifier,
                set.sha256,
                set.source,
                set.judge,
                set.created,
                set.host_version
            ],
        );
        match inserted {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::ConstraintViolation =>
            {
                let (classifier, created) =
                    existing(&tx, &set.name).map_err(wrap)?.unwrap_or_default();
                return Err(LabelSetError::Exists {
                    name: set.name.clone(),
                    classifier,
                    created,
                });
            }
            Err(e) => return Err(wrap(e).into()),
        }
        let id = tx.last_insert_rowid();
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO label_verdicts (label_set, sample_id, harmful, label, score,
                         explanation, evidence, judged, judge, error, logs)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )
                .map_err(wrap)?;
            for verdict in &set.verdicts {
                let ok = verdict.outcome.as_ref().ok();
                insert
                    .execute(params![
                        id,
                        verdict.sample_id,
                        ok.map(|v| v.harmful),
                        ok.map(|v| v.label.clone()),
                        ok.map(|v| v.score),
                        ok.map(|v| v.explanation.clone()),
                        ok.map(|v| v.evidence.to_json()),
                        ok.map(|v| v.judged),
                        (!verdict.judge.is_empty()).then(|| verdict.judge.to_json()),
                        verdict.outcome.as_ref().err(),
                        verdict.log.to_json(),
                    ])
                    .map_err(wrap)?;
            }
        }
        tx.commit().map_err(wrap)?;
        Ok(())
    }
}

fn existing(conn: &Connection, name: &str) -> Result<Option<(String, String)>, rusqlite::Error> {
    conn.query_row(
        "SELECT classifier, created FROM label_sets WHERE name = ?1",
        [name],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Every label set of the run, oldest first. A store written before label
/// sets existed has none.
pub(super) fn read(conn: &Connection) -> Result<Vec<LabelSet>, ResultsError> {
    let present: bool = conn.query_row(
        "SELECT COUNT(*) = 2 FROM sqlite_master
         WHERE type = 'table' AND name IN ('label_sets', 'label_verdicts')",
        [],
        |r| r.get(0),
    )?;
    if !present {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare(
        "SELECT id, name, classifier, sha256, source, judge, created, host_version
         FROM label_sets ORDER BY id",
    )?;
    let sets = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                LabelSet {
                    name: r.get(1)?,
                    classifier: r.get(2)?,
                    sha256: r.get(3)?,
                    source: r.get(4)?,
                    judge: r.get(5)?,
                    created: r.get(6)?,
                    host_version: r.get(7)?,
                    verdicts: Vec::new(),
                },
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::with_capacity(sets.len());
    for (id, mut set) in sets {
        set.verdicts = verdicts(conn, id, &set.name)?;
        out.push(set);
    }
    Ok(out)
}

fn verdicts(conn: &Connection, id: i64, set: &str) -> Result<Vec<LabelVerdict>, ResultsError> {
    let mut stmt = conn.prepare(
        "SELECT sample_id, harmful, label, score, explanation, evidence, judged, judge, error, logs
         FROM label_verdicts WHERE label_set = ?1 ORDER BY sample_id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            VerdictColumns::read(r, 1)?,
            r.get::<_, String>(9)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (sample_id, columns, log) = row?;
        let what = |column: &str| format!("label set `{set}`, sample {sample_id}: its {column}");
        let (outcome, judge) = columns.parse(what)?;
        let log = serde_json::from_str(&log).map_err(|source| ResultsError::Corrupt {
            what: what("log"),
            source,
        })?;
        out.push(LabelVerdict {
            sample_id,
            outcome,
            judge,
            log,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::PluginLog;
    use crate::transcript::Verdict;

    /// A store with one finished sample, as a run leaves it.
    fn a_run(path: &std::path::Path) -> Store {
        let store = Store::create(path).expect("a store");
        store.set_meta("run_id", "r1").expect("meta");
        store.set_meta("config", "{}").expect("meta");
        store
            .conn
            .execute_batch(
                "INSERT INTO samples (id, model, scenario, condition_id, condition, sample_index,
                     seed, status, transcript, facts, logs, usage)
                 VALUES (1, 'm', 's', 'c', '{\"id\":\"c\",\"params\":[]}', 0, '7', 'completed',
                     '[]', '[]', '[]', '{}');
                 INSERT INTO verdicts (sample_id, position, classifier, harmful, label, score,
                     explanation, evidence, judged)
                 VALUES (1, 0, 'ns/c@1.0.0', 1, 'harmful', 1.0, 'why', '[\"e\"]', 0);",
            )
            .expect("a finished sample");
        store
    }

    fn label_set(name: &str, outcome: Result<Verdict, String>) -> LabelSet {
        LabelSet {
            name: name.to_owned(),
            classifier: "ns/c@1.1.0".into(),
            sha256: "ab".repeat(32),
            source: "ns/c@1.1.0".into(),
            judge: None,
            created: "2026-12-06T00:00:00Z".into(),
            host_version: "0.1.0".into(),
            verdicts: vec![LabelVerdict {
                sample_id: 1,
                outcome,
                judge: Vec::new(),
                log: PluginLog {
                    stdout: "hello".into(),
                    ..PluginLog::default()
                },
            }],
        }
    }

    /// A store from before label sets has none, reads as before, and takes
    /// one once opened; a set reads back as it was written, beside the
    /// run's verdicts, and its name is never taken twice.
    #[test]
    fn label_sets_are_added_to_old_stores_whole_and_never_replaced() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("results.sqlite");
        let store = a_run(&path);
        store
            .conn
            .execute_batch("DROP TABLE label_verdicts; DROP TABLE label_sets;")
            .expect("the store as an older host left it");
        drop(store);
        let before = Store::read_results(&path).expect("an old store reads");
        assert!(before.label_sets.is_empty());

        let mut store = Store::open(&path).expect("an old store opens");
        let verdict = Verdict {
            harmful: false,
            label: "benign".into(),
            score: 0.0,
            explanation: "no threat".into(),
            evidence: vec!["quote".into()],
            judged: true,
        };
        let first = label_set("second-look", Ok(verdict));
        store.add_label_set(&first).expect("stored");
        let failed = label_set("no-judge", Err("needs a judge: x".into()));
        store.add_label_set(&failed).expect("stored");

        let again = store
            .add_label_set(&label_set("second-look", Err("x".into())))
            .expect_err("a taken name");
        assert!(
            matches!(&again, LabelSetError::Exists { classifier, .. } if classifier == "ns/c@1.1.0"),
            "{again}"
        );
        let reserved = store
            .add_label_set(&label_set(ORIGINAL, Err("x".into())))
            .expect_err("reserved");
        assert!(matches!(reserved, LabelSetError::Reserved), "{reserved}");

        let after = Store::read_results(&path).expect("reads");
        assert_eq!(after.label_sets, vec![first, failed]);
        assert_eq!(after.samples, before.samples, "the run's own verdicts");
    }
}
