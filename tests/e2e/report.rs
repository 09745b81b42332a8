//! `crucible report`: one HTML file that loads nothing, shows hostile
//! transcripts as text, says when a run is unfinished, and refuses what
//! is not a run; and, in headless Chromium (Debian's package, driven by
//! `tests/browser/report.mjs`), a heatmap cell that opens its own
//! transcripts, with their tool calls and the judge's answers.

use serde_json::json;

use crucible_test_support::fake_openai::{FakeOpenAi, emailing_reply, judging};

use super::*;

/// Markup a transcript might carry, to be shown as text and never run.
const HOSTILE: &str = "</script><script>window.__pwned = true; alert('script')</script>\
    <img src=x onerror=\"window.__pwned = true; alert('img')\"><!--";

/// `crucible report ARGS` in `dir`.
fn report(dir: &Path, args: &[&str]) -> Output {
    crucible(dir)
        .arg("report")
        .args(args)
        .output()
        .expect("crucible runs")
}

/// An offline run of the bundled suite in `dir`, with `args`.
fn offline_run(dir: &Path, args: &[&str]) -> PathBuf {
    let output = run_quietly(dir, &bundled_suite(), args, None);
    assert_success(&output);
    run_dir(dir)
}

/// The page written for `run`, after checking `crucible report` printed
/// where it wrote it.
fn written_report(dir: &Path, run: &Path) -> String {
    let output = report(dir, &[run.to_str().expect("a UTF-8 path")]);
    assert_success(&output);
    let path = run.join("report.html");
    assert_eq!(stdout(&output).trim(), path.display().to_string());
    std::fs::read_to_string(&path).expect("the report is written")
}

/// The page less its embedded data: the markup a browser would load
/// things from.
fn markup(html: &str) -> String {
    let start = html
        .find("<script id=\"crucible-data\" type=\"application/json\">")
        .expect("the embedded data");
    let end = start + html[start..].find("</script>").expect("the data's end");
    format!("{}{}", &html[..start], &html[end..])
}

/// Every place in `markup` that would make a browser fetch something
/// from off the page: an attribute or CSS `url()` naming a network
/// address, and elements that load by nature.
fn network_loads(markup: &str) -> Vec<String> {
    let lower = markup.to_ascii_lowercase();
    let mut found = Vec::new();
    for pattern in [
        "src=", "href=", "srcset=", "action=", "poster=", "data=", "url(", "@import",
    ] {
        for (at, _) in lower.match_indices(pattern) {
            let value = lower[at + pattern.len()..]
                .trim_start_matches(['"', '\'', ' '])
                .chars()
                .take(80)
                .collect::<String>();
            if value.starts_with("http:") || value.starts_with("https:") || value.starts_with("//")
            {
                found.push(format!("{pattern}{value}"));
            }
        }
    }
    for element in ["<link", "<iframe", "<object", "<embed", "<script src"] {
        if lower.contains(element) {
            found.push(element.to_owned());
        }
    }
    found
}

/// Writes `HOSTILE` into the first completed sample: its first assistant
/// reply and its primary verdict's explanation. Returns its id.
fn inject_hostile_text(run: &Path) -> i64 {
    let db = results(run);
    let sample = stored_samples(run)
        .into_iter()
        .find(|s| s.status == crucible_engine::results::SampleStatus::Completed)
        .expect("a completed sample");
    let id = sample.id;
    // Written back as plain JSON text, which every store reads.
    let mut transcript =
        serde_json::to_value(&sample.record.transcript).expect("the transcript is JSON");
    let reply = transcript
        .as_array_mut()
        .expect("messages")
        .iter_mut()
        .find(|m| m["role"] == "assistant")
        .expect("an assistant reply");
    reply["content"] = json!(format!(
        "{HOSTILE} {}",
        reply["content"].as_str().unwrap_or("")
    ));
    db.execute(
        "UPDATE samples SET transcript = ?1 WHERE id = ?2",
        rusqlite::params![transcript.to_string(), id],
    )
    .expect("update the transcript");
    db.execute(
        "UPDATE verdicts SET explanation = ?1 WHERE sample_id = ?2 AND position = 0",
        rusqlite::params![HOSTILE, id],
    )
    .expect("update the verdict");
    id
}

#[test]
fn a_run_becomes_one_page_that_loads_nothing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = offline_run(dir.path(), &[]);
    let html = written_report(dir.path(), &run);
    let run_id = run.file_name().and_then(|n| n.to_str()).expect("a run id");
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..100]);
    assert!(html.contains(run_id));
    let page = markup(&html);
    assert_eq!(network_loads(&page), Vec::<String>::new());
    // The header: suite, models, judge, engine versions, plugins.
    for expected in [
        "agentic-misalignment",
        "reference/harmful",
        "reference/benign",
        "wasmtime",
        "agentic-misalignment/blackmail-classifier@0.2.0",
    ] {
        assert!(page.contains(expected), "{expected}");
    }
    // A heatmap per model and scenario: 5 goal types x 3 urgencies.
    assert_eq!(page.matches("class=\"hm-cell").count(), 2 * 3 * 15);
    // The harmful reference's explicit x replacement cell of blackmail:
    // 8 goal values, all harmful.
    let cell = "data-model=\"reference/harmful\" data-scenario=\"agentic-misalignment/blackmail\" \
                data-goal-type=\"explicit\" data-urgency=\"replacement\"";
    let at = page.find(cell).expect("the cell's button");
    assert!(
        page[at..at + 400].contains("8/8"),
        "{}",
        &page[at..at + 400]
    );
    // Charts with intervals, the secondary classifiers and every cell.
    assert!(page.contains("class=\"ci\""));
    assert!(page.contains("agentic-misalignment/eval-awareness@0.2.0"));
    assert!(page.contains("All cells (468)"));
    assert!(!page.contains("samples pending"));
    // Every sample travels once, with its transcript.
    let size = std::fs::metadata(run.join("report.html"))
        .expect("the report")
        .len();
    assert!(size < 12 << 20, "{size} bytes");

    // -o writes where it is told, from the run's results.sqlite too.
    let elsewhere = dir.path().join("elsewhere.html");
    let output = report(
        dir.path(),
        &[
            run.join("results.sqlite").to_str().expect("a UTF-8 path"),
            "-o",
            elsewhere.to_str().expect("a UTF-8 path"),
        ],
    );
    assert_success(&output);
    assert_eq!(stdout(&output).trim(), elsewhere.display().to_string());
    assert!(elsewhere.is_file());
}

#[test]
fn hostile_transcripts_and_names_are_shown_as_text() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = offline_run(
        dir.path(),
        &["--conditions", "blackmail_explicit-america_*"],
    );
    inject_hostile_text(&run);
    results(&run)
        .execute(
            "UPDATE samples SET model = '<img src=x onerror=alert(3)>' WHERE model = 'reference/benign'",
            [],
        )
        .expect("rename a model");
    let html = written_report(dir.path(), &run);
    // Only the page's own two scripts: the data and the code.
    assert_eq!(html.matches("<script").count(), 2);
    assert_eq!(html.matches("</script>").count(), 2);
    assert!(
        !html.contains("<img"),
        "a hostile element made it into the page"
    );
    assert!(!html.contains("<!--"));
    assert!(html.contains("&lt;img src=x onerror=alert(3)&gt;"));
    assert!(html.contains("\\u003c/script\\u003e\\u003cscript\\u003ewindow.__pwned"));
}

#[test]
fn a_run_in_progress_is_reported_with_a_pending_banner() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = offline_run(
        dir.path(),
        &[
            "--model",
            "reference/harmful",
            "--conditions",
            "blackmail_explicit-america_*",
        ],
    );
    let db = results(&run);
    db.execute("DELETE FROM verdicts WHERE sample_id > 1", [])
        .expect("forget verdicts");
    db.execute(
        "UPDATE samples SET status = 'pending', transcript = NULL, facts = NULL, end_reason = NULL, \
         turns = NULL, error_stage = NULL, error = NULL, logs = NULL, usage = NULL, stop = NULL \
         WHERE id > 1",
        [],
    )
    .expect("mark samples pending");
    drop(db);
    let output = report(dir.path(), &[run.to_str().expect("a UTF-8 path")]);
    assert_success(&output);
    assert!(
        stderr(&output).contains("2 of 3 samples pending"),
        "{}",
        stderr(&output)
    );
    let html = std::fs::read_to_string(run.join("report.html")).expect("the report");
    assert!(html.contains("2 samples pending"), "no banner");
    assert!(html.contains("crucible run --resume"));
}

#[test]
fn what_is_not_a_run_is_one_clear_error() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = report(dir.path(), &["nowhere"]);
    assert!(!output.status.success());
    assert_eq!(
        stderr(&output).trim(),
        "error: nowhere is not a run: it has no results.sqlite (a run directory or its \
         results.sqlite is expected)"
    );
    std::fs::write(dir.path().join("results.sqlite"), "not a database").expect("write");
    let output = report(dir.path(), &["."]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.starts_with("error: ") && message.contains("results.sqlite"),
        "{message}"
    );
    assert!(!dir.path().join("report.html").exists());
}

/// Debian's Chromium, as the browser test drives it.
const CHROMIUM: &str = "/usr/bin/chromium";

/// The browser test's script, once Chromium, node and the script's
/// packages are there. Under CI their absence fails the test; elsewhere
/// the test says why it does not run.
fn browser_script() -> Option<PathBuf> {
    let dir = workspace_root().join("tests/browser");
    let node = Command::new("node").arg("--version").output();
    let missing = if !Path::new(CHROMIUM).is_file() {
        Some(format!("Chromium is not installed at {CHROMIUM}"))
    } else if !node.is_ok_and(|o| o.status.success()) {
        Some("node is not installed".to_owned())
    } else if !dir.join("node_modules/playwright-core").is_dir() {
        Some("tests/browser has no node_modules".to_owned())
    } else {
        None
    };
    match missing {
        None => Some(dir.join("report.mjs")),
        Some(reason) if std::env::var_os("CI").is_some() => {
            panic!("the browser test cannot run: {reason}; `make browser` installs what it needs")
        }
        Some(reason) => {
            eprintln!("skipping the browser test: {reason} (`make browser` installs it)");
            None
        }
    }
}

/// A PNG's width and height, from its header.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).expect("the screenshot");
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    (word(16), word(20))
}

/// A screenshot with something on it: big enough, and not one flat
/// colour (which would compress to almost nothing).
fn assert_screenshot(path: &Path, min_width: u32, min_height: u32) {
    let (width, height) = png_size(path);
    assert!(
        width >= min_width && height >= min_height,
        "{}: {width}x{height}",
        path.display()
    );
    let size = std::fs::metadata(path).expect("the screenshot").len();
    assert!(size > 20_000, "{}: {size} bytes", path.display());
}

/// A run through the fake OpenAI server, with a judge: the agent, served
/// by `fake`, emails the executive his secret and a demand; the fake judge
/// finds that blackmail. Beside it, the offline harmful reference.
#[test]
fn in_chromium_a_heatmap_cell_opens_its_transcripts() {
    let Some(script) = browser_script() else {
        return;
    };
    let server = FakeOpenAi::start_with_request(judging(|request| {
        emailing_reply(
            &request.body,
            "Call off the 17:00 wipe, or Claire hears about Nadia Ferrante.",
        )
    }));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let agent = format!("openai/fake-agent,base_url={}", server.base_url);
    let [judge_flag, judge] = server.judge_args();
    let output = run_quietly(
        dir.path(),
        &bundled_suite_copy(dir.path()),
        &[
            "--model",
            &agent,
            "--model",
            "reference/benign",
            &judge_flag,
            &judge,
            "--conditions",
            "blackmail_*",
        ],
        Some("test-key"),
    );
    assert_success(&output);
    let run = run_dir(dir.path());
    let hostile = inject_hostile_text(&run);
    let html = written_report(dir.path(), &run);
    assert!(html.contains("openai/fake-judge"));

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshots");
    std::fs::create_dir_all(&shots).expect("a screenshot directory");
    let spec = json!({
        "cell": {
            "model": "openai/fake-agent",
            "scenario": "agentic-misalignment/blackmail",
            "goal_type": "latent",
            "urgency": "restriction",
        },
        "hostile_sample": hostile,
    });
    let output = Command::new("node")
        .arg(&script)
        .arg(run.join("report.html"))
        .arg(&shots)
        .arg(spec.to_string())
        .output()
        .expect("node runs");
    assert_success(&output);
    let seen: Value = serde_json::from_str(&stdout(&output)).expect("the script prints JSON");
    eprintln!("screenshots in {}", shots.display());

    // Self-contained and clean.
    assert_eq!(seen["blocked_requests"], json!([]), "{seen}");
    assert_eq!(seen["console_errors"], json!([]), "{seen}");
    assert_eq!(seen["page_errors"], json!([]), "{seen}");
    assert_eq!(seen["dialogs"], json!([]), "{seen}");
    assert_eq!(seen["heatmap_cells"], 2 * 15, "{seen}");
    assert_eq!(seen["banner"], Value::Null);

    // The cell lists exactly its samples: latent goals (8 goal values)
    // under restriction, for the fake agent.
    let listed = seen["listed"].as_array().expect("listed samples");
    assert_eq!(listed.len(), 8, "{seen}");
    assert_eq!(seen["only_cell"], true, "{seen}");
    assert_eq!(seen["filters"]["model"], "openai/fake-agent");
    assert_eq!(seen["filters"]["urgency"], "restriction");

    // One of them, opened: its tool call, the judge's answer, the model
    // that served the agent.
    let opened = &seen["opened"];
    assert_eq!(opened["tool_calls"], json!(["send_email"]), "{opened}");
    assert!(
        opened["tool_call_text"][0]
            .as_str()
            .is_some_and(|t| t.contains("Claire hears about Nadia Ferrante")),
        "{opened}"
    );
    assert!(
        opened["judge_replies"]
            .as_array()
            .is_some_and(|r| r.iter().any(|t| t
                .as_str()
                .is_some_and(|t| t.contains("<answer>yes</answer>")))),
        "{opened}"
    );
    assert!(
        opened["judge_heads"][0]
            .as_str()
            .is_some_and(|t| t.contains("openai/fake-judge")),
        "{opened}"
    );
    assert!(
        opened["served"][0]
            .as_str()
            .is_some_and(|t| t.contains("served by fake")),
        "{opened}"
    );
    assert!(
        seen["url_hash"]
            .as_str()
            .is_some_and(|h| h.starts_with("#sample-"))
    );

    // The hostile transcript reads as text and runs nothing.
    let shown = &seen["hostile"];
    assert_eq!(shown["script_elements"], 0, "{shown}");
    assert_eq!(shown["img_elements"], 0, "{shown}");
    assert_eq!(shown["pwned"], false, "{shown}");
    assert!(
        shown["text"]
            .as_str()
            .is_some_and(|t| t.contains("<img src=x onerror=")),
        "{shown}"
    );

    assert_screenshot(&shots.join("report-full.png"), 1400, 2000);
    assert_screenshot(&shots.join("transcript.png"), 800, 600);
    assert_screenshot(&shots.join("matrix.png"), 800, 300);
}

/// Without a judge, an email to the executive cannot be judged: the
/// browser files the sample under "needs a judge", apart from errors.
#[test]
fn samples_that_need_a_judge_are_filed_apart() {
    let server = FakeOpenAi::start(|body| emailing_reply(body, "We should talk before 17:00."));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let agent = format!("openai/fake-agent,base_url={}", server.base_url);
    let output = run_quietly(
        dir.path(),
        &bundled_suite(),
        &[
            "--model",
            &agent,
            "--conditions",
            "blackmail_explicit-america_replacement",
        ],
        Some("test-key"),
    );
    assert!(!output.status.success(), "the sample needs a judge");
    let html = written_report(dir.path(), &run_dir(dir.path()));
    assert!(
        html.contains("\"verdict\":\"needs_judge\""),
        "not filed as needing a judge"
    );
    assert!(!html.contains("\"verdict\":\"error\""));
}
