//! `crucible verify FILE`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use crucible_bundle::verify::Verification;
use crucible_engine::plugin::RuntimeConfig;

use crate::EXIT_SAMPLES_FAILED;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The bundle file.
    pub bundle: PathBuf,

    /// Print the verification as JSON.
    #[arg(long)]
    pub json: bool,

    /// Compile components afresh instead of using the compiled-component
    /// cache.
    #[arg(long)]
    pub no_compile_cache: bool,
}

/// The most differences printed; the count says how many there were.
const SHOWN: usize = 40;

pub fn exec(args: VerifyArgs) -> Result<ExitCode> {
    let bundle = crucible_bundle::read(&args.bundle)
        .with_context(|| format!("cannot verify {}", args.bundle.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let cache_dir = (!args.no_compile_cache)
        .then(|| RuntimeConfig::default().cache_dir)
        .flatten();
    let verification = runtime
        .block_on(crucible_bundle::verify::verify(&bundle, cache_dir))
        .with_context(|| format!("cannot verify {}", args.bundle.display()))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&verification).context("cannot write JSON")?
        );
    } else {
        print!("{}", render(&verification));
    }
    Ok(if verification.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_SAMPLES_FAILED)
    })
}

fn render(v: &Verification) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Run {}: {} components re-hashed; {} of {} samples re-derived from condition and seed \
         (opening, episode, facts, {} verdicts with the recorded judge answers){}; {} cells recomputed.",
        v.run_id,
        v.components,
        v.replayed,
        v.samples,
        v.verdicts,
        if v.partial > 0 {
            format!(
                "; {} failed samples re-derived as far as they ran",
                v.partial
            )
        } else {
            String::new()
        },
        v.cells
    );
    if v.label_verdicts > 0 {
        let _ = writeln!(
            out,
            "{} verdicts of label sets made after the run re-derived with their recorded judge answers.",
            v.label_verdicts
        );
    }
    if v.skipped > 0 {
        let _ = writeln!(
            out,
            "{} samples could not be re-derived: their scenario did not load.",
            v.skipped
        );
    }
    if v.differences.is_empty() {
        let _ = writeln!(out, "Verified: nothing differs.");
        return out;
    }
    let _ = writeln!(out, "NOT VERIFIED: {} difference(s).", v.differences.len());
    for d in v.differences.iter().take(SHOWN) {
        let _ = writeln!(out, "  [{}] {}", d.category, d.detail);
    }
    if v.differences.len() > SHOWN {
        let _ = writeln!(
            out,
            "  ... and {} more (--json lists them all)",
            v.differences.len() - SHOWN
        );
    }
    out
}
