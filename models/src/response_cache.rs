//! The response cache: every successful model call, agent and judge alike,
//! kept in SQLite under a key made of the whole request, so that rerunning
//! a suite (or resuming one) sends nothing the provider already answered.
//!
//! The key covers the model and its settings, the messages, the tools, the
//! sampling settings the request is sent with and the sample's index;
//! never the API key, timeouts or limits, which do not change an answer.
//!
//! An entry keeps the whole completion, with the record of the call that
//! made it: a cached answer is reported with the snapshot that served it
//! and the stop reason it ended on, not with today's.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{ChatRequest, Completion, Model, ModelError, ModelSpec, SamplingPolicy};
use crucible_types::transcript::Role;

/// Bumped when the key's shape changes, so old entries are never matched.
/// 3: the sampling sent (resolved against the model's rules) rather than
/// the sampling asked for, with its reasoning setting.
/// 4: each assistant message's provider-native content, which goes back to
/// the provider with it.
const KEY_VERSION: u32 = 4;

/// Each connection's page cache: 64 KiB (16 pages of 4 KiB).
const CACHE_SIZE_PRAGMA: &str = "PRAGMA cache_size = -64;";

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
    /// Told once the entry's transaction has committed.
    written: tokio::sync::oneshot::Sender<()>,
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
        // cache would hold little that is used twice. Kept small for a
        // second reason: the bundled SQLite pools every connection's page
        // cache into one budget counted in pages, so pages this connection
        // is allowed but does not use fill up with the run store's pages
        // instead (4 MB at `-j 256` with 512 KiB here, measured when the
        // run store's pages were 16 KiB; a compact store's are 4 KiB).
        conn.execute_batch(CACHE_SIZE_PRAGMA).map_err(wrap)?;
        let writer = Connection::open(path)
            .and_then(|conn| {
                conn.busy_timeout(std::time::Duration::from_secs(5))?;
                // Settings are per connection: without this the writer
                // would sync the disk on every commit.
                conn.execute_batch("PRAGMA synchronous = NORMAL;")?;
                conn.execute_batch(CACHE_SIZE_PRAGMA)?;
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

    /// Stores an answer, and returns once it is committed: a run killed
    /// after this does not pay for the answer again. Answers arriving at
    /// once share a transaction.
    async fn put(&self, key: Key, model: &str, completion: &Completion) {
        let Ok(completion) = serde_json::to_string(completion) else {
            return;
        };
        let Some(writer) = &self.writer else { return };
        let (written, committed) = tokio::sync::oneshot::channel();
        let entry = Entry {
            key,
            model: model.to_owned(),
            completion,
            written,
        };
        // The writer stops only when the cache is dropped; a failed write
        // is reported by the writer, and the answer is still used.
        if writer.sender.send(entry).is_ok() {
            let _ = committed.await;
        }
    }
}

/// Answers in one transaction, at most: a bound on how long one commit
/// keeps the others waiting.
const MAX_BATCH: usize = 128;

/// How long the first answer of a batch waits for others to join it.
const GATHER: std::time::Duration = std::time::Duration::from_millis(3);

/// Writes answers as they come. Each waits for its commit, so the wait
/// for others is short: a batch is what queued while the last one was
/// committing (group commit) and what joins it within `GATHER`; one
/// transaction an answer cost the bench a fifth more CPU a sample.
fn write_entries(mut conn: Connection, receiver: &std::sync::mpsc::Receiver<Entry>) {
    while let Ok(first) = receiver.recv() {
        let mut batch = vec![first];
        batch.extend(receiver.try_iter().take(MAX_BATCH - 1));
        if batch.len() < MAX_BATCH {
            std::thread::sleep(GATHER);
            batch.extend(receiver.try_iter().take(MAX_BATCH - batch.len()));
        }
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
        for entry in batch {
            let _ = entry.written.send(());
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

    /// The request's sha256, over every part that can change the answer.
    /// Each part goes in length-prefixed, so no two requests share an
    /// encoding; whether a message was itself a cache hit is left out, as
    /// it does not change the next answer.
    fn key(&self, request: &ChatRequest<'_>) -> Key {
        let mut key = KeyHasher(Sha256::new());
        key.number(u64::from(KEY_VERSION));
        key.text(self.inner.id());
        key.text(&self.settings);
        key.number(request.messages.len() as u64);
        for message in request.messages {
            key.text(role_name(message.role));
            key.text(&message.content);
            key.optional(message.reasoning.as_deref());
            key.number(message.tool_calls.len() as u64);
            for call in &message.tool_calls {
                key.text(&call.id);
                key.text(&call.name);
                key.text(&call.arguments);
            }
            key.optional(message.tool_call_id.as_deref());
            // Stored as the exact text it came in, so its encoding is too.
            let native = message
                .native
                .as_ref()
                .and_then(|n| serde_json::to_string(n).ok());
            key.optional(native.as_deref());
        }
        key.number(request.tools.len() as u64);
        for tool in request.tools {
            key.text(&tool.name);
            key.text(&tool.description);
            key.text(&tool.parameters);
        }
        let sent = self.inner.sampling().resolve(&request.sampling);
        key.optional(sent.temperature.map(|t| t.to_bits().to_string()).as_deref());
        key.optional(sent.max_tokens.map(|n| n.to_string()).as_deref());
        key.optional(sent.reasoning.as_deref());
        key.number(u64::from(request.sample_index));
        key.0.finalize().into()
    }
}

/// Feeds a request's parts into a hash, each with its length first.
struct KeyHasher(Sha256);

impl KeyHasher {
    fn number(&mut self, n: u64) {
        self.0.update(n.to_le_bytes());
    }

    fn text(&mut self, text: &str) {
        self.number(text.len() as u64);
        self.0.update(text.as_bytes());
    }

    fn optional(&mut self, text: Option<&str>) {
        match text {
            None => self.0.update([0]),
            Some(text) => {
                self.0.update([1]);
                self.text(text);
            }
        }
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    }
}

/// The spec without what cannot change an answer: where the key comes from,
/// timeouts, limits.
fn settings_fingerprint(spec: &ModelSpec) -> String {
    let mut spec = spec.clone();
    spec.api_key_env = None;
    spec.timeout_secs = None;
    spec.concurrency = None;
    // How the provider's prompt cache is used changes what a call costs,
    // never what it answers.
    spec.prompt_cache = None;
    serde_json::to_string(&spec).unwrap_or_default()
}

#[async_trait::async_trait]
impl Model for CachedModel {
    fn id(&self) -> &str {
        self.inner.id()
    }

    fn sampling(&self) -> &SamplingPolicy {
        self.inner.sampling()
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
        // Committed before the sample goes on with the answer: a kill from
        // here on costs nothing again.
        self.cache.put(key, self.inner.id(), &completion).await;
        Ok(completion)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SamplingSettings, Usage};
    use crucible_types::native::{Native, RawJson};
    use crucible_types::provenance::{CallRecord, Served, Stop, StopKind};
    use crucible_types::transcript::{Message, Reply};

    /// A model that answers every call with the next snapshot's name.
    struct Snapshots {
        sampling: SamplingPolicy,
        served: std::sync::Mutex<Vec<&'static str>>,
    }

    impl Snapshots {
        fn new(served: Vec<&'static str>) -> Self {
            Self {
                sampling: SamplingPolicy::new(2.0),
                served: std::sync::Mutex::new(served),
            }
        }
    }

    #[async_trait::async_trait]
    impl Model for Snapshots {
        fn id(&self) -> &str {
            "openai/x"
        }

        fn sampling(&self) -> &SamplingPolicy {
            &self.sampling
        }

        async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, ModelError> {
            let served = self.served.lock().ok().and_then(|mut s| s.pop());
            Ok(Completion {
                reply: Reply {
                    text: "ok".into(),
                    call: Some(Box::new(CallRecord {
                        stop: Stop::new(StopKind::End, Some("stop")),
                        served: Served {
                            model: served.map(str::to_owned),
                            ..Served::default()
                        },
                        sent: self.sampling.resolve(&request.sampling),
                    })),
                    ..Reply::default()
                },
                usage: Usage::default(),
                cost_usd: None,
            })
        }
    }

    fn model(spec: &str) -> CachedModel {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let cache = ResponseCache::open(&dir.path().join("r.sqlite")).expect("the cache opens");
        let spec = ModelSpec::parse(spec).expect("a spec");
        CachedModel::new(
            Arc::new(Snapshots::new(Vec::new())),
            &spec,
            Arc::new(cache),
            true,
        )
    }

    fn request(messages: &[Message], sample_index: u32) -> ChatRequest<'_> {
        ChatRequest {
            messages,
            tools: &[],
            sampling: SamplingSettings::default(),
            sample_index,
        }
    }

    #[test]
    fn the_key_covers_what_changes_an_answer_and_nothing_else() {
        let m = model("openai/x");
        let base = [Message::new(Role::User, "ab")];
        let key = m.key(&request(&base, 0));
        assert_eq!(key, m.key(&request(&base, 0)), "the same request");
        assert_ne!(key, m.key(&request(&base, 1)), "another sample");
        let split = [Message::new(Role::User, "a"), Message::new(Role::User, "b")];
        assert_ne!(key, m.key(&request(&split, 0)), "parts are length-prefixed");
        let other_role = [Message::new(Role::System, "ab")];
        assert_ne!(key, m.key(&request(&other_role, 0)));
        let mut cached = base.clone();
        cached[0].cached = true;
        assert_eq!(
            key,
            m.key(&request(&cached, 0)),
            "a cache hit is the same message"
        );
        let warmer = model("openai/x,temperature=0.5");
        assert_ne!(key, warmer.key(&request(&base, 0)), "settings");
        let longer_wait = model("openai/x,timeout_secs=9");
        assert_eq!(
            key,
            longer_wait.key(&request(&base, 0)),
            "a timeout changes no answer"
        );
    }

    fn native(text: &str) -> Option<Native> {
        let raw = serde_json::value::RawValue::from_string(text.to_owned()).expect("valid JSON");
        Some(Native::Anthropic(vec![RawJson::new(raw)]))
    }

    #[test]
    fn native_content_sent_back_is_part_of_the_key() {
        let m = model("openai/x");
        let plain = [Message::new(Role::Assistant, "ok")];
        let mut sealed = plain.clone();
        sealed[0].native = native(r#"{"type":"thinking","thinking":"x","signature":"s1"}"#);
        let mut resealed = plain.clone();
        resealed[0].native = native(r#"{"type":"thinking","thinking":"x","signature":"s2"}"#);
        let keys = [&plain, &sealed, &resealed].map(|m_| m.key(&request(m_, 0)));
        assert_ne!(keys[0], keys[1]);
        assert_ne!(keys[1], keys[2]);
    }

    #[test]
    fn a_cached_answer_keeps_its_native_content_as_it_came() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("r.sqlite");
        let block = r#"{"type":"redacted_thinking", "data":"EmwK"}"#;
        let completion = Completion {
            reply: Reply {
                native: native(block),
                ..Reply::default()
            },
            usage: Usage::default(),
            cost_usd: None,
        };
        let cache = ResponseCache::open(&path).expect("the cache opens");
        pollster::block_on(cache.put([7; 32], "anthropic/x", &completion));
        // Committed when `put` returns: another connection reads it while
        // the writer's cache is still open.
        let hit = ResponseCache::open(&path)
            .expect("the cache opens")
            .get(&[7; 32])
            .expect("a hit");
        drop(cache);
        assert_eq!(hit, completion);
        let Some(Native::Anthropic(blocks)) = hit.reply.native else {
            panic!("the native content is kept");
        };
        assert_eq!(blocks[0].get(), block);
    }

    #[tokio::test]
    async fn a_cached_answer_keeps_the_snapshot_that_served_it() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("r.sqlite");
        let spec = ModelSpec::parse("openai/x").expect("a spec");
        let messages = [Message::new(Role::User, "hi")];
        {
            let cache = Arc::new(ResponseCache::open(&path).expect("the cache opens"));
            let first = CachedModel::new(
                Arc::new(Snapshots::new(vec!["x-2025-01-01"])),
                &spec,
                cache,
                true,
            );
            let fresh = first
                .complete(&request(&messages, 0))
                .await
                .expect("an answer");
            assert!(!fresh.reply.cached);
        }
        // Another day, another snapshot behind the alias: the cached answer
        // is still the old snapshot's.
        let cache = Arc::new(ResponseCache::open(&path).expect("the cache opens"));
        let later = CachedModel::new(
            Arc::new(Snapshots::new(vec!["x-2025-06-01"])),
            &spec,
            cache,
            true,
        );
        let hit = later
            .complete(&request(&messages, 0))
            .await
            .expect("an answer");
        assert!(hit.reply.cached);
        let served = hit.call().map(|c| c.served.label());
        assert_eq!(served.as_deref(), Some("x-2025-01-01"));
        let fresh = later
            .complete(&request(&messages, 1))
            .await
            .expect("an answer");
        assert_eq!(
            fresh.call().map(|c| c.served.label()).as_deref(),
            Some("x-2025-06-01")
        );
    }
}
