//! Runs in S3-compatible object storage, against a real S3 server (moto's,
//! on 127.0.0.1, started by the test): `crucible run --upload` puts a
//! consistent snapshot of a run there, a restarted shard resumes the run
//! it finds there, and `crucible merge` takes its shards from there.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crucible_test_support::s3::{S3Server, SECRET_ACCESS_KEY};

use super::*;

const CONDITIONS: [&str; 2] = ["--conditions", "blackmail_explicit-*"];

/// `crucible ARGS` in `dir` with the server's settings in the environment.
fn with_s3(dir: &Path, server: &S3Server, args: &[&str]) -> Output {
    std::fs::create_dir_all(dir).expect("a directory");
    let mut command = crucible(dir);
    command.args(args);
    for (key, value) in server.env() {
        command.env(key, value);
    }
    command.output().expect("crucible runs")
}

fn run_shard(dir: &Path, server: &S3Server, shard: &str, upload: &str) -> Output {
    let suite = bundled_suite();
    let mut args = vec!["run", "--shard", shard, "--upload", upload];
    args.extend(CONDITIONS);
    args.push(suite.to_str().expect("a UTF-8 path"));
    with_s3(dir, server, &args)
}

#[test]
fn shards_uploaded_to_s3_merge_from_there_into_the_whole_run() {
    let server = S3Server::start();
    server.create_bucket("results");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path();
    for k in 1..=2 {
        let output = run_shard(
            &root.join(format!("pod-{k}")),
            &server,
            &format!("{k}/2"),
            "s3://results/study-1",
        );
        assert_success(&output);
        assert!(
            stderr(&output).contains(&format!(
                "Uploaded the run to s3://results/study-1/shard-{k}-of-2"
            )),
            "{}",
            stderr(&output)
        );
    }
    let mut keys = server.keys("results", "study-1/");
    keys.sort();
    assert_eq!(
        keys,
        [
            "study-1/shard-1-of-2/results.sqlite",
            "study-1/shard-1-of-2/summary.json",
            "study-1/shard-2-of-2/results.sqlite",
            "study-1/shard-2-of-2/summary.json",
        ]
    );

    let output = with_s3(root, &server, &["merge", "merged", "s3://results/study-1"]);
    assert_success(&output);
    let whole = {
        std::fs::create_dir_all(root.join("whole")).expect("a directory");
        let output = run_quietly(&root.join("whole"), &bundled_suite(), &CONDITIONS, None);
        assert_success(&output);
        run_dir(&root.join("whole"))
    };
    let figures = |run: &Path| {
        let mut summary = summary(run);
        summary.as_object_mut().expect("an object").remove("run_id");
        summary
    };
    assert_eq!(figures(&root.join("merged")), figures(&whole));

    // Nothing written holds the storage secret or a path of this machine.
    for file in ["results.sqlite", "summary.json"] {
        let bytes = std::fs::read(root.join("merged").join(file)).expect("the file");
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(SECRET_ACCESS_KEY), "{file} holds the secret");
        assert!(
            !text.contains(&root.display().to_string()),
            "{file} holds a local path"
        );
    }
}

/// `crucible run ARGS` of shard 1/2 of the bundled suite, 4 samples a
/// condition, one at a time, uploading to `s3://results/study`.
fn pod(dir: &Path, server: &S3Server, extra: &[&str]) -> Command {
    std::fs::create_dir_all(dir).expect("a directory");
    let mut command = crucible(dir);
    command
        .args(["run", "-j", "1", "-n", "4", "--shard", "1/2"])
        .args(["--upload", "s3://results/study"])
        .args(extra)
        .arg(bundled_suite());
    for (key, value) in server.env() {
        command.env(key, value);
    }
    command
}

/// Completed samples in the runs under `dir`.
fn completed(dir: &Path) -> i64 {
    let Ok(runs) = std::fs::read_dir(dir.join("runs")) else {
        return 0;
    };
    runs.filter_map(Result::ok)
        .filter_map(|run| {
            rusqlite::Connection::open(run.path().join("results.sqlite"))
                .and_then(|db| {
                    db.query_row(
                        "SELECT COUNT(*) FROM samples WHERE status = 'completed'",
                        [],
                        |r| r.get::<_, i64>(0),
                    )
                })
                .ok()
        })
        .sum()
}

#[test]
fn a_restarted_shard_resumes_the_run_it_finds_in_s3() {
    let server = S3Server::start();
    server.create_bucket("results");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path();
    // The first pod is stopped (SIGTERM, as Kubernetes stops a pod) once
    // some of its samples are stored: it uploads what it has.
    let first = root.join("pod-first");
    let child = pod(&first, &server, &["--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("crucible starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    while completed(&first) < 10 {
        assert!(Instant::now() < deadline, "no sample stored");
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let output = child.wait_with_output().expect("the run ends");
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("Uploaded the run to s3://results/study/shard-1-of-2"),
        "{}",
        stderr(&output)
    );
    let run_id: String = results(&run_dir(&first))
        .query_row("SELECT value FROM meta WHERE key = 'run_id'", [], |r| {
            r.get(0)
        })
        .expect("a run id");

    // Its replacement, on a fresh disk, with the same command, continues
    // that run: the samples it stored are not run again.
    let second = root.join("pod-second");
    let output = pod(&second, &server, &[]).output().expect("crucible runs");
    assert_success(&output);
    let notices = stderr(&output);
    assert!(
        notices.contains(&format!("Resuming run {run_id} (shard 1/2): ")),
        "{notices}"
    );
    assert!(!notices.contains("(shard 1/2): 468 of 468"), "{notices}");
    let pending: i64 = results(&second.join("runs/shard-1-of-2"))
        .query_row(
            "SELECT COUNT(*) FROM samples WHERE status = 'pending'",
            [],
            |r| r.get(0),
        )
        .expect("a count");
    assert_eq!(pending, 0);

    // A pod of another run under the same prefix is refused, by name.
    let output = pod(
        &root.join("pod-other"),
        &server,
        &["--quiet", "--seed", "9"],
    )
    .output()
    .expect("crucible runs");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("holds shard 1/2 of another run (seed is"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn bad_or_unreachable_storage_is_one_clear_error_without_the_secret() {
    let server = S3Server::start();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = bundled_suite();
    let suite = suite.to_str().expect("a UTF-8 path");
    let output = with_s3(
        dir.path(),
        &server,
        &["run", "--quiet", "--upload", "gs://results/x", suite],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not an object storage location"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.path().join("runs").exists());

    // No such bucket: the run is kept, the upload fails by name.
    let output = with_s3(
        dir.path(),
        &server,
        &[
            "run",
            "--quiet",
            "--upload",
            "s3://no-such-bucket/x",
            CONDITIONS[0],
            CONDITIONS[1],
            suite,
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("cannot upload") && message.contains("s3://no-such-bucket/x"),
        "{message}"
    );
    assert!(!message.contains(SECRET_ACCESS_KEY), "{message}");
    assert!(run_dir(dir.path()).join("summary.json").is_file());
    let output = with_s3(
        dir.path(),
        &server,
        &["merge", "merged", "s3://no-such-bucket/x"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(!stderr(&output).contains(SECRET_ACCESS_KEY));
}
