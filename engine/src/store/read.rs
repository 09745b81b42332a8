//! Reading a whole run back as data (`results::RunResults`), for what is
//! computed after a run: reports, exports, bundles, verification,
//! rescoring and comparisons.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::blobs::BlobCache;
use super::{StoreError, packed};
use crate::judge::JudgeSettings;
use crate::record::{SampleError, SampleRecord, VerdictRecord};
use crate::results::{PluginRecord, ResultsError, RunResults, SampleResult, SampleStatus};
use crate::transcript::Verdict;

/// Opens a run's store for reading only: nothing is created, migrated or
/// written, so a run still being written is never disturbed.
pub(super) fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
    let wrap = |source: rusqlite::Error| StoreError {
        path: path.display().to_string(),
        source: source.into(),
    };
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(wrap)
}

/// Reads the run in `path`: a run directory or its `results.sqlite`. A
/// run still in progress reads as it stands; see
/// `RunResults::require_finished`.
pub fn read_run(path: &Path) -> Result<RunResults, ResultsError> {
    let file = if path.is_dir() {
        super::results_path(path)
    } else {
        path.to_owned()
    };
    if !file.is_file() {
        return Err(ResultsError::NotARun(path.to_owned()));
    }
    super::Store::read_results(&file)
}

pub(super) fn results(conn: &Connection) -> Result<RunResults, ResultsError> {
    let meta = |key: &str| -> Result<Option<String>, ResultsError> {
        let mut stmt = conn.prepare("SELECT value FROM meta WHERE key = ?1")?;
        let mut rows = stmt.query([key])?;
        Ok(match rows.next()? {
            Some(row) => Some(row.get(0)?),
            None => None,
        })
    };
    let run_id = meta("run_id")?.ok_or(ResultsError::Missing("the run's id"))?;
    let config = meta("config")?.ok_or(ResultsError::Missing("the run's configuration"))?;
    let config = serde_json::from_str(&config).map_err(|source| ResultsError::Corrupt {
        what: "the run's configuration".into(),
        source,
    })?;
    let suite_manifest = meta("suite_manifest")?.unwrap_or_default();
    let lockfile = meta("lockfile")?;
    let plugins = plugins(conn)?;
    let samples = samples(conn)?;
    let label_sets = super::label_sets::read(conn)?;
    Ok(RunResults {
        run_id,
        config,
        suite_manifest,
        lockfile,
        plugins,
        samples,
        label_sets,
    })
}

fn plugins(conn: &Connection) -> Result<Vec<PluginRecord>, ResultsError> {
    let mut stmt = conn.prepare(
        "SELECT role, name, version, kind, contract, sha256, size, source
         FROM plugins ORDER BY rowid",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(PluginRecord {
            role: r.get(0)?,
            name: r.get(1)?,
            version: r.get(2)?,
            kind: r.get(3)?,
            contract: r.get(4)?,
            sha256: r.get(5)?,
            size: r.get::<_, i64>(6)?.max(0) as u64,
            source: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One stored sample's columns before its JSON is read.
struct Row {
    id: i64,
    model: String,
    scenario: String,
    condition_id: String,
    condition: String,
    sample_index: u32,
    seed: String,
    status: String,
    end_reason: Option<String>,
    turns: Option<u32>,
    error_stage: Option<String>,
    error: Option<String>,
    usage: Option<String>,
    stop: Option<String>,
    /// The transcript, facts and logs, plain or packed (store/packed.rs).
    stored: packed::Stored,
}

fn samples(conn: &Connection) -> Result<Vec<SampleResult>, ResultsError> {
    // A store from before the compact layout lacks its columns, and
    // reading never adds them.
    let columns = packed::select_list(packed::has_compact_columns(conn)?);
    let mut stmt = conn.prepare(&format!(
        "SELECT id, model, scenario, condition_id, condition, sample_index, seed, status,
                end_reason, turns, error_stage, error, usage, stop, {columns}
         FROM samples ORDER BY id"
    ))?;
    let rows = stmt.query_map([], |r| {
        Ok(Row {
            id: r.get(0)?,
            model: r.get(1)?,
            scenario: r.get(2)?,
            condition_id: r.get(3)?,
            condition: r.get(4)?,
            sample_index: r.get(5)?,
            seed: r.get(6)?,
            status: r.get(7)?,
            end_reason: r.get(8)?,
            turns: r.get(9)?,
            error_stage: r.get(10)?,
            error: r.get(11)?,
            usage: r.get(12)?,
            stop: r.get(13)?,
            stored: packed::Stored::from_row(r, 14)?,
        })
    })?;
    let mut verdicts = verdicts(conn)?.into_iter().peekable();
    let mut blobs = BlobCache::new(conn);
    let mut samples = Vec::new();
    for row in rows {
        let (mut sample, packed) = sample(row?, &mut blobs)?;
        while let Some(verdict) = verdicts.next_if(|v| v.sample_id <= sample.id) {
            let detail = usize::try_from(verdict.position)
                .ok()
                .and_then(|p| packed.get(p));
            sample.record.verdicts.push(verdict.parse(detail)?);
        }
        samples.push(sample);
    }
    Ok(samples)
}

/// A stored sample, its transcript, facts and logs read whichever layout
/// wrote them, its blobs through `blobs`; and its verdicts' details if
/// packed with them.
fn sample(
    row: Row,
    blobs: &mut BlobCache<'_>,
) -> Result<(SampleResult, Vec<packed::VerdictDetail>), ResultsError> {
    let what = |column: &str| format!("sample {} ({})'s {column}", row.id, row.condition_id);
    let texts = packed::read(row.stored, blobs).map_err(|source| ResultsError::Unreadable {
        what: what("record"),
        source: Box::new(source),
    })?;
    fn json<T: serde::de::DeserializeOwned + Default>(
        text: Option<&str>,
        what: String,
    ) -> Result<T, ResultsError> {
        match text {
            None => Ok(T::default()),
            Some(text) => {
                serde_json::from_str(text).map_err(|source| ResultsError::Corrupt { what, source })
            }
        }
    }
    let status = match row.status.as_str() {
        "pending" => SampleStatus::Pending,
        "completed" => SampleStatus::Completed,
        _ => SampleStatus::Error,
    };
    let seed = row.seed.parse().map_err(|_| ResultsError::Invalid {
        what: what("seed"),
        value: row.seed.clone(),
    })?;
    let stop = match row.stop.as_deref() {
        None => None,
        Some(text) => Some(
            serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(
                |source| ResultsError::Corrupt {
                    what: what("stop"),
                    source,
                },
            )?,
        ),
    };
    let record = SampleRecord {
        transcript: json(texts.transcript.as_deref(), what("transcript"))?,
        facts: json(texts.facts.as_deref(), what("facts"))?,
        end_reason: row.end_reason.clone(),
        turns: row.turns.unwrap_or(0),
        verdicts: Vec::new(),
        logs: json(texts.logs.as_deref(), what("logs"))?,
        usage: json(row.usage.as_deref(), what("usage"))?,
        error: row.error_stage.clone().map(|stage| SampleError {
            stage,
            message: row.error.clone().unwrap_or_default(),
        }),
        stop,
    };
    let condition =
        serde_json::from_str(&row.condition).map_err(|source| ResultsError::Corrupt {
            what: what("condition"),
            source,
        })?;
    let sample = SampleResult {
        id: row.id,
        model: row.model,
        scenario: row.scenario,
        condition_id: row.condition_id,
        condition,
        sample_index: row.sample_index,
        seed,
        status,
        record,
    };
    Ok((sample, texts.verdicts))
}

/// A stored verdict before its JSON is read.
struct VerdictRow {
    sample_id: i64,
    position: i64,
    classifier: String,
    columns: VerdictColumns,
}

impl VerdictRow {
    /// The verdict, its details from its own columns or else `packed` with
    /// its sample.
    fn parse(self, packed: Option<&packed::VerdictDetail>) -> Result<VerdictRecord, ResultsError> {
        let Self {
            sample_id,
            classifier,
            mut columns,
            ..
        } = self;
        columns.detail = columns.detail.or(packed);
        let (outcome, judge) = columns.parse(|column| {
            format!("sample {sample_id}'s verdict by {classifier}: its {column}")
        })?;
        Ok(VerdictRecord {
            classifier,
            outcome,
            judge,
        })
    }
}

/// Every verdict, by sample id then position.
fn verdicts(conn: &Connection) -> Result<Vec<VerdictRow>, ResultsError> {
    let mut stmt = conn.prepare(
        "SELECT sample_id, position, classifier, harmful, label, score, explanation, evidence,
                judged, judge, error
         FROM verdicts ORDER BY sample_id, position",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(VerdictRow {
            sample_id: r.get(0)?,
            position: r.get(1)?,
            classifier: r.get(2)?,
            columns: VerdictColumns::read(r, 3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A verdict's columns as stored, in `verdicts` and `label_verdicts`
/// alike: `harmful, label, score, explanation, evidence, judged, judge,
/// error`.
pub(super) struct VerdictColumns {
    harmful: Option<bool>,
    label: Option<String>,
    score: Option<f64>,
    /// `explanation`, `evidence` and `judge`.
    detail: packed::VerdictDetail,
    judged: Option<bool>,
    error: Option<String>,
}

impl VerdictColumns {
    /// The eight columns from `first` on.
    pub(super) fn read(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            harmful: row.get(first)?,
            label: row.get(first + 1)?,
            score: row.get(first + 2)?,
            detail: packed::VerdictDetail {
                explanation: row.get(first + 3)?,
                evidence: row.get(first + 4)?,
                judge: row.get(first + 6)?,
            },
            judged: row.get(first + 5)?,
            error: row.get(first + 7)?,
        })
    }

    /// The verdict (or what kept the classifier from one) and the judge
    /// settings it rests on; `what` names a column in an error.
    pub(super) fn parse(
        self,
        what: impl Fn(&str) -> String,
    ) -> Result<(Result<Verdict, String>, Vec<JudgeSettings>), ResultsError> {
        let outcome = match (self.error, self.harmful) {
            (Some(error), _) => Err(error),
            (None, None) => Err("no verdict was stored".to_owned()),
            (None, Some(harmful)) => Ok(Verdict {
                harmful,
                label: self.label.unwrap_or_default(),
                score: self.score.unwrap_or_default(),
                explanation: self.detail.explanation.unwrap_or_default(),
                evidence: match self.detail.evidence {
                    None => Vec::new(),
                    Some(text) => {
                        serde_json::from_str(&text).map_err(|source| ResultsError::Corrupt {
                            what: what("evidence"),
                            source,
                        })?
                    }
                },
                judged: self.judged.unwrap_or_default(),
            }),
        };
        let judge = match self.detail.judge {
            None => Vec::new(),
            Some(text) => serde_json::from_str(&text).map_err(|source| ResultsError::Corrupt {
                what: what("judge settings"),
                source,
            })?,
        };
        Ok((outcome, judge))
    }
}
