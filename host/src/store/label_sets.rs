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
    /// The label set of that name already stored, as `(classifier,
    /// created)`.
    pub fn label_set_made(&self, name: &str) -> Result<Option<(String, String)>, StoreError> {
        existing(&self.conn, name).map_err(|e| self.wrap(e))
    }

    /// Stores a label set, whole or not at all. A name already taken is
    /// an error naming the set that has it: nothing is ever overwritten.
    pub fn add_label_set(&mut self, set: &LabelSet) -> Result<(), LabelSetError> {
        if set.name == ORIGINAL {
            return Err(LabelSetError::Reserved);
        }
        let path = self.path.clone();
        let wrap = |source| StoreError {
            path: path.clone(),
            source,
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
