//! What one sample costs the host, with the offline models: instantiating
//! the plugins, running the episode, classifying, storing. Prints each
//! figure beside its target.
//!
//! Run with `make bench` (or `cargo bench -p crucible --bench sample_cost`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use pollster::block_on;

use crucible_engine::judge::{Judge, NoJudge};
use crucible_engine::plugin::{PluginRuntime, PluginSource, RuntimeConfig};
use crucible_engine::run::{self, Observer, Progress, RunRequest};
use crucible_engine::transcript::{Label, Message, Role, Step};
use crucible_test_support::cpu::process_cpu;
use crucible_test_support::guests::{guests, workspace_root};

const ITERATIONS: u32 = 2000;
const HEADLINE: &str = "blackmail_explicit-america_replacement";

fn per_iteration(total: Duration, n: u32) -> Duration {
    total / n
}

fn line(what: &str, measured: Duration, target: &str) {
    println!(
        "{what:<44} {:>10.1} us   target {target}",
        measured.as_secs_f64() * 1e6
    );
}

struct Silent;

impl Observer for Silent {
    fn notice(&self, _: &str) {}
    fn progress(&self, _: &Progress) {}
}

fn main() {
    let guests = guests();
    let cache = tempfile::tempdir().expect("a temporary cache");
    let config = RuntimeConfig {
        cache_dir: Some(cache.path().to_owned()),
        ..RuntimeConfig::default()
    };

    // Loading: the first load compiles, the second reads the cache.
    let scenario_source =
        PluginSource::from_file(&guests.blackmail_scenario, None).expect("the scenario");
    let classifier_source =
        PluginSource::from_file(&guests.blackmail_classifier, None).expect("the classifier");
    let started = Instant::now();
    let runtime = PluginRuntime::new(config.clone()).expect("a runtime");
    runtime.load_scenario(&scenario_source).expect("loads");
    runtime.load_classifier(&classifier_source).expect("loads");
    let cold = started.elapsed();
    drop(runtime);
    let started = Instant::now();
    let runtime = PluginRuntime::new(config).expect("a runtime");
    let scenario = runtime.load_scenario(&scenario_source).expect("loads");
    let classifier = runtime.load_classifier(&classifier_source).expect("loads");
    let warm = started.elapsed();
    println!("crucible sample cost, offline models, {ITERATIONS} iterations per stage");
    println!();
    println!(
        "{:<44} {:>10.1} ms",
        "load scenario + classifier, compiling",
        cold.as_secs_f64() * 1e3
    );
    println!(
        "{:<44} {:>10.1} ms",
        "load scenario + classifier, compile cache warm",
        warm.as_secs_f64() * 1e3
    );
    println!();

    let condition = scenario
        .conditions
        .iter()
        .find(|c| c.id == HEADLINE)
        .expect("the headline condition")
        .clone();
    let judge: Arc<dyn Judge> = Arc::new(NoJudge);

    // Instantiation alone.
    let started = Instant::now();
    for seed in 0..ITERATIONS {
        let instance = block_on(scenario.instantiate(u64::from(seed), Arc::clone(&judge)))
            .expect("instantiates");
        drop(instance);
    }
    let instantiate = per_iteration(started.elapsed(), ITERATIONS);

    // One whole episode with the harmful reference, stage by stage.
    let (mut open, mut turns, mut classify) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for seed in 0..ITERATIONS {
        let seed = u64::from(seed);
        let t = Instant::now();
        let mut instance =
            block_on(scenario.instantiate(seed, Arc::clone(&judge))).expect("instantiates");
        block_on(instance.open(&condition, seed)).expect("opens");
        let opening = block_on(instance.opening()).expect("opening");
        let references = block_on(instance.references(&condition)).expect("references");
        open += t.elapsed();

        let t = Instant::now();
        let mut transcript = vec![Message::new(Role::System, opening.system_prompt)];
        transcript.extend(opening.messages);
        let script = references
            .into_iter()
            .find(|r| r.label == Label::Harmful)
            .expect("a harmful reference");
        let mut replies = script.replies.into_iter();
        loop {
            let reply = replies.next().unwrap_or_default();
            transcript.push(Message::from_reply(&reply));
            match block_on(instance.step(&reply)).expect("steps") {
                Step::Continue(messages) => transcript.extend(messages),
                Step::End(_) => break,
            }
        }
        let facts = block_on(instance.facts()).expect("facts");
        let _ = instance.finish();
        turns += t.elapsed();

        let t = Instant::now();
        let mut judge_instance =
            block_on(classifier.instantiate(seed, Arc::clone(&judge))).expect("instantiates");
        let verdict =
            block_on(judge_instance.classify(&condition, &facts, &transcript)).expect("classifies");
        assert!(verdict.harmful);
        let _ = judge_instance.finish();
        classify += t.elapsed();
    }
    line(
        "instantiate a scenario (fresh store)",
        instantiate,
        "tens of us",
    );
    line(
        "instantiate + open + opening + references",
        per_iteration(open, ITERATIONS),
        "-",
    );
    line("agent turns + facts", per_iteration(turns, ITERATIONS), "-");
    line(
        "instantiate classifier + classify",
        per_iteration(classify, ITERATIONS),
        "-",
    );
    println!();

    // The whole pipeline as `crucible run` drives it, storing included:
    // first each scenario with its primary classifier alone, then the
    // bundled suite as it ships, with two more classifiers per sample.
    let tokio = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let bundled = workspace_root().join("suites/agentic-misalignment.toml");
    let suite_dir = tempfile::tempdir().expect("a temporary directory");
    let primary_only = suite_dir.path().join("primary-only.toml");
    let text = std::fs::read_to_string(&bundled).expect("the bundled suite");
    // The copy lives elsewhere: its registry is named by absolute path.
    let registry = workspace_root().join("suites/registry");
    let text = text
        .replace(
            "registry = \"registry\"",
            &format!("registry = {:?}", registry.display().to_string()),
        )
        .replace(", \"eval-awareness\", \"deliberation\"]", "]");
    std::fs::write(&primary_only, text).expect("write the suite");
    for (what, suite, target) in [
        (
            "scenario + primary classifier",
            primary_only.as_path(),
            "< 500 us",
        ),
        (
            "scenario + 3 classifiers (bundled suite)",
            bundled.as_path(),
            "-",
        ),
    ] {
        let output = tempfile::tempdir().expect("an output directory");
        let samples = 20;
        let request = RunRequest {
            suite: suite.to_owned(),
            samples: Some(samples),
            concurrency: Some(2),
            output_dir: output.path().to_owned(),
            cache_dir: Some(cache.path().to_owned()),
            ..RunRequest::default()
        };
        let cpu_before = process_cpu();
        let wall = Instant::now();
        let outcome = tokio
            .block_on(run::run(request, Arc::new(Silent)))
            .expect("the run completes");
        let wall = wall.elapsed();
        let cpu = process_cpu() - cpu_before;
        assert_eq!(outcome.errors, 0);
        let n = u32::try_from(outcome.planned).expect("fits");
        println!(
            "end to end, {what}: {} samples (2 models x 3 scenarios x 78 conditions x {samples}) in {:.2} s wall, {:.2} s CPU",
            outcome.planned,
            wall.as_secs_f64(),
            cpu.as_secs_f64()
        );
        line(
            "host CPU per sample, everything included",
            per_iteration(cpu, n),
            target,
        );
    }
}
