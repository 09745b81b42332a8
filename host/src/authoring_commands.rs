//! `crucible new`, `build`, `test` and `dev`: the plugin author's loop.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;

use crucible::authoring::contract_test::{self, Report, Status};
use crucible::authoring::labelled;
use crucible::authoring::scaffold::scaffold;
use crucible::authoring::watch::Snapshot;
use crucible::authoring::{self, Built, Language, Project};
use crucible::plugin::{
    AnyPlugin, CacheOutcome, LogRecord, PluginKind, PluginLog, PluginRuntime, PluginSource,
    RuntimeConfig,
};
use crucible_registry::PackageName;

use crate::cli::{BuildArgs, DevArgs, KindArg, LangArg, NewArgs, SandboxArgs, TestArgs};
use crate::{EXIT_SAMPLES_FAILED, cache_dir, limits};

pub fn new(args: NewArgs) -> Result<ExitCode> {
    let name: PackageName = args
        .name
        .parse()
        .with_context(|| format!("`{}` is not a plugin name", args.name))?;
    let kind = match args.kind {
        KindArg::Scenario => PluginKind::Scenario,
        KindArg::Classifier => PluginKind::Classifier,
    };
    let language = match args.lang {
        LangArg::Rust => Language::Rust,
        LangArg::Python => Language::Python,
        LangArg::Js => Language::JavaScript,
    };
    let dir = args.path.unwrap_or_else(|| PathBuf::from(name.name()));
    let written = scaffold(kind, language, &name, &dir)?;
    println!("Created {language} {kind} {name} in {}:", dir.display());
    for file in written.iter().filter(|f| !f.starts_with("wit")) {
        println!("  {}", file.display());
    }
    println!("  wit/ (the contract, crucible:plugin@0.1.0)");
    println!();
    println!("Next:");
    println!("  cd {}", dir.display());
    if language == Language::Rust {
        println!(
            "  rustup target add {}   # once",
            authoring::toolchain::GUEST_TARGET
        );
    } else if language == Language::JavaScript {
        println!("  npm install          # the pinned componentizer");
    } else if language == Language::Python {
        println!(
            "  python3 -m venv .venv && .venv/bin/pip install componentize-py=={}",
            authoring::toolchain::COMPONENTIZE_PY_VERSION
        );
    }
    println!("  crucible build       # the component, its size and sha256");
    println!("  crucible test        # the contract test");
    println!("  crucible dev         # rebuild and rerun on every change");
    Ok(ExitCode::SUCCESS)
}

fn runtime(sandbox: &SandboxArgs) -> Result<PluginRuntime> {
    PluginRuntime::new(RuntimeConfig {
        limits: limits(sandbox)?,
        max_instances: 8,
        cache_dir: cache_dir(sandbox),
    })
}

/// Builds a project and says what came out.
fn build_project(project: &Project) -> Result<Built> {
    eprintln!(
        "building {} ({} {})",
        project.root.display(),
        project.language,
        project.package
    );
    authoring::build(project).with_context(|| format!("building {}", project.root.display()))
}

/// A path given on the command line as a component: a `.wasm` file as it
/// is, or a project built first.
fn component_at(path: &Path) -> Result<(PathBuf, Option<Project>)> {
    if path.is_file() {
        return Ok((path.to_owned(), None));
    }
    let project = Project::open(path)?;
    let built = build_project(&project)?;
    Ok((built.path, Some(project)))
}

pub fn build(args: BuildArgs) -> Result<ExitCode> {
    let project = Project::open(&args.path)?;
    let built = build_project(&project)?;
    let runtime = runtime(&args.sandbox)?;
    let source = PluginSource::from_file(&built.path, None)?;
    let started = Instant::now();
    let plugin = runtime
        .load_any(&source)
        .with_context(|| format!("the built component {}", built.path.display()))?;
    let first = started.elapsed();
    let started = Instant::now();
    runtime.load_any(&source)?;
    let second = started.elapsed();
    let info = plugin.info();
    println!(
        "Built {} ({}, {}) in {}{}",
        info.id(),
        info.kind,
        project.language,
        seconds(built.took),
        if built.reused {
            " (sources unchanged since a kept build: the componentizer did not run)"
        } else {
            ""
        }
    );
    println!("  component  {}", built.path.display());
    println!(
        "  size       {} ({} bytes)",
        human_size(built.size),
        built.size
    );
    println!("  sha256     {}", built.sha256);
    match plugin.cache() {
        CacheOutcome::Compiled if args.sandbox.no_compile_cache => println!(
            "  load       {} compiling (--no-compile-cache: every load compiles)",
            seconds(first)
        ),
        CacheOutcome::Compiled => println!(
            "  load       {} compiling (first load), {} from the compile cache",
            seconds(first),
            millis(second)
        ),
        CacheOutcome::Hit => println!(
            "  load       {} from the compile cache (compiled by an earlier load)",
            millis(first.min(second))
        ),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn test(args: TestArgs) -> Result<ExitCode> {
    let (wasm, project) = component_at(&args.path)?;
    let runtime = runtime(&args.sandbox)?;
    let transcripts_dir = args.transcripts.clone().unwrap_or_else(|| {
        project
            .as_ref()
            .map_or_else(|| PathBuf::from("."), |p| p.root.clone())
            .join("transcripts")
    });
    let report = run_test(
        &runtime,
        &wasm,
        args.with.as_deref(),
        &transcripts_dir,
        args.seed,
    )?;
    print_report(&report, args.logs);
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_SAMPLES_FAILED)
    })
}

/// The contract test of the component at `wasm`, with its partner built
/// and loaded.
fn run_test(
    runtime: &PluginRuntime,
    wasm: &Path,
    with: Option<&Path>,
    transcripts_dir: &Path,
    seed: u64,
) -> Result<Report> {
    let source = PluginSource::from_file(wasm, None)?;
    // A component that cannot be loaded fails the test's first check.
    let plugin = match runtime.load_any(&source) {
        Ok(plugin) => plugin,
        Err(e) => return Ok(Report::failed_to_load(&e)),
    };
    let partner = match with {
        Some(path) => {
            let (partner, _) = component_at(path)?;
            let source = PluginSource::from_file(&partner, None)?;
            Some(
                runtime
                    .load_any(&source)
                    .with_context(|| format!("the --with component {}", path.display()))?,
            )
        }
        None => None,
    };
    Ok(match plugin {
        AnyPlugin::Scenario(plugin) => {
            let classifier = match partner {
                Some(AnyPlugin::Classifier(c)) => Some(Arc::new(c)),
                Some(AnyPlugin::Scenario(s)) => anyhow::bail!(
                    "--with names the scenario {}: a scenario is tested with a classifier",
                    s.info.id()
                ),
                None => None,
            };
            contract_test::test_scenario(Arc::new(plugin), classifier, seed)
        }
        AnyPlugin::Classifier(plugin) => {
            let scenario = match partner {
                Some(AnyPlugin::Scenario(s)) => Some(Arc::new(s)),
                Some(AnyPlugin::Classifier(c)) => anyhow::bail!(
                    "--with names the classifier {}: a classifier is tested with a scenario",
                    c.info.id()
                ),
                None => None,
            };
            let transcripts = labelled::load_dir(transcripts_dir)?;
            contract_test::test_classifier(
                Arc::new(plugin),
                &transcripts,
                transcripts_dir,
                scenario,
                seed,
            )
        }
    })
}

fn print_report(report: &Report, all_logs: bool) {
    if let Some(info) = &report.plugin {
        println!("Testing {} ({})", info.id(), info.kind);
    }
    for check in &report.checks {
        let mark = match check.status {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        };
        println!("  {mark}  {}: {}", check.name, check.detail);
        for problem in &check.problems {
            println!("          {problem}");
        }
    }
    if all_logs || !report.passed() {
        print_logs(&report.logs);
    }
    let count = |status| report.checks.iter().filter(|c| c.status == status).count();
    println!(
        "{} passed, {} failed, {} skipped",
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Skip)
    );
}

/// A plugin's logs, each line under its `name@version`.
fn print_logs(logs: &[(String, PluginLog)]) {
    if logs.is_empty() {
        return;
    }
    println!("Plugin logs:");
    for (plugin, log) in logs {
        for record in &log.records {
            let fields: Vec<String> = record
                .fields
                .iter()
                .map(|f| format!("{}={}", f.name, f.value))
                .collect();
            println!(
                "  [{plugin}] {}: {} {}",
                record.level,
                record.message,
                fields.join(" ")
            );
        }
        for (stream, text) in [("stdout", &log.stdout), ("stderr", &log.stderr)] {
            for line in text.lines() {
                println!("  [{plugin}] {stream}: {line}");
            }
        }
    }
}

pub fn dev(args: DevArgs) -> Result<ExitCode> {
    let project = Project::open(&args.path)?;
    let partner = args
        .with
        .as_deref()
        .filter(|p| p.is_dir())
        .map(Project::open)
        .transpose()?;
    let runtime = runtime(&args.sandbox)?;
    let poll = Duration::from_millis(args.poll.max(50));
    let mut reload = 0;
    let mut seen = watched(&project, partner.as_ref());
    let mut changed: Vec<PathBuf> = Vec::new();
    loop {
        reload += 1;
        banner(reload, &project, &changed);
        if let Err(e) = dev_round(&args, &runtime, &project) {
            println!("error: {}", crate::render(&e));
        }
        if args.reloads.is_some_and(|n| reload >= n) {
            return Ok(ExitCode::SUCCESS);
        }
        println!(
            "watching {} for changes (Ctrl-C stops)",
            project.root.display()
        );
        loop {
            std::thread::sleep(poll);
            let now = watched(&project, partner.as_ref());
            changed = now.changes_since(&seen);
            if !changed.is_empty() {
                seen = now;
                break;
            }
        }
    }
}

fn watched(project: &Project, partner: Option<&Project>) -> Snapshot {
    let mut snapshot = Snapshot::take(&project.root);
    if let Some(partner) = partner {
        snapshot.extend(Snapshot::take(&partner.root));
    }
    snapshot
}

fn banner(reload: u32, project: &Project, changed: &[PathBuf]) {
    let what = if changed.is_empty() {
        "first build".to_owned()
    } else {
        let names: Vec<String> = changed
            .iter()
            .take(3)
            .map(|p| {
                p.strip_prefix(&project.root)
                    .unwrap_or(p)
                    .display()
                    .to_string()
            })
            .collect();
        let more = changed.len().saturating_sub(3);
        if more > 0 {
            format!("{} and {more} more changed", names.join(", "))
        } else {
            format!("{} changed", names.join(", "))
        }
    };
    let line = format!(
        "== crucible dev: reload {reload} · {} · {what} ==",
        project.root.display()
    );
    println!();
    println!("{}", "=".repeat(line.chars().count().min(100)));
    println!("{line}");
    println!("{}", "=".repeat(line.chars().count().min(100)));
}

/// One reload: build, test, and with a partner run a few samples.
fn dev_round(args: &DevArgs, runtime: &PluginRuntime, project: &Project) -> Result<()> {
    let built = build_project(project)?;
    println!(
        "built {} ({}) in {}",
        built.path.display(),
        human_size(built.size),
        seconds(built.took)
    );
    // The partner is built once a reload, then used as a file.
    let partner = args
        .with
        .as_deref()
        .map(component_at)
        .transpose()?
        .map(|(wasm, _)| wasm);
    let transcripts = project.root.join("transcripts");
    let report = run_test(runtime, &built.path, partner.as_deref(), &transcripts, 1)?;
    print_report(&report, true);
    let Some(partner) = partner else {
        println!(
            "(no --with: give the other half to also run samples against {})",
            args.model
        );
        return Ok(());
    };
    let Some(info) = &report.plugin else {
        return Ok(());
    };
    let (scenario, classifier) = match info.kind {
        PluginKind::Scenario => (built.path.clone(), partner),
        PluginKind::Classifier => (partner, built.path.clone()),
    };
    run_samples(args, runtime, project, &scenario, &classifier)
}

/// A throwaway suite of the pair, run like `crucible run`.
fn run_samples(
    args: &DevArgs,
    runtime: &PluginRuntime,
    project: &Project,
    scenario: &Path,
    classifier: &Path,
) -> Result<()> {
    let dir = project.root.join("build/dev");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    let suite = dir.join("suite.toml");
    let text = format!(
        "# Written by `crucible dev` on every reload.\n\
         [suite]\nname = \"dev\"\n\n\
         [scenarios.dev]\ncomponent = {:?}\nclassifiers = [\"dev\"]\n\n\
         [classifiers.dev]\ncomponent = {:?}\n",
        absolute(scenario).display().to_string(),
        absolute(classifier).display().to_string(),
    );
    std::fs::write(&suite, text).with_context(|| format!("writing {}", suite.display()))?;
    let mut argv: Vec<String> = vec![
        "crucible".into(),
        "run".into(),
        suite.display().to_string(),
        "--output".into(),
        dir.join("runs").display().to_string(),
        "-m".into(),
        args.model.clone(),
        "-n".into(),
        args.samples.to_string(),
        "-j".into(),
        "4".into(),
        "--quiet".into(),
    ];
    if let Some(judge) = &args.judge {
        argv.extend(["--judge".into(), judge.clone()]);
    }
    for host in &args.keys.hosts {
        argv.extend(["--allow-key-host".into(), host.clone()]);
    }
    for env in &args.keys.envs {
        argv.extend(["--allow-key-env".into(), env.clone()]);
    }
    for pattern in &args.conditions {
        argv.extend(["-c".into(), pattern.clone()]);
    }
    if args.conditions.is_empty() {
        // The first condition the scenario lists is enough for a loop.
        argv.extend(["-c".into(), first_condition(runtime, scenario)?]);
    }
    let cli = crate::cli::Cli::try_parse_from(&argv).context("the dev run's arguments")?;
    let crate::cli::Command::Run(run_args) = cli.command else {
        unreachable!("the dev run parses as `crucible run`");
    };
    println!("running {} sample(s) against {}", args.samples, args.model);
    crate::run_command::run(run_args)?;
    print_sample_logs(&dir.join("runs"))
}

/// What the plugins logged in each sample of the newest run in `runs`.
fn print_sample_logs(runs: &Path) -> Result<()> {
    let newest = std::fs::read_dir(runs)
        .with_context(|| format!("reading {}", runs.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()
        .map(|(_, path)| path)
        .context("the dev run left no run directory")?;
    let store = crucible::store::Store::open(&newest.join("results.sqlite"))?;
    for sample in store.logs()? {
        // Written by the run from the same types; a row that does not read
        // back is left out rather than failing the loop.
        let Ok(logs) = serde_json::from_str::<Vec<(String, StoredLog)>>(&sample.logs) else {
            continue;
        };
        let logs: Vec<(String, PluginLog)> = logs
            .into_iter()
            .map(|(plugin, log)| {
                let log = PluginLog {
                    records: log.records,
                    stdout: log.stdout,
                    stderr: log.stderr,
                    ..PluginLog::default()
                };
                (plugin, log)
            })
            .filter(|(_, log)| log != &PluginLog::default())
            .collect();
        if logs.is_empty() {
            continue;
        }
        println!(
            "{} {} #{}:",
            sample.model, sample.condition, sample.sample_index
        );
        print_logs(&logs);
    }
    Ok(())
}

/// The parts of a stored plugin log that are shown: records and output.
#[derive(serde::Deserialize)]
struct StoredLog {
    #[serde(default)]
    records: Vec<LogRecord>,
    #[serde(default)]
    stdout: String,
    #[serde(default)]
    stderr: String,
}

fn first_condition(runtime: &PluginRuntime, scenario: &Path) -> Result<String> {
    let source = PluginSource::from_file(scenario, None)?;
    let plugin = runtime.load_scenario(&source)?;
    plugin
        .conditions
        .first()
        .map(|c| c.id.clone())
        .context("the scenario offers no condition")
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A component's size in the unit that suits it.
fn human_size(bytes: u64) -> String {
    if bytes < 1_000_000 {
        format!("{:.1} KB", bytes as f64 / 1000.0)
    } else {
        format!("{:.1} MB", bytes as f64 / 1_000_000.0)
    }
}
