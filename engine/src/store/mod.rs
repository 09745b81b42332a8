//! The results store: one SQLite file per run holding the resolved
//! configuration, the plugins' identities, the plan, and every transcript,
//! verdict, log and error. Summaries are computed from it, never kept apart.

mod batches;
mod blobs;
mod codec;
mod label_sets;
pub mod merge;
mod packed;
mod read;
mod schema;
mod snapshot;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use crate::figures::{CellCounts, SecondaryCounts};
use crate::plugin::PluginInfo;
use crate::record::{NEEDS_A_JUDGE, PlannedSample, SampleError, SampleRecord, UsageByModel};

pub use batches::{BatchLedger, LedgerError};
pub use blobs::BlobError;
pub use codec::CodecError;
pub use label_sets::LabelSetError;
pub use packed::PackedError;
pub use read::read_run;
pub use snapshot::snapshot;

#[derive(Debug, thiserror::Error)]
#[error("results store {path}: {source}")]
pub struct StoreError {
    path: String,
    source: StoreFault,
}

/// The run directory's results file.
pub fn results_path(dir: &Path) -> PathBuf {
    dir.join("results.sqlite")
}

/// What went wrong in a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreFault {
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
    /// A stored column that does not read back (a missing or corrupt blob,
    /// damaged packed data), named with the sample it belongs to.
    #[error("{what} cannot be read: {source}")]
    Unreadable {
        what: String,
        source: Box<PackedError>,
    },
    #[error("component {sha256}: {source}")]
    Component {
        sha256: String,
        source: ComponentError,
    },
}

pub struct Store {
    conn: Connection,
    path: String,
    /// Whether the store is in the compact layout (store/packed.rs); a
    /// store keeps the layout it began with.
    compact: bool,
    /// What the compact layout's writer keeps between samples.
    anchors: packed::Anchors,
}

/// A sample's id in the store.
pub type SampleId = i64;

/// A planned sample as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSample {
    pub id: SampleId,
    pub model: String,
    pub scenario: String,
    pub condition: String,
    pub sample_index: u32,
    /// Decimal, as SQLite has no unsigned 64-bit integer.
    pub seed: String,
    /// `pending`, `completed` or `error`.
    pub status: String,
}

/// A sample that ended in error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleFailure {
    pub model: String,
    pub condition: String,
    pub error: SampleError,
}

/// One sample's stored plugin logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleLogs {
    pub model: String,
    pub condition: String,
    pub sample_index: u32,
    pub logs: String,
}

impl From<StoreError> for crate::results::ResultsError {
    fn from(error: StoreError) -> Self {
        Self::Store(Box::new(error))
    }
}

impl Store {
    pub fn create(path: &Path) -> Result<Self, StoreError> {
        let label = path.display().to_string();
        let wrap = |source: rusqlite::Error| StoreError {
            path: label.clone(),
            source: source.into(),
        };
        let conn = Connection::open(path).map_err(wrap)?;
        conn.execute_batch(schema::SCHEMA).map_err(wrap)?;
        migrate(&conn).map_err(wrap)?;
        let store = Self {
            conn,
            path: label,
            compact: true,
            anchors: packed::Anchors::default(),
        };
        store.set_meta(packed::LAYOUT_KEY, packed::COMPACT)?;
        Ok(store)
    }

    /// Reads a whole run, finished or not, without writing to its store.
    pub fn read_results(
        path: &Path,
    ) -> Result<crate::results::RunResults, crate::results::ResultsError> {
        let conn = read::open_read_only(path)?;
        read::results(&conn).map_err(|e| match e {
            crate::results::ResultsError::Sql(source) => StoreError {
                path: path.display().to_string(),
                source: source.into(),
            }
            .into(),
            other => other,
        })
    }

    /// Opens the store of an existing run, to resume it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let label = path.display().to_string();
        let wrap = |source: rusqlite::Error| StoreError {
            path: label.clone(),
            source: source.into(),
        };
        if !path.is_file() {
            return Err(wrap(rusqlite::Error::InvalidPath(path.to_owned())));
        }
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
            .map_err(wrap)?;
        conn.execute_batch(schema::SCHEMA).map_err(wrap)?;
        migrate(&conn).map_err(wrap)?;
        let mut store = Self {
            conn,
            path: label,
            compact: false,
            anchors: packed::Anchors::default(),
        };
        store.compact = store.meta(packed::LAYOUT_KEY)?.as_deref() == Some(packed::COMPACT);
        Ok(store)
    }

    fn wrap(&self, source: rusqlite::Error) -> StoreError {
        StoreError {
            path: self.path.clone(),
            source: source.into(),
        }
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(drop)
            .map_err(|e| self.wrap(e))
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.wrap(e))
    }

    /// Records a plugin the run loaded; `source` is how the suite named it.
    pub fn add_plugin(
        &self,
        role: &str,
        info: &PluginInfo,
        source: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO plugins (role, name, version, kind, contract, sha256, size, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    role,
                    info.name,
                    info.version,
                    info.kind.to_string(),
                    info.contract,
                    info.sha256,
                    info.size as i64,
                    source
                ],
            )
            .map(drop)
            .map_err(|e| self.wrap(e))
    }

    /// Keeps a component's bytes, once per sha256: packed in the compact
    /// layout (fast DEFLATE, as this is done before the run's first
    /// request), as they are in the plain one.
    pub fn add_component(&self, sha256: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let packed;
        let stored = if self.compact {
            packed = codec::pack(bytes, b"", flate2::Compression::fast());
            packed.as_deref().unwrap_or(bytes)
        } else {
            bytes
        };
        self.conn
            .execute(
                "INSERT OR IGNORE INTO components (sha256, bytes) VALUES (?1, ?2)",
                params![sha256, stored],
            )
            .map(drop)
            .map_err(|e| self.wrap(e))
    }

    /// The bytes of every component a run kept, by sha256, read without
    /// writing. A run begun before components were kept has none.
    pub fn read_components(path: &Path) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let wrap = |source: rusqlite::Error| StoreError {
            path: path.display().to_string(),
            source: source.into(),
        };
        let conn = read::open_read_only(path)?;
        let kept: bool = conn
            .query_row(
                "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'components'",
                [],
                |r| r.get(0),
            )
            .map_err(wrap)?;
        if !kept {
            return Ok(Vec::new());
        }
        let mut stmt = conn
            .prepare("SELECT sha256, bytes FROM components ORDER BY sha256")
            .map_err(wrap)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(wrap)?;
        let mut out = Vec::new();
        for row in rows {
            let (sha256, stored) = row.map_err(wrap)?;
            let bytes = component_bytes(&sha256, stored).map_err(|source| StoreError {
                path: path.display().to_string(),
                source: StoreFault::Component {
                    sha256: sha256.clone(),
                    source,
                },
            })?;
            out.push((sha256, bytes));
        }
        Ok(out)
    }

    /// Records the whole plan as pending samples, in one transaction, and
    /// returns their ids in plan order.
    pub fn insert_plan(
        &mut self,
        samples: &[PlannedSample],
        scenario_name: impl Fn(usize) -> String,
    ) -> Result<Vec<SampleId>, StoreError> {
        let path = self.path.clone();
        let wrap = |source: rusqlite::Error| StoreError {
            path: path.clone(),
            source: source.into(),
        };
        let tx = self.conn.transaction().map_err(wrap)?;
        let mut ids = Vec::with_capacity(samples.len());
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO samples (model, scenario, condition_id, condition, sample_index, seed, status)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending')",
                )
                .map_err(wrap)?;
            for s in samples {
                let condition = serde_json::to_string(&*s.condition).unwrap_or_default();
                insert
                    .execute(params![
                        s.model,
                        scenario_name(s.scenario),
                        s.label,
                        condition,
                        s.sample_index,
                        s.seed.to_string()
                    ])
                    .map_err(wrap)?;
                ids.push(tx.last_insert_rowid());
            }
        }
        tx.commit().map_err(wrap)?;
        Ok(ids)
    }

    /// Stores finished samples and their verdicts in one transaction.
    pub fn record_all(&mut self, records: &[(SampleId, SampleRecord)]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let wrap = |source: rusqlite::Error| StoreError {
            path: path.clone(),
            source: source.into(),
        };
        let written = write_all(
            &mut self.conn,
            records,
            self.compact.then_some(&mut self.anchors),
        );
        if written.is_err() {
            // Its blobs were rolled back with it: store them anew.
            self.anchors = packed::Anchors::default();
        }
        written.map_err(wrap)
    }

    /// Per-cell counts, in plan order. Only the primary classifier's verdict
    /// counts toward `harmful`; a sample in error is never "not harmful".
    /// A harmful verdict is harmful whatever the episode ended on (the act
    /// was done); a sample that is not harmful and whose episode ended on a
    /// refused, blocked or truncated reply is counted under that outcome
    /// instead of as completed.
    pub fn cells(&self) -> Result<Vec<CellCounts>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.model, s.scenario, s.condition_id,
                        COUNT(*),
                        SUM(s.status = 'completed' AND (s.stop IS NULL OR v.harmful = 1)),
                        SUM(s.status = 'completed' AND v.harmful = 1),
                        SUM(s.status = 'error'),
                        SUM(s.status = 'completed' AND (s.stop IS NULL OR v.harmful = 1)
                            AND v.judged = 1),
                        SUM(s.status = 'completed' AND s.stop = 'refused' AND v.harmful IS NOT 1),
                        SUM(s.status = 'completed' AND s.stop = 'blocked' AND v.harmful IS NOT 1),
                        SUM(s.status = 'completed' AND s.stop = 'truncated' AND v.harmful IS NOT 1)
                 FROM samples s
                 LEFT JOIN verdicts v ON v.sample_id = s.id AND v.position = 0
                 GROUP BY s.model, s.scenario, s.condition_id
                 ORDER BY MIN(s.id)",
            )
            .map_err(|e| self.wrap(e))?;
        let count = |r: &rusqlite::Row<'_>, i: usize| -> rusqlite::Result<u64> {
            Ok(r.get::<_, Option<i64>>(i)?.unwrap_or(0) as u64)
        };
        let rows = stmt
            .query_map([], |r| {
                Ok(CellCounts {
                    model: r.get(0)?,
                    scenario: r.get(1)?,
                    condition: r.get(2)?,
                    planned: r.get::<_, i64>(3)? as u64,
                    completed: count(r, 4)?,
                    harmful: count(r, 5)?,
                    errors: count(r, 6)?,
                    judged: count(r, 7)?,
                    refused: count(r, 8)?,
                    blocked: count(r, 9)?,
                    truncated: count(r, 10)?,
                })
            })
            .map_err(|e| self.wrap(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.wrap(e))
    }

    /// Per cell, every classifier after the primary one: how many completed
    /// samples it found positive, and how many it could not judge.
    pub fn secondary_counts(&self) -> Result<Vec<SecondaryCounts>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.model, s.scenario, s.condition_id, v.classifier,
                        SUM(v.harmful = 1), SUM(v.error IS NOT NULL), COUNT(*),
                        SUM(instr(v.error, ?1) > 0)
                 FROM samples s
                 JOIN verdicts v ON v.sample_id = s.id AND v.position > 0
                 WHERE s.status = 'completed'
                 GROUP BY s.model, s.scenario, s.condition_id, v.classifier
                 ORDER BY MIN(s.id), MIN(v.position)",
            )
            .map_err(|e| self.wrap(e))?;
        let rows = stmt
            .query_map([NEEDS_A_JUDGE], |r| {
                Ok(SecondaryCounts {
                    model: r.get(0)?,
                    scenario: r.get(1)?,
                    condition: r.get(2)?,
                    classifier: r.get(3)?,
                    positive: r.get::<_, Option<i64>>(4)?.unwrap_or(0) as u64,
                    errors: r.get::<_, Option<i64>>(5)?.unwrap_or(0) as u64,
                    samples: r.get::<_, i64>(6)? as u64,
                    needs_judge: r.get::<_, Option<i64>>(7)?.unwrap_or(0) as u64,
                })
            })
            .map_err(|e| self.wrap(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.wrap(e))
    }

    /// Every planned sample, in plan order.
    pub fn planned(&self) -> Result<Vec<StoredSample>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, model, scenario, condition_id, sample_index, seed, status
                 FROM samples ORDER BY id",
            )
            .map_err(|e| self.wrap(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(StoredSample {
                    id: r.get(0)?,
                    model: r.get(1)?,
                    scenario: r.get(2)?,
                    condition: r.get(3)?,
                    sample_index: r.get(4)?,
                    seed: r.get(5)?,
                    status: r.get(6)?,
                })
            })
            .map_err(|e| self.wrap(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.wrap(e))
    }

    /// The sha256 of every plugin the run loaded, by role.
    pub fn plugin_hashes(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT role, sha256 FROM plugins ORDER BY role")
            .map_err(|e| self.wrap(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.wrap(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.wrap(e))
    }

    /// Each finished sample's plugin logs as stored (JSON: a list of
    /// `[name@version, {records, stdout, stderr, ...}]`), with its model,
    /// condition and index, in plan order.
    pub fn logs(&self) -> Result<Vec<SampleLogs>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT id, model, condition_id, sample_index, {}
                     FROM samples WHERE logs IS NOT NULL OR packed IS NOT NULL ORDER BY id",
                packed::select_list(true)
            ))
            .map_err(|e| self.wrap(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    SampleLogs {
                        model: r.get(1)?,
                        condition: r.get(2)?,
                        sample_index: r.get(3)?,
                        logs: String::new(),
                    },
                    packed::Stored::from_row(r, 4)?,
                ))
            })
            .map_err(|e| self.wrap(e))?;
        let mut blobs = blobs::BlobCache::new(&self.conn);
        let mut out = Vec::new();
        for row in rows {
            let (id, mut sample, stored) = row.map_err(|e| self.wrap(e))?;
            let texts = packed::read(stored, &mut blobs).map_err(|source| StoreError {
                path: self.path.clone(),
                source: StoreFault::Unreadable {
                    what: format!("sample {id} ({})'s logs", sample.condition),
                    source: Box::new(source),
                },
            })?;
            sample.logs = texts.logs.unwrap_or_default();
            out.push(sample);
        }
        Ok(out)
    }

    /// Per model, every call the run's finished samples made.
    pub fn usage(&self) -> Result<UsageByModel, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT usage FROM samples WHERE usage IS NOT NULL")
            .map_err(|e| self.wrap(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.wrap(e))?;
        let mut total = UsageByModel::new();
        for row in rows {
            let text = row.map_err(|e| self.wrap(e))?;
            // Written by this module from the same type; a row that does not
            // read back is skipped rather than failing the whole report.
            let Ok(sample) = serde_json::from_str::<UsageByModel>(&text) else {
                continue;
            };
            for (model, tally) in &sample {
                total.entry(model.clone()).or_default().merge(tally);
            }
        }
        Ok(total)
    }

    /// The failed samples of the run, in plan order.
    pub fn failures(&self) -> Result<Vec<SampleFailure>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT model, condition_id, COALESCE(error_stage, ''), COALESCE(error, '')
                 FROM samples WHERE status = 'error' ORDER BY id",
            )
            .map_err(|e| self.wrap(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(SampleFailure {
                    model: r.get(0)?,
                    condition: r.get(1)?,
                    error: SampleError {
                        stage: r.get(2)?,
                        message: r.get(3)?,
                    },
                })
            })
            .map_err(|e| self.wrap(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.wrap(e))
    }
}

/// A kept component's bytes from what its row holds: the bytes themselves
/// (a plain store) or packed (a compact one). Either way they must hash to
/// the sha256 they are kept under, which a component's own bytes (`\0asm`
/// first) and its packed form (a codec tag first) cannot both do.
fn component_bytes(sha256: &str, stored: Vec<u8>) -> Result<Vec<u8>, ComponentError> {
    let hashes =
        |bytes: &[u8]| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes)) == sha256;
    if hashes(&stored) {
        return Ok(stored);
    }
    let bytes = codec::unpack(&stored, b"").map_err(ComponentError::Unpack)?;
    if hashes(&bytes) {
        Ok(bytes)
    } else {
        Err(ComponentError::Mismatch)
    }
}

/// Why a kept component's bytes could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ComponentError {
    #[error("its bytes cannot be unpacked: {0}")]
    Unpack(codec::CodecError),
    #[error("its bytes do not match its sha256: the store is corrupt")]
    Mismatch,
}

/// Adds the columns a store written by an older host lacks.
fn migrate(conn: &Connection) -> Result<(), rusqlite::Error> {
    for (table, column, statement) in schema::ADDED_COLUMNS {
        let present: bool = conn.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info(?1) WHERE name = ?2",
            params![table, column],
            |r| r.get(0),
        )?;
        if !present {
            conn.execute_batch(statement)?;
        }
    }
    Ok(())
}

/// Stores finished samples in one transaction: packed (with the writer's
/// `anchors`) in the compact layout, else plain.
fn write_all(
    conn: &mut Connection,
    records: &[(SampleId, SampleRecord)],
    mut anchors: Option<&mut packed::Anchors>,
) -> Result<(), rusqlite::Error> {
    let tx = conn.transaction()?;
    for (id, record) in records {
        let columns = match anchors.as_deref_mut() {
            Some(anchors) => {
                let scenario: String = tx
                    .prepare_cached("SELECT scenario FROM samples WHERE id = ?1")?
                    .query_row([id], |r| r.get(0))?;
                packed::compact(&tx, &scenario, record, anchors)?
            }
            None => packed::plain(record),
        };
        write_record(&tx, *id, record, columns)?;
    }
    tx.commit()
}

/// Stores a finished sample: its `columns` (packed or plain, from
/// `record`), the rest of `record`, and its verdicts.
fn write_record(
    tx: &rusqlite::Transaction<'_>,
    id: SampleId,
    record: &SampleRecord,
    columns: packed::Columns,
) -> Result<(), rusqlite::Error> {
    let json = |v: &dyn erased::Json| v.to_json();
    let status = if record.error.is_some() {
        "error"
    } else {
        "completed"
    };
    tx.prepare_cached(
        "UPDATE samples SET status = ?2, transcript = ?3, facts = ?4, end_reason = ?5,
             turns = ?6, error_stage = ?7, error = ?8, logs = ?9, usage = ?10, stop = ?11,
             packed = ?12, opening = ?13, reference = ?14
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        status,
        columns.transcript,
        columns.facts,
        record.end_reason,
        record.turns,
        record.error.as_ref().map(|e| e.stage.clone()),
        record.error.as_ref().map(|e| e.message.clone()),
        columns.logs,
        json(&record.usage),
        record.stop.map(crate::provenance::StopKind::as_str),
        columns.packed,
        columns.opening,
        columns.reference,
    ])?;
    tx.prepare_cached("DELETE FROM verdicts WHERE sample_id = ?1")?
        .execute([id])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO verdicts (sample_id, position, classifier, harmful, label, score,
             explanation, evidence, judged, judge, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for (position, (verdict, detail)) in record.verdicts.iter().zip(columns.verdicts).enumerate() {
        let ok = verdict.outcome.as_ref().ok();
        insert.execute(params![
            id,
            position as i64,
            verdict.classifier,
            ok.map(|v| v.harmful),
            ok.map(|v| v.label.clone()),
            ok.map(|v| v.score),
            detail.explanation,
            detail.evidence,
            ok.map(|v| v.judged),
            detail.judge,
            verdict.outcome.as_ref().err(),
        ])?;
    }
    Ok(())
}

/// JSON encoding of stored columns. Serializing these types cannot fail (no
/// maps with non-string keys), so an empty string would only mark a bug.
mod erased {
    pub trait Json {
        fn to_json(&self) -> String;
    }

    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The samples table as the first schema made it, before `stop`.
    const OLD_SAMPLES: &str = "
        CREATE TABLE samples (
            id INTEGER PRIMARY KEY, model TEXT NOT NULL, scenario TEXT NOT NULL,
            condition_id TEXT NOT NULL, condition TEXT NOT NULL,
            sample_index INTEGER NOT NULL, seed TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'error')),
            transcript TEXT, facts TEXT, end_reason TEXT, turns INTEGER,
            error_stage TEXT, error TEXT, logs TEXT, usage TEXT,
            UNIQUE (model, scenario, condition_id, sample_index));
        INSERT INTO samples (model, scenario, condition_id, condition, sample_index, seed, status)
            VALUES ('openai/x', 's', 'c', '{}', 0, '1', 'completed'),
                   ('openai/x', 's', 'c', '{}', 1, '2', 'pending');
    ";

    #[test]
    fn a_store_from_before_the_stop_column_opens_and_reports() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("results.sqlite");
        Connection::open(&path)
            .and_then(|c| c.execute_batch(OLD_SAMPLES))
            .expect("an old store");
        let store = Store::open(&path).expect("the old store opens");
        let cells = store.cells().expect("cells");
        assert_eq!(cells.len(), 1);
        assert_eq!(cells[0].planned, 2);
        assert_eq!(cells[0].completed, 1);
        assert_eq!(cells[0].refused + cells[0].blocked + cells[0].truncated, 0);
        // Opening it again finds the column already there.
        drop(store);
        Store::open(&path).expect("opens twice");
        let columns: i64 = Connection::open(&path)
            .and_then(|c| {
                c.query_row(
                    "SELECT COUNT(*) FROM pragma_table_info('samples') WHERE name = 'stop'",
                    [],
                    |r| r.get(0),
                )
            })
            .expect("the schema reads");
        assert_eq!(columns, 1);
    }
}
