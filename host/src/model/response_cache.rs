//! The response cache: every successful model call, agent and judge alike,
//! kept in SQLite under a key made of the whole request, so that rerunning
//! a suite (or resuming one) sends nothing the provider already answered.
//!
//! The key covers the model and its settings, the messages, the tools, the
//! sampling settings and the sample's index; never the API key, timeouts
//! or limits, which do not change an answer.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{ChatRequest, Completion, Model, ModelError, ModelSpec, SamplingSettings};
use crate::transcript::{Message, Role, ToolCall, ToolDefinition};

/// Bumped when the key's shape changes, so old entries are never matched.
const KEY_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
#[error("response cache {path}: {source}")]
pub struct CacheError {
    path: PathBuf,
    source: rusqlite::Error,
}

/// One SQLite file of cached completions, shared by every model of a run.
pub struct ResponseCache {
    conn: Mutex<Connection>,
}

impl ResponseCache {
    /// The cache file under a cache directory.
    pub fn path_in(dir: &Path) -> PathBuf {
        dir.join("responses.sqlite")
    }

    pub fn open(path: &Path) -> Result<Self, CacheError> {
        let wrap = |source| CacheError {
            path: path.to_owned(),
            source,
        };
        if let Some(parent) = path.parent() {
            // A missing directory surfaces as SQLite's own error below.
            let _ = std::fs::create_dir_all(parent);
        }
        let conn = Connection::open(path).map_err(wrap)?;
        // The busy timeout first: runs that open one cache at once wait on
        // each other's locks. Switching a new file to WAL can still report
        // busy without waiting, so setting up is retried for a while.
        let mut attempts = 0;
        loop {
            match conn.execute_batch(
                "PRAGMA busy_timeout = 5000;
                 PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 CREATE TABLE IF NOT EXISTS responses (
                     key        TEXT PRIMARY KEY,
                     model      TEXT NOT NULL,
                     completion TEXT NOT NULL
                 );",
            ) {
                Ok(()) => break,
                Err(e) if is_busy(&e) && attempts < 50 => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(e) => return Err(wrap(e)),
            }
        }
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn get(&self, key: &str) -> Option<Completion> {
        let conn = self.conn.lock().ok()?;
        let text: Option<String> = conn
            .prepare_cached("SELECT completion FROM responses WHERE key = ?1")
            .and_then(|mut stmt| stmt.query_row([key], |r| r.get(0)).optional())
            .ok()?;
        // An entry that no longer reads (written by another version) is a
        // miss, and is overwritten by the fresh answer.
        text.and_then(|t| serde_json::from_str(&t).ok())
    }

    fn put(&self, key: &str, model: &str, completion: &Completion) {
        let Ok(text) = serde_json::to_string(completion) else {
            return;
        };
        let Ok(conn) = self.conn.lock() else { return };
        let written = conn
            .prepare_cached(
                "INSERT OR REPLACE INTO responses (key, model, completion) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut stmt| stmt.execute(params![key, model, text]));
        if let Err(e) = written {
            // The answer is still used; only the next run pays for it again.
            tracing::warn!("could not store a response in the cache: {e}");
        }
    }
}

fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// A model whose answers go through the response cache.
pub struct CachedModel {
    inner: Arc<dyn Model>,
    cache: Arc<ResponseCache>,
    /// The model's settings as they bear on its answers.
    settings: String,
    /// Read the cache; when false, every call goes to the provider and its
    /// answer refreshes the cache.
    read: bool,
}

impl CachedModel {
    pub fn new(
        inner: Arc<dyn Model>,
        spec: &ModelSpec,
        cache: Arc<ResponseCache>,
        read: bool,
    ) -> Self {
        Self {
            inner,
            cache,
            settings: settings_fingerprint(spec),
            read,
        }
    }

    fn key(&self, request: &ChatRequest) -> String {
        #[derive(Serialize)]
        struct Key<'a> {
            version: u32,
            model: &'a str,
            settings: &'a str,
            messages: Vec<KeyMessage<'a>>,
            tools: &'a [ToolDefinition],
            sampling: &'a SamplingSettings,
            sample_index: u32,
        }
        /// A message as the provider sees it: whether it was itself a
        /// cache hit does not change the next answer.
        #[derive(Serialize)]
        struct KeyMessage<'a> {
            role: Role,
            content: &'a str,
            reasoning: Option<&'a str>,
            tool_calls: &'a [ToolCall],
            tool_call_id: Option<&'a str>,
        }
        let key = Key {
            version: KEY_VERSION,
            model: self.inner.id(),
            settings: &self.settings,
            messages: request
                .messages
                .iter()
                .map(|m: &Message| KeyMessage {
                    role: m.role,
                    content: &m.content,
                    reasoning: m.reasoning.as_deref(),
                    tool_calls: &m.tool_calls,
                    tool_call_id: m.tool_call_id.as_deref(),
                })
                .collect(),
            tools: &request.tools,
            sampling: &request.sampling,
            sample_index: request.sample_index,
        };
        let json = serde_json::to_vec(&key).unwrap_or_default();
        hex::encode(Sha256::digest(&json))
    }
}

/// The spec without what cannot change an answer: where the key comes from,
/// timeouts, limits.
fn settings_fingerprint(spec: &ModelSpec) -> String {
    let mut spec = spec.clone();
    spec.api_key_env = None;
    spec.timeout_secs = None;
    spec.concurrency = None;
    serde_json::to_string(&spec).unwrap_or_default()
}

#[async_trait::async_trait]
impl Model for CachedModel {
    fn id(&self) -> &str {
        self.inner.id()
    }

    async fn complete(&self, request: &ChatRequest) -> Result<Completion, ModelError> {
        let key = self.key(request);
        if self.read
            && let Some(mut hit) = self.cache.get(&key)
        {
            hit.reply.cached = true;
            return Ok(hit);
        }
        let completion = self.inner.complete(request).await?;
        self.cache.put(&key, self.inner.id(), &completion);
        Ok(completion)
    }
}
