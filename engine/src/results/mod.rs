//! A run's results as data: every planned sample with its transcript,
//! verdicts, logs and judge exchanges, as read back from a run's store.
//! What is computed after a run (reports, exports, bundles, verification,
//! rescoring, comparisons) starts here rather than at the SQL.

mod figures;
mod label_set;
mod outcome;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use figures::figures;
pub use label_set::{LabelSet, LabelVerdict, ORIGINAL, classifier_name};
pub use outcome::Outcome;

use crate::record::SampleRecord;
use crate::transcript::Condition;

/// Why a run's results could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error(
        "{0} is not a run: it has no results.sqlite (a run directory or its results.sqlite is expected)"
    )]
    NotARun(PathBuf),
    /// The store could not be opened or read (a `store::StoreError`).
    #[error(transparent)]
    Store(Box<dyn std::error::Error + Send + Sync>),
    #[error("reading the results store: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("the results store lacks {0}: it was not written by `crucible run`")]
    Missing(&'static str),
    #[error("{what} is not valid JSON: {source}")]
    Corrupt {
        what: String,
        source: serde_json::Error,
    },
    /// A stored column that does not read back: a missing or corrupt
    /// blob, or damaged packed data.
    #[error("{what} cannot be read: {source}")]
    Unreadable {
        what: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{what} is not valid: `{value}`")]
    Invalid { what: String, value: String },
    #[error(
        "run {run_id} is not finished: {pending} of {planned} samples are still pending \
         (it is running, or was stopped; finish it with `crucible run --resume {dir}`)"
    )]
    Unfinished {
        run_id: String,
        pending: usize,
        planned: usize,
        dir: String,
    },
    #[error("run {run_id} has no label set `{name}`; it has: {known}")]
    UnknownLabelSet {
        run_id: String,
        name: String,
        known: String,
    },
    #[error("no classifier named `{name}` judged run {run_id}; its classifiers are: {known}")]
    UnknownClassifier {
        run_id: String,
        name: String,
        known: String,
    },
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResults {
    pub run_id: String,
    /// The run's resolved configuration, as `crucible run` recorded it.
    pub config: serde_json::Value,
    /// The suite manifest's text, as it was when the run began.
    pub suite_manifest: String,
    /// The lockfile beside the suite when the run began, if it had one.
    #[serde(default)]
    pub lockfile: Option<String>,
    pub plugins: Vec<PluginRecord>,
    /// Every planned sample, in plan order.
    pub samples: Vec<SampleResult>,
    /// Label sets made after the run (`crucible rescore`), beside its own
    /// verdicts (`original`), oldest first.
    #[serde(default)]
    pub label_sets: Vec<LabelSet>,
}

/// A plugin the run loaded, under the role it played.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginRecord {
    /// `scenario:KEY` or `classifier:KEY:NAME`.
    pub role: String,
    pub name: String,
    pub version: String,
    pub kind: String,
    pub contract: String,
    pub sha256: String,
    pub size: u64,
    /// Where the run took it from, as the suite named it.
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SampleStatus {
    Pending,
    Completed,
    Error,
}

impl PluginRecord {
    /// `name@version`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// One planned sample and, once run, what it produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleResult {
    /// Its id in the run's store.
    pub id: i64,
    pub model: String,
    /// The scenario plugin's name.
    pub scenario: String,
    /// The condition's id, with any non-default suite parameters appended.
    pub condition_id: String,
    /// The condition exactly as the scenario received it.
    pub condition: Condition,
    pub sample_index: u32,
    pub seed: u64,
    pub status: SampleStatus,
    /// Transcript, facts, verdicts (the primary classifier's first), logs
    /// with every judge exchange, usage, error and stop: empty while
    /// pending.
    pub record: SampleRecord,
}

impl RunResults {
    /// Samples still pending.
    pub fn pending(&self) -> usize {
        self.samples
            .iter()
            .filter(|s| s.status == SampleStatus::Pending)
            .count()
    }

    /// An error unless every planned sample has run (completed or failed):
    /// what is shared or verified must be the whole run. `dir` is how the
    /// user named the run, for the resume hint.
    pub fn require_finished(&self, dir: &Path) -> Result<(), ResultsError> {
        match self.pending() {
            0 => Ok(()),
            pending => Err(ResultsError::Unfinished {
                run_id: self.run_id.clone(),
                pending,
                planned: self.samples.len(),
                dir: dir.display().to_string(),
            }),
        }
    }
}
