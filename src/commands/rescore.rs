//! `crucible rescore`: a classifier run again over a finished run's
//! transcripts, its verdicts stored as a new label set, and how they
//! differ from the run's own. Ctrl-C stores nothing: a label set is
//! written whole or not at all.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use crucible_engine::compare;
use crucible_engine::model::response_cache::ResponseCache;
use crucible_engine::plugin::{PluginSource, RuntimeConfig};
use crucible_engine::rescore::{self, ClassifierRef, LabelChanges, Lookup, RescoreOptions};
use crucible_engine::results::{LabelSet, ORIGINAL, RunResults};
use crucible_engine::run::{LocalPaths, ResponseCacheSettings};
use crucible_engine::store::{Store, results_path};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::flags::{KeyArgs, SandboxArgs};
use crate::{EXIT_INTERRUPTED, EXIT_SAMPLES_FAILED};

#[derive(Debug, Args)]
pub struct RescoreArgs {
    /// The finished run: its directory (or its results.sqlite), or a
    /// bundle (then -o names the new bundle).
    pub run: PathBuf,

    /// The classifier, as NAME@VERSION with an exact version: a package
    /// name (or the key of the run's suite's [classifiers.KEY] entry), from
    /// the registry the run's suite names. It judges every sample of the
    /// scenarios that used a classifier of that name, in the position it
    /// had there (primary or secondary).
    #[arg(
        long,
        value_name = "NAME@VERSION",
        required_unless_present = "component"
    )]
    pub classifier: Option<String>,

    /// The classifier's component file instead of --classifier.
    #[arg(long, value_name = "PATH.wasm", conflicts_with = "classifier")]
    pub component: Option<PathBuf>,

    /// The registry to fetch --classifier from instead of the run's
    /// suite's: a directory or an http(s) URL.
    #[arg(long, value_name = "DIR|URL", conflicts_with = "component")]
    pub registry: Option<String>,

    /// The model the classifier may consult, as for `crucible run --judge`.
    /// Without one, a verdict that needs a judge is an error, except on the
    /// offline reference models' samples, whose primary classifier is
    /// answered by their known label as in a run.
    #[arg(long, value_name = "PROVIDER/MODEL[,KEY=VALUE...]")]
    pub judge: Option<String>,

    /// The new label set's name (default: NAME@VERSION, or
    /// NAME@VERSION+PROVIDER/MODEL with --judge). A name already taken is
    /// an error: label sets are never replaced.
    #[arg(long, value_name = "LABEL_SET")]
    pub name: Option<String>,

    /// Samples classified at once.
    #[arg(short = 'j', long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=i64::from(crucible_engine::suite::MAX_CONCURRENCY)))]
    pub concurrency: u32,

    /// Use only the local cache of an HTTP registry, never the network.
    #[arg(long)]
    pub offline: bool,

    /// Send every judge call to its provider even when the response cache
    /// holds its answer.
    #[arg(long)]
    pub no_cache: bool,

    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,

    /// For a bundle: the new bundle to write, holding the bundle's run and
    /// label sets with the new one beside them (a bundle is never changed).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub keys: KeyArgs,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

pub fn exec(args: RescoreArgs) -> Result<ExitCode> {
    let from_bundle = crucible_bundle::is_bundle(&args.run);
    let (run, kept, suite_path) = if from_bundle {
        anyhow::ensure!(
            args.output.is_some(),
            "rescoring a bundle writes a new bundle beside it (a bundle is never changed): \
             name it with -o FILE"
        );
        let bundle = crucible_bundle::read(&args.run)
            .with_context(|| format!("cannot rescore {}", args.run.display()))?;
        let kept = bundle.components();
        (bundle.results, kept, None)
    } else {
        anyhow::ensure!(
            args.output.is_none(),
            "-o names the new bundle when rescoring a bundle; a run's label set is kept in its own store"
        );
        let run = crucible_engine::store::read_run(&args.run)?;
        let kept = Store::read_components(&store_path(&args.run))?
            .into_iter()
            .collect();
        let suite_path = args
            .run
            .is_dir()
            .then(|| LocalPaths::read(&args.run).map(|local| local.suite))
            .flatten();
        (run, kept, suite_path)
    };
    run.require_finished(&args.run)?;
    let component = match (&args.component, &args.classifier) {
        (Some(path), _) => PluginSource::from_file(path, None)?,
        (None, Some(text)) => {
            let wanted: ClassifierRef = text.parse()?;
            let lookup = Lookup {
                registry: args.registry.clone(),
                offline: args.offline,
                suite_path: suite_path.clone(),
                kept: kept.clone(),
            };
            rescore::resolve(&run, &wanted, &lookup)?
        }
        (None, None) => anyhow::bail!("name the classifier with --classifier NAME@VERSION"),
    };
    let options = RescoreOptions {
        name: args.name.clone(),
        judge: args.judge.clone(),
        concurrency: args.concurrency,
        limits: args.sandbox.limits()?,
        cache_dir: args.sandbox.cache_dir(),
        responses: ResponseCacheSettings {
            path: RuntimeConfig::default()
                .cache_dir
                .map(|dir| ResponseCache::path_in(&dir)),
            refresh: args.no_cache,
        },
        suite_path,
        keys: args.keys.policy(&args.judge)?,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let bar = Bar::new(args.quiet);
    let outcome = runtime.block_on(async {
        tokio::select! {
            set = rescore::rescore(&run, &component, &options, &bar) => Some(set),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    bar.finish();
    // Samples abandoned by an interruption may still be on their threads.
    runtime.shutdown_background();
    let Some(set) = outcome else {
        eprintln!("Interrupted: no label set was stored.");
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    };
    let set = set?;
    match &args.output {
        Some(out) => {
            let mut results = run.clone();
            results.label_sets.push(set.clone());
            let mut kept = kept;
            kept.insert(set.sha256.clone(), component.bytes.clone());
            let written = crucible_bundle::write_results(&results, &kept, out)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "Wrote {}: the bundle with label set `{}` beside its own.",
                written.path.display(),
                set.name
            );
        }
        None => {
            let mut store = Store::open(&store_path(&args.run))?;
            // The component first: a label set is never stored without it.
            store.add_component(&set.sha256, &component.bytes)?;
            store.add_label_set(&set)?;
        }
    }
    let changes = rescore::changes(&run, &set);
    print!(
        "{}",
        summary(
            run,
            &set,
            &changes,
            args.output.as_deref().unwrap_or(&args.run)
        )?
    );
    if changes.errors > 0 {
        eprintln!(
            "{} of {} verdicts are errors; they are stored as errors, not counted as harmful or not.",
            changes.errors, changes.samples
        );
        if changes.need_a_judge > 0 {
            eprintln!(
                "{} of them need a judge: rescore with --judge provider/model.",
                changes.need_a_judge
            );
        }
        return Ok(ExitCode::from(EXIT_SAMPLES_FAILED));
    }
    Ok(ExitCode::SUCCESS)
}

/// The store of the run named by `run`: its directory or the file itself.
fn store_path(run: &Path) -> std::path::PathBuf {
    if run.is_dir() {
        results_path(run)
    } else {
        run.to_owned()
    }
}

/// What was stored, its rates per model x scenario beside the run's own,
/// and how its verdicts changed.
fn summary(
    mut run: RunResults,
    set: &LabelSet,
    changes: &LabelChanges,
    dir: &Path,
) -> Result<String> {
    use std::fmt::Write as _;
    let mut out = String::new();
    let judge = set.judge.as_deref().unwrap_or("none");
    let _ = writeln!(
        out,
        "Stored label set `{}` in run {}: {} by {} (sha256 {}), judge {judge}.",
        set.name,
        run.run_id,
        count(set.verdicts.len(), "verdict"),
        set.classifier,
        set.sha256.get(..12).unwrap_or(&set.sha256),
    );
    let _ = writeln!(
        out,
        "Against the run's own verdicts by {}: {} became harmful, {} became not harmful, \
         {} became errors, {} errors now have a verdict.",
        set.classifier_name(),
        changes.became_harmful,
        changes.became_not_harmful,
        changes.became_errors,
        changes.errors_resolved,
    );
    run.label_sets.push(set.clone());
    let comparison = compare::compare(&run, ORIGINAL, &run, &set.name)?;
    let _ = writeln!(
        out,
        "\nPer model x scenario, A = `original`, B = `{}` (B − A in percentage points, 95% interval):",
        set.name
    );
    out.push_str(&compare::table(&comparison.pooled, false));
    let _ = writeln!(
        out,
        "Cell by cell: crucible diff {} --labels {ORIGINAL} {}",
        dir.display(),
        set.name
    );
    Ok(out)
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// A progress bar on a terminal; nothing elsewhere.
struct Bar(Option<ProgressBar>);

impl Bar {
    fn new(quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("{bar:30} {pos}/{len} samples rescored  {msg}  ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Self(Some(bar))
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

impl rescore::Progress for Bar {
    fn progress(&self, done: usize, total: usize, errors: usize) {
        if let Some(bar) = &self.0 {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(format!("{errors} errors"));
        }
    }
}
