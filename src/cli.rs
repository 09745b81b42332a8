//! The command line: the top-level parser and its subcommands. Each
//! subcommand's flags are declared in its own file under `commands/`, the
//! flag groups several share in `flags`.

use clap::{Parser, Subcommand};

use crate::commands::{
    build, bundle, check, dev, diff, export, info, inspect, lock, merge, new, publish, registry,
    report, rescore, run, search, show, summary, test, update, verify, yank,
};

#[derive(Debug, Parser)]
#[command(
    name = "crucible",
    version,
    about = "Run sandboxed WebAssembly AI-safety scenarios against language models",
    long_about = "Crucible runs scenario and classifier plugins (WebAssembly components \
                  implementing the crucible:plugin contract) against models, and reports \
                  how often each model took the harmful action, with 95% intervals."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a suite and print its summary: per model and scenario the
    /// harmful rate with its 95% interval, the condition matrix, the
    /// secondary classifiers' findings.
    Run(run::RunArgs),
    /// Print the summary of an existing run (finished or not), as
    /// `crucible run` ends with it.
    Summary(summary::SummaryArgs),
    /// Join the run directories of a plan's shards (`crucible run --shard
    /// K/N`, one per K) into one run directory, which reports, verifies,
    /// exports, bundles and resumes like a run made in one piece.
    Merge(merge::MergeArgs),
    /// Print the opening a model is sent for one condition of a suite:
    /// its parameters, the seed, the system prompt, the first messages and
    /// the tools, exactly as a run sends them.
    Show(show::ShowArgs),
    /// Write a run's report: one self-contained HTML file (charts of the
    /// harmful rates with their intervals, the condition matrix, secondary
    /// classifiers, and every transcript with its verdicts and judge
    /// exchanges) that opens offline from the file.
    Report(report::ReportArgs),
    /// Write a run's samples for other tools: a CSV table, JSON Lines with
    /// everything, or Inspect AI's eval logs (`inspect view`).
    Export(export::ExportArgs),
    /// Pack a finished run into one file to share: the suite, the lockfile,
    /// the exact plugin components, every transcript, verdict and judge
    /// exchange. No key and no path of this machine goes in.
    Bundle(bundle::BundleArgs),
    /// Check a bundle offline by re-deriving it: re-hash its plugins,
    /// replay every sample from its condition and seed, re-run every
    /// classifier with the recorded judge answers, and recompute every
    /// figure. Exits non-zero if anything differs.
    Verify(verify::VerifyArgs),
    /// Run a classifier again over a finished run's stored transcripts and
    /// keep its verdicts as a new label set beside the run's own
    /// (`original`), which is never changed.
    Rescore(rescore::RescoreArgs),
    /// Compare two runs, or two label sets of one run, cell by cell: each
    /// side's rate, the difference B − A with its 95% interval, and an exact
    /// test, paired where the samples pair.
    #[command(after_help = diff::EXAMPLES)]
    Diff(diff::DiffArgs),
    /// Check a suite's scenarios and classifiers against each other: every
    /// reference behaviour of every condition must be classified as its
    /// label says. Offline; no model or judge is called.
    Check(check::CheckArgs),
    /// Show what a component is: its kind, contract version, metadata and
    /// conditions.
    Inspect(inspect::InspectArgs),
    /// Resolve every plugin of a suite and write `crucible.lock` beside it.
    Lock(lock::LockArgs),
    /// Move the lockfile's pins to the newest versions the suite allows.
    Update(update::UpdateArgs),
    /// Publish a component to a registry: a directory, or a registry
    /// server's URL (with a token). Its name, version and description are
    /// the component's own.
    Publish(publish::PublishArgs),
    /// Hide a version from new resolution (lockfiles that pin it keep it).
    Yank(yank::YankArgs),
    /// Find packages in a registry by name or description.
    Search(search::SearchArgs),
    /// Show every version of a package.
    Info(info::InfoArgs),
    /// Serve a registry over HTTP, and administer its tokens and owners.
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
    /// Start a plugin project from a template: a working scenario or
    /// classifier in Rust, Python or JavaScript, with the contract's WIT.
    New(new::NewArgs),
    /// Build a plugin project into a component with its language's own
    /// tool, and print the component's path, size, sha256 and load times.
    Build(build::BuildArgs),
    /// Test a component (or a project, built first) against the contract:
    /// it matches its world, every condition opens within limits, the same
    /// seed gives the same bytes, and references or labelled transcripts
    /// come out as labelled. Offline.
    Test(test::TestArgs),
    /// Watch a project: on every change rebuild it, test it, and run a few
    /// samples against a model.
    Dev(dev::DevArgs),
}
