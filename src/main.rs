//! The `crucible` command: parse the command line, run the subcommand,
//! turn its outcome into an exit status. Each subcommand lives in its own
//! file under `commands/`; the work lives in the libraries.

mod cli;
mod commands;
mod console;
mod flags;

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use cli::{Cli, Command};
use commands::registry::RegistryCommand;

/// Exit status when samples failed: the run finished, but not every sample.
pub(crate) const EXIT_SAMPLES_FAILED: u8 = 1;
/// Exit status for bad input or a run that could not start.
const EXIT_FAILURE: u8 = 2;
/// Exit status of a run or rescore stopped by Ctrl-C, as a shell reports
/// SIGINT.
pub(crate) const EXIT_INTERRUPTED: u8 = 130;
/// Exit status of a run stopped at its spend ceiling (`--max-cost`).
pub(crate) const EXIT_SPEND_CEILING: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The server logs a line per request; everything else only warnings.
    init_tracing(
        if matches!(cli.command, Command::Registry(RegistryCommand::Serve(_))) {
            "warn,crucible_registry_server=info"
        } else {
            "warn"
        },
    );
    let outcome = match cli.command {
        Command::Run(args) => commands::run::exec(args),
        Command::Summary(args) => commands::summary::exec(&args),
        Command::Merge(args) => commands::merge::exec(&args),
        Command::Show(args) => commands::show::exec(args),
        Command::Export(args) => commands::export::exec(args),
        Command::Check(args) => commands::check::exec(args),
        Command::Inspect(args) => commands::inspect::exec(args),
        Command::Report(args) => commands::report::exec(args),
        Command::Lock(args) => commands::lock::exec(args),
        Command::Update(args) => commands::update::exec(args),
        Command::Publish(args) => commands::publish::exec(args),
        Command::Yank(args) => commands::yank::exec(args),
        Command::Search(args) => commands::search::exec(args),
        Command::Info(args) => commands::info::exec(args),
        Command::Registry(command) => commands::registry::exec(command),
        Command::New(args) => commands::new::exec(args),
        Command::Build(args) => commands::build::exec(args),
        Command::Test(args) => commands::test::exec(args),
        Command::Dev(args) => commands::dev::exec(args),
        Command::Bundle(args) => commands::bundle::exec(args),
        Command::Verify(args) => commands::verify::exec(args),
        Command::Rescore(args) => commands::rescore::exec(args),
        Command::Diff(args) => commands::diff::exec(args),
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
    crucible_engine::model::secret::scrub(&parts.join(": ")).into_owned()
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
