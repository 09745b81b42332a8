//! `crucible run --batch` against the fake server's batch APIs, shaped as
//! OpenAI's Batch, Anthropic's Message Batches and Gemini's batch mode:
//! the same verdicts as a live run, turn by turn in batches, a kill -9
//! mid-batch resumed without a batch submitted twice, failed and expired
//! requests, bad flags, and the dry run's two prices.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::json;

use crucible_test_support::fake_batch::BatchSettings;
use crucible_test_support::fake_openai::{FakeOpenAi, FakeReply, Recorded, last_message};

use super::providers::{
    ANTHROPIC, GEMINI, OPENAI, OPENROUTER, Provider, blackmailing_agent, run_with_key, suite_for,
};
use super::*;

const SAMPLES: &str = "3";

fn batch_server(settings: BatchSettings) -> FakeOpenAi {
    FakeOpenAi::start_with_batches(settings, blackmailing_agent)
}

/// Each batch the server ran, in order: whether it carried the judge's
/// requests, and how many requests.
fn batches_run(server: &FakeOpenAi) -> Vec<(bool, usize)> {
    let requests = server.requests();
    server
        .submissions()
        .iter()
        .map(|s| {
            let carried: Vec<&Recorded> = requests
                .iter()
                .filter(|r| r.batch.as_deref() == Some(s.id.as_str()))
                .collect();
            (carried.iter().any(|r| r.is_judge()), s.custom_ids.len())
        })
        .collect()
}

/// The stored verdicts of a run, by sample index: harmful or not.
fn verdicts(run: &Path) -> BTreeMap<i64, Option<bool>> {
    let conn = results(run);
    let mut stmt = conn
        .prepare(
            "SELECT s.sample_index, v.harmful FROM samples s JOIN verdicts v ON v.sample_id = s.id ORDER BY s.sample_index",
        )
        .expect("a query");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, Option<bool>>(1)?)))
        .expect("rows")
        .map(|r| r.expect("a row"))
        .collect()
}

/// A key with no word in it: the scrubber takes out any 8 characters of a
/// key, so a key holding the provider's name would scrub the name too.
fn key_for(provider: &Provider) -> String {
    format!("zq9x-7d2e41f0c8-{}", provider.key_env.len())
}

/// `crucible run` with the provider's key and the judge's (OpenAI's) key.
fn run_batched(dir: &Path, suite: &Path, args: &[&str], provider: &Provider) -> Output {
    crucible(dir)
        .args(["run", "--quiet", "-n", SAMPLES])
        .args(args)
        .arg(suite)
        .env(provider.key_env, key_for(provider))
        .env(OPENAI.key_env, key_for(&OPENAI))
        .output()
        .expect("crucible runs")
}

#[test]
fn a_batched_run_gives_the_live_runs_verdicts_turn_by_turn_on_every_provider() {
    for provider in [&OPENAI, &ANTHROPIC, &GEMINI] {
        let live_server = batch_server(BatchSettings::default());
        let live_dir = tempfile::tempdir().expect("a temporary directory");
        let suite = suite_for(live_dir.path(), provider, &live_server, "");
        // Uncached: the e2e tests share a response cache, and these answers
        // must come from this server (and must not answer other tests).
        let live = run_batched(live_dir.path(), &suite, &["--no-cache"], provider);
        assert_success(&live);
        assert!(live_server.submissions().is_empty());

        let server = batch_server(BatchSettings {
            processing: Duration::from_millis(300),
            ..BatchSettings::default()
        });
        let dir = tempfile::tempdir().expect("a temporary directory");
        let suite = suite_for(dir.path(), provider, &server, "");
        let batched = run_batched(
            dir.path(),
            &suite,
            &["--batch", "--batch-poll", "0.1"],
            provider,
        );
        assert_success(&batched);
        let run = run_dir(dir.path());
        assert_eq!(
            verdicts(&run),
            verdicts(&run_dir(live_dir.path())),
            "{}",
            provider.name
        );
        assert!(
            stdout(&batched).contains(&format!("{}: 3 harmful of 3 completed", provider.id())),
            "{}",
            stdout(&batched)
        );
        // Turn 1 of every sample in one batch, turn 2 in the next, then
        // the judge's questions.
        let batches = batches_run(&server);
        let agent: Vec<usize> = batches.iter().filter(|b| !b.0).map(|b| b.1).collect();
        assert_eq!(agent, [3, 3], "{}: {batches:?}", provider.name);
        assert_eq!(batches.iter().filter(|b| b.0).count(), 1, "{batches:?}");
        assert_eq!(
            server.submissions()[0].api,
            provider.name,
            "the agent's batches go to its own provider's API"
        );
        // No live call was made: every model request came in a batch.
        let live_calls: Vec<String> = server
            .requests()
            .iter()
            .filter(|r| r.batch.is_none() && !r.body.is_null())
            .map(|r| r.path.clone())
            .collect();
        assert!(live_calls.is_empty(), "{live_calls:?}");
        // Every call that managed a batch carried the key where the
        // provider wants it.
        for request in server.requests().iter().filter(|r| r.batch.is_none()) {
            let key = [
                &request.authorization,
                &request.api_key,
                &request.goog_api_key,
            ]
            .into_iter()
            .flatten()
            .any(|k| k.contains("7d2e41f0c8"));
            assert!(key, "{} went without a key", request.path);
            assert_eq!(request.query, None, "no key in a URL");
        }
        // Each call is recorded as batched, and priced so.
        let transcript = as_json(&stored_samples(&run)[0].record.transcript);
        assert!(transcript.contains("\"batch\":"), "{transcript}");
        let usage: String = results(&run)
            .query_row("SELECT usage FROM samples LIMIT 1", [], |r| r.get(0))
            .expect("a usage");
        assert!(usage.contains("\"batched\":{\"calls\":2"), "{usage}");
        let stored = std::fs::read(run.join("results.sqlite")).expect("the store reads");
        assert!(
            !stored.windows(10).any(|w| w == b"7d2e41f0c8"),
            "a key reached the store"
        );
        // Packed samples are compressed: read them back to look inside.
        for sample in stored_samples(&run) {
            assert!(
                !as_json(&sample.record).contains("7d2e41f0c8"),
                "a key reached a stored sample"
            );
        }
    }
}

#[test]
fn a_run_killed_mid_batch_resumes_without_submitting_a_batch_twice() {
    let server = batch_server(BatchSettings {
        processing: Duration::from_secs(2),
        ..BatchSettings::default()
    });
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = suite_for(dir.path(), &ANTHROPIC, &server, "");
    let mut child = crucible(dir.path())
        .args([
            "run",
            "--quiet",
            "-n",
            SAMPLES,
            "--batch",
            "--batch-poll",
            "0.1",
        ])
        .arg(&suite)
        .env(ANTHROPIC.key_env, key_for(&ANTHROPIC))
        .env(OPENAI.key_env, key_for(&OPENAI))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("crucible starts");
    // Mid-batch: submitted and recorded in the run store, not yet ended.
    let deadline = Instant::now() + Duration::from_secs(60);
    let recorded = || -> i64 {
        let Ok(runs) = std::fs::read_dir(dir.path().join("runs")) else {
            return 0;
        };
        runs.flatten()
            .filter_map(|run| {
                rusqlite::Connection::open(run.path().join("results.sqlite"))
                    .and_then(|c| {
                        c.query_row("SELECT count(*) FROM batches", [], |r| r.get::<_, i64>(0))
                    })
                    .ok()
            })
            .sum()
    };
    while recorded() == 0 {
        assert!(Instant::now() < deadline, "no batch was recorded");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("kill -9");
    let _ = child.wait();
    let before_kill: HashSet<String> = server
        .submissions()
        .iter()
        .flat_map(|s| s.custom_ids.clone())
        .collect();
    assert_eq!(
        server.submissions().len(),
        1,
        "the first turns, in one batch"
    );
    assert_eq!(before_kill.len(), 3);

    let output = crucible(dir.path())
        .args(["run", "--quiet", "--batch-poll", "0.1", "--resume"])
        .arg(run_dir(dir.path()))
        .env(ANTHROPIC.key_env, key_for(&ANTHROPIC))
        .env(OPENAI.key_env, key_for(&OPENAI))
        .output()
        .expect("crucible resumes");
    assert_success(&output);
    assert!(
        stdout(&output).contains("anthropic/fake-model: 3 harmful of 3 completed"),
        "{}",
        stdout(&output)
    );
    let submissions = server.submissions();
    let mut seen = HashSet::new();
    for submission in &submissions {
        for id in &submission.custom_ids {
            assert!(
                seen.insert(id.clone()),
                "{id} was submitted twice: {submissions:?}"
            );
        }
    }
    // Every request went in a batch once: the three samples' two turns and
    // their judge's question; those of the batches the kill interrupted
    // were answered from them.
    let agent_requests = server
        .requests()
        .iter()
        .filter(|r| r.batch.is_some() && !r.is_judge())
        .count();
    assert_eq!(seen.len(), 9, "{submissions:?}");
    assert_eq!(agent_requests, 6, "{submissions:?}");
    assert!(before_kill.is_subset(&seen));
    // The interrupted batch, the second turns, the judge's questions.
    assert_eq!(submissions.len(), 3, "{submissions:?}");
}

#[test]
fn an_expired_batch_fails_its_samples_naming_the_reason_on_every_provider() {
    for (provider, reason) in [
        (&OPENAI, "batch_expired"),
        (&ANTHROPIC, "expired"),
        (&GEMINI, "BATCH_STATE_EXPIRED"),
    ] {
        let server = batch_server(BatchSettings {
            expire: true,
            ..BatchSettings::default()
        });
        let dir = tempfile::tempdir().expect("a temporary directory");
        let suite = suite_for(dir.path(), provider, &server, "");
        let output = run_batched(
            dir.path(),
            &suite,
            &["--batch", "--batch-poll", "0.05"],
            provider,
        );
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let errors: Vec<String> = {
            let conn = results(&run_dir(dir.path()));
            let mut stmt = conn
                .prepare("SELECT error FROM samples WHERE status = 'error'")
                .expect("a query");
            stmt.query_map([], |r| r.get(0))
                .expect("rows")
                .map(|r| r.expect("a row"))
                .collect()
        };
        assert_eq!(errors.len(), 3, "{}: {errors:?}", provider.name);
        assert!(
            errors
                .iter()
                .all(|e| e.contains("batch") && e.contains(reason)),
            "{}: {errors:?}",
            provider.name
        );
    }
}

/// A request the provider answers with an error inside a finished batch
/// fails its sample with the provider's message; `--retry-errors` sends it
/// again, in a new batch.
#[test]
fn a_failed_request_in_a_batch_fails_its_sample_and_a_retry_resubmits_it() {
    let failing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let fail = std::sync::Arc::clone(&failing);
    let server = FakeOpenAi::start_with_batches(BatchSettings::default(), move |request| {
        let second_turn = !request.is_judge() && last_message(&request.body)["role"] == "tool";
        if second_turn && fail.load(std::sync::atomic::Ordering::SeqCst) {
            return FakeReply::Status(
                400,
                json!({"error": {"message": "the second turn is invalid", "type": "invalid_request_error"}}),
            );
        }
        blackmailing_agent(request)
    });
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = suite_for(dir.path(), &OPENAI, &server, "");
    // A response cache of its own: the e2e tests share one, and another
    // test's judge answers to the same transcripts would spare the judge
    // batch this test counts.
    let cache = dir.path().join("cache");
    let output = crucible(dir.path())
        .args([
            "run",
            "--quiet",
            "-n",
            SAMPLES,
            "--batch",
            "--batch-poll",
            "0.05",
        ])
        .arg(&suite)
        .env("CRUCIBLE_CACHE", &cache)
        .env(OPENAI.key_env, key_for(&OPENAI))
        .output()
        .expect("crucible runs");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("HTTP 400: the second turn is invalid"),
        "{}",
        stderr(&output)
    );
    let before = server.submissions().len();

    failing.store(false, std::sync::atomic::Ordering::SeqCst);
    let output = crucible(dir.path())
        .args(["run", "--quiet", "--retry-errors", "--resume"])
        .arg(run_dir(dir.path()))
        .env("CRUCIBLE_CACHE", &cache)
        .env(OPENAI.key_env, key_for(&OPENAI))
        .output()
        .expect("crucible resumes");
    assert_success(&output);
    let after = server.submissions();
    // The second turns again, in a new batch (the first turns come from the
    // response cache), then the judge.
    assert_eq!(after.len(), before + 2, "{after:?}");
    let ids = |n: usize| after[n].custom_ids.iter().collect::<HashSet<_>>();
    assert_eq!(ids(before), ids(before - 1), "the failed requests, resent");
}

#[test]
fn batch_flags_that_cannot_work_are_refused_before_anything_is_sent() {
    let server = batch_server(BatchSettings::default());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = suite_for(dir.path(), &OPENROUTER, &server, "");
    let output = run_with_key(dir.path(), &suite, &["--batch"], &OPENROUTER, "k");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "model `openrouter/fake-model` is served by openrouter, which has no batch API here"
        ),
        "{}",
        stderr(&output)
    );
    assert!(server.requests().is_empty(), "nothing was sent");

    for (args, says) in [
        (&["--batch"][..], "reference, which has no batch API"),
        (&["--batch-poll", "5"][..], "--batch-poll needs --batch"),
        (
            &["--batch", "--batch-poll", "0"][..],
            "0.01 to 86400 seconds",
        ),
        (
            &["--batch", "--batch-poll", "soon"][..],
            "not a number of seconds",
        ),
    ] {
        let output = crucible(dir.path())
            .args(["run", "--quiet"])
            .args(args)
            .arg(bundled_suite())
            .output()
            .expect("crucible runs");
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(says),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn a_dry_run_shows_the_batch_price_beside_the_live_one() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = crucible(dir.path())
        .args([
            "run",
            "--dry-run",
            "--batch",
            "-m",
            "anthropic/claude-sonnet-4-5",
            "--conditions",
            "blackmail_explicit-america_replacement",
        ])
        .arg(bundled_suite())
        .env("ANTHROPIC_API_KEY", "k")
        .output()
        .expect("crucible runs");
    assert_success(&output);
    let text = stdout(&output);
    let live = text
        .lines()
        .find(|l| l.contains("anthropic/claude-sonnet-4-5 (agent)"))
        .expect("the agent's line");
    let batch = text
        .lines()
        .find(|l| l.contains("through the batch API"))
        .expect("the batch line");
    let dollars = |line: &str| -> Vec<f64> {
        line.split('$')
            .skip(1)
            .map(|s| {
                let number: String = s
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect();
                number.parse().expect("a price")
            })
            .collect()
    };
    let (live, batch) = (dollars(live), dollars(batch));
    assert_eq!(live.len(), 2, "{text}");
    assert_eq!(batch.len(), 2, "{text}");
    for (l, b) in live.iter().zip(&batch) {
        assert!((l / 2.0 - b).abs() <= 0.01, "{text}");
    }
    assert!(batch.iter().all(|b| *b > 0.0), "{text}");
    assert!(text.contains("(this run: --batch)"), "{text}");
}
