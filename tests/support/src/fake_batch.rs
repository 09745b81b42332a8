//! The providers' batch APIs, served by the fake model server beside its
//! live routes, each shaped as its provider publishes it:
//!
//! - OpenAI Batch: `POST /v1/files` (multipart, `purpose=batch`),
//!   `POST /v1/batches`, `GET /v1/batches/{id}`,
//!   `GET /v1/files/{id}/content`;
//! - Anthropic Message Batches: `POST /v1/messages/batches`,
//!   `GET /v1/messages/batches/{id}`, and the `results_url` it gives;
//! - Gemini batch mode: `POST /v1beta/models/{model}:batchGenerateContent`
//!   with inline requests, `GET /v1beta/batches/{id}`.
//!
//! Each request of a batch is answered by the server's one responder, as
//! the live route would answer it (a non-200 [`FakeReply`] becomes that
//! request's error), once the batch has processed for
//! [`BatchSettings::processing`]; a batch set to expire ends with every
//! request expired. Every submission is counted ([`Submission`]), and every
//! request a batch carried is recorded with its batch's id.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::fake_openai::{FakeReply, Recorded, Shared};

/// How the fake batch APIs behave.
#[derive(Debug, Clone, Default)]
pub struct BatchSettings {
    /// How long a batch processes before it ends.
    pub processing: Duration,
    /// Every batch ends expired, with no request answered.
    pub expire: bool,
}

/// One batch the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// `openai`, `anthropic` or `gemini`.
    pub api: &'static str,
    pub id: String,
    /// Its requests' custom ids (Gemini: metadata keys), in order.
    pub custom_ids: Vec<String>,
}

struct Item {
    custom_id: String,
    /// The live route the request stands for.
    path: String,
    raw: String,
}

struct Batch {
    api: &'static str,
    created: Instant,
    items: Vec<Item>,
    /// Each request's reply, once the batch has ended.
    results: Option<Vec<FakeReply>>,
}

#[derive(Default)]
pub(crate) struct Batches {
    pub(crate) settings: BatchSettings,
    next: u64,
    files: HashMap<String, String>,
    batches: HashMap<String, Batch>,
    pub(crate) submissions: Vec<Submission>,
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"error": {"message": message}}))).into_response()
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Records a call that manages a batch, with its key headers.
fn record(shared: &Shared, path: &str, headers: &HeaderMap) {
    if let Ok(mut requests) = shared.requests.lock() {
        requests.push(Recorded {
            path: path.to_owned(),
            authorization: header(headers, "authorization"),
            api_key: header(headers, "x-api-key"),
            anthropic_version: header(headers, "anthropic-version"),
            goog_api_key: header(headers, "x-goog-api-key"),
            query: None,
            body: Value::Null,
            raw_body: String::new(),
            batch: None,
        });
    }
}

impl Shared {
    fn with_batches<T>(&self, f: impl FnOnce(&mut Batches) -> T) -> T {
        let mut batches = self
            .batches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut batches)
    }

    fn submit(&self, api: &'static str, items: Vec<Item>) -> String {
        self.with_batches(|b| {
            b.next += 1;
            let id = match api {
                "openai" => format!("batch_{}", b.next),
                "anthropic" => format!("msgbatch_{}", b.next),
                _ => format!("batches/{}", b.next),
            };
            b.submissions.push(Submission {
                api,
                id: id.clone(),
                custom_ids: items.iter().map(|i| i.custom_id.clone()).collect(),
            });
            b.batches.insert(
                id.clone(),
                Batch {
                    api,
                    created: Instant::now(),
                    items,
                    results: None,
                },
            );
            id
        })
    }

    /// Where batch `id` stands: `None` if unknown, `Some(false)` while it
    /// processes, `Some(true)` once ended (its results then computed, each
    /// request recorded).
    fn settle(&self, id: &str, headers: &HeaderMap) -> Option<(bool, bool)> {
        let (ended, expire, pending) = self.with_batches(|b| {
            let expire = b.settings.expire;
            let processing = b.settings.processing;
            let batch = b.batches.get(id)?;
            let ended = batch.created.elapsed() >= processing;
            let pending = ended && batch.results.is_none() && !expire;
            let items: Vec<(String, String)> = if pending {
                batch
                    .items
                    .iter()
                    .map(|i| (i.path.clone(), i.raw.clone()))
                    .collect()
            } else {
                Vec::new()
            };
            Some((ended, expire, items))
        })?;
        if !pending.is_empty() {
            let mut replies = Vec::new();
            for (path, raw) in pending {
                let recorded = Recorded {
                    path,
                    authorization: header(headers, "authorization"),
                    api_key: header(headers, "x-api-key"),
                    anthropic_version: header(headers, "anthropic-version"),
                    goog_api_key: header(headers, "x-goog-api-key"),
                    query: None,
                    body: serde_json::from_str(&raw).unwrap_or(Value::Null),
                    raw_body: raw,
                    batch: Some(id.to_owned()),
                };
                if let Ok(mut requests) = self.requests.lock() {
                    requests.push(recorded.clone());
                }
                replies.push((self.responder)(&recorded));
            }
            self.with_batches(|b| {
                if let Some(batch) = b.batches.get_mut(id) {
                    batch.results.get_or_insert(replies);
                }
            });
        }
        Some((ended, expire))
    }

    /// Each request of an ended batch with its reply: the status and body.
    fn outcomes(&self, id: &str) -> Vec<(String, u16, Value)> {
        self.with_batches(|b| {
            let Some(batch) = b.batches.get(id) else {
                return Vec::new();
            };
            let Some(results) = &batch.results else {
                return Vec::new();
            };
            batch
                .items
                .iter()
                .zip(results)
                .map(|(item, reply)| {
                    let (status, body) = settle_reply(reply.clone());
                    (item.custom_id.clone(), status, body)
                })
                .collect()
        })
    }

    fn custom_ids(&self, id: &str) -> Vec<String> {
        self.with_batches(|b| {
            b.batches
                .get(id)
                .map(|batch| batch.items.iter().map(|i| i.custom_id.clone()).collect())
                .unwrap_or_default()
        })
    }

    fn api_of(&self, id: &str) -> Option<&'static str> {
        self.with_batches(|b| b.batches.get(id).map(|batch| batch.api))
    }
}

/// What a reply amounts to inside a batch: a status and a JSON body.
fn settle_reply(reply: FakeReply) -> (u16, Value) {
    match reply {
        FakeReply::Json(value) => (200, value),
        FakeReply::Status(status, value) | FakeReply::StatusWithHeaders(status, _, value) => {
            (status, value)
        }
        FakeReply::Delayed(_, inner) => settle_reply(*inner),
        FakeReply::Raw(text) | FakeReply::Truncated(text) => {
            (200, serde_json::from_str(&text).unwrap_or(Value::Null))
        }
        FakeReply::Reset | FakeReply::Hang => (
            500,
            json!({"error": {"message": "the server failed this request"}}),
        ),
    }
}

fn message_of(body: &Value) -> String {
    body["error"]["message"]
        .as_str()
        .unwrap_or("no message")
        .to_owned()
}

// ---- OpenAI ----

/// `POST /v1/files`: keeps the multipart body's `file` part.
pub(crate) async fn openai_upload(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&shared, "/v1/files", &headers);
    let text = String::from_utf8_lossy(&body);
    let Some(boundary) = header(&headers, "content-type")
        .and_then(|t| t.split("boundary=").nth(1).map(str::to_owned))
    else {
        return error(StatusCode::BAD_REQUEST, "expected multipart/form-data");
    };
    let delimiter = format!("--{boundary}");
    let mut purpose = None;
    let mut file = None;
    for part in text.split(&delimiter) {
        let Some((head, content)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        if head.contains("name=\"purpose\"") {
            purpose = Some(content.to_owned());
        } else if head.contains("name=\"file\"") {
            file = Some(content.to_owned());
        }
    }
    if purpose.as_deref() != Some("batch") {
        return error(StatusCode::BAD_REQUEST, "purpose must be batch");
    }
    let Some(file) = file else {
        return error(StatusCode::BAD_REQUEST, "no file part");
    };
    let id = shared.with_batches(|b| {
        b.next += 1;
        let id = format!("file-{}", b.next);
        b.files.insert(id.clone(), file);
        id
    });
    axum::Json(json!({"id": id, "object": "file", "purpose": "batch", "bytes": body.len(), "created_at": 1_750_000_000, "filename": "batch.jsonl", "status": "processed"})).into_response()
}

/// `POST /v1/batches`: the uploaded file's lines, checked as the API
/// checks them.
pub(crate) async fn openai_create(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&shared, "/v1/batches", &headers);
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "invalid JSON");
    };
    let endpoint = request["endpoint"].as_str().unwrap_or_default().to_owned();
    if request["completion_window"] != "24h"
        || !matches!(endpoint.as_str(), "/v1/chat/completions" | "/v1/responses")
    {
        return error(StatusCode::BAD_REQUEST, "bad endpoint or completion_window");
    }
    let file_id = request["input_file_id"].as_str().unwrap_or_default();
    let Some(file) = shared.with_batches(|b| b.files.get(file_id).cloned()) else {
        return error(StatusCode::NOT_FOUND, "no such file");
    };
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    for line in file.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(line) = serde_json::from_str::<Value>(line) else {
            return error(StatusCode::BAD_REQUEST, "a line is not JSON");
        };
        let custom_id = line["custom_id"].as_str().unwrap_or_default().to_owned();
        if line["method"] != "POST"
            || line["url"] != endpoint.as_str()
            || !seen.insert(custom_id.clone())
        {
            return error(
                StatusCode::BAD_REQUEST,
                "a line has a bad method, url or a repeated custom_id",
            );
        }
        items.push(Item {
            custom_id,
            path: endpoint.clone(),
            raw: line["body"].to_string(),
        });
    }
    let id = shared.submit("openai", items);
    axum::Json(openai_batch(&id, "validating", None, None, &endpoint)).into_response()
}

fn openai_batch(
    id: &str,
    status: &str,
    output: Option<&str>,
    errors: Option<&str>,
    endpoint: &str,
) -> Value {
    json!({
        "id": id, "object": "batch", "endpoint": endpoint, "input_file_id": "file-in",
        "completion_window": "24h", "status": status, "created_at": 1_750_000_000,
        "output_file_id": output, "error_file_id": errors, "errors": null,
        "request_counts": {"total": 0, "completed": 0, "failed": 0},
    })
}

/// `GET /v1/batches/{id}`.
pub(crate) async fn openai_retrieve(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    record(&shared, &format!("/v1/batches/{id}"), &headers);
    let Some((ended, expire)) = shared.settle(&id, &headers) else {
        return error(StatusCode::NOT_FOUND, "no such batch");
    };
    if !ended {
        return axum::Json(openai_batch(&id, "in_progress", None, None, "")).into_response();
    }
    let (mut output, mut errors) = (String::new(), String::new());
    if expire {
        for custom_id in shared.custom_ids(&id) {
            errors.push_str(&format!(
                "{}\n",
                json!({"id": "batch_req_x", "custom_id": custom_id, "response": null,
                       "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}})
            ));
        }
    }
    for (custom_id, status, body) in shared.outcomes(&id) {
        let line = json!({"id": "batch_req_x", "custom_id": custom_id,
                          "response": {"status_code": status, "request_id": "req_x", "body": body},
                          "error": null});
        let file = if status == 200 {
            &mut output
        } else {
            &mut errors
        };
        file.push_str(&format!("{line}\n"));
    }
    let store = |text: String, name: &str| {
        (!text.is_empty()).then(|| {
            let file = format!("file-{name}-{}", id.replace('/', "_"));
            shared.with_batches(|b| b.files.insert(file.clone(), text));
            file
        })
    };
    let output = store(output, "out");
    let errors = store(errors, "err");
    let status = if expire { "expired" } else { "completed" };
    axum::Json(openai_batch(
        &id,
        status,
        output.as_deref(),
        errors.as_deref(),
        "",
    ))
    .into_response()
}

/// `GET /v1/files/{id}/content`.
pub(crate) async fn openai_content(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    record(&shared, &format!("/v1/files/{id}/content"), &headers);
    match shared.with_batches(|b| b.files.get(&id).cloned()) {
        Some(text) => text.into_response(),
        None => error(StatusCode::NOT_FOUND, "no such file"),
    }
}

// ---- Anthropic ----

fn valid_custom_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn anthropic_batch(id: &str, status: &str, results_url: Option<String>) -> Value {
    json!({
        "id": id, "type": "message_batch", "processing_status": status,
        "request_counts": {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0},
        "created_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-02T00:00:00Z",
        "ended_at": null, "archived_at": null, "cancel_initiated_at": null,
        "results_url": results_url,
    })
}

/// `POST /v1/messages/batches`.
pub(crate) async fn anthropic_create(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&shared, "/v1/messages/batches", &headers);
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "invalid JSON");
    };
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    for entry in request["requests"].as_array().into_iter().flatten() {
        let custom_id = entry["custom_id"].as_str().unwrap_or_default().to_owned();
        if !valid_custom_id(&custom_id) || !seen.insert(custom_id.clone()) {
            return error(
                StatusCode::BAD_REQUEST,
                "custom_id must match ^[a-zA-Z0-9_-]{1,64}$ and be unique",
            );
        }
        items.push(Item {
            custom_id,
            path: "/v1/messages".into(),
            raw: entry["params"].to_string(),
        });
    }
    if items.is_empty() {
        return error(StatusCode::BAD_REQUEST, "requests: at least one");
    }
    let id = shared.submit("anthropic", items);
    axum::Json(anthropic_batch(&id, "in_progress", None)).into_response()
}

/// `GET /v1/messages/batches/{id}`.
pub(crate) async fn anthropic_retrieve(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    record(&shared, &format!("/v1/messages/batches/{id}"), &headers);
    let Some((ended, _)) = shared.settle(&id, &headers) else {
        return error(StatusCode::NOT_FOUND, "no such batch");
    };
    if !ended {
        return axum::Json(anthropic_batch(&id, "in_progress", None)).into_response();
    }
    let host = header(&headers, "host").unwrap_or_default();
    let url = format!("http://{host}/v1/messages/batches/{id}/results");
    axum::Json(anthropic_batch(&id, "ended", Some(url))).into_response()
}

/// The `results_url` of an ended batch.
pub(crate) async fn anthropic_results(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    record(
        &shared,
        &format!("/v1/messages/batches/{id}/results"),
        &headers,
    );
    let Some((true, expire)) = shared.settle(&id, &headers) else {
        return error(StatusCode::NOT_FOUND, "no such ended batch");
    };
    let mut text = String::new();
    if expire {
        for custom_id in shared.custom_ids(&id) {
            text.push_str(&format!(
                "{}\n",
                json!({"custom_id": custom_id, "result": {"type": "expired"}})
            ));
        }
    }
    for (custom_id, status, body) in shared.outcomes(&id) {
        let result = if status == 200 {
            json!({"type": "succeeded", "message": body})
        } else {
            json!({"type": "errored", "error": {"type": "error", "error": {"type": "api_error", "message": message_of(&body)}}})
        };
        text.push_str(&format!(
            "{}\n",
            json!({"custom_id": custom_id, "result": result})
        ));
    }
    text.into_response()
}

// ---- Gemini ----

/// `POST /v1beta/models/{model}:batchGenerateContent`, inline requests.
pub(crate) fn gemini_create(
    shared: &Shared,
    path: &str,
    headers: &HeaderMap,
    body: &Value,
) -> Response {
    record(shared, path, headers);
    let live = path.replace(":batchGenerateContent", ":generateContent");
    let mut items = Vec::new();
    for (n, entry) in body["batch"]["inputConfig"]["requests"]["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        items.push(Item {
            custom_id: entry["metadata"]["key"]
                .as_str()
                .map_or_else(|| n.to_string(), str::to_owned),
            path: live.clone(),
            raw: entry["request"].to_string(),
        });
    }
    if items.is_empty() || body["batch"]["displayName"].as_str().is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "batch.displayName and inline requests are required",
        );
    }
    let id = shared.submit("gemini", items);
    axum::Json(json!({"name": id, "metadata": {"@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch", "name": id, "state": "BATCH_STATE_PENDING"}, "done": false})).into_response()
}

/// `GET /v1beta/batches/{id}`.
pub(crate) async fn gemini_retrieve(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let name = format!("batches/{id}");
    record(&shared, &format!("/v1beta/{name}"), &headers);
    if shared.api_of(&name) != Some("gemini") {
        return error(StatusCode::NOT_FOUND, "no such batch");
    }
    let Some((ended, expire)) = shared.settle(&name, &headers) else {
        return error(StatusCode::NOT_FOUND, "no such batch");
    };
    let metadata = |state: &str| json!({"@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch", "name": name, "state": state});
    if !ended {
        return axum::Json(
            json!({"name": name, "metadata": metadata("BATCH_STATE_RUNNING"), "done": false}),
        )
        .into_response();
    }
    if expire {
        return axum::Json(
            json!({"name": name, "metadata": metadata("BATCH_STATE_EXPIRED"), "done": true,
            "error": {"code": 4, "message": "the batch expired before it was processed"}}),
        )
        .into_response();
    }
    // In the requests' order, without their metadata (as the API may).
    let responses: Vec<Value> = shared
        .outcomes(&name)
        .into_iter()
        .map(|(_, status, body)| {
            if status == 200 {
                json!({"response": body})
            } else {
                json!({"error": {"code": status, "message": message_of(&body)}})
            }
        })
        .collect();
    axum::Json(json!({"name": name, "metadata": metadata("BATCH_STATE_SUCCEEDED"), "done": true,
        "response": {"@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput",
                     "inlinedResponses": {"inlinedResponses": responses}}})).into_response()
}

/// Shared state for a new server.
pub(crate) fn state(settings: BatchSettings) -> Arc<Mutex<Batches>> {
    Arc::new(Mutex::new(Batches {
        settings,
        ..Batches::default()
    }))
}
