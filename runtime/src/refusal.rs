//! What a plugin said when it returned an error of its own: one typed
//! value whatever the contract version, so the host decides by variant,
//! never by matching text.
//!
//! A 0.1.0 plugin's error is a string, which becomes `Other`, except the
//! `needs a judge: ` prefix the classifiers of that version agreed on,
//! which becomes `NeedsJudge`. `Display` gives back exactly the string a
//! 0.1.0 plugin returned, because stored runs (and the store's own SQL)
//! hold that text and must read and resume as they always did.

use std::fmt;

use crucible_types::transcript::ByteSize;

/// The prefix a 0.1.0 classifier's error starts with when it cannot
/// decide without a judge; `NeedsJudge` displays with it too.
pub const NEEDS_A_JUDGE_PREFIX: &str = "needs a judge: ";

/// A plugin's own error, as the contract's error variants name it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Refusal {
    /// The classifier cannot be certain without a judge model; the reason
    /// says what the rules could not decide.
    NeedsJudge(String),
    /// The scenario offers no condition with this id.
    UnknownCondition(String),
    /// A condition's parameter is unknown to the scenario or holds a value
    /// it does not allow. Boxed: every load and call error carries a
    /// refusal's room, and this is the one large case.
    InvalidParameter(Box<InvalidParameter>),
    /// The scenario cannot go on from the agent's reply.
    RejectedReply(String),
    /// `step` was called after the episode ended.
    EpisodeOver,
    /// The classifier's judge call failed, as the host told it.
    JudgeFailed(JudgeFailure),
    /// The judge answered in a form the classifier cannot read.
    UnreadableJudgeAnswer(String),
    /// The transcript, facts or condition break what the classifier needs.
    InvalidTranscript(String),
    /// Anything else, and every 0.1.0 error but `needs a judge`.
    Other(String),
}

/// A parameter value a scenario refused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InvalidParameter {
    pub name: String,
    pub value: String,
    /// The values allowed; empty when the scenario has no such parameter.
    pub allowed: Vec<String>,
}

/// The host's `judge-error`, as a classifier passed it on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum JudgeFailure {
    NotConfigured,
    BudgetExhausted,
    Failed(String),
}

impl Refusal {
    /// The refusal a 0.1.0 plugin's error string stands for.
    pub fn from_text(message: String) -> Self {
        match message.strip_prefix(NEEDS_A_JUDGE_PREFIX) {
            Some(reason) => Refusal::NeedsJudge(reason.to_owned()),
            None => Refusal::Other(message),
        }
    }

    /// Whether the plugin said it cannot decide without a judge.
    pub fn needs_a_judge(&self) -> bool {
        matches!(self, Refusal::NeedsJudge(_))
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NeedsJudge(reason) => write!(f, "{NEEDS_A_JUDGE_PREFIX}{reason}"),
            Refusal::UnknownCondition(id) => {
                write!(
                    f,
                    "unknown condition `{id}`: the scenario does not offer it"
                )
            }
            Refusal::InvalidParameter(p) if p.allowed.is_empty() => write!(
                f,
                "unknown parameter `{}` (value `{}`): the scenario has no parameter of that \
                 name",
                p.name, p.value
            ),
            Refusal::InvalidParameter(p) => write!(
                f,
                "parameter `{}` has value `{}`, which is not allowed (allowed: {})",
                p.name,
                p.value,
                p.allowed.join(", ")
            ),
            Refusal::RejectedReply(why) => write!(f, "cannot accept the agent's reply: {why}"),
            Refusal::EpisodeOver => f.write_str("the episode is already over"),
            Refusal::JudgeFailed(failure) => write!(f, "the judge call failed: {failure}"),
            Refusal::UnreadableJudgeAnswer(why) => {
                write!(f, "cannot read the judge's answer: {why}")
            }
            Refusal::InvalidTranscript(why) => write!(f, "invalid transcript: {why}"),
            Refusal::Other(message) => f.write_str(message),
        }
    }
}

impl fmt::Display for JudgeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JudgeFailure::NotConfigured => f.write_str("no judge model is configured"),
            JudgeFailure::BudgetExhausted => f.write_str("the run's judge budget is spent"),
            JudgeFailure::Failed(message) => f.write_str(message),
        }
    }
}

/// Every byte the plugin wrote into the error, for the output cap.
impl ByteSize for Refusal {
    fn byte_size(&self) -> usize {
        match self {
            Refusal::InvalidParameter(p) => p.name.len() + p.value.len() + p.allowed.byte_size(),
            Refusal::JudgeFailed(JudgeFailure::Failed(text))
            | Refusal::NeedsJudge(text)
            | Refusal::UnknownCondition(text)
            | Refusal::RejectedReply(text)
            | Refusal::UnreadableJudgeAnswer(text)
            | Refusal::InvalidTranscript(text)
            | Refusal::Other(text) => text.len(),
            Refusal::EpisodeOver | Refusal::JudgeFailed(_) => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_0_1_0_error_displays_exactly_as_the_plugin_wrote_it() {
        for text in [
            "needs a judge: an email left the company",
            "needs a judge: ",
            "needs a judge",
            "missing fact `to`",
            "",
            "needs a judge:no space",
        ] {
            assert_eq!(Refusal::from_text(text.to_owned()).to_string(), text);
        }
    }

    #[test]
    fn only_the_agreed_prefix_means_a_judge_is_needed() {
        assert_eq!(
            Refusal::from_text("needs a judge: x".into()),
            Refusal::NeedsJudge("x".into())
        );
        assert!(!Refusal::from_text("needs a judge".into()).needs_a_judge());
        assert!(!Refusal::from_text("it needs a judge: x".into()).needs_a_judge());
        assert!(!Refusal::from_text("Needs a judge: x".into()).needs_a_judge());
    }

    #[test]
    fn an_invalid_parameter_names_the_value_and_what_is_allowed() {
        let bad = Refusal::InvalidParameter(Box::new(InvalidParameter {
            name: "tone".into(),
            value: "shouty".into(),
            allowed: vec!["calm".into(), "curt".into()],
        }));
        assert_eq!(
            bad.to_string(),
            "parameter `tone` has value `shouty`, which is not allowed (allowed: calm, curt)"
        );
        let unknown = Refusal::InvalidParameter(Box::new(InvalidParameter {
            name: "colour".into(),
            value: "red".into(),
            allowed: Vec::new(),
        }));
        assert!(
            unknown
                .to_string()
                .starts_with("unknown parameter `colour`")
        );
    }
}
