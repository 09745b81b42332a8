//! `crucible run`: a fresh run, a resumed one, or a dry run; Ctrl-C stops
//! it with everything finished so far stored.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::sync::Notify;

use crucible::model::response_cache::ResponseCache;
use crucible::plugin::RuntimeConfig;
use crucible::report;
use crucible::report::terminal::SummaryView;
use crucible::run::{
    self, DryRun, Observer, ResponseCacheSettings, ResumeRequest, RunOutcome, RunRequest,
};

use crate::cli::{RunArgs, SummaryFlags};
use crate::console::Console;
use crate::{EXIT_SAMPLES_FAILED, cache_dir, key_policy, limits, print_stdout};

/// Exit status of a run stopped early (as a shell reports SIGINT).
const EXIT_INTERRUPTED: u8 = 130;
/// Exit status of a run stopped at its spend ceiling (`--max-cost`).
const EXIT_SPEND_CEILING: u8 = 3;

pub fn run(args: RunArgs) -> Result<ExitCode> {
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
        (Some(url), Some(shard)) => crate::run_upload::stored_shard(
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
                cache_dir: cache_dir(&args.sandbox),
                responses,
                offline: args.offline,
                max_cost_usd: args.max_cost,
                interrupt: Some(interrupt),
                // What the stored configuration names came from a suite (or
                // an earlier command line): held to this command's policy.
                keys: key_policy(&args.keys, [])?,
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
        let at = crate::run_upload::upload(&runtime, url, &outcome.dir)?;
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
        limits: limits(&args.sandbox)?,
        cache_dir: cache_dir(&args.sandbox),
        responses,
        locked: args.locked || args.frozen,
        offline: args.offline || args.frozen,
        interrupt,
        keys: key_policy(&args.keys, args.models.iter().chain(&args.judge))?,
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
