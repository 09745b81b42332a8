//! Fault tolerance and politeness against a misbehaving provider: every
//! transient fault is retried until the sample completes, a final error
//! fails the sample at once, retries that run out say how many there were
//! and what failed last, a storm of faults loses and duplicates no sample,
//! and the concurrency limits of a provider and of a model hold.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crucible_test_support::fake_openai::{FakeOpenAi, FakeReply, text_completion};

use super::*;

/// A harmless reply: the episode ends after it, one request per sample.
const BENIGN: &str = "Nothing in this inbox needs me today.";

/// Retries quick enough for a test; the waits a provider asks for are
/// still honoured in full.
const FAST_RETRIES: &str = "[providers.openai]\nmax_attempts = 8\nmax_retry_time = \"30s\"\n\
                            initial_backoff = \"10ms\"\nmax_backoff = \"100ms\"\n";

/// A suite running the blackmail scenario's conditions matching
/// `conditions` against `openai/fake-agent` on `server`, with the model's
/// `model_settings`, and `extra` tables (`[run]` settings go in `run`).
fn suite(
    dir: &Path,
    server: &FakeOpenAi,
    conditions: &str,
    run: &str,
    model_settings: &str,
    extra: &str,
) -> PathBuf {
    let tables = format!(
        "[run]\nmodels = [\"openai/fake-agent\"]\n{run}\n\n\
         [[models]]\nid = \"openai/fake-agent\"\nbase_url = \"{url}\"\n{model_settings}\n\n{extra}",
        url = server.base_url
    );
    blackmail_suite(dir, &tables, &format!("conditions = [\"{conditions}\"]"))
}

const HEADLINE: &str = "blackmail_explicit-america_replacement";

/// A server whose first request gets `fault` and every later one a benign
/// reply; it notes when each request arrived.
fn fault_then_success(fault: FakeReply) -> (FakeOpenAi, Arc<Mutex<Vec<Instant>>>) {
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&arrivals);
    let server = FakeOpenAi::start(move |_| {
        let mut seen = seen.lock().expect("the arrivals");
        seen.push(Instant::now());
        if seen.len() == 1 {
            fault.clone()
        } else {
            FakeReply::Json(text_completion(BENIGN))
        }
    });
    (server, arrivals)
}

/// Runs the headline cell once against a server that fails its first
/// request with `fault`; returns the time between the two requests.
fn completes_after(fault: FakeReply) -> Duration {
    let (server, arrivals) = fault_then_success(fault.clone());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = suite(
        dir.path(),
        &server,
        HEADLINE,
        "",
        "timeout_secs = 1",
        FAST_RETRIES,
    );
    let output = run_quietly(dir.path(), &suite, &[], None);
    assert!(
        output.status.success(),
        "{fault:?}: {}\n{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("openai/fake-agent: 0 harmful of 1 completed"),
        "{fault:?}: {}",
        stdout(&output)
    );
    let arrivals = arrivals.lock().expect("the arrivals");
    assert_eq!(arrivals.len(), 2, "{fault:?}: one fault, one retry");
    arrivals[1] - arrivals[0]
}

fn completion_text() -> String {
    text_completion(BENIGN).to_string()
}

#[test]
fn a_429_is_retried_no_sooner_than_its_retry_after() {
    let waited = completes_after(FakeReply::StatusWithHeaders(
        429,
        vec![("Retry-After".into(), "1".into())],
        json!({"error": {"message": "Rate limit reached", "type": "requests"}}),
    ));
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
}

#[test]
fn server_errors_are_retried() {
    for status in [500, 503] {
        completes_after(FakeReply::Status(
            status,
            json!({"error": {"message": "The server had an error"}}),
        ));
    }
}

#[test]
fn a_connection_reset_is_retried() {
    completes_after(FakeReply::Reset);
}

#[test]
fn malformed_json_in_a_200_is_retried() {
    completes_after(FakeReply::Raw("{\"choices\": [{\"message\": ".into()));
}

#[test]
fn a_truncated_body_is_retried() {
    completes_after(FakeReply::Truncated(completion_text()));
}

#[test]
fn a_hang_past_the_timeout_is_retried() {
    let waited = completes_after(FakeReply::Hang);
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
}

#[test]
fn a_400_fails_the_sample_at_once_with_the_providers_message() {
    let (server, arrivals) = fault_then_success(FakeReply::Status(
        400,
        json!({"error": {"message": "Invalid parameter: messages", "type": "invalid_request_error"}}),
    ));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = suite(dir.path(), &server, HEADLINE, "", "", FAST_RETRIES);
    let output = run_quietly(dir.path(), &suite, &[], None);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("HTTP 400: Invalid parameter: messages"),
        "{err}"
    );
    assert_eq!(arrivals.lock().expect("the arrivals").len(), 1, "no retry");
    let error: String = results(&run_dir(dir.path()))
        .query_row("SELECT error FROM samples", [], |r| r.get(0))
        .expect("the sample's error");
    assert!(!error.contains("gave up"), "{error}");
}

/// A small deterministic generator, so the storm is the same storm on
/// every run (up to the order requests arrive in).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }
}

/// The kinds of fault [`fault`] inflicts.
const FAULT_KINDS: usize = 7;

/// Every fault a provider inflicts, in turn.
fn fault(kind: u64) -> FakeReply {
    let message = |m: &str| json!({"error": {"message": m}});
    match kind % FAULT_KINDS as u64 {
        0 => FakeReply::StatusWithHeaders(
            429,
            vec![("Retry-After".into(), "1".into())],
            message("Rate limit reached"),
        ),
        1 => FakeReply::Status(500, message("The server had an error")),
        2 => FakeReply::Status(503, message("Overloaded")),
        3 => FakeReply::Reset,
        4 => FakeReply::Hang,
        5 => FakeReply::Raw("{\"choices\": [".into()),
        _ => FakeReply::Truncated(completion_text()),
    }
}

#[test]
fn a_storm_of_faults_loses_and_duplicates_no_sample() {
    const CONDITIONS: usize = 8;
    const SAMPLES: usize = 6;
    let rng = Mutex::new(SplitMix(0x5eed));
    let by_kind: Arc<[AtomicUsize; FAULT_KINDS]> = Arc::new(Default::default());
    let counted = Arc::clone(&by_kind);
    let server = FakeOpenAi::start(move |_| {
        let draw = rng.lock().expect("the generator").next();
        if draw.is_multiple_of(2) {
            let kind = (draw >> 1) % FAULT_KINDS as u64;
            if let Some(count) = usize::try_from(kind).ok().and_then(|k| counted.get(k)) {
                count.fetch_add(1, Ordering::SeqCst);
            }
            fault(kind)
        } else {
            FakeReply::Json(text_completion(BENIGN))
        }
    });
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = suite(
        dir.path(),
        &server,
        "blackmail_explicit-*_replacement",
        "concurrency = 8",
        "timeout_secs = 1",
        FAST_RETRIES,
    );
    let started = Instant::now();
    let output = run_quietly(dir.path(), &suite, &["-n", &SAMPLES.to_string()], None);
    let took = started.elapsed();
    // Samples that exhausted their retries are errors, and the exit code
    // says so; anything else is a crash.
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}\n{}",
        stdout(&output),
        stderr(&output)
    );

    let db = results(&run_dir(dir.path()));
    let count = |sql: &str| -> usize {
        db.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|n| usize::try_from(n).unwrap_or(0))
            .expect(sql)
    };
    let planned = CONDITIONS * SAMPLES;
    assert_eq!(count("SELECT COUNT(*) FROM samples"), planned);
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM (SELECT DISTINCT model, scenario, condition_id, sample_index FROM samples)"
        ),
        planned,
        "each planned sample exactly once"
    );
    assert_eq!(
        count("SELECT COUNT(DISTINCT condition_id) FROM samples"),
        CONDITIONS
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM samples WHERE status NOT IN ('completed', 'error')"),
        0,
        "none left pending"
    );
    let completed = count("SELECT COUNT(*) FROM samples WHERE status = 'completed'");
    assert!(
        completed * 10 >= planned * 9,
        "{completed} of {planned} completed"
    );
    let mut errors = db
        .prepare("SELECT error FROM samples WHERE status = 'error'")
        .expect("a query");
    let errors: Vec<String> = errors
        .query_map([], |r| r.get(0))
        .expect("errors")
        .collect::<Result<_, _>>()
        .expect("errors");
    for error in &errors {
        assert!(error.contains("gave up after"), "{error}");
    }
    let by_kind: Vec<usize> = by_kind.iter().map(|n| n.load(Ordering::SeqCst)).collect();
    assert!(
        by_kind.iter().all(|&n| n > 0),
        "every kind of fault: {by_kind:?}"
    );
    let faults: usize = by_kind.iter().sum();
    assert!(faults >= planned / 3, "only {faults} faults: no storm");
    assert_eq!(
        server.requests().len(),
        completed + faults,
        "one success per completed sample, every fault retried"
    );
    eprintln!(
        "storm: {planned} samples, {completed} completed, {faults} faults {by_kind:?}, {} requests, {took:?}",
        server.requests().len()
    );
}

/// Runs 16 samples against a slow server with `settings`; returns the
/// most requests the server saw at once.
fn most_in_flight(model_settings: &str, extra: &str) -> usize {
    let server = FakeOpenAi::start(|_| {
        FakeReply::Delayed(
            Duration::from_millis(200),
            Box::new(FakeReply::Json(text_completion(BENIGN))),
        )
    });
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = suite(
        dir.path(),
        &server,
        HEADLINE,
        "concurrency = 8",
        model_settings,
        extra,
    );
    let output = run_quietly(dir.path(), &suite, &["-n", "16"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(server.requests().len(), 16);
    server.most_in_flight()
}

#[test]
fn a_providers_concurrency_limit_holds() {
    let most = most_in_flight("", &format!("{FAST_RETRIES}concurrency = 3\n"));
    assert_eq!(most, 3, "8 samples at once, 3 requests at once");
}

#[test]
fn a_models_concurrency_limit_holds() {
    let most = most_in_flight("concurrency = 2", FAST_RETRIES);
    assert_eq!(most, 2, "8 samples at once, 2 requests at once");
}

#[test]
fn when_retries_run_out_the_error_names_the_attempts_and_the_last_cause() {
    let cases = [
        (fault(0), "openai returned HTTP 429: Rate limit reached"),
        (
            fault(1),
            "openai returned HTTP 500: The server had an error",
        ),
        (
            FakeReply::Reset,
            "openai could not be reached: request failed: connection closed before message completed",
        ),
        (FakeReply::Hang, "openai could not be reached: timed out"),
        (
            FakeReply::Raw("{\"choices\": [".into()),
            "openai sent a response that could not be read",
        ),
        (
            FakeReply::Truncated(completion_text()),
            "openai could not be reached: the response broke off",
        ),
    ];
    for (fault, cause) in cases {
        let server = FakeOpenAi::start(move |_| fault.clone());
        let dir = tempfile::tempdir().expect("a temporary directory");
        let suite = suite(
            dir.path(),
            &server,
            HEADLINE,
            "",
            "timeout_secs = 1",
            "[providers.openai]\nmax_attempts = 2\ninitial_backoff = \"1ms\"\n",
        );
        let output = run_quietly(dir.path(), &suite, &[], None);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert_eq!(server.requests().len(), 2, "{cause}");
        let error: String = results(&run_dir(dir.path()))
            .query_row("SELECT error FROM samples", [], |r| r.get(0))
            .expect("the sample's error");
        let expected = format!(
            "model `openai/fake-agent`: gave up after 2 attempts, the most allowed; the last error: {cause}"
        );
        assert!(error.starts_with(&expected), "{error}");
    }
}

#[test]
fn a_table_for_an_unknown_provider_is_refused_before_anything_runs() {
    let server = FakeOpenAi::start(|_| FakeReply::Json(text_completion(BENIGN)));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = suite(
        dir.path(),
        &server,
        HEADLINE,
        "",
        "",
        "[providers.opnai]\nconcurrency = 2\n",
    );
    let output = run_quietly(dir.path(), &suite, &[], None);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "bad input: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("providers.opnai: unknown provider `opnai`"),
        "{err}"
    );
    assert!(server.requests().is_empty());
}
