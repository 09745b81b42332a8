//! `crucible show CONDITION [SUITE]`: the opening a model is sent for one
//! condition, with its parameters and seed, as text or JSON.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use crucible_engine::run::{self, SeedSource, ShowRequest, ShownOpening};
use crucible_engine::transcript::Role;

use crate::flags::SandboxArgs;
use crate::print_stdout;

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The condition: its id (`crucible inspect` lists a scenario's), or
    /// a label as results show it, `ID[name=value,...]`.
    #[arg(value_name = "CONDITION")]
    pub condition: String,

    /// The suite manifest.
    #[arg(default_value = crucible_engine::suite::DEFAULT_SUITE)]
    pub suite: PathBuf,

    /// The suite's `[scenarios.KEY]` to take the condition from, when more
    /// than one offers it.
    #[arg(long, value_name = "KEY")]
    pub scenario: Option<String>,

    /// A sub-suite whose parameters apply, as with `crucible run`.
    #[arg(short, long, value_name = "NAME")]
    pub subsuite: Option<String>,

    /// A parameter value over the suite's (repeatable), as a suite's
    /// `params` sets it.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,

    /// The run seed, as `crucible run --seed` takes it (default: the
    /// suite's `[run] seed`). The episode's seed derives from it, the
    /// scenario, the condition and the sample index, as in a run.
    #[arg(long)]
    pub seed: Option<u64>,

    /// Which sample of the condition.
    #[arg(long, value_name = "INDEX", default_value_t = 0)]
    pub sample: u32,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,

    /// Use only the local cache of an HTTP registry, never the network.
    #[arg(long)]
    pub offline: bool,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// `NAME=VALUE`.
fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not NAME=VALUE")),
    }
}

pub fn exec(args: ShowArgs) -> Result<ExitCode> {
    let shown = run::show(&ShowRequest {
        suite: args.suite.clone(),
        condition: args.condition.clone(),
        scenario: args.scenario.clone(),
        subsuite: args.subsuite.clone(),
        params: args.params.iter().cloned().collect(),
        seed: args.seed,
        sample_index: args.sample,
        limits: args.sandbox.limits()?,
        cache_dir: args.sandbox.cache_dir(),
        offline: args.offline,
    })?;
    if args.json {
        let json = serde_json::to_string_pretty(&shown).context("writing the opening as JSON")?;
        print_stdout(&(json + "\n"))?;
    } else {
        print_stdout(&render(&shown))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The opening as text. Each prompt, message and schema is printed as it
/// is sent, between marker lines that give its length: nothing is wrapped,
/// trimmed or escaped (`--json` gives the same with JSON's escaping).
fn render(shown: &ShownOpening) -> String {
    let mut out = String::new();
    let params: Vec<String> = shown
        .condition
        .params
        .iter()
        .map(|p| format!("{}={}", p.name, p.value))
        .collect();
    let seed_source = match shown.run_seed_source {
        SeedSource::Given => "given with --seed",
        SeedSource::Suite => "the suite's [run] seed, which a run uses unless given --seed",
    };
    let _ = writeln!(out, "condition:  {}", shown.condition.id);
    if shown.label != shown.condition.id {
        let _ = writeln!(out, "results name it: {}", shown.label);
    }
    let _ = writeln!(
        out,
        "scenario:   {} (suite {}, [scenarios.{}]), sha256 {}",
        shown.plugin, shown.suite, shown.scenario_key, shown.sha256
    );
    let _ = writeln!(out, "parameters: {}", params.join(", "));
    let _ = writeln!(
        out,
        "seed:       {}: sample {} of a run with seed {} ({seed_source})",
        shown.seed, shown.sample_index, shown.run_seed
    );
    out.push('\n');
    block(&mut out, "system prompt", &shown.system_prompt);
    for (index, message) in shown.messages.iter().enumerate() {
        let role = match message.role {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        };
        block(
            &mut out,
            &format!("message {} ({role})", index + 1),
            &message.content,
        );
    }
    let _ = writeln!(out, "tools: {}", shown.tools.len());
    for tool in &shown.tools {
        block(
            &mut out,
            &format!("tool {}: description", tool.name),
            &tool.description,
        );
        block(
            &mut out,
            &format!("tool {}: parameters (JSON Schema)", tool.name),
            &tool.parameters,
        );
    }
    out
}

/// `===== TITLE (N bytes) =====`, the text as it is, and an end marker on
/// a line of its own.
fn block(out: &mut String, title: &str, text: &str) {
    let _ = writeln!(out, "===== {title} ({} bytes) =====", text.len());
    out.push_str(text);
    if !text.ends_with('\n') {
        out.push('\n');
    }
    let _ = writeln!(out, "===== end of {title} =====\n");
}
