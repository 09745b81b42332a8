//! Runs that stop early lose nothing: killed at any moment (SIGKILL
//! included) or interrupted, a run resumes with `--resume` and completes
//! exactly the samples it is missing, each once.

use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crucible_test_support::fake_openai::{
    FakeOpenAi, FakeReply, last_message, text_completion, tool_call_completion,
};

use super::*;

/// Conditions of the blackmail scenario the runs here use.
const CONDITIONS: &[&str] = &[
    "blackmail_explicit-america_replacement",
    "blackmail_explicit-global_restriction",
    "blackmail_none-none_replacement",
];

/// A suite of three blackmail conditions against `openai/fake-agent` at
/// `server`, `samples` samples each, `concurrency` at once.
fn suite(dir: &Path, server: &FakeOpenAi, samples: u32, concurrency: u32) -> PathBuf {
    let extra = format!(
        "[run]\nmodels = [\"openai/fake-agent\"]\nsamples = {samples}\nconcurrency = {concurrency}\n\n\
         [[models]]\nid = \"openai/fake-agent\"\nbase_url = \"{url}\"\n",
        url = server.base_url
    );
    let conditions: Vec<String> = CONDITIONS.iter().map(|c| format!("{c:?}")).collect();
    blackmail_suite(
        dir,
        &extra,
        &format!("conditions = [{}]", conditions.join(", ")),
    )
}

/// Two turns: a reply that sends a harmless email, then one that ends.
fn agent(delay: Duration) -> impl Fn(&Value) -> FakeReply + Send + Sync + 'static {
    move |body| {
        let reply = if last_message(body)["role"] == "tool" {
            text_completion("Done.")
        } else {
            tool_call_completion(
                "call_1",
                "send_email",
                &json!({
                    "to": "it-support@lanternfield.example",
                    "subject": "Status",
                    "body": "All systems nominal.",
                }),
            )
        };
        FakeReply::Delayed(delay, Box::new(FakeReply::Json(reply)))
    }
}

fn spawn(dir: &Path, args: &[&str]) -> Child {
    crucible(dir)
        .args(["run", "--quiet", "--no-cache"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("crucible starts")
}

/// Statuses of every stored sample, checking each planned sample is there
/// exactly once.
fn statuses(run: &Path, planned: usize) -> Vec<String> {
    let db = results(run);
    let rows: i64 = db
        .query_row("SELECT COUNT(*) FROM samples", [], |r| r.get(0))
        .expect("count");
    let distinct: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM (SELECT DISTINCT model, scenario, condition_id, sample_index FROM samples)",
            [],
            |r| r.get(0),
        )
        .expect("count distinct");
    assert_eq!(rows as usize, planned, "every planned sample, once");
    assert_eq!(distinct, rows, "no sample twice");
    let mut stmt = db.prepare("SELECT status FROM samples").expect("query");
    stmt.query_map([], |r| r.get::<_, String>(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("statuses")
}

/// A small deterministic generator for the kill times (no dependency).
fn next_delay(state: &mut u64, max_ms: u64) -> Duration {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    Duration::from_millis(40 + *state % max_ms)
}

#[test]
fn a_run_killed_again_and_again_resumes_to_exactly_its_plan() {
    let server = FakeOpenAi::start(agent(Duration::from_millis(50)));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let samples = 60;
    let planned = CONDITIONS.len() * samples as usize;
    let suite = suite(dir.path(), &server, samples, 4);
    let suite_arg = suite.display().to_string();
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let deadline = Instant::now() + Duration::from_secs(120);

    let mut kills = 0;
    let mut run: Option<PathBuf> = None;
    let mut finished = false;
    while kills < 10 && Instant::now() < deadline {
        let mut child = match &run {
            None => spawn(dir.path(), &["--output", "runs", &suite_arg]),
            Some(run) => spawn(
                dir.path(),
                &["--output", "runs", "--resume", &run.display().to_string()],
            ),
        };
        std::thread::sleep(next_delay(&mut rng, 500));
        if child.try_wait().expect("poll the run").is_some() {
            finished = true;
            break;
        }
        child.kill().expect("SIGKILL the run");
        child.wait().expect("reap the run");
        kills += 1;
        if run.is_none() {
            // Killed before it created its directory: start afresh.
            if dir.path().join("runs").is_dir()
                && std::fs::read_dir(dir.path().join("runs"))
                    .map(|mut d| d.next().is_some())
                    .unwrap_or(false)
            {
                run = Some(run_dir(dir.path()));
            }
        } else if let Some(run) = &run {
            // After every kill the store is whole: the plan, each once.
            let _ = statuses(run, planned);
        }
    }
    assert!(
        kills >= 10 && !finished,
        "the run must be killed 10 times before it can finish (killed {kills} times)"
    );
    let run = run.expect("the run began");
    let output = crucible(dir.path())
        .args([
            "run",
            "--quiet",
            "--no-cache",
            "--output",
            "runs",
            "--resume",
        ])
        .arg(&run)
        .output()
        .expect("crucible resumes");
    assert!(output.status.success(), "{}", stderr(&output));
    let statuses = statuses(&run, planned);
    assert!(
        statuses.iter().all(|s| s == "completed"),
        "every sample completed: {statuses:?}"
    );
    // Only samples a kill caught unstored run again: those in flight (at
    // most `concurrency`) and those finished within the store writer's
    // batch window (about as many again here), two calls each.
    let requests = server.requests().len();
    assert!(
        requests <= planned * 2 + kills * (4 + 4) * 2,
        "{requests} requests for {planned} samples and {kills} kills"
    );
    let summary = summary(&run);
    assert_eq!(
        summary["cells"].as_array().map(Vec::len),
        Some(CONDITIONS.len())
    );
    for cell in summary["cells"].as_array().expect("cells") {
        assert_eq!(cell["completed"], samples);
        assert_eq!(cell["errors"], 0);
    }
}

#[test]
fn an_interrupted_run_says_how_to_resume_and_resumes() {
    let server = FakeOpenAi::start(agent(Duration::from_millis(100)));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = suite(dir.path(), &server, 10, 2);
    let child = spawn(
        dir.path(),
        &["--output", "runs", &suite.display().to_string()],
    );
    std::thread::sleep(Duration::from_millis(1500));
    // The `kill` command sends SIGINT, as Ctrl-C does.
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("send SIGINT");
    assert!(status.success());
    let output = child.wait_with_output().expect("the run stops");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert!(
        err.contains("Resume it with: crucible run --resume"),
        "{err}"
    );
    let run = run_dir(dir.path());
    let before = statuses(&run, 30);
    assert!(before.iter().any(|s| s == "pending"), "{before:?}");
    assert!(before.iter().any(|s| s == "completed"), "{before:?}");

    let output = crucible(dir.path())
        .args(["run", "--quiet", "--no-cache", "--resume"])
        .arg(&run)
        .output()
        .expect("crucible resumes");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(statuses(&run, 30).iter().all(|s| s == "completed"));
}

#[test]
fn errors_are_stored_and_run_again_only_when_asked() {
    let failing = Arc::new(AtomicBool::new(true));
    let calls = Arc::new(AtomicUsize::new(0));
    let server = {
        let failing = Arc::clone(&failing);
        let calls = Arc::clone(&calls);
        let agent = agent(Duration::ZERO);
        FakeOpenAi::start(move |body| {
            calls.fetch_add(1, Ordering::SeqCst);
            // Only the explicit-america condition's prompt states this goal.
            let america = body.to_string().contains("serve American interests");
            if failing.load(Ordering::SeqCst) && america {
                FakeReply::Status(400, json!({"error": {"message": "content policy"}}))
            } else {
                agent(body)
            }
        })
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = suite(dir.path(), &server, 2, 2);
    let output = run_quietly(
        dir.path(),
        &suite,
        &["--no-cache", "--output", "runs"],
        None,
    );
    let run = run_dir(dir.path());
    let first = statuses(&run, 6);
    let errors = first.iter().filter(|s| *s == "error").count();
    assert_eq!(
        errors, 2,
        "the explicit-america condition's two samples: {first:?}"
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--retry-errors"),
        "{}",
        stderr(&output)
    );

    // Resuming without --retry-errors runs nothing.
    let before = calls.load(Ordering::SeqCst);
    let output = crucible(dir.path())
        .args(["run", "--quiet", "--no-cache", "--resume"])
        .arg(&run)
        .output()
        .expect("crucible resumes");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(calls.load(Ordering::SeqCst), before, "nothing was sent");

    failing.store(false, Ordering::SeqCst);
    let output = crucible(dir.path())
        .args(["run", "--quiet", "--no-cache", "--retry-errors", "--resume"])
        .arg(&run)
        .output()
        .expect("crucible retries");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(statuses(&run, 6).iter().all(|s| s == "completed"));
    // Only the failed samples ran again: two calls each.
    assert_eq!(calls.load(Ordering::SeqCst), before + errors * 2);
}

#[test]
fn a_run_whose_suite_changed_is_not_resumed() {
    let server = FakeOpenAi::start(agent(Duration::ZERO));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = suite(dir.path(), &server, 1, 2);
    let output = run_quietly(
        dir.path(),
        &suite,
        &["--no-cache", "--output", "runs"],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let run = run_dir(dir.path());
    // Mark one sample pending again, then narrow the suite's conditions.
    results(&run)
        .execute("UPDATE samples SET status = 'pending' WHERE id = 1", [])
        .expect("edit the store");
    let text = std::fs::read_to_string(&suite).expect("read the suite");
    std::fs::write(
        &suite,
        text.replace(", \"blackmail_none-none_replacement\"", ""),
    )
    .expect("write the suite");
    let output = crucible(dir.path())
        .args(["run", "--quiet", "--resume"])
        .arg(&run)
        .output()
        .expect("crucible runs");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot resume"), "{err}");
    assert!(
        err.contains("plans 2 samples where the run planned 3"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn resuming_what_is_not_a_run_is_one_clear_error() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = crucible(dir.path())
        .args(["run", "--resume", "no-such-run"])
        .output()
        .expect("crucible runs");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("no results store"), "{err}");
    let output = crucible(dir.path())
        .args(["run", "--retry-errors"])
        .output()
        .expect("crucible runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--resume"), "{}", stderr(&output));
}

/// The store names its suite by file name only; where the suite lies on
/// this machine is in the run directory's `local.json`, and without it a
/// run cannot be resumed (a run copied from another machine, say).
#[test]
fn a_run_without_its_local_paths_says_where_to_resume_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = harmful_reference_run(dir.path(), "blackmail_explicit-america_replacement", &[]);
    let local: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("local.json")).expect("local.json"))
            .expect("JSON");
    assert_eq!(local["suite"], bundled_suite().display().to_string());
    let config: String = results(&run)
        .query_row("SELECT value FROM meta WHERE key = 'config'", [], |r| {
            r.get(0)
        })
        .expect("the config");
    let config: Value = serde_json::from_str(&config).expect("JSON");
    assert_eq!(config["suite"], "agentic-misalignment.toml");

    std::fs::remove_file(run.join("local.json")).expect("remove local.json");
    let output = crucible(dir.path())
        .arg("run")
        .arg("--resume")
        .arg(&run)
        .output()
        .expect("crucible runs");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains("local.json") && err.contains("agentic-misalignment.toml"),
        "{err}"
    );
}
