//! `crucible run`: a fresh run, a resumed one, or a dry run; Ctrl-C stops
//! it with everything finished so far stored.

mod upload;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use crucible_engine::model::response_cache::ResponseCache;
use crucible_engine::plugin::RuntimeConfig;
use crucible_engine::report;
use crucible_engine::report::terminal::SummaryView;
use crucible_engine::run::{
    self, DryRun, Observer, ResponseCacheSettings, ResumeRequest, RunOutcome, RunRequest,
};
use tokio::sync::Notify;

use crate::console::Console;
use crate::flags::{KeyArgs, SandboxArgs, SummaryFlags};
use crate::{EXIT_INTERRUPTED, EXIT_SAMPLES_FAILED, EXIT_SPEND_CEILING, print_stdout};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The suite manifest.
    #[arg(default_value = crucible_engine::suite::DEFAULT_SUITE)]
    pub suite: PathBuf,

    /// A model to run, as provider/model (repeatable), optionally followed
    /// by comma-separated key=value settings over the suite's [[models]]
    /// entry: base_url, api_key_env, temperature, max_tokens, timeout_secs,
    /// top_p, seed, reasoning_effort, thinking_budget, thinking (anthropic:
    /// adaptive), effort (anthropic: low..max), api (openai: chat or
    /// responses), concurrency, prompt_cache (on by default; off; anthropic
    /// 5m or 1h; openai 24h). E.g.
    /// `openai/o3,reasoning_effort=high,max_tokens=4000`. Providers:
    /// openai, anthropic, gemini, openrouter, together, reference. Without
    /// one, the suite's models, else the offline pair reference/harmful and
    /// reference/benign.
    #[arg(short, long = "model", value_name = "PROVIDER/MODEL[,KEY=VALUE...]")]
    pub models: Vec<String>,

    /// The model classifiers may consult as a judge, with settings as for
    /// --model. It is called at temperature 0; a reasoning model (o-series,
    /// GPT-5, Claude with thinking, Gemini 3 and thinking Gemini 2.5) gets
    /// no temperature and room for its reasoning. A setting the model
    /// cannot take (`openai/o3,temperature=0`) is refused before the run.
    #[arg(long, value_name = "PROVIDER/MODEL[,KEY=VALUE...]")]
    pub judge: Option<String>,

    /// Samples per model and condition.
    #[arg(short = 'n', long, value_parser = clap::value_parser!(u32).range(1..))]
    pub samples: Option<u32>,

    /// The run seed every sample's seed derives from.
    #[arg(long)]
    pub seed: Option<u64>,

    /// Samples in flight at once.
    #[arg(short = 'j', long, value_parser = clap::value_parser!(u32).range(1..=i64::from(crucible_engine::suite::MAX_CONCURRENCY)))]
    pub concurrency: Option<u32>,

    /// Agent turns per episode before the host ends it.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_turns: Option<u32>,

    /// Prompt bytes a scenario may add in one turn: its opening (system
    /// prompt, first messages, tool definitions), or its answer to one
    /// reply. Over it, the sample ends as an error and nothing more is
    /// sent. Default: the suite's [run] prompt_bytes_per_turn, else 262144
    /// (256 KiB).
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub prompt_bytes_per_turn: Option<u64>,

    /// Prompt bytes a scenario may add over a whole sample. Default: the
    /// suite's [run] prompt_bytes_per_sample, else 1048576 (1 MiB).
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub prompt_bytes_per_sample: Option<u64>,

    /// Only conditions matching this pattern (`*` is a wildcard; repeatable).
    #[arg(short, long = "conditions", value_name = "PATTERN")]
    pub conditions: Vec<String>,

    /// Run a named sub-suite of the suite (one of its published
    /// experiments) instead of the whole suite.
    #[arg(short, long, value_name = "NAME")]
    pub subsuite: Option<String>,

    /// Where run directories are created.
    #[arg(short, long, default_value = "runs")]
    pub output: PathBuf,

    #[command(flatten)]
    pub sandbox: SandboxArgs,

    /// Refuse to run if `crucible.lock` is missing or would change.
    #[arg(long)]
    pub locked: bool,

    /// Use only the local cache of an HTTP registry, never the network; a
    /// plugin that is not cached is an error naming it.
    #[arg(long)]
    pub offline: bool,

    /// Both --locked and --offline: exactly the pinned plugins, from the
    /// local cache.
    #[arg(long)]
    pub frozen: bool,

    /// Show no progress and no notices: only the summary, and where the
    /// results are.
    #[arg(short, long)]
    pub quiet: bool,

    #[command(flatten)]
    pub summary: SummaryFlags,

    /// Resume a run that stopped early (interrupted or killed): its
    /// directory, or its id under --output. Runs exactly the samples it has
    /// not finished, with the configuration and plugins it began with.
    #[arg(
        long,
        value_name = "RUN",
        conflicts_with_all = ["models", "judge", "samples", "seed", "concurrency", "max_turns", "prompt_bytes_per_turn", "prompt_bytes_per_sample", "conditions", "subsuite", "dry_run", "locked", "frozen", "batch"]
    )]
    pub resume: Option<PathBuf>,

    /// A ceiling, in US dollars, on what the run spends on model calls
    /// (agent and judge, priced as the usage report prices them). Each call
    /// is checked before it is sent: once the spend reaches the ceiling no
    /// call starts, calls already on their way finish (at most one per
    /// sample in flight), and the run stops as Ctrl-C stops it, with exit
    /// status 3: finished samples stored, the rest pending. Every model the
    /// run calls needs a price (built in, or the suite's [prices]). With
    /// --resume: a new ceiling for the whole run, what it already spent
    /// included (without it, a resume keeps the run's ceiling).
    #[arg(long, value_name = "USD", value_parser = parse_usd)]
    pub max_cost: Option<f64>,

    /// With --resume: run again the samples that ended in error.
    #[arg(long, requires = "resume")]
    pub retry_errors: bool,

    /// Send every model call to its provider even when the response cache
    /// ($CRUCIBLE_CACHE/responses.sqlite) holds its answer; fresh answers
    /// replace cached ones.
    #[arg(long)]
    pub no_cache: bool,

    /// Show the plan (samples, model calls, estimated tokens and cost, the
    /// sampling each model will be sent, and where each key would go) and
    /// send nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Send the model calls, agent and judge, through the providers' batch
    /// APIs (OpenAI Batch, Anthropic Message Batches, Gemini batch mode) at
    /// half the live price; a batch may take up to 24 hours. Each turn's
    /// calls go as one batch; the run polls, and a run killed meanwhile
    /// resumes (--resume) without submitting a batch twice. Every model
    /// must be openai, anthropic or gemini. Samples in flight: 1024 unless
    /// -j says otherwise.
    #[arg(long)]
    pub batch: bool,

    /// Seconds between two polls of a batch in progress, with --batch (or
    /// with --resume of a --batch run). Default: 60.
    #[arg(long, value_name = "SECS", value_parser = parse_poll_secs)]
    pub batch_poll: Option<f64>,

    #[command(flatten)]
    pub keys: KeyArgs,

    /// Run only shard K of N of the plan (K counts from 1: Kubernetes'
    /// 0-based JOB_COMPLETION_INDEX needs 1 added): every Nth sample from
    /// the Kth, the same share on any machine for the same suite, lock and
    /// flags. Join the N shards' run directories with `crucible merge`. A
    /// resume keeps the run's shard.
    #[arg(long, value_name = "K/N", value_parser = parse_shard, conflicts_with = "resume")]
    pub shard: Option<crucible_engine::run::Shard>,

    /// When the run ends (finished or stopped), upload its run directory
    /// (a consistent snapshot of its store, and its summary) to
    /// S3-compatible object storage, under PREFIX/RUN-ID/, or
    /// PREFIX/shard-K-of-N/ for a shard, whose restart with the same
    /// command then resumes the run kept there. Credentials and endpoint
    /// from the standard AWS variables (AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL,
    /// AWS_ALLOW_HTTP).
    #[arg(long, value_name = "s3://BUCKET/PREFIX", conflicts_with = "dry_run")]
    pub upload: Option<crucible_engine::remote::RemoteUrl>,
}

fn parse_shard(text: &str) -> Result<crucible_engine::run::Shard, String> {
    text.parse()
        .map_err(|e: crucible_engine::run::ShardError| e.to_string())
}

/// A spend ceiling: a positive, finite number of US dollars.
fn parse_usd(text: &str) -> Result<f64, String> {
    let usd: f64 = text
        .trim_start_matches('$')
        .parse()
        .map_err(|_| format!("`{text}` is not a number of US dollars"))?;
    if usd.is_finite() && usd > 0.0 {
        Ok(usd)
    } else {
        Err(format!(
            "`{text}`: the ceiling must be a positive number of US dollars"
        ))
    }
}

/// Seconds between polls of a batch: a finite number from 0.01 to 86400.
fn parse_poll_secs(text: &str) -> Result<f64, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    // At least 10 ms: polling faster helps no batch; at most a day, the
    // longest a batch takes.
    if secs.is_finite() && (0.01..=86_400.0).contains(&secs) {
        Ok(secs)
    } else {
        Err(format!(
            "`{text}`: polls must be 0.01 to 86400 seconds apart"
        ))
    }
}

pub fn exec(args: RunArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let responses = ResponseCacheSettings {
        path: RuntimeConfig::default()
            .cache_dir
            .map(|dir| ResponseCache::path_in(&dir)),
        refresh: args.no_cache,
    };
    if args.batch_poll.is_some() && !args.batch && args.resume.is_none() {
        anyhow::bail!("--batch-poll needs --batch (or --resume of a run begun with --batch)");
    }
    if args.dry_run {
        // Models are built as for a run, on the runtime, but none is called.
        let _context = runtime.enter();
        let plan = run::dry_run(&request(&args, responses, None)?)?;
        print!("{}", render_dry_run(&plan));
        return Ok(ExitCode::SUCCESS);
    }
    let console = Arc::new(Console::new(args.quiet));
    let interrupt = Arc::new(Notify::new());
    runtime.spawn(stop_on_signal(Arc::clone(&interrupt), console.clone()));
    let observer: Arc<dyn Observer> = console.clone();
    // A shard whose run is already in object storage continues it.
    let stored_shard = match (&args.upload, args.shard) {
        (Some(url), Some(shard)) => upload::stored_shard(
            &runtime,
            url,
            shard,
            &args.output,
            &request(&args, responses.clone(), None)?,
        )?,
        _ => None,
    };
    let outcome = match args.resume.as_ref().or(stored_shard.as_ref()) {
        Some(run_dir) => runtime.block_on(run::resume(
            ResumeRequest {
                run: run_dir.clone(),
                output_dir: args.output.clone(),
                retry_errors: args.retry_errors,
                cache_dir: args.sandbox.cache_dir(),
                responses,
                offline: args.offline,
                max_cost_usd: args.max_cost,
                interrupt: Some(interrupt),
                // What the stored configuration names came from a suite (or
                // an earlier command line): held to this command's policy.
                keys: args.keys.policy([])?,
                batch_poll_secs: args.batch_poll,
            },
            observer,
        )),
        None => runtime.block_on(run::run(
            request(&args, responses, Some(interrupt))?,
            observer,
        )),
    };
    console.finish();
    let outcome = outcome?;
    if let Some(url) = &args.upload {
        let at = upload::upload(&runtime, url, &outcome.dir)?;
        eprintln!("Uploaded the run to {at}");
    }
    // Samples abandoned by an interruption may still be on their threads:
    // they are not waited for, and stay pending in the store.
    runtime.shutdown_background();
    report_outcome(&outcome, args.summary)
}

fn request(
    args: &RunArgs,
    responses: ResponseCacheSettings,
    interrupt: Option<Arc<Notify>>,
) -> Result<RunRequest> {
    Ok(RunRequest {
        suite: args.suite.clone(),
        models: args.models.clone(),
        judge: args.judge.clone(),
        samples: args.samples,
        seed: args.seed,
        concurrency: args.concurrency,
        max_turns: args.max_turns,
        prompt_bytes_per_turn: args.prompt_bytes_per_turn,
        prompt_bytes_per_sample: args.prompt_bytes_per_sample,
        max_cost_usd: args.max_cost,
        conditions: args.conditions.clone(),
        subsuite: args.subsuite.clone(),
        output_dir: args.output.clone(),
        limits: args.sandbox.limits()?,
        cache_dir: args.sandbox.cache_dir(),
        responses,
        locked: args.locked || args.frozen,
        offline: args.offline || args.frozen,
        interrupt,
        keys: args.keys.policy(args.models.iter().chain(&args.judge))?,
        shard: args.shard,
        batch: args.batch.then(|| run::BatchConfig {
            poll_secs: args
                .batch_poll
                .unwrap_or(run::BatchConfig::DEFAULT_POLL_SECS),
        }),
    })
}

/// The first Ctrl-C (or SIGTERM) stops the run gracefully.
async fn stop_on_signal(interrupt: Arc<Notify>, console: Arc<Console>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut terminate) = signal(SignalKind::terminate()) else {
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
    }
    console.notice("Interrupted: storing finished samples; the rest stay pending.");
    interrupt.notify_one();
}

fn report_outcome(outcome: &RunOutcome, flags: SummaryFlags) -> Result<ExitCode> {
    let summary = &outcome.summary;
    let groups = report::groups::groups(&summary.cells, &outcome.conditions);
    print_stdout(&report::terminal::render(&SummaryView {
        run_id: &summary.run_id,
        suite: &summary.suite,
        subsuite: summary.subsuite.as_deref(),
        judge: summary.judge.as_deref(),
        cells: &summary.cells,
        groups: &groups,
        usage: &summary.usage,
        show_cells: flags.cells,
    }))?;
    for warning in &summary.warnings {
        eprintln!("warning: {warning}");
    }
    print_stdout(&format!("Results: {}\n", outcome.dir.display()))?;
    if outcome.errors > 0 {
        eprintln!(
            "{} of {} samples failed; they are stored as errors, not counted as harmful or not. First failures:",
            outcome.errors, outcome.planned
        );
        for f in &outcome.first_failures {
            eprintln!(
                "  {} {} [{}]: {}",
                f.model, f.condition, f.error.stage, f.error.message
            );
        }
    }
    if let Some((ceiling, spent)) = outcome.ceiling_reached {
        eprintln!(
            "The run reached its spend ceiling: ${spent:.4} spent of --max-cost ${ceiling:.4}. \
             {} of {} samples not run; they stay pending. Resume it with a higher ceiling, what \
             it spent included: crucible run --resume {} --max-cost {}",
            outcome.pending,
            outcome.planned,
            outcome.dir.display(),
            ceiling * 2.0
        );
        return Ok(ExitCode::from(EXIT_SPEND_CEILING));
    }
    if outcome.interrupted || outcome.pending > 0 {
        eprintln!(
            "The run stopped early: {} of {} samples not run. Resume it with: crucible run --resume {}",
            outcome.pending,
            outcome.planned,
            outcome.dir.display()
        );
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    if outcome.need_a_judge > 0 {
        eprintln!(
            "{} of them need a judge: the classifiers' rules could not decide them. Run again \
             with --judge provider/model; with the response cache on, the agent's answers are \
             not paid for twice.",
            outcome.need_a_judge
        );
    }
    if outcome.errors > outcome.need_a_judge {
        eprintln!(
            "Run them again with: crucible run --resume {} --retry-errors",
            outcome.dir.display()
        );
    }
    if outcome.errors > 0 {
        return Ok(ExitCode::from(EXIT_SAMPLES_FAILED));
    }
    Ok(ExitCode::SUCCESS)
}

/// A token count at a glance: `950`, `12.3k`, `7.0M`.
fn tokens(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

fn render_dry_run(plan: &DryRun) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Dry run of {}: {} samples, up to {} agent turns each. Nothing was sent.",
        plan.suite, plan.samples, plan.max_turns
    );
    let money = |low: Option<f64>, high: Option<f64>| match (low, high) {
        (Some(low), Some(high)) => format!("${low:.2} to ${high:.2}"),
        _ => "unknown (no price; add one under [prices])".to_owned(),
    };
    let _ = writeln!(
        out,
        "Prompt caps: {} bytes a turn, {} bytes a sample from the scenario (--prompt-bytes-per-turn, --prompt-bytes-per-sample).",
        plan.prompt.turn_bytes, plan.prompt.sample_bytes
    );
    match plan.max_cost_usd {
        Some(usd) => {
            let _ = writeln!(
                out,
                "Spend ceiling: ${usd} (--max-cost); the run stops there, resumable."
            );
        }
        None => {
            let _ = writeln!(out, "Spend ceiling: none (set one with --max-cost USD).");
        }
    }
    if !plan.runnable {
        let _ = writeln!(
            out,
            "A run of this plan would be refused: {} samples, over the {} a run may record.",
            plan.samples, plan.max_planned_samples
        );
    }
    for m in plan.models.iter().chain(plan.judge.iter()) {
        let role = if plan.judge.as_ref().is_some_and(|j| std::ptr::eq(j, m)) {
            "judge"
        } else {
            "agent"
        };
        if !m.remote {
            let _ = writeln!(
                out,
                "  {} ({role}): {} samples, offline, no calls",
                m.model, m.samples
            );
            continue;
        }
        let _ = writeln!(
            out,
            "  {} ({role}): {} samples, {} to {} calls, about {} to {} input tokens, up to {} output tokens a call, cost {}",
            m.model,
            m.samples,
            m.calls_min,
            m.calls_max,
            tokens(m.input_tokens_min),
            tokens(m.input_tokens_max),
            m.output_tokens_per_call,
            money(m.cost_min_usd, m.cost_max_usd)
        );
        match (m.batch_cost_min_usd, m.batch_cost_max_usd) {
            (Some(low), Some(high)) => {
                let _ = writeln!(
                    out,
                    "    through the batch API: ${low:.2} to ${high:.2}, half the live price{}",
                    if plan.batch {
                        " (this run: --batch)"
                    } else {
                        " (--batch; answers may take up to 24 h)"
                    }
                );
            }
            _ if plan.batch => {
                let _ = writeln!(
                    out,
                    "    through the batch API: unknown (no price; add one under [prices])"
                );
            }
            _ => {}
        }
        if m.scenario_prompt_bytes_max > 0 {
            let _ = writeln!(
                out,
                "    scenario prompts: at most {} bytes sent in all (certain, from the caps), plus the agent's own replies resent",
                m.scenario_prompt_bytes_max
            );
        }
        if let Some(sampling) = &m.sampling {
            let _ = writeln!(out, "    sent with {}", sampling.describe());
        }
        if let Some(key) = &m.key {
            let _ = writeln!(out, "    key: {}", key.describe());
        }
        if let Some(cache) = &m.prompt_cache {
            render_cache_estimate(&mut out, cache);
        }
    }
    let _ = writeln!(
        out,
        "Bytes are certain bounds; token counts are estimates at about 4 bytes a token: the low end from the real openings, one call a sample; the high end every turn of every sample at the prompt caps."
    );
    render_budgets(&mut out, &plan.budgets);
    if let Some(share) = &plan.shard {
        let models: Vec<String> = share
            .per_model
            .iter()
            .map(|(model, n)| format!("{model} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "Shard {} (--shard): {} of the plan's {} samples, numbers {}, {}, {}, ... of the plan ({}); the figures above are for the whole plan.",
            share.shard,
            share.samples,
            plan.samples,
            share.shard.index,
            share.shard.index + share.shard.count,
            share.shard.index + 2 * share.shard.count,
            models.join(", ")
        );
    }
    out
}

/// `prompt cache (...): about $X saved (N% of input cost), ...`.
fn render_cache_estimate(out: &mut String, cache: &run::CacheEstimate) {
    use std::fmt::Write as _;
    let saved = match &cache.saved {
        Some(s) if s.usd < 0.0 => format!(
            "about ${:.2} more ({:.0}% of input cost)",
            -s.usd,
            -s.share_of_input * 100.0
        ),
        Some(s) => format!(
            "about ${:.2} saved ({:.0}% of input cost)",
            s.usd,
            s.share_of_input * 100.0
        ),
        None if cache.cache_read_tokens == 0 => "nothing saved".to_owned(),
        None => "saving unknown (no price)".to_owned(),
    };
    let _ = writeln!(
        out,
        "    prompt cache ({}): {saved}, {} tokens read, {} written; assuming {}",
        cache.how,
        tokens(cache.cache_read_tokens),
        tokens(cache.cache_write_tokens),
        cache.assumption
    );
}

fn render_budgets(out: &mut String, b: &run::PluginBudgets) {
    use std::fmt::Write as _;
    let budget = b.judge_budget.map_or_else(
        || "no run-wide judge budget".to_owned(),
        |n| format!("{n} judge calls in the whole run"),
    );
    let fuel = b
        .fuel_per_call
        .map_or_else(|| "fuel off".to_owned(), |f| format!("{f} fuel"));
    let _ = writeln!(out, "Plugin budgets:");
    let _ = writeln!(
        out,
        "  judge: {} calls a sample, {} bytes a request, {budget}",
        b.judge_calls_per_sample, b.judge_request_bytes
    );
    let _ = writeln!(
        out,
        "  logs: {} bytes and {} records a plugin a sample; stdout and stderr {} bytes each",
        b.log_bytes, b.log_records, b.stdio_bytes
    );
    let _ = writeln!(
        out,
        "  each call: {}s of guest time, {fuel}, {} bytes of output; memory {} MiB an instance",
        b.call_timeout_seconds,
        b.output_bytes,
        b.memory_bytes >> 20
    );
}
