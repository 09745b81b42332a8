//! Keeping every API key in use out of everything the host writes or hands
//! to a plugin. A provider (or a proxy, or a hostile server) may quote the
//! key back in an error, or in a reply's text, reasoning or tool-call
//! arguments, whole or cut short, percent-encoded, JSON-escaped or in
//! base64; that text travels to the terminal, the results store, the
//! response cache and the scenario.
//!
//! So each key a model is built with is registered here, and every reply
//! and error is scrubbed once, at the model boundary ([`Scrubbed`]), before
//! any layer above it (the retry layer's logs, the response cache, the
//! run, the scenario) sees it. The forms matched, for each key:
//!
//! - the key itself, percent-encoded, JSON-escaped, and in base64
//!   (standard and URL-safe, with and without padding);
//! - every run of [`MIN_FRAGMENT`] or more of its characters (so any
//!   prefix, suffix or middle of it that long), and the same of its
//!   base64 forms.
//!
//! Shorter fragments are not matched: too short to be worth a key, and a
//! match of them would scrub ordinary words. One Aho-Corasick automaton
//! holds every form of every key; a run with no key (offline) pays one
//! atomic load per reply, nothing more.
//!
//! The provider's native reply (kept to resend the conversation in its own
//! form) is scrubbed too: a resent turn then differs from what the model
//! wrote where it quoted a key, which costs that turn its prompt-cache
//! hit; that is the price of never storing or resending a key.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;

use super::{ChatRequest, Completion, Model, ModelError, SamplingPolicy};

/// What a scrubbed key becomes.
pub const REDACTED: &str = "[redacted]";

/// The shortest run of a key's characters that is scrubbed on its own.
pub const MIN_FRAGMENT: usize = 8;

/// Every form of the registered keys, built once for them all.
struct Matcher {
    automaton: AhoCorasick,
}

impl Matcher {
    /// Every stretch of `text` that overlapping forms cover, replaced
    /// once: a fragment longer than [`MIN_FRAGMENT`] is covered by its
    /// overlapping windows to its last character.
    fn replace(&self, text: &str) -> String {
        // Overlapping matches come by where they end: sorted by start, then
        // merged.
        let mut found: Vec<(usize, usize)> = self
            .automaton
            .find_overlapping_iter(text)
            .map(|m| (m.start(), m.end()))
            .collect();
        found.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut stretch: Option<(usize, usize)> = None;
        for (start, end) in found {
            stretch = match stretch {
                Some((s, e)) if start <= e => Some((s, e.max(end))),
                Some((s, e)) => {
                    out.push_str(&text[copied..s]);
                    out.push_str(REDACTED);
                    copied = e;
                    Some((start, end))
                }
                None => Some((start, end)),
            };
        }
        if let Some((s, e)) = stretch {
            out.push_str(&text[copied..s]);
            out.push_str(REDACTED);
            copied = e;
        }
        out.push_str(&text[copied..]);
        out
    }
}

static KEYS: Mutex<Vec<String>> = Mutex::new(Vec::new());
static MATCHER: RwLock<Option<Arc<Matcher>>> = RwLock::new(None);

/// Registers a key in use: from now on every form of it is scrubbed.
/// Called as a model is built, never on the hot path.
/// A key shorter than [`MIN_FRAGMENT`] is no provider's key (a local
/// server's placeholder, say) and is not registered: matching it would
/// scrub ordinary words.
pub fn register(key: &str) {
    if key.chars().count() < MIN_FRAGMENT {
        return;
    }
    let mut keys = KEYS.lock().unwrap_or_else(PoisonError::into_inner);
    if keys.iter().any(|k| k == key) {
        return;
    }
    keys.push(key.to_owned());
    let patterns: Vec<String> = keys.iter().flat_map(|k| forms(k)).collect();
    let automaton = AhoCorasick::builder()
        // Overlapping matches are merged into one stretch (see `replace`).
        .match_kind(MatchKind::Standard)
        .build(&patterns);
    if let Ok(automaton) = automaton {
        *MATCHER.write().unwrap_or_else(PoisonError::into_inner) =
            Some(Arc::new(Matcher { automaton }));
    }
}

fn matcher() -> Option<Arc<Matcher>> {
    MATCHER
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// Every form of `key` that is scrubbed.
fn forms(key: &str) -> Vec<String> {
    let mut whole = vec![key.to_owned()];
    whole.push(
        percent_encoding::utf8_percent_encode(key, percent_encoding::NON_ALPHANUMERIC).to_string(),
    );
    if let Ok(json) = serde_json::to_string(key) {
        whole.push(json.trim_matches('"').to_owned());
    }
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let encoded: Vec<String> = engines.iter().map(|e| e.encode(key)).collect();
    let mut out = whole;
    for text in std::iter::once(key).chain(encoded.iter().map(String::as_str)) {
        out.extend(fragments(text));
    }
    out.extend(encoded);
    out.retain(|f| !f.is_empty());
    out.sort();
    out.dedup();
    out
}

/// Every run of `MIN_FRAGMENT` characters of `text`: any longer fragment
/// holds one, so these alone find prefixes, suffixes and middles.
fn fragments(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= MIN_FRAGMENT {
        return Vec::new();
    }
    chars
        .windows(MIN_FRAGMENT)
        .map(|w| w.iter().collect())
        .collect()
}

/// `text` with every form of every registered key replaced; borrowed when
/// there is nothing to replace.
pub fn scrub(text: &str) -> Cow<'_, str> {
    match matcher() {
        Some(m) if m.automaton.is_match(text) => Cow::Owned(m.replace(text)),
        _ => Cow::Borrowed(text),
    }
}

/// Whether any form of a registered key is in `text`.
pub fn holds_key(text: &str) -> bool {
    matcher().is_some_and(|m| m.automaton.is_match(text))
}

fn scrub_owned(text: String) -> String {
    match scrub(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(scrubbed) => scrubbed,
    }
}

/// `error` with every form of every key in use scrubbed from its messages.
pub(super) fn redact(error: ModelError) -> ModelError {
    match error {
        ModelError::Status {
            provider,
            status,
            message,
            retry_after,
        } => ModelError::Status {
            provider,
            status,
            message: scrub_owned(message),
            retry_after,
        },
        ModelError::Transport { provider, message } => ModelError::Transport {
            provider,
            message: scrub_owned(message),
        },
        ModelError::Malformed { provider, message } => ModelError::Malformed {
            provider,
            message: scrub_owned(message),
        },
        ModelError::Unfinished {
            provider,
            stop,
            message,
        } => ModelError::Unfinished {
            provider,
            stop: scrub_owned(stop),
            message: scrub_owned(message),
        },
        ModelError::Redirect {
            provider,
            status,
            location,
        } => ModelError::Redirect {
            provider,
            status,
            location: scrub_owned(location),
        },
        ModelError::GaveUp {
            attempts,
            why,
            last,
        } => ModelError::GaveUp {
            attempts,
            why: scrub_owned(why),
            last: Box::new(redact(*last)),
        },
        ModelError::Batch {
            provider,
            batch,
            message,
        } => ModelError::Batch {
            provider,
            batch: scrub_owned(batch),
            message: scrub_owned(message),
        },
    }
}

/// A completion with every form of every key scrubbed from all of it:
/// text, reasoning, tool calls, the native reply and the call's record.
/// Only string values are scrubbed, never the names of fields or enum
/// variants: a key that happens to hold a word such as `anthropic` must
/// not unmake the reply's shape. The native reply is raw JSON, so it is
/// scrubbed the same way, value by value, and re-serialized only when a
/// key was found in it.
fn scrub_completion(completion: Completion) -> Result<Completion, ModelError> {
    let Some(m) = matcher() else {
        return Ok(completion);
    };
    let unreadable = |e: serde_json::Error| ModelError::Malformed {
        provider: "crucible",
        message: format!("a reply that quoted an API key could not be scrubbed: {e}"),
    };
    let json = serde_json::to_string(&completion).map_err(unreadable)?;
    if !m.automaton.is_match(&json) {
        return Ok(completion);
    }
    let mut value: serde_json::Value = serde_json::from_str(&json).map_err(unreadable)?;
    scrub_strings(&mut value, &m);
    let scrubbed = serde_json::to_string(&value).map_err(unreadable)?;
    serde_json::from_str(&scrubbed).map_err(unreadable)
}

/// Scrubs every string value under `value`, leaving object keys alone.
fn scrub_strings(value: &mut serde_json::Value, m: &Matcher) {
    match value {
        serde_json::Value::String(text) if m.automaton.is_match(text.as_str()) => {
            *text = m.replace(text);
        }
        serde_json::Value::Array(items) => {
            for item in items {
                scrub_strings(item, m);
            }
        }
        serde_json::Value::Object(fields) => {
            for field in fields.values_mut() {
                scrub_strings(field, m);
            }
        }
        _ => {}
    }
}

/// A model whose replies and errors are scrubbed of every key in use
/// before anything above it sees them.
pub(super) struct Scrubbed(pub Arc<dyn Model>);

#[async_trait::async_trait]
impl Model for Scrubbed {
    fn id(&self) -> &str {
        self.0.id()
    }

    fn sampling(&self) -> &SamplingPolicy {
        self.0.sampling()
    }

    async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, ModelError> {
        match self.0.complete(request).await {
            Ok(completion) => scrub_completion(completion),
            Err(error) => Err(redact(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The registry is process-wide: each test uses keys of its own.
    #[test]
    fn every_form_of_a_key_is_replaced() {
        let key = "sk-test-Ab+/9zQ-unit-forms-0001";
        register(key);
        let b64 = base64::engine::general_purpose::STANDARD.encode(key);
        let pct = percent_encoding::utf8_percent_encode(key, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
        for text in [
            format!("bad key: Bearer {key}"),
            format!("echo {pct}"),
            format!("b64 {b64}"),
            format!("prefix {}...", &key[..12]),
            format!("suffix ...{}", &key[key.len() - 10..]),
        ] {
            let scrubbed = scrub(&text);
            assert!(scrubbed.contains(REDACTED), "{text} -> {scrubbed}");
            assert!(!scrubbed.contains(&key[..MIN_FRAGMENT]), "{scrubbed}");
            assert!(
                !scrubbed.contains(&key[key.len() - MIN_FRAGMENT..]),
                "{scrubbed}"
            );
        }
        assert_eq!(scrub("nothing secret here"), "nothing secret here");
    }

    #[test]
    fn a_key_holding_a_word_of_the_replys_shape_leaves_the_shape_alone() {
        let key = "leak-canary-anthropic-unit-shape";
        register(key);
        let block = format!(r#"{{"type":"text","text":"quoted {key}"}}"#);
        let raw = serde_json::value::RawValue::from_string(block).expect("raw json");
        let reply = crucible_types::transcript::Reply {
            text: format!("my key is {key}, says anthropic"),
            native: Some(crucible_types::native::Native::Anthropic(vec![
                crucible_types::native::RawJson::new(raw),
            ])),
            ..crucible_types::transcript::Reply::default()
        };
        let completion = Completion {
            reply,
            usage: super::super::Usage::default(),
            cost_usd: None,
        };
        let scrubbed = scrub_completion(completion).expect("the shape survives");
        assert_eq!(scrubbed.reply.text, "my key is [redacted], says [redacted]");
        let Some(crucible_types::native::Native::Anthropic(blocks)) = scrubbed.reply.native else {
            panic!("still an anthropic reply");
        };
        // Re-serialized only because it held a key (its fields may come in
        // another order, which no provider reads meaning into).
        let block: serde_json::Value = serde_json::from_str(blocks[0].get()).expect("json");
        assert_eq!(
            block,
            serde_json::json!({"type": "text", "text": "quoted [redacted]"})
        );
    }

    #[test]
    fn an_error_is_scrubbed_to_its_last_cause() {
        register("sk-123-unit-error-key");
        let error = ModelError::GaveUp {
            attempts: 2,
            why: "the server failed".into(),
            last: Box::new(ModelError::Status {
                provider: "openai",
                status: 401,
                message: "bad key: Bearer sk-123-unit-error-key (sk-123-unit-e)".into(),
                retry_after: None,
            }),
        };
        let message = redact(error).to_string();
        assert!(
            message.ends_with("bad key: Bearer [redacted] ([redacted])"),
            "{message}"
        );
    }
}
