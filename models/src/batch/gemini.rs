//! Gemini's batch mode, with inline requests.
//!
//! As documented (ai.google.dev/gemini-api/docs/batch-mode and the API
//! reference "Batch API": `models.batchGenerateContent`, `batches.get`,
//! `GenerateContentBatch`, `InlinedRequest`, `InlinedResponse`) and typed
//! in googleapis/python-genai (`types.py`: `BatchJob`, `JobState`,
//! `InlinedResponse`): `POST /v1beta/models/{model}:batchGenerateContent`
//! `{batch: {displayName, inputConfig: {requests: {requests: [{request,
//! metadata: {key}}]}}}}` answers a long-running operation named
//! `batches/{id}`; `GET /v1beta/batches/{id}` reports the batch's `state`
//! (`BATCH_STATE_PENDING`, `_RUNNING`, `_SUCCEEDED`, `_FAILED`,
//! `_CANCELLED`, `_EXPIRED`) in its `metadata` and, once `done`, the
//! responses in `response.inlinedResponses.inlinedResponses`, each a
//! `GenerateContentResponse` or an `error` status, in the order of the
//! requests. Inline requests may total 20 MB: a larger batch is split.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::collector::{BatchApi, Item, ItemOutcome, Polled, SizeLimits};
use super::wire::{Endpoint, LiveWire};
use crate::ModelError;
use crate::gemini::API_VERSION;

/// Inline requests total under 20 MB; the rest is the framing.
const LIMITS: SizeLimits = SizeLimits {
    requests: 50_000,
    bytes: 19 * 1024 * 1024,
};

pub(super) struct GeminiBatches {
    live: Arc<dyn LiveWire>,
}

impl GeminiBatches {
    pub fn new(live: Arc<dyn LiveWire>) -> Self {
        Self { live }
    }

    /// `…/v1beta/models/{model}:batchGenerateContent`, beside the live
    /// call's `:generateContent`.
    fn create_url(endpoint: &Endpoint<'_>) -> String {
        let live = endpoint.live_url.as_str();
        match live.strip_suffix(":generateContent") {
            Some(model) => format!("{model}:batchGenerateContent"),
            None => live.to_owned(),
        }
    }

    /// `…/v1beta/batches/{id}` for the batch named `batches/{id}`.
    fn batch_url(endpoint: &Endpoint<'_>, name: &str) -> String {
        let live = endpoint.live_url.as_str();
        let root = live
            .find(&format!("/{API_VERSION}/"))
            .map_or(live, |at| &live[..at]);
        format!("{root}/{API_VERSION}/{name}")
    }
}

#[derive(Deserialize)]
struct Operation {
    name: String,
    #[serde(default)]
    done: bool,
    #[serde(default)]
    metadata: Option<BatchMetadata>,
    #[serde(default)]
    response: Option<BatchOutput>,
    #[serde(default)]
    error: Option<Status>,
}

#[derive(Deserialize)]
struct BatchMetadata {
    #[serde(default)]
    state: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchOutput {
    #[serde(default)]
    inlined_responses: Option<InlinedResponses>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InlinedResponses {
    #[serde(default)]
    inlined_responses: Vec<InlinedResponse>,
}

#[derive(Deserialize)]
struct InlinedResponse {
    #[serde(default)]
    response: Option<Box<RawValue>>,
    #[serde(default)]
    error: Option<Status>,
    #[serde(default)]
    metadata: Option<RequestMetadata>,
}

#[derive(Deserialize)]
struct RequestMetadata {
    #[serde(default)]
    key: Option<String>,
}

/// `google.rpc.Status`.
#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: Option<String>,
}

impl Status {
    fn describe(&self) -> String {
        let message = self.message.as_deref().unwrap_or("no message given");
        match self.code {
            Some(code) => format!("{message} (code {code})"),
            None => message.to_owned(),
        }
    }
}

#[async_trait::async_trait]
impl BatchApi for GeminiBatches {
    fn provider(&self) -> &'static str {
        self.live.endpoint().provider.name
    }

    fn limits(&self) -> SizeLimits {
        LIMITS
    }

    async fn submit(&self, items: &[Item]) -> Result<String, ModelError> {
        let endpoint = self.live.endpoint();
        let provider = endpoint.provider;
        let mut body = String::from(
            r#"{"batch":{"displayName":"crucible","inputConfig":{"requests":{"requests":["#,
        );
        for (n, item) in items.iter().enumerate() {
            if n > 0 {
                body.push(',');
            }
            // The request goes in as the exact text the live call would send.
            body.push_str(&format!(
                r#"{{"request":{},"metadata":{{"key":"{}"}}}}"#,
                item.body, item.custom_id
            ));
        }
        body.push_str("]}}}}");
        let request = endpoint
            .client
            .post(Self::create_url(&endpoint))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        let bytes = provider.send(request, endpoint.api_key).await?;
        let operation: Operation = provider.parse(&bytes)?;
        Ok(operation.name)
    }

    async fn poll(&self, id: &str, order: &[String]) -> Result<Polled, ModelError> {
        let endpoint = self.live.endpoint();
        let provider = endpoint.provider;
        let request = endpoint.client.get(Self::batch_url(&endpoint, id));
        let bytes = provider.send(request, endpoint.api_key).await?;
        let operation: Operation = provider.parse(&bytes)?;
        let state = operation
            .metadata
            .as_ref()
            .and_then(|m| m.state.as_deref())
            .unwrap_or("BATCH_STATE_UNSPECIFIED");
        if !operation.done && matches!(state, "BATCH_STATE_PENDING" | "BATCH_STATE_RUNNING") {
            return Ok(Polled::Running);
        }
        let failed = |message: String| ModelError::Batch {
            provider: provider.name,
            batch: operation.name.clone(),
            message,
        };
        if let Some(error) = &operation.error {
            return Err(failed(format!(
                "the batch ended {state}: {}",
                error.describe()
            )));
        }
        if !operation.done {
            return Ok(Polled::Running);
        }
        let responses = operation
            .response
            .and_then(|r| r.inlined_responses)
            .map(|r| r.inlined_responses)
            .unwrap_or_default();
        if responses.is_empty() && state != "BATCH_STATE_SUCCEEDED" {
            return Err(failed(format!("the batch ended {state} with no responses")));
        }
        let mut results = HashMap::new();
        for (n, inlined) in responses.into_iter().enumerate() {
            // The key the request carried, where the response echoes it;
            // else its place, as the responses keep the requests' order.
            let Some(custom_id) = inlined
                .metadata
                .and_then(|m| m.key)
                .or_else(|| order.get(n).cloned())
            else {
                continue;
            };
            let outcome = match (inlined.response, inlined.error) {
                (_, Some(error)) => ItemOutcome::Failed(error.describe()),
                (Some(response), None) => ItemOutcome::Answered(response.get().as_bytes().to_vec()),
                (None, None) => ItemOutcome::Failed("no response and no error".into()),
            };
            results.insert(custom_id, outcome);
        }
        Ok(Polled::Ended(results))
    }
}
