//! Keeping an API key out of what a failed call reports. A provider (or a
//! proxy in front of it) may quote the request back in its error body, and
//! that message travels to the terminal and into the results store.

use super::ModelError;

const REDACTED: &str = "[redacted]";

/// `error` with every occurrence of `key` in its message replaced.
pub(super) fn redact(error: ModelError, key: Option<&str>) -> ModelError {
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return error;
    };
    let scrub = |message: String| {
        if message.contains(key) {
            message.replace(key, REDACTED)
        } else {
            message
        }
    };
    match error {
        ModelError::Status {
            provider,
            status,
            message,
            retry_after,
        } => ModelError::Status {
            provider,
            status,
            message: scrub(message),
            retry_after,
        },
        ModelError::Transport { provider, message } => ModelError::Transport {
            provider,
            message: scrub(message),
        },
        ModelError::Malformed { provider, message } => ModelError::Malformed {
            provider,
            message: scrub(message),
        },
        ModelError::Unfinished {
            provider,
            stop,
            message,
        } => ModelError::Unfinished {
            provider,
            stop,
            message: scrub(message),
        },
        ModelError::Redirect {
            provider,
            status,
            location,
        } => ModelError::Redirect {
            provider,
            status,
            location: scrub(location),
        },
        ModelError::GaveUp {
            attempts,
            why,
            last,
        } => ModelError::GaveUp {
            attempts,
            why: scrub(why),
            last: Box::new(redact(*last, Some(key))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quoted_key_is_replaced() {
        let error = ModelError::Status {
            provider: "openai",
            status: 401,
            message: "bad key: Bearer sk-123 (sk-123)".into(),
            retry_after: None,
        };
        let message = redact(error, Some("sk-123")).to_string();
        assert_eq!(
            message,
            "openai returned HTTP 401: bad key: Bearer [redacted] ([redacted])"
        );
    }
}
