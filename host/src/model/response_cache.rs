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
pub enum CacheError {
    #[error("response cache {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("response cache {path}: cannot start its writer: {source}")]
    Writer {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One SQLite file of cached completions, shared by every model of a run.
/// Lookups go through one connection; answers are written by a thread of
/// their own, many to a transaction, and all are written by the time the
/// cache is dropped.
pub struct ResponseCache {
    conn: Mutex<Connection>,
    writer: Option<Writer>,
}

struct Writer {
    sender: std::sync::mpsc::Sender<Entry>,
    thread: std::thread::JoinHandle<()>,
}

/// A request's sha256.
type Key = [u8; 32];

struct Entry {
    key: Key,
    model: String,
    completion: String,
}

impl Drop for ResponseCache {
    fn drop(&mut self) {
        if let Some(Writer { sender, thread }) = self.writer.take() {
            drop(sender);
            let _ = thread.join();
        }
    }
}

impl ResponseCache {
    /// The cache file under a cache directory.
    pub fn path_in(dir: &Path) -> PathBuf {
        dir.join("responses.sqlite")
    }

    pub fn open(path: &Path) -> Result<Self, CacheError> {
        let wrap = |source| CacheError::Sqlite {
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
                 -- Rows go in at the end of the table, in the order they
                 -- come; only the 32-byte keys' index takes random inserts.
                 CREATE TABLE IF NOT EXISTS completions (
                     id         INTEGER PRIMARY KEY,
                     key        BLOB NOT NULL UNIQUE,
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
        // Lookups and inserts land anywhere in the table: a large page
        // cache would hold little that is used twice.
        conn.execute_batch("PRAGMA cache_size = -512;")
            .map_err(wrap)?;
        let writer = Connection::open(path)
            .and_then(|conn| {
                conn.busy_timeout(std::time::Duration::from_secs(5))?;
                // Settings are per connection: without this the writer
                // would sync the disk on every commit.
                conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA cache_size = -512;")?;
                Ok(conn)
            })
            .map_err(wrap)?;
        let (sender, receiver) = std::sync::mpsc::channel::<Entry>();
        let thread = std::thread::Builder::new()
            .name("crucible-response-cache".into())
            .spawn(move || write_entries(writer, &receiver))
            .map_err(|source| CacheError::Writer {
                path: path.to_owned(),
                source,
            })?;
        Ok(Self {
            conn: Mutex::new(conn),
            writer: Some(Writer { sender, thread }),
        })
    }

    fn get(&self, key: &Key) -> Option<Completion> {
        let conn = self.conn.lock().ok()?;
        let text: Option<String> = conn
            .prepare_cached("SELECT completion FROM completions WHERE key = ?1")
            .and_then(|mut stmt| stmt.query_row([&key[..]], |r| r.get(0)).optional())
            .ok()?;
        // An entry that no longer reads (written by another version) is a
        // miss, and is overwritten by the fresh answer.
        text.and_then(|t| serde_json::from_str(&t).ok())
    }

    fn put(&self, key: Key, model: &str, completion: &Completion) {
        let Ok(completion) = serde_json::to_string(completion) else {
            return;
        };
        if let Some(writer) = &self.writer {
            // The writer stops only when the cache is dropped.
            let _ = writer.sender.send(Entry {
                key,
                model: model.to_owned(),
                completion,
            });
        }
    }
}

/// Writes answers as they come, many to a transaction.
fn write_entries(mut conn: Connection, receiver: &std::sync::mpsc::Receiver<Entry>) {
    while let Some(batch) = crate::batching::next_batch(receiver) {
        let written = conn.transaction().and_then(|tx| {
            {
                let mut insert = tx.prepare_cached(
                    "INSERT OR REPLACE INTO completions (key, model, completion) VALUES (?1, ?2, ?3)",
                )?;
                for entry in &batch {
                    insert.execute(params![&entry.key[..], entry.model, entry.completion])?;
                }
            }
            tx.commit()
        });
        if let Err(e) = written {
            // The answers were still used; only a later run pays for them
            // again.
            tracing::warn!("could not store responses in the cache: {e}");
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

    fn key(&self, request: &ChatRequest<'_>) -> Key {
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
            tools: request.tools,
            sampling: &request.sampling,
            sample_index: request.sample_index,
        };
        // Hashed as it is serialized: no copy of the whole request.
        let mut hasher = HashingWriter(Sha256::new());
        // Writing into a hasher cannot fail, nor can serializing plain data.
        let _ = serde_json::to_writer(&mut hasher, &key);
        hasher.0.finalize().into()
    }
}

struct HashingWriter(Sha256);

impl std::io::Write for HashingWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
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

    async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, ModelError> {
        let key = self.key(request);
        if self.read
            && let Some(mut hit) = self.cache.get(&key)
        {
            hit.reply.cached = true;
            return Ok(hit);
        }
        let completion = self.inner.complete(request).await?;
        self.cache.put(key, self.inner.id(), &completion);
        Ok(completion)
    }
}
