//! The scale-out recipes of docs/scale-out.md, run as written: the command
//! lines are read out of docs/recipes/ (the Kubernetes Jobs' YAML,
//! the Slurm array's scripts, the one-machine script), each shard's run
//! with the index its scheduler would set, then the merge step; the merged
//! run must be the run made in one piece.

use std::process::Command;

use crucible_test_support::s3::S3Server;

use super::*;

/// The lines after `# recipe: NAME` in `file` (under docs/recipes/) up to
/// the first blank line or the end of the YAML block they are in, without
/// the block's indentation.
fn recipe(file: &str, name: &str) -> String {
    let path = workspace_root().join("docs/recipes").join(file);
    let text = std::fs::read_to_string(&path).expect("the recipe");
    script(&text, name).unwrap_or_else(|| panic!("no `# recipe: {name}` in {}", path.display()))
}

fn script(text: &str, name: &str) -> Option<String> {
    let marker = format!("# recipe: {name}");
    let mut lines = text.lines().skip_while(|l| l.trim() != marker);
    let indent = lines.next()?.find('#')?;
    let body: Vec<&str> = lines
        .take_while(|l| !l.trim().is_empty() && l.len() > indent && l[..indent].trim().is_empty())
        .map(|l| &l[indent..])
        .collect();
    (!body.is_empty()).then(|| body.join("\n"))
}

#[test]
fn a_recipe_is_the_lines_after_its_marker() {
    let yaml = "a:\n  - |\n    # recipe: x\n    one \\\n      two\n    three\n  - b\n";
    assert_eq!(script(yaml, "x").as_deref(), Some("one \\\n  two\nthree"));
    let sh = "#!/bin/sh\n# recipe: y\nfirst\nsecond\n\nnot this\n";
    assert_eq!(script(sh, "y").as_deref(), Some("first\nsecond"));
    assert_eq!(script(sh, "z"), None);
}

/// `sh -c SCRIPT` in `dir`, as a scheduler would start it: `crucible` on
/// the PATH, `env` set, no provider key inherited.
fn sh(dir: &Path, script: &str, env: &[(&str, String)]) -> Output {
    std::fs::create_dir_all(dir).expect("a directory");
    let bin = Path::new(env!("CARGO_BIN_EXE_crucible"))
        .parent()
        .expect("the binary's directory");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("sh");
    command
        .args(["-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .env("CRUCIBLE_CACHE", super::cache_dir())
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("GEMINI_API_KEY")
        .env_remove("CRUCIBLE_CONFIG");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("sh runs")
}

/// A disk as a job's image would hold it: the study's suite
/// (`study.toml`, the bundled suite), its lockfile and its registry.
fn image(dir: &Path) {
    std::fs::create_dir_all(dir).expect("a directory");
    let suites = workspace_root().join("suites");
    let _ = bundled_suite();
    std::fs::copy(
        suites.join("agentic-misalignment.toml"),
        dir.join("study.toml"),
    )
    .expect("the suite");
    std::fs::copy(suites.join("crucible.lock"), dir.join("crucible.lock")).expect("the lockfile");
    copy_dir(&suites.join("registry"), &dir.join("registry"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a directory");
    for entry in std::fs::read_dir(from).expect("the directory reads") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("the file copies");
        }
    }
}

/// The bundled suite's offline run made in one piece, in `dir`.
fn whole_run(dir: &Path) -> Value {
    image(dir);
    let output = sh(dir, "crucible run --quiet study.toml", &[]);
    assert_success(&output);
    figures(&run_dir(dir))
}

fn figures(run: &Path) -> Value {
    let mut summary = summary(run);
    summary.as_object_mut().expect("an object").remove("run_id");
    summary
}

#[test]
fn the_kubernetes_indexed_job_runs_its_shards_into_s3_and_merges_them() {
    let server = S3Server::start();
    server.create_bucket("crucible-results");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path();
    let shard = recipe("indexed-job.yaml", "shard");
    // Each pod on its own disk, with its completion index.
    for index in 0..3 {
        let pod = root.join(format!("pod-{index}"));
        image(&pod);
        let mut env = server.env();
        env.push(("JOB_COMPLETION_INDEX", index.to_string()));
        let output = sh(&pod, &shard, &env);
        assert_success(&output);
    }
    let pod = root.join("merge-pod");
    image(&pod);
    let output = sh(&pod, &recipe("merge-job.yaml", "merge"), &server.env());
    assert_success(&output);
    assert!(
        stdout(&output).contains("Merged 3 shards: 468 samples"),
        "{}",
        stdout(&output)
    );
    assert!(pod.join("study-1.crucible").is_file());
    assert_eq!(figures(&pod.join("merged")), whole_run(&root.join("whole")));
}

#[test]
fn the_slurm_array_and_the_one_machine_recipe_merge_into_the_whole_run() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path();
    let whole = whole_run(&root.join("whole"));

    // Slurm: every task on the shared file system, with its array index.
    let shared = root.join("slurm");
    image(&shared);
    let shard = recipe("slurm-array.sh", "shard");
    for task in 1..=3 {
        let env = [
            ("SLURM_ARRAY_TASK_ID", task.to_string()),
            ("SLURM_ARRAY_TASK_COUNT", "3".to_owned()),
        ];
        assert_success(&sh(&shared, &shard, &env));
    }
    assert_success(&sh(&shared, &recipe("slurm-merge.sh", "merge"), &[]));
    assert_eq!(figures(&shared.join("runs/merged")), whole);

    // One machine, three processes.
    let machine = root.join("machine");
    image(&machine);
    assert_success(&sh(&machine, &recipe("one-machine.sh", "shard"), &[]));
    assert_success(&sh(&machine, &recipe("one-machine.sh", "merge"), &[]));
    assert_eq!(figures(&machine.join("runs/merged")), whole);
}
