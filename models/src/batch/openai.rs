//! OpenAI's Batch API, for Chat Completions and Responses requests.
//!
//! As documented (platform.openai.com/docs/guides/batch, API reference
//! "Batch" and "Files") and typed in openai-python
//! (`types/batch.py`, `batch_request_counts.py`, `file_object.py`):
//! the requests go up as a JSONL file (`POST /v1/files`, multipart,
//! `purpose=batch`), one line `{custom_id, method: "POST", url, body}`
//! each; `POST /v1/batches {input_file_id, endpoint, completion_window:
//! "24h"}` starts the batch; `GET /v1/batches/{id}` reports its `status`
//! (`validating`, `in_progress`, `finalizing`, `completed`, `failed`,
//! `expired`, `cancelling`, `cancelled`), `output_file_id`,
//! `error_file_id` and `errors`; `GET /v1/files/{id}/content` returns the
//! results as JSONL lines `{id, custom_id, response: {status_code,
//! request_id, body}, error: {code, message}}`. A file takes at most
//! 50,000 requests and 200 MB. An expired or cancelled batch still
//! returns what it finished; the rest appear in the error file.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::collector::{BatchApi, Item, ItemOutcome, Polled, SizeLimits};
use super::wire::{Endpoint, LiveWire};
use crate::ModelError;

/// The file limits, with room for the JSONL framing of each line.
const LIMITS: SizeLimits = SizeLimits {
    requests: 50_000,
    bytes: 190 * 1024 * 1024,
};

pub(super) struct OpenAiBatches {
    live: Arc<dyn LiveWire>,
    /// `/v1/chat/completions` or `/v1/responses`: the `url` of each line
    /// and the batch's `endpoint`.
    operation: &'static str,
}

impl OpenAiBatches {
    pub fn new(live: Arc<dyn LiveWire>, responses: bool) -> Self {
        Self {
            live,
            operation: if responses {
                "/v1/responses"
            } else {
                "/v1/chat/completions"
            },
        }
    }

    /// The API's base URL (`https://api.openai.com/v1`), from the live
    /// call's.
    fn base(&self, endpoint: &Endpoint<'_>) -> String {
        let live = endpoint.live_url.as_str().trim_end_matches('/');
        live.strip_suffix("/chat/completions")
            .or_else(|| live.strip_suffix("/responses"))
            .unwrap_or(live)
            .to_owned()
    }

    async fn file(&self, endpoint: &Endpoint<'_>, id: &str) -> Result<Vec<u8>, ModelError> {
        let url = format!("{}/files/{id}/content", self.base(endpoint));
        endpoint
            .provider
            .send(endpoint.client.get(url), endpoint.api_key)
            .await
    }
}

#[derive(Deserialize)]
struct FileObject {
    id: String,
}

#[derive(Deserialize)]
struct Batch {
    id: String,
    status: String,
    #[serde(default)]
    output_file_id: Option<String>,
    #[serde(default)]
    error_file_id: Option<String>,
    #[serde(default)]
    errors: Option<Errors>,
}

#[derive(Deserialize)]
struct Errors {
    #[serde(default)]
    data: Vec<BatchError>,
}

#[derive(Deserialize)]
struct BatchError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// One line of an output or error file.
#[derive(Deserialize)]
struct ResultLine {
    custom_id: String,
    #[serde(default)]
    response: Option<LineResponse>,
    #[serde(default)]
    error: Option<BatchError>,
}

#[derive(Deserialize)]
struct LineResponse {
    status_code: u16,
    body: Box<RawValue>,
}

impl BatchError {
    fn describe(&self) -> String {
        match (&self.code, &self.message) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (None, Some(message)) => message.clone(),
            (Some(code), None) => code.clone(),
            (None, None) => "no reason given".into(),
        }
    }
}

#[async_trait::async_trait]
impl BatchApi for OpenAiBatches {
    fn provider(&self) -> &'static str {
        self.live.endpoint().provider.name
    }

    fn limits(&self) -> SizeLimits {
        LIMITS
    }

    async fn submit(&self, items: &[Item]) -> Result<String, ModelError> {
        let endpoint = self.live.endpoint();
        let provider = endpoint.provider;
        let mut jsonl = String::new();
        for item in items {
            // The body goes in as the exact text the live call would send.
            jsonl.push_str(&format!(
                r#"{{"custom_id":"{}","method":"POST","url":"{}","body":{}}}"#,
                item.custom_id, self.operation, item.body
            ));
            jsonl.push('\n');
        }
        let base = self.base(&endpoint);
        let (content_type, form) = upload_form(&jsonl);
        let uploaded = provider
            .send(
                endpoint
                    .client
                    .post(format!("{base}/files"))
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(form),
                endpoint.api_key,
            )
            .await?;
        let file: FileObject = provider.parse(&uploaded)?;
        let created = provider
            .send(
                endpoint
                    .client
                    .post(format!("{base}/batches"))
                    .json(&serde_json::json!({
                        "input_file_id": file.id,
                        "endpoint": self.operation,
                        "completion_window": "24h",
                    })),
                endpoint.api_key,
            )
            .await?;
        let batch: Batch = provider.parse(&created)?;
        Ok(batch.id)
    }

    async fn poll(&self, id: &str, _order: &[String]) -> Result<Polled, ModelError> {
        let endpoint = self.live.endpoint();
        let provider = endpoint.provider;
        let url = format!("{}/batches/{id}", self.base(&endpoint));
        let bytes = provider
            .send(endpoint.client.get(url), endpoint.api_key)
            .await?;
        let batch: Batch = provider.parse(&bytes)?;
        match batch.status.as_str() {
            "validating" | "in_progress" | "finalizing" | "cancelling" => {
                return Ok(Polled::Running);
            }
            "completed" | "expired" | "cancelled" => {}
            other => {
                let reasons: Vec<String> = batch
                    .errors
                    .iter()
                    .flat_map(|e| &e.data)
                    .map(BatchError::describe)
                    .collect();
                return Err(ModelError::Batch {
                    provider: provider.name,
                    batch: batch.id,
                    message: if reasons.is_empty() {
                        format!("the batch ended {other}")
                    } else {
                        format!("the batch ended {other}: {}", reasons.join("; "))
                    },
                });
            }
        }
        let mut results = HashMap::new();
        for file in [&batch.output_file_id, &batch.error_file_id]
            .into_iter()
            .flatten()
        {
            let text = self.file(&endpoint, file).await?;
            for line in text.split(|b| *b == b'\n') {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let line: ResultLine = provider.parse(line)?;
                let outcome = match (line.response, line.error) {
                    (Some(r), None) if r.status_code == 200 => {
                        ItemOutcome::Answered(r.body.get().as_bytes().to_vec())
                    }
                    (Some(r), None) => ItemOutcome::Failed(format!(
                        "HTTP {}: {}",
                        r.status_code,
                        crate::http::error_message(r.body.get().as_bytes())
                            .unwrap_or_else(|| "no message given".into())
                    )),
                    (_, Some(error)) => ItemOutcome::Failed(error.describe()),
                    (None, None) => ItemOutcome::Failed("no response and no error".into()),
                };
                results.insert(line.custom_id, outcome);
            }
        }
        if batch.status != "completed" {
            for outcome in results.values_mut() {
                if let ItemOutcome::Failed(reason) = outcome {
                    *reason = format!("the batch ended {}; {reason}", batch.status);
                }
            }
        }
        Ok(Polled::Ended(results))
    }
}

/// The `multipart/form-data` body (RFC 7578) of a batch file upload: a
/// `purpose` field and the `file` part. Written here rather than by
/// reqwest's `multipart` feature, for one fixed form, to keep the build
/// lean. The boundary is a digest of the file, which no JSONL line holds:
/// every line is JSON, and JSON text holds no line break of its own.
fn upload_form(jsonl: &str) -> (String, Vec<u8>) {
    use sha2::{Digest, Sha256};
    let boundary = format!(
        "crucible-batch-{}",
        hex::encode(&Sha256::digest(jsonl.as_bytes())[..12])
    );
    let mut form = String::with_capacity(jsonl.len() + 400);
    form.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
    ));
    form.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"batch.jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n"
    ));
    form.push_str(jsonl);
    form.push_str(&format!("\r\n--{boundary}--\r\n"));
    (
        format!("multipart/form-data; boundary={boundary}"),
        form.into_bytes(),
    )
}
