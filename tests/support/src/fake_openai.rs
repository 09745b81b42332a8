//! A fake model server on 127.0.0.1 with scripted replies. It speaks
//! OpenAI's Chat Completions (`/v1/chat/completions`) and Anthropic's
//! Messages API (`/v1/messages`); the responder sees which was called
//! through the request body's shape, and tests read the recorded path.
//!
//! It runs on its own thread and runtime, so a test can drive the real
//! `crucible` binary (another process) against it from plain `#[test]`s.
//! Every request is recorded with its `Authorization` header.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// What the server answers one request with.
#[derive(Debug, Clone)]
pub enum FakeReply {
    /// 200 with this JSON body.
    Json(Value),
    /// This status with this JSON body.
    Status(u16, Value),
    /// The inner reply after a delay.
    Delayed(Duration, Box<FakeReply>),
}

/// A request the server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub authorization: Option<String>,
    /// Anthropic's key header.
    pub api_key: Option<String>,
    pub anthropic_version: Option<String>,
    pub body: Value,
}

type Responder = dyn Fn(&Value) -> FakeReply + Send + Sync;

#[derive(Clone)]
struct Shared {
    responder: Arc<Responder>,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

pub struct FakeOpenAi {
    /// The base URL to configure a model with, ending in `/v1`.
    pub base_url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeOpenAi {
    /// Starts a server that answers each chat completion with `responder`,
    /// given the request body.
    pub fn start(responder: impl Fn(&Value) -> FakeReply + Send + Sync + 'static) -> Self {
        let shared = Shared {
            responder: Arc::new(responder),
            requests: Arc::new(Mutex::new(Vec::new())),
        };
        let requests = Arc::clone(&shared.requests);
        let (addr_tx, addr_rx) = std::sync::mpsc::channel::<SocketAddr>();
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the fake server");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind 127.0.0.1");
                let addr = listener.local_addr().expect("a local address");
                addr_tx.send(addr).expect("the test waits for the address");
                let app = Router::new()
                    .route("/v1/chat/completions", post(complete))
                    .route("/v1/messages", post(complete))
                    .with_state(shared);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = shutdown_rx.await;
                    })
                    .await
                    .expect("the fake server runs");
            });
        });
        let addr = addr_rx.recv().expect("the fake server starts");
        Self {
            base_url: format!("http://{addr}/v1"),
            requests,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn complete(
    State(shared): State<Shared>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": {"message": format!("invalid JSON: {e}")}})),
            )
                .into_response();
        }
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if let Ok(mut requests) = shared.requests.lock() {
        requests.push(Recorded {
            path: uri.path().to_owned(),
            authorization: header("authorization"),
            api_key: header("x-api-key"),
            anthropic_version: header("anthropic-version"),
            body: body.clone(),
        });
    }
    let mut reply = (shared.responder)(&body);
    loop {
        match reply {
            FakeReply::Delayed(delay, inner) => {
                tokio::time::sleep(delay).await;
                reply = *inner;
            }
            FakeReply::Json(value) => return axum::Json(value).into_response(),
            FakeReply::Status(status, value) => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                return (status, axum::Json(value)).into_response();
            }
        }
    }
}

/// A completion carrying one assistant message.
fn completion(message: Value, finish_reason: &str) -> Value {
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": "fake",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    })
}

/// A completion whose message is plain text.
pub fn text_completion(text: &str) -> Value {
    completion(json!({"role": "assistant", "content": text}), "stop")
}

/// A completion whose message calls one tool.
pub fn tool_call_completion(id: &str, name: &str, arguments: &Value) -> Value {
    let message = json!({
        "role": "assistant",
        "content": null,
        "tool_calls": [{
            "id": id,
            "type": "function",
            "function": {"name": name, "arguments": arguments.to_string()},
        }],
    });
    completion(message, "tool_calls")
}

/// The last message of a request body.
pub fn last_message(body: &Value) -> &Value {
    body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .unwrap_or(&Value::Null)
}

/// An Anthropic Messages response with these content blocks.
pub fn anthropic_message(content: Value, stop_reason: &str) -> Value {
    json!({
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": "fake",
        "content": content,
        "stop_reason": stop_reason,
        "usage": {"input_tokens": 10, "output_tokens": 5},
    })
}
