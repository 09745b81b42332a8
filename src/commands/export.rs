//! `crucible export`: a run's samples as CSV, JSON Lines or Inspect AI's
//! eval logs.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, anyhow, bail};
use clap::{Args, ValueEnum};
use crucible_engine::results::ResultsError;
use crucible_export::ExportError;

/// What `crucible export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One row per sample: condition parameters, outcome, the primary
    /// verdict, errors, each secondary classifier's finding, agent tokens.
    /// No transcripts.
    Csv,
    /// One JSON object per sample with everything (transcript, facts,
    /// verdicts, judge exchanges, logs, usage), `format`
    /// "crucible.sample/1" on each line.
    Jsonl,
    /// Inspect AI's `.eval` logs, one per model x scenario, into the -o
    /// directory: open them with `inspect view --log-dir DIR`.
    Inspect,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The run: its directory or its results.sqlite, or a bundle.
    pub run: PathBuf,

    /// What to write.
    #[arg(long, value_enum)]
    pub format: ExportFormat,

    /// Where to write: a file for csv and jsonl (default: standard
    /// output); a directory for inspect (required; created if missing).
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Export a run that is still in progress or was stopped, as it
    /// stands. Without it such a run is refused. Its pending samples are
    /// rows with status `pending` in csv and jsonl, and are left out of
    /// Inspect logs, which are then marked cancelled.
    #[arg(long)]
    pub partial: bool,
}

pub fn exec(args: ExportArgs) -> Result<ExitCode> {
    let run = crucible_bundle::open_results(&args.run)?;
    if !args.partial {
        run.require_finished(&args.run).map_err(|e| match e {
            ResultsError::Unfinished { .. } => {
                anyhow!("{e}; or export what it has so far with --partial")
            }
            other => other.into(),
        })?;
    }
    let written = match args.format {
        ExportFormat::Csv => to_file_or_stdout(args.output.as_deref(), |out| {
            crucible_export::write_csv(&run, out)
        }),
        ExportFormat::Jsonl => to_file_or_stdout(args.output.as_deref(), |out| {
            crucible_export::write_jsonl(&run, out)
        }),
        ExportFormat::Inspect => {
            let Some(dir) = args.output.as_deref() else {
                bail!("--format inspect writes a directory of logs: name it with -o DIR");
            };
            let logs = crucible_export::write_inspect(&run, dir)?;
            println!(
                "Wrote {} Inspect log(s) of run {} ({} samples) to {}",
                logs.len(),
                run.run_id,
                run.samples.len() - run.pending(),
                dir.display()
            );
            println!("View them with: inspect view --log-dir {}", dir.display());
            return Ok(ExitCode::SUCCESS);
        }
    };
    match written {
        // The reader stopped reading (`| head`): what it took was written.
        Err(error) if error.is_broken_pipe() => Ok(ExitCode::SUCCESS),
        Err(error) => Err(error.into()),
        Ok(()) => {
            if let Some(path) = &args.output {
                println!(
                    "Wrote {} samples of run {} to {}",
                    run.samples.len(),
                    run.run_id,
                    path.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs `write` on `path` (created, or emptied first) or on standard
/// output.
fn to_file_or_stdout(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    let Some(path) = path else {
        let stdout = std::io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        write(&mut out)?;
        return out.flush().map_err(|e| ExportError::Io {
            what: "standard output".into(),
            source: e,
        });
    };
    let file = File::create(path).map_err(|e| ExportError::Io {
        what: path.display().to_string(),
        source: e,
    })?;
    let mut out = BufWriter::new(file);
    write(&mut out)?;
    out.flush().map_err(|e| ExportError::Io {
        what: path.display().to_string(),
        source: e,
    })
}
