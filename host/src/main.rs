//! The `crucible` command.

mod authoring_commands;
mod bundle_command;
mod cli;
mod console;
mod diff_command;
mod export_command;
mod merge_command;
mod registry_admin;
mod registry_commands;
mod report_command;
mod rescore_command;
mod run_command;
mod run_upload;
mod show_command;
mod summary_command;
mod verify_command;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Parser;

use crucible::plugin::{Limits, LoadError, PluginRuntime, PluginSource, RuntimeConfig};
use crucible::run;

use cli::{CheckArgs, Cli, Command, InspectArgs, RegistryCommand, SandboxArgs};

/// Exit status when samples failed: the run finished, but not every sample.
pub(crate) const EXIT_SAMPLES_FAILED: u8 = 1;
/// Exit status for bad input or a run that could not start.
const EXIT_FAILURE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The server logs a line per request; everything else only warnings.
    init_tracing(
        if matches!(cli.command, Command::Registry(RegistryCommand::Serve(_))) {
            "warn,crucible=info"
        } else {
            "warn"
        },
    );
    let outcome = match cli.command {
        Command::Run(args) => run_command::run(args),
        Command::Summary(args) => summary_command::run(&args),
        Command::Merge(args) => merge_command::merge(&args),
        Command::Show(args) => show_command::run(args),
        Command::Export(args) => export_command::export(args),
        Command::Check(args) => check_command(args),
        Command::Inspect(args) => inspect_command(args).map(|()| ExitCode::SUCCESS),
        Command::Report(args) => report_command::report(args),
        Command::Lock(args) => registry_commands::lock(args),
        Command::Update(args) => registry_commands::update(args),
        Command::Publish(args) => registry_commands::publish(args),
        Command::Yank(args) => registry_commands::yank(args),
        Command::Search(args) => registry_commands::search(args),
        Command::Info(args) => registry_commands::info(args),
        Command::Registry(command) => registry_admin::run(command),
        Command::New(args) => authoring_commands::new(args),
        Command::Build(args) => authoring_commands::build(args),
        Command::Test(args) => authoring_commands::test(args),
        Command::Dev(args) => authoring_commands::dev(args),
        Command::Bundle(args) => bundle_command::bundle(args),
        Command::Verify(args) => verify_command::verify(args),
        Command::Rescore(args) => rescore_command::rescore(args),
        Command::Diff(args) => diff_command::diff(args),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", render(&error));
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// One line: the error and its causes, without a backtrace. A cause the
/// message before it already quotes is not repeated.
pub(crate) fn render(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
    }
    // Errors of models are scrubbed where they arise; this catches any
    // other path a key's text could take to the terminal.
    crucible::model::secret::scrub(&parts.join(": ")).into_owned()
}

/// Writes `text` to stdout. A reader that stopped reading (`| head`) is
/// no error: what it wanted it has.
pub(crate) fn print_stdout(text: &str) -> Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("writing to stdout"))
        }
        _ => Ok(()),
    }
}

fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CRUCIBLE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

pub(crate) fn limits(args: &SandboxArgs) -> Result<Limits> {
    anyhow::ensure!(
        args.call_timeout.is_finite() && args.call_timeout > 0.0,
        "--call-timeout must be a positive number of seconds"
    );
    anyhow::ensure!(args.memory_mib > 0, "--memory-mib must be at least 1");
    Ok(Limits {
        call_timeout: Duration::from_secs_f64(args.call_timeout),
        memory_bytes: args.memory_mib << 20,
        fuel_per_call: args.fuel,
        ..Limits::default()
    })
}

/// Where keys may go: the user's config, their flags, and the `base_url`
/// and `api_key_env` of the models they wrote on the command line (`specs`).
pub(crate) fn key_policy<'a>(
    args: &cli::KeyArgs,
    specs: impl IntoIterator<Item = &'a String>,
) -> Result<crucible::model::KeyPolicy> {
    use crucible::model::{Grant, KeyPolicy};
    let mut policy = KeyPolicy::default();
    crucible::user_config::UserConfig::load()?.apply(&mut policy)?;
    for host in &args.hosts {
        policy
            .allow_host(host, Grant::Flag)
            .map_err(|e| anyhow::anyhow!("--allow-key-host: {e}"))?;
    }
    for env in &args.envs {
        policy
            .allow_env(env, Grant::Flag)
            .map_err(|e| anyhow::anyhow!("--allow-key-env: {e}"))?;
    }
    for spec in specs {
        policy.trust_command_line(spec);
    }
    Ok(policy)
}

pub(crate) fn cache_dir(args: &SandboxArgs) -> Option<std::path::PathBuf> {
    if args.no_compile_cache {
        None
    } else {
        RuntimeConfig::default().cache_dir
    }
}

fn check_command(args: CheckArgs) -> Result<ExitCode> {
    let suite = crucible::suite::LoadedSuite::load(&args.suite)?;
    let runtime = PluginRuntime::new(RuntimeConfig {
        limits: limits(&args.sandbox)?,
        max_instances: 8,
        cache_dir: cache_dir(&args.sandbox),
    })?;
    if let Some(dir) = &args.cases {
        let cases = run::load_cases(dir)?;
        let results = run::check_cases(&suite, &runtime, &cases)?;
        print!("{}", run::render_cases(&results));
        let good = results.iter().filter(|r| r.as_expected()).count();
        println!(
            "checked {} case(s) in {}: {good} of {} classifier verdict(s) as expected",
            cases.len(),
            dir.display(),
            results.len()
        );
        return Ok(if good == results.len() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_SAMPLES_FAILED)
        });
    }
    let selection = run::Selection {
        subsuite: args.subsuite.clone(),
        patterns: args.conditions.clone(),
    };
    let outcome = run::check(&suite, &runtime, &selection)?;
    for m in &outcome.mismatches {
        println!(
            "MISMATCH {} {}: {} reference \"{}\": {}",
            m.scenario, m.condition, m.label, m.reference, m.outcome
        );
    }
    println!(
        "checked {} references of {} conditions: {} classified as labelled, {} not",
        outcome.references,
        outcome.conditions,
        outcome.references.saturating_sub(outcome.mismatches.len()),
        outcome.mismatches.len()
    );
    Ok(if outcome.mismatches.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_SAMPLES_FAILED)
    })
}

fn inspect_command(args: InspectArgs) -> Result<()> {
    let runtime = PluginRuntime::new(RuntimeConfig {
        limits: limits(&args.sandbox)?,
        max_instances: 4,
        cache_dir: cache_dir(&args.sandbox),
    })?;
    let source = PluginSource::from_file(&args.component, None)?;
    // The component says what it is; a classifier is recognised by the
    // scenario loader's refusal.
    match runtime.load_scenario(&source) {
        Ok(plugin) => {
            print_info(&plugin.info);
            println!("parameters:");
            for p in &plugin.parameters {
                println!(
                    "  {} = {}  ({})",
                    p.name,
                    p.values.join(" | "),
                    p.description
                );
            }
            println!("conditions: {}", plugin.conditions.len());
            for c in &plugin.conditions {
                println!("  {}", c.id);
            }
        }
        Err(LoadError::WrongKind { .. }) => {
            let plugin = runtime.load_classifier(&source)?;
            print_info(&plugin.info);
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

fn print_info(info: &crucible::plugin::PluginInfo) {
    println!("{} ({})", info.id(), info.kind);
    println!("  {}", info.description);
    println!("contract: {}", info.contract);
    println!("sha256:   {}", info.sha256);
    println!("size:     {} bytes", info.size);
    println!("imports:");
    for import in &info.imports {
        println!("  {import}");
    }
}
