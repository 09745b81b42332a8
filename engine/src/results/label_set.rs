//! Label sets: one classifier's verdicts over a run's samples. A run's own
//! verdicts are its first label set, `original`, never changed;
//! `crucible rescore` adds others beside it, each under a name of its own.
//!
//! A label set is read through a view of the run (`RunResults::with_labels`)
//! in which its verdicts are the primary verdicts, so that everything
//! computed from a run (`results::figures`, comparisons, reports) computes
//! the same from a label set.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::{ResultsError, RunResults, SampleResult, SampleStatus};
use crate::judge::JudgeSettings;
use crate::plugin::PluginLog;
use crate::record::{SampleError, VerdictRecord};
use crate::transcript::Verdict;

/// The name of a run's own verdicts.
pub const ORIGINAL: &str = "original";

/// The stage a sample fails at when its primary classifier gives no
/// verdict, as the run records it.
const CLASSIFY_STAGE: &str = "classify";

/// One classifier's verdicts, made after the run from its stored
/// transcripts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelSet {
    pub name: String,
    /// `name@version` of the classifier that gave the verdicts.
    pub classifier: String,
    /// The sha256 of the component that ran.
    pub sha256: String,
    /// Where the component came from: a registry package or a file.
    pub source: String,
    /// `provider/model` of the judge the classifier could consult, if any.
    pub judge: Option<String>,
    /// When the set was made (RFC 3339, UTC).
    pub created: String,
    /// The crucible version that made it.
    pub host_version: String,
    /// One per sample the classifier judged, in plan order.
    pub verdicts: Vec<LabelVerdict>,
}

/// The classifier's outcome on one sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelVerdict {
    /// The sample's id in the run.
    pub sample_id: i64,
    pub outcome: Result<Verdict, String>,
    /// The settings of the judge calls the verdict rests on.
    pub judge: Vec<JudgeSettings>,
    /// What the classifier logged, with every judge exchange.
    pub log: PluginLog,
}

impl LabelSet {
    /// The classifier's name, without its version.
    pub fn classifier_name(&self) -> &str {
        classifier_name(&self.classifier)
    }
}

/// `name` of a `name@version`.
pub fn classifier_name(id: &str) -> &str {
    id.rsplit_once('@').map_or(id, |(name, _)| name)
}

impl RunResults {
    /// The names of the run's label sets, `original` first.
    pub fn label_set_names(&self) -> Vec<&str> {
        std::iter::once(ORIGINAL)
            .chain(self.label_sets.iter().map(|s| s.name.as_str()))
            .collect()
    }

    /// The label set of that name (not `original`, which is the run's own
    /// verdicts).
    pub fn label_set(&self, name: &str) -> Result<&LabelSet, ResultsError> {
        self.label_sets
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| ResultsError::UnknownLabelSet {
                run_id: self.run_id.clone(),
                name: name.to_owned(),
                known: self.label_set_names().join(", "),
            })
    }

    /// The classifier (by name) a label set's verdicts are by; `None` for
    /// `original`, whose primary verdicts are each scenario's primary
    /// classifier's.
    pub fn labels_classifier(&self, labels: &str) -> Result<Option<&str>, ResultsError> {
        if labels == ORIGINAL {
            return Ok(None);
        }
        Ok(Some(self.label_set(labels)?.classifier_name()))
    }

    /// The run as a label set labels it: `original` is the run as it ran;
    /// another set's verdicts become the primary verdicts, over the samples
    /// of the scenarios its classifier judged (and only those).
    pub fn with_labels(&self, labels: &str) -> Result<RunResults, ResultsError> {
        if labels == ORIGINAL {
            return Ok(self.clone());
        }
        let set = self.label_set(labels)?;
        let by_sample: HashMap<i64, &LabelVerdict> =
            set.verdicts.iter().map(|v| (v.sample_id, v)).collect();
        Ok(self.view(set.classifier_name(), |sample| {
            by_sample
                .get(&sample)
                .map(|verdict| (set.classifier.as_str(), *verdict))
        }))
    }

    /// The run's own verdicts by the classifier `name` as the primary
    /// verdicts, over the samples of the scenarios that used it: the
    /// `original` side of a comparison with a label set of a secondary
    /// classifier (eval awareness, say).
    pub fn focused_on(&self, name: &str) -> Result<RunResults, ResultsError> {
        if self.scenarios_judged_by(name).is_empty() {
            return Err(ResultsError::UnknownClassifier {
                run_id: self.run_id.clone(),
                name: name.to_owned(),
                known: self.classifier_names().join(", "),
            });
        }
        Ok(self.view(name, |_| None))
    }

    /// The names of the classifiers that judged the run's samples, in the
    /// order first met.
    pub fn classifier_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        let used = self
            .plugins
            .iter()
            .filter(|p| p.role.starts_with("classifier:"))
            .map(|p| p.name.as_str())
            .chain(
                self.samples
                    .iter()
                    .flat_map(|s| s.record.verdicts.iter())
                    .map(|v| classifier_name(&v.classifier)),
            );
        for name in used {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// The scenarios (by plugin name) whose samples the classifier `name`
    /// judged, as the run's plugins and verdicts record it.
    pub fn scenarios_judged_by(&self, name: &str) -> BTreeSet<&str> {
        // Roles are `scenario:KEY` and `classifier:KEY:NAME`.
        let keys: BTreeSet<&str> = self
            .plugins
            .iter()
            .filter_map(|p| p.role.strip_prefix("classifier:"))
            .filter_map(|rest| rest.rsplit_once(':'))
            .filter(|(_, classifier)| *classifier == name)
            .map(|(key, _)| key)
            .collect();
        let mut scenarios: BTreeSet<&str> = self
            .plugins
            .iter()
            .filter(|p| {
                p.role
                    .strip_prefix("scenario:")
                    .is_some_and(|key| keys.contains(key))
            })
            .map(|p| p.name.as_str())
            .collect();
        scenarios.extend(
            self.samples
                .iter()
                .filter(|s| {
                    s.record
                        .verdicts
                        .iter()
                        .any(|v| classifier_name(&v.classifier) == name)
                })
                .map(|s| s.scenario.as_str()),
        );
        scenarios
    }

    /// The samples of the scenarios `classifier` judged, with its verdict
    /// first: the one `replacement` gives for a sample, else its own.
    fn view<'a>(
        &'a self,
        classifier: &str,
        replacement: impl Fn(i64) -> Option<(&'a str, &'a LabelVerdict)>,
    ) -> RunResults {
        let scenarios = self.scenarios_judged_by(classifier);
        let samples = self
            .samples
            .iter()
            .filter(|s| scenarios.contains(s.scenario.as_str()))
            .map(|s| {
                let mut sample = s.clone();
                relabel(&mut sample, classifier, replacement(s.id));
                sample
            })
            .collect();
        RunResults {
            run_id: self.run_id.clone(),
            config: self.config.clone(),
            suite_manifest: self.suite_manifest.clone(),
            lockfile: self.lockfile.clone(),
            plugins: self.plugins.clone(),
            samples,
            label_sets: self.label_sets.clone(),
        }
    }
}

/// Makes `classifier`'s verdict the sample's primary one (replaced by
/// `replacement`'s, with its log, when given), and the sample's status
/// what that verdict makes it, as a run decides: a sample that reached its
/// classifiers is completed when the primary classifier gave a verdict,
/// and failed at `classify` when it did not. A sample that never reached
/// them (it failed before, or there was nothing to judge) is left as it is.
fn relabel(
    sample: &mut SampleResult,
    classifier: &str,
    replacement: Option<(&str, &LabelVerdict)>,
) {
    let record = &mut sample.record;
    let Some(position) = record
        .verdicts
        .iter()
        .position(|v| classifier_name(&v.classifier) == classifier)
    else {
        return;
    };
    let mut verdict = record.verdicts.remove(position);
    if let Some((id, new)) = replacement {
        let log = (id.to_owned(), new.log.clone());
        match record
            .logs
            .iter_mut()
            .find(|(name, _)| *name == verdict.classifier)
        {
            Some(entry) => *entry = log,
            None => record.logs.push(log),
        }
        verdict = VerdictRecord {
            classifier: id.to_owned(),
            outcome: new.outcome.clone(),
            judge: new.judge.clone(),
        };
    }
    let reached_classifiers = sample.status == SampleStatus::Completed
        || record
            .error
            .as_ref()
            .is_some_and(|e| e.stage == CLASSIFY_STAGE);
    if reached_classifiers {
        match &verdict.outcome {
            Ok(_) => {
                sample.status = SampleStatus::Completed;
                record.error = None;
            }
            Err(message) => {
                sample.status = SampleStatus::Error;
                record.error = Some(SampleError {
                    stage: CLASSIFY_STAGE.to_owned(),
                    message: message.clone(),
                });
            }
        }
    }
    record.verdicts.insert(0, verdict);
}
