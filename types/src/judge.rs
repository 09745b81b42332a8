//! What a classifier may ask of the judge and what it gets back, the
//! `Judge` that answers, and the two judges that call no model: none at
//! all, and the scripted one that answers by a known label.

use std::sync::Arc;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize};

use crate::provenance::{CallRecord, SentSampling};
use crate::transcript::{Label, Message, Role};
use crate::usage::Usage;

/// What a classifier asks the judge. Held as the chat the judge model is
/// sent (the system prompt as its first message), so that sending it
/// copies nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgeRequest {
    chat: Vec<Message>,
    pub prompt_version: String,
    pub max_tokens: u32,
}

impl JudgeRequest {
    pub fn new(
        system_prompt: String,
        messages: impl IntoIterator<Item = Message>,
        prompt_version: String,
        max_tokens: u32,
    ) -> Self {
        let mut chat = vec![Message::new(Role::System, system_prompt)];
        chat.extend(messages);
        Self {
            chat,
            prompt_version,
            max_tokens,
        }
    }

    pub fn system_prompt(&self) -> &str {
        self.chat.first().map_or("", |m| m.content.as_str())
    }

    /// The whole chat the judge model is sent: the system prompt as a
    /// message, then the classifier's.
    pub fn chat(&self) -> &[Message] {
        &self.chat
    }

    /// The classifier's messages, after the system prompt.
    pub fn messages(&self) -> &[Message] {
        self.chat.get(1..).unwrap_or_default()
    }

    /// The bytes of text the judge model would be sent.
    pub fn byte_size(&self) -> usize {
        self.chat
            .iter()
            .map(crate::transcript::ByteSize::byte_size)
            .sum()
    }
}

/// What one sample may ask of the judge, checked before anything is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JudgeCaps {
    pub calls_per_sample: u32,
    pub request_bytes: usize,
}

/// Stored with the sample's logs as the classifier sent it: the system
/// prompt apart from the messages.
impl Serialize for JudgeRequest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("JudgeRequest", 4)?;
        s.serialize_field("system_prompt", self.system_prompt())?;
        s.serialize_field("messages", self.messages())?;
        s.serialize_field("prompt_version", &self.prompt_version)?;
        s.serialize_field("max_tokens", &self.max_tokens)?;
        s.end()
    }
}

/// Read back from a stored sample's logs, to replay or compare exchanges.
impl<'de> Deserialize<'de> for JudgeRequest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Stored {
            system_prompt: String,
            messages: Vec<Message>,
            prompt_version: String,
            max_tokens: u32,
        }
        let stored = Stored::deserialize(deserializer)?;
        Ok(Self::new(
            stored.system_prompt,
            stored.messages,
            stored.prompt_version,
            stored.max_tokens,
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeResponse {
    pub text: String,
    pub model: String,
    pub usage: Usage,
    /// What the provider said the call cost, where it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Answered from the response cache rather than by the model.
    pub cached: bool,
    /// Why the reply ended, which model served it, the sampling sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<Box<CallRecord>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum JudgeError {
    #[error("no judge model is configured")]
    NotConfigured,
    #[error("the run's judge budget is spent")]
    BudgetExhausted,
    #[error("judge call failed: {0}")]
    Failed(String),
    /// Refused before anything was sent: the sample had made its share of
    /// the run's judge calls.
    #[error(
        "judge call refused, nothing sent: this sample has made its {cap} judge calls \
         (raise `judge_calls_per_sample` under the suite's [run])"
    )]
    SampleCallsCapped { cap: u32 },
    /// Refused before anything was sent: the request was too large.
    #[error(
        "judge call refused, nothing sent: the request carries {size} bytes, over the \
         {cap}-byte cap (raise `judge_request_bytes` under the suite's [run])"
    )]
    RequestTooLarge { size: usize, cap: usize },
    /// The judge model answered, but with nothing to use: its reply was
    /// cut short, refused, withheld or paused. The exchange is kept (it
    /// was billed), and the classifier is told it failed.
    #[error("judge call failed: {reason}")]
    Unanswered {
        reason: String,
        response: Box<JudgeResponse>,
    },
}

impl JudgeError {
    /// The exchange behind a failed call, when the model did answer.
    pub fn response(&self) -> Option<&JudgeResponse> {
        match self {
            JudgeError::Unanswered { response, .. } => Some(response),
            _ => None,
        }
    }
}

/// The settings a judge call was made with: pinned by the host, recorded
/// with every verdict that rests on the call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeSettings {
    /// `provider/model`.
    pub model: String,
    /// What was sent: temperature (null when none was), max tokens, any
    /// reasoning setting, and why a pinned temperature was not sent.
    #[serde(flatten)]
    pub sent: SentSampling,
    /// The classifier's own version of its judge prompt.
    pub prompt_version: String,
}

/// Answers judge requests. Called from inside a plugin call, which waits on
/// its fiber while the answer comes.
#[async_trait::async_trait]
pub trait Judge: Send + Sync {
    async fn judge(&self, request: &JudgeRequest) -> Result<JudgeResponse, JudgeError>;

    /// `provider/model` of the judge, if one is configured.
    fn model_id(&self) -> Option<&str>;

    /// The settings `request` is answered with, if a judge is configured.
    fn settings(&self, request: &JudgeRequest) -> Option<JudgeSettings>;

    /// This judge as one sample sees it: its calls are cached under the
    /// sample's index, like the agent's.
    fn for_sample(self: Arc<Self>, sample_index: u32) -> Arc<dyn Judge>;
}

/// The judge of a run without a judge model.
pub struct NoJudge;

#[async_trait::async_trait]
impl Judge for NoJudge {
    async fn judge(&self, _request: &JudgeRequest) -> Result<JudgeResponse, JudgeError> {
        Err(JudgeError::NotConfigured)
    }

    fn model_id(&self) -> Option<&str> {
        None
    }

    fn settings(&self, _request: &JudgeRequest) -> Option<JudgeSettings> {
        None
    }

    fn for_sample(self: Arc<Self>, _sample_index: u32) -> Arc<dyn Judge> {
        self
    }
}

/// A judge whose answers are known in advance: for scripted agents whose
/// label is known (the offline `reference/*` models, a scenario's
/// references under `crucible check` and `crucible test`, labelled cases),
/// it answers every question with that label, in the yes/no form the
/// suite's harm classifiers ask for (`<answer>yes</answer>` for harmful).
/// It never stands in for a real judge on a real model's transcript.
pub struct ScriptedJudge {
    answer: String,
}

impl ScriptedJudge {
    /// How its answers are signed.
    pub const MODEL: &'static str = "reference/judge";

    /// A judge that answers every question with `answer`, as written.
    pub fn answering(answer: impl Into<String>) -> Self {
        Self {
            answer: answer.into(),
        }
    }

    /// A judge that says yes to a harmful label and no to a benign one.
    pub fn by_label(label: Label) -> Self {
        Self::answering(match label {
            Label::Harmful => "The transcript is labelled harmful.\n<answer>yes</answer>",
            Label::Benign => "The transcript is labelled benign.\n<answer>no</answer>",
        })
    }
}

#[async_trait::async_trait]
impl Judge for ScriptedJudge {
    async fn judge(&self, _request: &JudgeRequest) -> Result<JudgeResponse, JudgeError> {
        Ok(JudgeResponse {
            text: self.answer.clone(),
            model: Self::MODEL.to_owned(),
            usage: Usage::default(),
            cost_usd: None,
            cached: false,
            call: None,
        })
    }

    fn model_id(&self) -> Option<&str> {
        Some(Self::MODEL)
    }

    fn settings(&self, request: &JudgeRequest) -> Option<JudgeSettings> {
        Some(JudgeSettings {
            model: Self::MODEL.to_owned(),
            sent: SentSampling {
                temperature: None,
                max_tokens: None,
                reasoning: None,
                note: Some("scripted: answers with the known label, no model called".into()),
            },
            prompt_version: request.prompt_version.clone(),
        })
    }

    fn for_sample(self: Arc<Self>, _sample_index: u32) -> Arc<dyn Judge> {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scripted_judge_answers_by_label_and_signs_its_answers() {
        let request = JudgeRequest::new("s".into(), [], "v/1".into(), 64);
        let yes = pollster::block_on(ScriptedJudge::by_label(Label::Harmful).judge(&request))
            .expect("answers");
        assert!(yes.text.ends_with("<answer>yes</answer>"));
        assert_eq!(yes.model, "reference/judge");
        let no = pollster::block_on(ScriptedJudge::by_label(Label::Benign).judge(&request))
            .expect("answers");
        assert!(no.text.ends_with("<answer>no</answer>"));
        let settings = ScriptedJudge::by_label(Label::Benign)
            .settings(&request)
            .expect("settings");
        assert_eq!(
            (settings.model.as_str(), settings.prompt_version.as_str()),
            ("reference/judge", "v/1")
        );
    }

    #[test]
    fn a_request_is_stored_as_the_classifier_sent_it_and_sent_as_one_chat() {
        let request = JudgeRequest::new(
            "Judge the emails.".into(),
            [Message::new(Role::User, "Email 1: ...")],
            "judge/1".into(),
            64,
        );
        assert_eq!(request.system_prompt(), "Judge the emails.");
        assert_eq!(request.messages().len(), 1);
        assert_eq!(request.chat[0].role, Role::System);
        let stored = serde_json::to_value(&request).expect("serializes");
        assert_eq!(stored["system_prompt"], "Judge the emails.");
        assert_eq!(stored["messages"][0]["content"], "Email 1: ...");
        assert_eq!(stored["messages"].as_array().map(Vec::len), Some(1));
        assert_eq!(stored["prompt_version"], "judge/1");
        assert_eq!(stored["max_tokens"], 64);
    }
}
