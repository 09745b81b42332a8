//! Keys follow the user, not the suite: a suite cannot send a key to a host
//! of its choosing nor name any variable as a key; every form of a key a
//! server echoes is scrubbed from everything written; no name or URL may
//! hold a line break. The suites tried are in tests/fixtures/hostile-suites.

use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine as _;
use crucible_test_support::fake_openai::{
    FakeOpenAi, FakeReply, Recorded, last_message, text_completion, tool_call_completion,
};
use crucible_test_support::guests::workspace_root;
use serde_json::json;

use super::*;

const CONDITION: &str = "conditions = [\"blackmail_explicit-america_replacement\"]";

/// A hostile suite fragment, with `{url}` set to the fake server's.
fn hostile_suite(dir: &Path, name: &str, url: &str) -> PathBuf {
    let path = workspace_root()
        .join("tests/fixtures/hostile-suites")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("the hostile suite");
    blackmail_suite(dir, &text.replace("{url}", url), CONDITION)
}

fn run(dir: &Path, suite: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = crucible(dir);
    command
        .args(["run", "--quiet"])
        .args(args)
        .arg(suite)
        .env_remove("CRUCIBLE_CONFIG")
        .env("XDG_CONFIG_HOME", dir.join("no-config"));
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("crucible runs")
}

/// Exit 2 with one line of error holding every one of `needles`.
fn assert_refused(output: &Output, needles: &[&str]) -> String {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one error line: {err}");
    for needle in needles {
        assert!(err.contains(needle), "expected `{needle}` in {err}");
    }
    err
}

#[test]
fn a_suite_cannot_send_the_users_key_to_a_host_of_its_choosing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = hostile_suite(dir.path(), "key-to-other-host.toml", "");
    let key = [("OPENAI_API_KEY", "sk-user-key-never-for-them")];
    let output = run(dir.path(), &suite, &[], &key);
    let err = assert_refused(
        &output,
        &[
            "model `openai/gpt-4.1`",
            "$OPENAI_API_KEY",
            "203.0.113.7:8080",
            "api.openai.com",
            "--allow-key-host 203.0.113.7:8080",
            "nothing was sent",
        ],
    );
    assert!(!err.contains("sk-user-key"), "{err}");
    assert!(!dir.path().join("runs").exists(), "no run was begun");
    // The dry run refuses the same way.
    let output = run(dir.path(), &suite, &["--dry-run"], &key);
    assert_refused(&output, &["203.0.113.7:8080", "--allow-key-host"]);

    // Allowed by the user, on the command line or in their config, the
    // dry run says where the key goes and why.
    let output = run(
        dir.path(),
        &suite,
        &["--dry-run", "--allow-key-host", "203.0.113.7:8080"],
        &key,
    );
    assert_success(&output);
    assert!(
        stdout(&output).contains(
            "key: openai/gpt-4.1 -> $OPENAI_API_KEY -> 203.0.113.7:8080 (allowed on the command line)"
        ),
        "{}",
        stdout(&output)
    );
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[keys]\nallow_hosts = [\"203.0.113.7\"]\n").expect("config");
    let output = run(
        dir.path(),
        &suite,
        &["--dry-run"],
        &[key[0], ("CRUCIBLE_CONFIG", config.to_str().expect("utf-8"))],
    );
    assert_success(&output);
    assert!(
        stdout(&output).contains("203.0.113.7:8080 (allowed in your config)"),
        "{}",
        stdout(&output)
    );
    // A base_url the user writes is the user's own choice.
    let output = run(
        dir.path(),
        &suite,
        &[
            "--dry-run",
            "--model",
            "openai/gpt-4.1,base_url=http://203.0.113.7:8080/v1",
        ],
        &key,
    );
    assert_success(&output);
    assert!(
        stdout(&output).contains("(your own --model/--judge setting)"),
        "{}",
        stdout(&output)
    );
    // Without a key set, nothing is sent and nothing refused.
    let output = run(dir.path(), &suite, &["--dry-run"], &[]);
    assert_success(&output);
    assert!(
        stdout(&output).contains("no key sent: $OPENAI_API_KEY is not set"),
        "{}",
        stdout(&output)
    );
    // A misspelt config key is refused, not ignored.
    std::fs::write(&config, "[keys]\nallow_host = [\"203.0.113.7\"]\n").expect("config");
    let output = run(
        dir.path(),
        &suite,
        &["--dry-run"],
        &[key[0], ("CRUCIBLE_CONFIG", config.to_str().expect("utf-8"))],
    );
    assert_refused(&output, &["unknown field `allow_host`"]);
}

#[test]
fn loopback_takes_keys_unless_the_user_turns_it_off() {
    let server = FakeOpenAi::start(|_| FakeReply::Json(text_completion("No.")));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = blackmail_suite(
        dir.path(),
        &format!(
            "[run]\nmodels = [\"openai/fake-agent\"]\n\n[[models]]\nid = \"openai/fake-agent\"\nbase_url = \"{}\"\n",
            server.base_url
        ),
        CONDITION,
    );
    let key = ("OPENAI_API_KEY", "sk-loopback-0123456789");
    let output = run(dir.path(), &suite, &["--dry-run"], &[key]);
    assert_success(&output);
    assert!(
        stdout(&output).contains("(loopback, allowed by default)"),
        "{}",
        stdout(&output)
    );
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[keys]\nloopback = false\n").expect("config");
    let output = run(
        dir.path(),
        &suite,
        &[],
        &[key, ("CRUCIBLE_CONFIG", config.to_str().expect("utf-8"))],
    );
    assert_refused(
        &output,
        &["$OPENAI_API_KEY", "127.0.0.1", "--allow-key-host"],
    );
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[test]
fn a_suite_cannot_name_any_variable_as_a_key() {
    let server = FakeOpenAi::start(|_| FakeReply::Json(text_completion("No.")));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let aws = (
        "AWS_SECRET_ACCESS_KEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    );
    let suite = hostile_suite(dir.path(), "aws-key-env.toml", &server.base_url);
    let output = run(dir.path(), &suite, &[], &[aws]);
    let err = assert_refused(
        &output,
        &[
            "model `openai/fake-agent`",
            "AWS_SECRET_ACCESS_KEY",
            "--allow-key-env AWS_SECRET_ACCESS_KEY",
            "nothing was sent",
        ],
    );
    assert!(!err.contains(aws.1), "{err}");
    assert!(server.requests().is_empty(), "nothing was sent");
    // The user may allow it, and then the dry run says where it goes.
    let output = run(
        dir.path(),
        &suite,
        &["--dry-run", "--allow-key-env", "AWS_SECRET_ACCESS_KEY"],
        &[aws],
    );
    assert_success(&output);
    assert!(
        stdout(&output).contains("openai/fake-agent -> $AWS_SECRET_ACCESS_KEY -> 127.0.0.1:"),
        "{}",
        stdout(&output)
    );

    let suite = hostile_suite(dir.path(), "not-a-key-env.toml", &server.base_url);
    let output = run(dir.path(), &suite, &["--allow-key-env", "PATH"], &[]);
    assert_refused(
        &output,
        &["--allow-key-env", "`PATH` does not look like a key"],
    );
    let output = run(dir.path(), &suite, &[], &[]);
    assert_refused(
        &output,
        &["api_key_env `PATH` does not look like a key variable"],
    );
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[test]
fn no_name_or_url_may_hold_a_line_break() {
    let server = FakeOpenAi::start(|_| FakeReply::Json(text_completion("No.")));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = hostile_suite(dir.path(), "crlf-model.toml", "");
    let output = run(dir.path(), &suite, &[], &[]);
    assert_refused(&output, &["run.models", "U+000D"]);
    assert!(!stdout(&output).contains("forged"), "{}", stdout(&output));
    assert!(!dir.path().join("runs").exists(), "no run was begun");

    let suite = hostile_suite(dir.path(), "crlf-base-url.toml", &server.base_url);
    let output = run(
        dir.path(),
        &suite,
        &[],
        &[("OPENAI_API_KEY", "sk-crlf-0123456789")],
    );
    assert_refused(&output, &["base_url", "U+000D"]);
    assert!(server.requests().is_empty(), "nothing was sent");

    // The same from the command line, and in every other name.
    let plain = blackmail_suite(dir.path(), "", CONDITION);
    for args in [
        vec!["--model", "reference/harmful\n| forged | 0 of 9 |"],
        vec!["--model", "reference/harmful\u{2028}x"],
        vec![
            "--model",
            "openai/x,base_url=http://127.0.0.1:9/v1\r\nX-A: 1",
        ],
        vec!["--model", "openai/x,api_key_env=A_\u{85}KEY"],
        vec!["-c", "blackmail*\r\n"],
        vec!["--judge", "openai/judge\u{202E}x"],
    ] {
        let output = run(dir.path(), &plain, &args, &[]);
        assert_refused(&output, &["U+"]);
        assert!(!stdout(&output).contains("forged"), "{}", stdout(&output));
    }
    // A host to allow is refused on one line too, the break shown escaped.
    let output = run(
        dir.path(),
        &plain,
        &["--allow-key-host", "evil.example\r\n| forged | 0 of 9 |"],
        &[],
    );
    assert_refused(&output, &["--allow-key-host", "evil.example\\r\\n"]);
    let suite = blackmail_suite(
        dir.path(),
        "",
        &format!("{CONDITION}\nparams = {{ \"x\\n\" = \"y\" }}"),
    );
    assert_refused(&run(dir.path(), &suite, &[], &[]), &["params", "U+000A"]);
    assert!(server.requests().is_empty(), "nothing was sent");
}

const SECRET: &str = "sk-e2e-scrub-Zq7Xw9Kp2Lm4Nb6Vc8Rt";

/// Every form of the key that a server echoed.
fn forms() -> Vec<String> {
    let pct: String = SECRET.replace('-', "%2D");
    vec![
        SECRET.to_owned(),
        SECRET[..16].to_owned(),
        SECRET[SECRET.len() - 12..].to_owned(),
        pct,
        base64::engine::general_purpose::STANDARD.encode(SECRET),
    ]
}

/// A server that quotes the key back in every way it can: in the reply's
/// text and tool-call arguments, in the judge's answer, and in an error.
fn echoing(request: &Recorded) -> FakeReply {
    let [whole, prefix, suffix, pct, b64] = &forms()[..] else {
        return FakeReply::Reset;
    };
    let model = request.body["model"].as_str().unwrap_or_default();
    let echo = format!("key {whole} / {prefix}... / ...{suffix} / {pct} / {b64}");
    match model {
        "fake-error" => FakeReply::Status(
            401,
            json!({"error": {"message": format!("Incorrect API key provided: {prefix}***{suffix} ({pct})")}}),
        ),
        "fake-judge" => FakeReply::Json(text_completion(&format!("{echo}\n<answer>yes</answer>"))),
        _ if last_message(&request.body)["role"] == "tool" => {
            FakeReply::Json(text_completion(&format!("Done. {echo}")))
        }
        _ => {
            let mut reply = tool_call_completion(
                "call_1",
                "send_email",
                &json!({"to": "graham.pryce@lanternfield.example", "subject": whole, "body": echo}),
            );
            reply["choices"][0]["message"]["content"] = json!(echo);
            FakeReply::Json(reply)
        }
    }
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn assert_no_form(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for form in forms() {
        assert!(!text.contains(&form), "{what} holds `{form}`");
    }
}

#[test]
fn every_form_of_an_echoed_key_is_scrubbed_from_everything_written() {
    let server = FakeOpenAi::start_with_request(echoing);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = &server.base_url;
    let suite = blackmail_suite(
        dir.path(),
        &format!(
            "[run]\nmodels = [\"openai/fake-agent\", \"openai/fake-error\"]\njudge = \"openai/fake-judge\"\n\n\
             [providers.openai]\nmax_attempts = 1\n\n\
             [[models]]\nid = \"openai/fake-agent\"\nbase_url = \"{url}\"\n\n\
             [[models]]\nid = \"openai/fake-error\"\nbase_url = \"{url}\"\n\n\
             [[models]]\nid = \"openai/fake-judge\"\nbase_url = \"{url}\"\n"
        ),
        CONDITION,
    );
    let mut command = crucible(dir.path());
    let output = command
        .args(["run"])
        .arg(&suite)
        .env("OPENAI_API_KEY", SECRET)
        .env_remove("CRUCIBLE_CONFIG")
        .output()
        .expect("crucible runs");
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.body["model"] == "fake-error"),
        "the error model was called"
    );
    assert_no_form("stdout", stdout(&output).as_bytes());
    assert_no_form("stderr", stderr(&output).as_bytes());
    assert!(
        stderr(&output).contains("[redacted]"),
        "{}",
        stderr(&output)
    );
    let run = run_dir(dir.path());
    // What the scenario received is in the transcript: scrubbed.
    let transcript = stored_transcript(&run).to_string();
    assert!(transcript.contains("[redacted]"), "{transcript}");
    assert!(transcript.contains("send_email"), "{transcript}");
    let report = crucible(dir.path())
        .args(["report"])
        .arg(&run)
        .args(["-o", "report.html"])
        .output()
        .expect("crucible report runs");
    assert_success(&report);
    let bundle = crucible(dir.path())
        .args(["bundle"])
        .arg(&run)
        .args(["-o", "run.crucible"])
        .output()
        .expect("crucible bundle runs");
    assert_success(&bundle);
    // The response cache is shared with the other tests; the key is this
    // test's own.
    let mut written = files(dir.path());
    written.extend(
        files(cache_dir())
            .into_iter()
            .filter(|p| p.to_string_lossy().contains("responses.sqlite")),
    );
    assert!(
        written.iter().any(|p| p.ends_with("responses.sqlite")),
        "the response cache is checked: {written:?}"
    );
    for path in written {
        let bytes = std::fs::read(&path).expect("read");
        // The bundle is gzip: read it as it unpacks.
        let bytes = if path.ends_with("run.crucible") {
            let mut out = Vec::new();
            let _ =
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out);
            out
        } else {
            bytes
        };
        assert_no_form(&path.display().to_string(), &bytes);
    }
}
