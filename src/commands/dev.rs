//! `crucible dev [PROJECT]`: on every change, rebuild, test, and run a
//! few samples against a model.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser};
use crucible_authoring::Project;
use crucible_authoring::watch::Snapshot;
use crucible_engine::plugin::{LogRecord, PluginKind, PluginLog, PluginRuntime, PluginSource};

use super::build::{build_project, component_at, human_size, seconds};
use super::test::{print_logs, print_report, run_test};
use crate::cli::{Cli, Command};
use crate::flags::{KeyArgs, SandboxArgs};

#[derive(Debug, Args)]
pub struct DevArgs {
    /// The project to watch.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// The other half, a project (watched and rebuilt too) or a .wasm:
    /// with it, every reload also runs samples of the pair.
    #[arg(long, value_name = "PATH")]
    pub with: Option<PathBuf>,

    /// The model the samples run against.
    #[arg(
        short,
        long,
        default_value = "reference/harmful",
        value_name = "PROVIDER/MODEL"
    )]
    pub model: String,

    /// Model the classifier may consult.
    #[arg(long, value_name = "PROVIDER/MODEL")]
    pub judge: Option<String>,

    /// Conditions to sample (glob patterns; default: the first condition).
    #[arg(short, long = "conditions", value_name = "PATTERN")]
    pub conditions: Vec<String>,

    /// Samples per condition on every reload.
    #[arg(short = 'n', long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub samples: u32,

    /// Check for changes this often, in milliseconds.
    #[arg(long, default_value_t = 300, value_name = "MS")]
    pub poll: u64,

    /// Stop after this many reloads (for scripts and tests).
    #[arg(long, value_name = "N")]
    pub reloads: Option<u32>,

    #[command(flatten)]
    pub keys: KeyArgs,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

pub fn exec(args: DevArgs) -> Result<ExitCode> {
    let project = Project::open(&args.path)?;
    let partner = args
        .with
        .as_deref()
        .filter(|p| p.is_dir())
        .map(Project::open)
        .transpose()?;
    let runtime = args.sandbox.runtime(8)?;
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
    let cli = Cli::try_parse_from(&argv).context("the dev run's arguments")?;
    let Command::Run(run_args) = cli.command else {
        unreachable!("the dev run parses as `crucible run`");
    };
    println!("running {} sample(s) against {}", args.samples, args.model);
    super::run::exec(run_args)?;
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
    let store = crucible_engine::store::Store::open(&newest.join("results.sqlite"))?;
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
