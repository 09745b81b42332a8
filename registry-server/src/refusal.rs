//! How the server says no: an HTTP status and one line of plain text that
//! a client shows as is.

use std::fmt;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Longest reason sent, in characters; a plugin's own words (a panic
/// message) can be long.
const MAX_REASON: usize = 2000;

#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub reason: String,
}

impl Refusal {
    pub fn new(status: StatusCode, reason: impl fmt::Display) -> Self {
        Self {
            status,
            reason: one_line(&reason.to_string()),
        }
    }

    pub fn not_found(reason: impl fmt::Display) -> Self {
        Self::new(StatusCode::NOT_FOUND, reason)
    }

    /// A failure of the server itself. The detail (which names server
    /// paths) goes to the log; the client learns only that it happened.
    pub fn internal(detail: impl fmt::Display) -> Self {
        tracing::error!("{detail}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error in the registry server; its log has the details",
        )
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            self.reason,
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// `text` on one line: control characters (newlines included) become
/// spaces, runs of spaces one, and the whole is bounded.
pub fn one_line(text: &str) -> String {
    let mut line = String::with_capacity(text.len().min(MAX_REASON));
    let mut count = 0;
    for c in text.trim().chars() {
        let c = if c.is_control() { ' ' } else { c };
        if c == ' ' && line.ends_with(' ') {
            continue;
        }
        if count == MAX_REASON {
            line.push('…');
            break;
        }
        line.push(c);
        count += 1;
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_one_bounded_line() {
        assert_eq!(one_line(" a\nb\r\n\tc "), "a b c");
        let long = one_line(&"x".repeat(5000));
        assert_eq!(long.chars().count(), MAX_REASON + 1);
    }
}
