//! How long a provider asks us to wait before the next request, read from
//! a failed response. Providers say it in different places: the standard
//! `Retry-After` header, OpenAI's `retry-after-ms`, the rate-limit reset
//! headers of OpenAI and Anthropic, and Gemini's `RetryInfo` in the body.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde_json::Value;

/// HTTP 429 Too Many Requests: the one status whose reset headers and
/// body hint say when the exhausted limit refills.
const TOO_MANY_REQUESTS: u16 = 429;

/// A rate-limit reset header and the header saying how much of that limit
/// is left, by provider.
const RESET_HEADERS: &[(&str, &str)] = &[
    (
        "x-ratelimit-reset-requests",
        "x-ratelimit-remaining-requests",
    ),
    ("x-ratelimit-reset-tokens", "x-ratelimit-remaining-tokens"),
    (
        "anthropic-ratelimit-requests-reset",
        "anthropic-ratelimit-requests-remaining",
    ),
    (
        "anthropic-ratelimit-tokens-reset",
        "anthropic-ratelimit-tokens-remaining",
    ),
];

/// The wait a response with `status`, `headers` and `body` asks for, as of
/// `now`; `None` if it names none. The explicit retry headers come first;
/// on a 429 without them, the reset of the limit that ran out, then
/// Gemini's `RetryInfo`.
pub(super) fn requested_wait(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Option<Duration> {
    if let Some(wait) = header(headers, "retry-after-ms").and_then(milliseconds) {
        return Some(wait);
    }
    if let Some(wait) = header(headers, "retry-after").and_then(|v| retry_after(v, now)) {
        return Some(wait);
    }
    if status != TOO_MANY_REQUESTS {
        return None;
    }
    limit_reset(headers, now).or_else(|| gemini_retry_delay(body))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn milliseconds(text: &str) -> Option<Duration> {
    let ms: f64 = text.parse().ok()?;
    Duration::try_from_secs_f64(ms / 1000.0).ok()
}

/// `Retry-After`: delta-seconds or an HTTP-date (RFC 9110, section 10.2.3).
/// A date already past asks for no wait.
fn retry_after(text: &str, now: SystemTime) -> Option<Duration> {
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = http_date(text)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the HTTP-date form
/// senders must generate; the obsolete forms are not worth a parser.
fn http_date(text: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_weekday, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? + 1;
    let day: u8 = day.parse().ok()?;
    let year: u16 = year.parse().ok()?;
    humantime::parse_rfc3339(&format!("{year:04}-{month:02}-{day:02}T{time}Z")).ok()
}

/// The wait until a rate limit refills. A reset header is a duration
/// (OpenAI: `1s`, `6m0s`, `20ms`) or a timestamp (Anthropic: RFC 3339).
/// The limits reported spent decide; if none is, the soonest reset.
fn limit_reset(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let mut spent: Option<Duration> = None;
    let mut soonest: Option<Duration> = None;
    for (reset, remaining) in RESET_HEADERS {
        let Some(wait) = header(headers, reset).and_then(|v| reset_time(v, now)) else {
            continue;
        };
        soonest = Some(soonest.map_or(wait, |s| s.min(wait)));
        if header(headers, remaining).and_then(|v| v.parse::<u64>().ok()) == Some(0) {
            spent = Some(spent.map_or(wait, |s| s.max(wait)));
        }
    }
    spent.or(soonest)
}

fn reset_time(text: &str, now: SystemTime) -> Option<Duration> {
    if let Ok(wait) = humantime::parse_duration(text) {
        return Some(wait);
    }
    let at = humantime::parse_rfc3339_weak(text).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Gemini's 429 body: `error.details[]` holds a `google.rpc.RetryInfo`
/// whose `retryDelay` is a protobuf duration such as `"30s"` or `"1.5s"`.
fn gemini_retry_delay(body: &[u8]) -> Option<Duration> {
    let body: Value = serde_json::from_slice(body).ok()?;
    body.pointer("/error/details")?
        .as_array()?
        .iter()
        .filter(|d| {
            d.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with("google.rpc.RetryInfo"))
        })
        .find_map(|d| d.get("retryDelay")?.as_str())
        .and_then(|delay| humantime::parse_duration(delay).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                HeaderValue::from_str(value).expect("a header value"),
            );
        }
        map
    }

    fn at(rfc3339: &str) -> SystemTime {
        humantime::parse_rfc3339(rfc3339).expect("a timestamp")
    }

    const NOW: &str = "2025-06-01T12:00:00Z";

    fn wait(status: u16, pairs: &[(&str, &str)], body: &str) -> Option<Duration> {
        requested_wait(status, &headers(pairs), body.as_bytes(), at(NOW))
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(
            wait(429, &[("retry-after", "7")], ""),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            wait(503, &[("Retry-After", "Sun, 01 Jun 2025 12:00:30 GMT")], ""),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            wait(503, &[("retry-after", "Sun, 01 Jun 2025 11:00:00 GMT")], ""),
            Some(Duration::ZERO),
            "a date in the past asks for no wait"
        );
        assert_eq!(wait(503, &[("retry-after", "soon")], ""), None);
    }

    #[test]
    fn openai_milliseconds_come_first() {
        assert_eq!(
            wait(429, &[("retry-after-ms", "1500"), ("retry-after", "9")], ""),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(wait(429, &[("retry-after-ms", "-5")], ""), None);
    }

    #[test]
    fn openai_reset_durations_of_the_spent_limit() {
        let pairs = [
            ("x-ratelimit-reset-requests", "20ms"),
            ("x-ratelimit-remaining-requests", "12"),
            ("x-ratelimit-reset-tokens", "6m0s"),
            ("x-ratelimit-remaining-tokens", "0"),
        ];
        assert_eq!(wait(429, &pairs, ""), Some(Duration::from_secs(360)));
        // Reset headers describe the limit, not this failure, off a 429.
        assert_eq!(wait(500, &pairs, ""), None);
        // Without a limit reported spent, the soonest reset.
        let unknown = [
            ("x-ratelimit-reset-requests", "1s"),
            ("x-ratelimit-reset-tokens", "1.5s"),
        ];
        assert_eq!(wait(429, &unknown, ""), Some(Duration::from_secs(1)));
    }

    #[test]
    fn anthropic_reset_timestamps() {
        let pairs = [
            ("anthropic-ratelimit-requests-reset", "2025-06-01T12:00:45Z"),
            ("anthropic-ratelimit-requests-remaining", "0"),
            ("anthropic-ratelimit-tokens-reset", "2025-06-01T12:00:05Z"),
            ("anthropic-ratelimit-tokens-remaining", "90000"),
        ];
        assert_eq!(wait(429, &pairs, ""), Some(Duration::from_secs(45)));
    }

    #[test]
    fn gemini_retry_info_in_the_body() {
        let body = r#"{"error": {"code": 429, "message": "Resource exhausted", "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "30s"}
        ]}}"#;
        assert_eq!(wait(429, &[], body), Some(Duration::from_secs(30)));
        let fraction = r#"{"error": {"details": [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.250s"}]}}"#;
        assert_eq!(wait(429, &[], fraction), Some(Duration::from_millis(250)));
        assert_eq!(wait(429, &[], "not json"), None);
    }
}
