//! A run's samples written for other tools: a CSV table (one row per
//! sample), JSON Lines (one self-contained record per sample, in a
//! versioned schema), and Inspect AI's eval logs, so that `inspect view`
//! and Inspect's dataframes open a Crucible run.
//!
//! Every format reads the run through [`RunResults`] and counts a sample as
//! the run's summary does ([`Outcome`]).

mod csv;
mod inspect;
mod jsonl;

use std::collections::BTreeSet;
use std::path::PathBuf;

pub use self::csv::write_csv;
pub use crucible_engine::results::Outcome;
pub use inspect::write_inspect;
pub use jsonl::{
    CallLine, ErrorLine, JudgeExchangeLine, JudgeReplyLine, JudgeSettingsLine, LogRecordLine,
    MessageLine, ModelUsageLine, NamedValue, NativeLine, PluginLogLine, RoleLine, SAMPLE_FORMAT,
    SampleLine, SentLine, ServedCallsLine, ServedLine, StopLine, TokensLine, ToolCallLine,
    VerdictLine, write_jsonl,
};

use crucible_engine::model::Usage;
use crucible_engine::record::VerdictRecord;
use crucible_engine::results::{RunResults, SampleResult};

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("writing {what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("writing the CSV: {0}")]
    Csv(#[from] ::csv::Error),
    #[error("writing JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("writing {path}: {source}")]
    Zip {
        path: PathBuf,
        source: zip::result::ZipError,
    },
    #[error("{0} exists and is not a directory: Inspect logs are written into a directory")]
    NotADirectory(PathBuf),
}

impl ExportError {
    pub(crate) fn io(what: impl std::fmt::Display, source: std::io::Error) -> Self {
        Self::Io {
            what: what.to_string(),
            source,
        }
    }

    /// The reader went away (`crucible export ... | head`): not a failure
    /// of the export.
    pub fn is_broken_pipe(&self) -> bool {
        let broken = std::io::ErrorKind::BrokenPipe;
        match self {
            Self::Io { source, .. } => source.kind() == broken,
            Self::Csv(error) => {
                matches!(error.kind(), ::csv::ErrorKind::Io(e) if e.kind() == broken)
            }
            Self::Json(error) => error.io_error_kind() == Some(broken),
            Self::Zip { .. } | Self::NotADirectory(_) => false,
        }
    }
}

/// The condition parameters of a run, each under the name it is exported
/// as: the union over the run's samples, in the order the scenarios list
/// them. A parameter whose name is already one of the format's own fields
/// (`model`, `seed`, ...) is exported as `param_NAME`.
#[derive(Debug, Clone)]
pub(crate) struct ParamColumns {
    /// (the parameter's name, its exported name)
    columns: Vec<(String, String)>,
}

impl ParamColumns {
    pub(crate) fn of(run: &RunResults, reserved: &[&str]) -> Self {
        let mut columns: Vec<(String, String)> = Vec::new();
        for sample in &run.samples {
            for param in &sample.condition.params {
                if columns.iter().any(|(name, _)| *name == param.name) {
                    continue;
                }
                let exported = if reserved.contains(&param.name.as_str()) {
                    format!("param_{}", param.name)
                } else {
                    param.name.clone()
                };
                columns.push((param.name.clone(), exported));
            }
        }
        Self { columns }
    }

    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|(_, exported)| exported.as_str())
    }

    /// The sample's value of each column, in column order; `None` where its
    /// scenario has no such parameter.
    pub(crate) fn values<'a>(
        &'a self,
        sample: &'a SampleResult,
    ) -> impl Iterator<Item = (&'a str, Option<&'a str>)> {
        self.columns.iter().map(|(name, exported)| {
            let value = sample
                .condition
                .params
                .iter()
                .find(|p| p.name == *name)
                .map(|p| p.value.as_str());
            (exported.as_str(), value)
        })
    }
}

/// The secondary classifiers of a run (every verdict after the primary),
/// in first-seen order, each with a short name for column and score
/// names: its package name's last part without the version
/// (`eval-awareness`), unless two would share it.
#[derive(Debug, Clone)]
pub(crate) struct ClassifierNames {
    /// (`name@version`, short name)
    names: Vec<(String, String)>,
}

impl ClassifierNames {
    /// Every classifier that gave a verdict in the run, primary ones
    /// included.
    pub(crate) fn all(run: &RunResults) -> Self {
        Self::from_ids(run.samples.iter().flat_map(|s| s.record.verdicts.iter()))
    }

    /// The classifiers after each sample's primary one.
    pub(crate) fn secondary(run: &RunResults) -> Self {
        Self::from_ids(
            run.samples
                .iter()
                .flat_map(|s| s.record.verdicts.iter().skip(1)),
        )
    }

    fn from_ids<'a>(verdicts: impl Iterator<Item = &'a VerdictRecord>) -> Self {
        let mut ids: Vec<String> = Vec::new();
        for verdict in verdicts {
            if !ids.contains(&verdict.classifier) {
                ids.push(verdict.classifier.clone());
            }
        }
        let short = |id: &str| -> String {
            let name = without_version(id);
            name.rsplit('/').next().unwrap_or(name).to_owned()
        };
        let names = ids
            .iter()
            .map(|id| {
                let mine = short(id);
                let shared = ids.iter().filter(|other| short(other) == mine).count() > 1;
                let name = if shared {
                    id.replace(['/', '@'], "-")
                } else {
                    mine
                };
                (id.clone(), name)
            })
            .collect();
        Self { names }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.names
            .iter()
            .map(|(id, short)| (id.as_str(), short.as_str()))
    }

    /// The short name of classifier `id` (`name@version`).
    pub(crate) fn short(&self, id: &str) -> String {
        self.names
            .iter()
            .find(|(known, _)| known == id)
            .map_or_else(|| id.to_owned(), |(_, short)| short.clone())
    }
}

/// `agentic-misalignment/blackmail-classifier` of
/// `agentic-misalignment/blackmail-classifier@0.2.0`.
pub(crate) fn without_version(id: &str) -> &str {
    id.rsplit_once('@').map_or(id, |(name, _)| name)
}

/// The judge models a verdict rests on, each once.
pub(crate) fn judge_models(verdict: &VerdictRecord) -> Vec<String> {
    let models: BTreeSet<&str> = verdict.judge.iter().map(|j| j.model.as_str()).collect();
    models.into_iter().map(str::to_owned).collect()
}

/// The tokens of the agent's own calls in a sample, its cached answers
/// included: the sample's calls to its model, less the judge calls that
/// went to the same model.
pub(crate) fn agent_usage(sample: &SampleResult) -> Usage {
    let Some(tally) = sample.record.usage.get(&sample.model) else {
        return Usage::default();
    };
    let mut usage = tally.billed;
    usage += tally.cached;
    for (_, log) in &sample.record.logs {
        for call in &log.judge_calls {
            let answered = match &call.outcome {
                Ok(response) => Some(response),
                Err(error) => error.response(),
            };
            if let Some(response) = answered.filter(|r| r.model == sample.model) {
                usage -= response.usage;
            }
        }
    }
    usage
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifier_names_are_short_unless_two_would_share_one() {
        let names = ClassifierNames { names: Vec::new() };
        assert_eq!(names.short("x/y@1"), "x/y@1", "unknown ids stay whole");
        let verdict = |id: &str| VerdictRecord {
            classifier: id.to_owned(),
            outcome: Err(String::new()),
            judge: Vec::new(),
        };
        let verdicts = [
            verdict("am/blackmail-classifier@0.2.0"),
            verdict("am/deliberation@0.2.0"),
            verdict("other/deliberation@1.0.0"),
            verdict("am/blackmail-classifier@0.2.0"),
        ];
        let names = ClassifierNames::from_ids(verdicts.iter());
        let short: Vec<(&str, &str)> = names.iter().collect();
        assert_eq!(
            short,
            [
                ("am/blackmail-classifier@0.2.0", "blackmail-classifier"),
                ("am/deliberation@0.2.0", "am-deliberation-0.2.0"),
                ("other/deliberation@1.0.0", "other-deliberation-1.0.0"),
            ]
        );
    }
}
