//! Anthropic's Message Batches API.
//!
//! As documented (docs.anthropic.com, "Batch processing" and the API
//! reference "Message Batches") and typed in anthropic-sdk-python
//! (`types/messages/message_batch.py`, `batch_create_params.py`,
//! `message_batch_individual_response.py`, `message_batch_result.py`):
//! `POST /v1/messages/batches {requests: [{custom_id, params}]}`, where
//! `params` is a Messages request body; `GET /v1/messages/batches/{id}`
//! reports `processing_status` (`in_progress`, `canceling`, `ended`) and,
//! once ended, `results_url`, a JSONL file of `{custom_id, result}` with
//! `result.type` one of `succeeded` (with `message`), `errored` (with
//! `error`), `canceled`, `expired`. A batch takes at most 100,000 requests
//! and 256 MB; `custom_id` must match `^[a-zA-Z0-9_-]{1,64}$`.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::collector::{BatchApi, Item, ItemOutcome, Polled, SizeLimits};
use super::wire::{Endpoint, LiveWire};
use crate::ModelError;
use crate::anthropic::API_VERSION;

/// The batch limits, with room for the framing of each request.
const LIMITS: SizeLimits = SizeLimits {
    requests: 100_000,
    bytes: 250 * 1024 * 1024,
};

pub(super) struct MessageBatches {
    live: Arc<dyn LiveWire>,
}

impl MessageBatches {
    pub fn new(live: Arc<dyn LiveWire>) -> Self {
        Self { live }
    }

    /// `…/v1/messages/batches`, beside the live call's `…/v1/messages`.
    fn batches(endpoint: &Endpoint<'_>) -> String {
        format!(
            "{}/batches",
            endpoint.live_url.as_str().trim_end_matches('/')
        )
    }
}

#[derive(Deserialize)]
struct MessageBatch {
    id: String,
    processing_status: String,
    #[serde(default)]
    results_url: Option<String>,
}

#[derive(Deserialize)]
struct ResultLine {
    custom_id: String,
    result: BatchResult,
}

/// `{type: succeeded, message} | {type: errored, error} | {type: canceled}
/// | {type: expired}`; read as a struct, not a tagged enum, so that the
/// message stays the exact text it came in.
#[derive(Deserialize)]
struct BatchResult {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    message: Option<Box<RawValue>>,
    #[serde(default)]
    error: Option<ErrorResponse>,
}

/// `{"type": "error", "error": {"type", "message"}}`.
#[derive(Deserialize)]
struct ErrorResponse {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[async_trait::async_trait]
impl BatchApi for MessageBatches {
    fn provider(&self) -> &'static str {
        self.live.endpoint().provider.name
    }

    fn limits(&self) -> SizeLimits {
        LIMITS
    }

    async fn submit(&self, items: &[Item]) -> Result<String, ModelError> {
        let endpoint = self.live.endpoint();
        let provider = endpoint.provider;
        let mut body = String::from(r#"{"requests":["#);
        for (n, item) in items.iter().enumerate() {
            if n > 0 {
                body.push(',');
            }
            // The params go in as the exact text the live call would send.
            body.push_str(&format!(
                r#"{{"custom_id":"{}","params":{}}}"#,
                item.custom_id, item.body
            ));
        }
        body.push_str("]}");
        let request = endpoint
            .client
            .post(Self::batches(&endpoint))
            .header("anthropic-version", API_VERSION)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        let bytes = provider.send(request, endpoint.api_key).await?;
        let batch: MessageBatch = provider.parse(&bytes)?;
        Ok(batch.id)
    }

    async fn poll(&self, id: &str, _order: &[String]) -> Result<Polled, ModelError> {
        let endpoint = self.live.endpoint();
        let provider = endpoint.provider;
        let request = endpoint
            .client
            .get(format!("{}/{id}", Self::batches(&endpoint)))
            .header("anthropic-version", API_VERSION);
        let bytes = provider.send(request, endpoint.api_key).await?;
        let batch: MessageBatch = provider.parse(&bytes)?;
        if batch.processing_status != "ended" {
            return Ok(Polled::Running);
        }
        let Some(results_url) = batch.results_url else {
            return Err(ModelError::Batch {
                provider: provider.name,
                batch: batch.id,
                message: "the batch ended without a results_url".into(),
            });
        };
        let url = same_host(endpoint.live_url, &results_url).ok_or_else(|| ModelError::Batch {
            provider: provider.name,
            batch: batch.id.clone(),
            message: "its results_url is not on the API's own host; the key is not sent there"
                .into(),
        })?;
        let request = endpoint
            .client
            .get(url)
            .header("anthropic-version", API_VERSION);
        let text = provider.send(request, endpoint.api_key).await?;
        let mut results = HashMap::new();
        for line in text.split(|b| *b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let line: ResultLine = provider.parse(line)?;
            let result = line.result;
            let outcome = match (result.kind.as_str(), result.message, result.error) {
                ("succeeded", Some(message), _) => {
                    ItemOutcome::Answered(message.get().as_bytes().to_vec())
                }
                ("errored", _, Some(error)) => ItemOutcome::Failed(format!(
                    "errored: {}: {}",
                    error.error.kind.as_deref().unwrap_or("error"),
                    error.error.message.as_deref().unwrap_or("no message given")
                )),
                ("canceled", _, _) => ItemOutcome::Failed("canceled".into()),
                ("expired", _, _) => {
                    ItemOutcome::Failed("expired: the batch ended before it was processed".into())
                }
                (other, _, _) => ItemOutcome::Failed(format!(
                    "a result of type `{other}`, which the API does not document, or without its message or error"
                )),
            };
            results.insert(line.custom_id, outcome);
        }
        Ok(Polled::Ended(results))
    }
}

/// `url`, if it is on the same scheme, host and port as `api`: the key
/// goes nowhere else.
pub(super) fn same_host(api: &reqwest::Url, url: &str) -> Option<reqwest::Url> {
    let url = reqwest::Url::parse(url).ok()?;
    (url.scheme() == api.scheme()
        && url.host_str() == api.host_str()
        && url.port_or_known_default() == api.port_or_known_default())
    .then_some(url)
}
