//! What a person sees while a run goes: a progress bar on a terminal, a
//! plain line every few seconds otherwise (logs, CI), nothing with
//! `--quiet`.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crucible_engine::run::{Observer, Progress};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a plain progress line is printed when not on a terminal.
const LINE_EVERY: Duration = Duration::from_secs(10);

pub enum Console {
    Quiet,
    Bar(ProgressBar),
    Lines(Mutex<Lines>),
}

pub struct Lines {
    started: Instant,
    /// Samples already done when this session started (a resumed run).
    done_at_start: Option<usize>,
    last: Option<Instant>,
    last_done: Option<usize>,
}

impl Console {
    pub fn new(quiet: bool) -> Self {
        if quiet {
            Console::Quiet
        } else if std::io::stderr().is_terminal() {
            // Hidden until the run says how many samples it has: an empty
            // bar would show as full.
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
            let style = ProgressStyle::with_template(
                "{bar:30} {pos}/{len} samples  {msg}  {per_sec}  ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            Console::Bar(bar)
        } else {
            Console::Lines(Mutex::new(Lines {
                started: Instant::now(),
                done_at_start: None,
                last: None,
                last_done: None,
            }))
        }
    }

    /// Clears the bar before the results are printed.
    pub fn finish(&self) {
        if let Console::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// The spend so far, when anything was spent: cents once it is over a
/// dollar, finer below, where small test runs live.
fn spend(progress: &Progress) -> String {
    let dollars = progress.spend_usd;
    let amount = if dollars >= 1.0 {
        format!("${dollars:.2}")
    } else {
        format!("${dollars:.4}")
    };
    match (dollars > 0.0, progress.unpriced_calls) {
        (false, false) => String::new(),
        (_, false) => format!(", {amount} spent"),
        (_, true) => format!(", {amount} spent (+ calls without a price)"),
    }
}

impl Observer for Console {
    fn notice(&self, message: &str) {
        let message = crucible_engine::model::secret::scrub(message);
        match self {
            Console::Quiet => {}
            Console::Bar(bar) => bar.suspend(|| eprintln!("{message}")),
            Console::Lines(_) => eprintln!("{message}"),
        }
    }

    fn progress(&self, progress: &Progress) {
        match self {
            Console::Quiet => {}
            Console::Bar(bar) => {
                if bar.length() != Some(progress.total as u64) {
                    bar.set_length(progress.total as u64);
                    bar.set_position(progress.done as u64);
                    bar.reset_eta();
                    bar.set_draw_target(ProgressDrawTarget::stderr());
                }
                bar.set_position(progress.done as u64);
                bar.set_message(format!("{} errors{}", progress.errors, spend(progress)));
            }
            Console::Lines(lines) => {
                let Ok(mut lines) = lines.lock() else { return };
                let start = *lines.done_at_start.get_or_insert(progress.done);
                let finished = progress.done == progress.total;
                let due = lines.last.is_none_or(|t| t.elapsed() >= LINE_EVERY);
                if !(due || finished) || lines.last_done == Some(progress.done) {
                    return;
                }
                lines.last = Some(Instant::now());
                lines.last_done = Some(progress.done);
                let elapsed = lines.started.elapsed().as_secs_f64();
                let rate = (progress.done - start) as f64 / elapsed.max(1e-3);
                let eta = if rate > 0.0 && !finished {
                    let left = (progress.total - progress.done) as f64 / rate;
                    format!(
                        ", ETA {}",
                        humantime::format_duration(Duration::from_secs(left.ceil() as u64))
                    )
                } else {
                    String::new()
                };
                eprintln!(
                    "[{}/{}] samples done, {} errors, {rate:.1}/s{eta}{}",
                    progress.done,
                    progress.total,
                    progress.errors,
                    spend(progress)
                );
            }
        }
    }
}
