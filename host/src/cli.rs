//! The command line, declared once. Parsing only: the work lives in the
//! library.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use crucible::serve::limits as serve_limits;

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
    Run(RunArgs),
    /// Print the summary of an existing run (finished or not), as
    /// `crucible run` ends with it.
    Summary(SummaryArgs),
    /// Join the run directories of a plan's shards (`crucible run --shard
    /// K/N`, one per K) into one run directory, which reports, verifies,
    /// exports, bundles and resumes like a run made in one piece.
    Merge(MergeArgs),
    /// Print the opening a model is sent for one condition of a suite:
    /// its parameters, the seed, the system prompt, the first messages and
    /// the tools, exactly as a run sends them.
    Show(ShowArgs),
    /// Write a run's report: one self-contained HTML file (charts of the
    /// harmful rates with their intervals, the condition matrix, secondary
    /// classifiers, and every transcript with its verdicts and judge
    /// exchanges) that opens offline from the file.
    Report(ReportArgs),
    /// Write a run's samples for other tools: a CSV table, JSON Lines with
    /// everything, or Inspect AI's eval logs (`inspect view`).
    Export(ExportArgs),
    /// Pack a finished run into one file to share: the suite, the lockfile,
    /// the exact plugin components, every transcript, verdict and judge
    /// exchange. No key and no path of this machine goes in.
    Bundle(BundleArgs),
    /// Check a bundle offline by re-deriving it: re-hash its plugins,
    /// replay every sample from its condition and seed, re-run every
    /// classifier with the recorded judge answers, and recompute every
    /// figure. Exits non-zero if anything differs.
    Verify(VerifyArgs),
    /// Run a classifier again over a finished run's stored transcripts and
    /// keep its verdicts as a new label set beside the run's own
    /// (`original`), which is never changed.
    Rescore(RescoreArgs),
    /// Compare two runs, or two label sets of one run, cell by cell: each
    /// side's rate, the difference B − A with its 95% interval, and an exact
    /// test, paired where the samples pair.
    #[command(after_help = DIFF_EXAMPLES)]
    Diff(DiffArgs),
    /// Check a suite's scenarios and classifiers against each other: every
    /// reference behaviour of every condition must be classified as its
    /// label says. Offline; no model or judge is called.
    Check(CheckArgs),
    /// Show what a component is: its kind, contract version, metadata and
    /// conditions.
    Inspect(InspectArgs),
    /// Resolve every plugin of a suite and write `crucible.lock` beside it.
    Lock(LockArgs),
    /// Move the lockfile's pins to the newest versions the suite allows.
    Update(UpdateArgs),
    /// Publish a component to a registry: a directory, or a registry
    /// server's URL (with a token). Its name, version and description are
    /// the component's own.
    Publish(PublishArgs),
    /// Hide a version from new resolution (lockfiles that pin it keep it).
    Yank(YankArgs),
    /// Find packages in a registry by name or description.
    Search(SearchArgs),
    /// Show every version of a package.
    Info(InfoArgs),
    /// Serve a registry over HTTP, and administer its tokens and owners.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Start a plugin project from a template: a working scenario or
    /// classifier in Rust, Python or JavaScript, with the contract's WIT.
    New(NewArgs),
    /// Build a plugin project into a component with its language's own
    /// tool, and print the component's path, size, sha256 and load times.
    Build(BuildArgs),
    /// Test a component (or a project, built first) against the contract:
    /// it matches its world, every condition opens within limits, the same
    /// seed gives the same bytes, and references or labelled transcripts
    /// come out as labelled. Offline.
    Test(TestArgs),
    /// Watch a project: on every change rebuild it, test it, and run a few
    /// samples against a model.
    Dev(DevArgs),
}

#[derive(Debug, Args)]
pub struct BundleArgs {
    /// The run: its directory (or its results.sqlite).
    pub run: PathBuf,

    /// The bundle file to write (conventionally NAME.crucible).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

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

const DIFF_EXAMPLES: &str = "\
Sides:
  crucible diff RUN_A RUN_B                    each run's own verdicts (`original`)
  crucible diff RUN --labels NAME              RUN's `original` against its label set NAME
  crucible diff RUN --labels NAME1 NAME2       two label sets of one run
  crucible diff RUN_A RUN_B --labels NAME      label set NAME of each run
  crucible diff RUN_A RUN_B --labels X Y       A's label set X against B's label set Y

A run is its directory (or its results.sqlite); name the runs before --labels.
Samples pair when model, scenario,
condition, sample index and seed match: two label sets of one run always pair, two
runs pair where their seeds match. The exit status is 0 whatever the difference, 2
on bad input.";

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

/// The two kinds of plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Scenario,
    Classifier,
}

/// The languages a project can be started in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LangArg {
    Rust,
    Python,
    Js,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// What to start: a scenario or a classifier.
    #[arg(value_enum)]
    pub kind: KindArg,

    /// The plugin's registry name, NAMESPACE/NAME (lowercase letters,
    /// digits and dashes).
    pub name: String,

    /// The language to write it in.
    #[arg(long, value_enum)]
    pub lang: LangArg,

    /// Where to create the project (default: ./NAME).
    #[arg(long)]
    pub path: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The project's directory.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// A project (built first) or a component (.wasm).
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// The other half to test with, a project or a .wasm: for a scenario,
    /// the classifier that must classify its references as labelled; for a
    /// classifier, a scenario whose references it must classify.
    #[arg(long, value_name = "PATH")]
    pub with: Option<PathBuf>,

    /// A classifier's labelled transcripts (default: the project's
    /// `transcripts/` folder).
    #[arg(long, value_name = "DIR")]
    pub transcripts: Option<PathBuf>,

    /// The seed episodes are opened with.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Print everything the plugins logged, not only on failure.
    #[arg(long)]
    pub logs: bool,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

#[derive(Debug, Args)]
pub struct DevArgs {
    /// The project to watch.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// The other half, a project (watched and rebuilt too) or a .wasm:
    /// with it, every reload also runs samples of the pair.
    #[arg(long, value_name = "PATH")]
    pub with: Option<PathBuf>,

    /// The model the samples run against.
    #[arg(
        short,
        long,
        default_value = "reference/harmful",
        value_name = "PROVIDER/MODEL"
    )]
    pub model: String,

    /// Model the classifier may consult.
    #[arg(long, value_name = "PROVIDER/MODEL")]
    pub judge: Option<String>,

    /// Conditions to sample (glob patterns; default: the first condition).
    #[arg(short, long = "conditions", value_name = "PATTERN")]
    pub conditions: Vec<String>,

    /// Samples per condition on every reload.
    #[arg(short = 'n', long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub samples: u32,

    /// Check for changes this often, in milliseconds.
    #[arg(long, default_value_t = 300, value_name = "MS")]
    pub poll: u64,

    /// Stop after this many reloads (for scripts and tests).
    #[arg(long, value_name = "N")]
    pub reloads: Option<u32>,

    #[command(flatten)]
    pub keys: KeyArgs,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Serve a registry directory over HTTP: its static layout for reading,
    /// and publishing and yanking for owners with a token.
    Serve(ServeArgs),
    /// Create and revoke the tokens that let owners publish.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Give a namespace to an owner (a namespace otherwise belongs to the
    /// owner who first published in it).
    #[command(subcommand)]
    Namespace(NamespaceCommand),
    /// Copy every version of every package of one registry (a directory or
    /// a URL) into a registry directory, checking every hash.
    Mirror(MirrorArgs),
}

#[derive(Debug, Args)]
pub struct MirrorArgs {
    /// The registry to copy from: a directory or an http(s) URL.
    pub from: String,
    /// The registry directory to copy into (created if missing).
    pub to: PathBuf,
}

/// The directory of a served registry.
#[derive(Debug, Args)]
pub struct RootArg {
    /// The registry directory.
    #[arg(long, value_name = "DIR")]
    pub root: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub root: RootArg,

    /// Address to listen on; port 0 picks a free port. The bound address is
    /// printed on stdout.
    #[arg(long, value_name = "ADDR", default_value = crucible::serve::DEFAULT_LISTEN)]
    pub listen: std::net::SocketAddr,

    /// Largest component accepted, in bytes (or with a KiB or MiB suffix).
    #[arg(long, value_name = "BYTES", default_value = "32MiB", value_parser = parse_size)]
    pub max_size: u64,

    #[command(flatten)]
    pub limits: ServeLimitArgs,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// How long a connection may take and how much one client may hold.
#[derive(Debug, Args)]
pub struct ServeLimitArgs {
    /// Seconds a request's headers may take to arrive, counted from when
    /// the connection starts waiting for them; a slower client (slowloris)
    /// is disconnected.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds,
          default_value_t = serve_limits::DEFAULT_HEADER_TIMEOUT.as_secs_f64())]
    pub header_timeout: f64,

    /// Seconds a connection may sit with no request in flight and nothing
    /// sent before it is closed.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds,
          default_value_t = serve_limits::DEFAULT_IDLE_TIMEOUT.as_secs_f64())]
    pub idle_timeout: f64,

    /// Seconds a request, its upload included, may take before it is
    /// answered 408.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds,
          default_value_t = serve_limits::DEFAULT_REQUEST_TIMEOUT.as_secs_f64())]
    pub request_timeout: f64,

    /// Connections open at once, all clients together; beyond, the
    /// longest-idle connection is closed to make room, or the newcomer is
    /// answered 503.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..),
          default_value_t = serve_limits::DEFAULT_MAX_CONNECTIONS as u32)]
    pub max_connections: u32,

    /// Connections open at once from one IP address; beyond, 429.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..),
          default_value_t = serve_limits::DEFAULT_MAX_CONNECTIONS_PER_CLIENT as u32)]
    pub max_connections_per_client: u32,

    /// Requests per second from one IP address (bursts of as many); beyond,
    /// 429 with Retry-After.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..),
          default_value_t = serve_limits::DEFAULT_REQUESTS_PER_SECOND)]
    pub max_requests_per_second: u32,
}

impl ServeLimitArgs {
    pub fn limits(&self) -> serve_limits::ServeLimits {
        serve_limits::ServeLimits {
            header_timeout: Duration::from_secs_f64(self.header_timeout),
            idle_timeout: Duration::from_secs_f64(self.idle_timeout),
            request_timeout: Duration::from_secs_f64(self.request_timeout),
            max_connections: self.max_connections as usize,
            max_connections_per_client: self.max_connections_per_client as usize,
            requests_per_second: self.max_requests_per_second,
        }
    }
}

/// A positive number of seconds, at most a day.
fn parse_seconds(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
        .ok_or_else(|| format!("`{text}` is not a number of seconds between 0 and 86400"))
}

/// `1048576`, `1024KiB` or `1MiB`.
fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let unit: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        _ => {
            return Err(format!(
                "`{text}` is not a size: expected BYTES, or a number with KiB or MiB"
            ));
        }
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{text}` is not a positive size"))
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for an owner and print it; it is shown only this once
    /// (only its sha256 is stored).
    Create(TokenArgs),
    /// Revoke every token of an owner.
    Revoke(TokenArgs),
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub root: RootArg,

    /// The owner: letters, digits, `-`, `_`, `.` and `@`.
    #[arg(long)]
    pub owner: String,
}

#[derive(Debug, Subcommand)]
pub enum NamespaceCommand {
    /// Make an owner the owner of a namespace, replacing any other.
    Assign(AssignArgs),
}

#[derive(Debug, Args)]
pub struct AssignArgs {
    /// The namespace.
    pub namespace: String,

    #[command(flatten)]
    pub root: RootArg,

    /// Its new owner.
    #[arg(long)]
    pub owner: String,
}

#[derive(Debug, Args)]
pub struct LockArgs {
    /// The suite manifest.
    #[arg(default_value = crucible::suite::DEFAULT_SUITE)]
    pub suite: PathBuf,

    /// The judge model to record in the lockfile (else the suite's).
    #[arg(long, value_name = "PROVIDER/MODEL")]
    pub judge: Option<String>,

    /// Use only the local cache of an HTTP registry, never the network.
    #[arg(long)]
    pub offline: bool,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The suite manifest.
    #[arg(default_value = crucible::suite::DEFAULT_SUITE)]
    pub suite: PathBuf,

    /// Only this package (repeatable); all of them by default.
    #[arg(short, long = "package", value_name = "NAMESPACE/NAME")]
    pub packages: Vec<String>,

    /// Use only the local cache of an HTTP registry, never the network.
    #[arg(long)]
    pub offline: bool,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// A registry: a directory, or an `http(s)://` URL.
#[derive(Debug, Args)]
pub struct RegistryArg {
    /// The registry: a directory, or the URL of a registry server or a
    /// static mirror.
    #[arg(long, value_name = "DIR|URL", env = "CRUCIBLE_REGISTRY")]
    pub registry: String,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The component (.wasm) to publish.
    pub component: PathBuf,

    #[command(flatten)]
    pub registry: RegistryArg,

    /// SPDX licence of the plugin.
    #[arg(long)]
    pub license: Option<String>,

    /// Where the plugin's source lives.
    #[arg(long)]
    pub repository: Option<String>,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

#[derive(Debug, Args)]
pub struct YankArgs {
    /// The version to yank, as NAMESPACE/NAME@VERSION.
    pub package: String,

    #[command(flatten)]
    pub registry: RegistryArg,

    /// Undo a yank.
    #[arg(long)]
    pub undo: bool,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Text to find in package names and descriptions.
    pub text: String,

    #[command(flatten)]
    pub registry: RegistryArg,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The package, as NAMESPACE/NAME.
    pub package: String,

    #[command(flatten)]
    pub registry: RegistryArg,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The suite manifest.
    #[arg(default_value = crucible::suite::DEFAULT_SUITE)]
    pub suite: PathBuf,

    /// Check a named sub-suite (with its parameters) instead of the whole
    /// suite.
    #[arg(short, long, value_name = "NAME")]
    pub subsuite: Option<String>,

    /// Only conditions matching this pattern (`*` is a wildcard; repeatable).
    #[arg(short, long = "conditions", value_name = "PATTERN")]
    pub conditions: Vec<String>,

    /// Instead of the references, play the labelled cases in this folder
    /// (`*.json`, subfolders too) through the suite's scenarios and
    /// classifiers, with no judge and with a scripted one, and report what
    /// each classifier made of them.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["subsuite", "conditions"])]
    pub cases: Option<PathBuf>,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The suite manifest.
    #[arg(default_value = crucible::suite::DEFAULT_SUITE)]
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
    #[arg(short = 'j', long, value_parser = clap::value_parser!(u32).range(1..=i64::from(crucible::suite::MAX_CONCURRENCY)))]
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
    pub shard: Option<crucible::run::Shard>,

    /// When the run ends (finished or stopped), upload its run directory
    /// (a consistent snapshot of its store, and its summary) to
    /// S3-compatible object storage, under PREFIX/RUN-ID/, or
    /// PREFIX/shard-K-of-N/ for a shard, whose restart with the same
    /// command then resumes the run kept there. Credentials and endpoint
    /// from the standard AWS variables (AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL,
    /// AWS_ALLOW_HTTP).
    #[arg(long, value_name = "s3://BUCKET/PREFIX", conflicts_with = "dry_run")]
    pub upload: Option<crucible::remote::RemoteUrl>,
}

fn parse_shard(text: &str) -> Result<crucible::run::Shard, String> {
    text.parse()
        .map_err(|e: crucible::run::ShardError| e.to_string())
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The merged run's directory, to be created; its name is the run's id.
    #[arg(value_name = "OUT")]
    pub out: PathBuf,

    /// Every shard's run directory (or results.sqlite), in any order.
    #[arg(value_name = "SHARD", required = true)]
    pub shards: Vec<PathBuf>,

    /// The suite manifest on this machine, for `crucible run --resume` of
    /// the merged run. Default: where the first shard that says so found
    /// it (its local.json).
    #[arg(long, value_name = "FILE")]
    pub suite: Option<PathBuf>,
}

/// What the summary shows beyond its own tables.
#[derive(Debug, Clone, Copy, Args)]
pub struct SummaryFlags {
    /// Also print every cell (model x scenario x condition), before the
    /// summary.
    #[arg(long)]
    pub cells: bool,
}

#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// The run: its directory or its results.sqlite, or a bundle.
    #[arg(value_name = "RUN")]
    pub run: PathBuf,

    #[command(flatten)]
    pub summary: SummaryFlags,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The condition: its id (`crucible inspect` lists a scenario's), or
    /// a label as results show it, `ID[name=value,...]`.
    #[arg(value_name = "CONDITION")]
    pub condition: String,

    /// The suite manifest.
    #[arg(default_value = crucible::suite::DEFAULT_SUITE)]
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
    #[arg(short = 'j', long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=i64::from(crucible::suite::MAX_CONCURRENCY)))]
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

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Side A: a run directory (or its results.sqlite), or a bundle.
    pub a: PathBuf,

    /// Side B: another run or bundle. Without it, both sides are label sets of A
    /// (see --labels).
    pub b: Option<PathBuf>,

    /// The label sets compared: two names, A's then B's; or one, which
    /// with one run is compared with its `original`, and with two runs is
    /// taken on both sides. Default: `original` on both sides.
    #[arg(long, num_args = 1..=2, value_name = "LABEL_SET")]
    pub labels: Vec<String>,

    /// Show every cell, not only the cells that differ.
    #[arg(long)]
    pub all: bool,

    /// Print the comparison as JSON instead of tables.
    #[arg(long)]
    pub json: bool,

    /// Also write side A's HTML report with the comparison in it (the
    /// pooled rows, and the cells shown in the terminal).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// Where API keys may go beyond their providers' own hosts; see "Where
/// keys go" in the README.
#[derive(Debug, Clone, Default, Args)]
pub struct KeyArgs {
    /// Let any model's API key go to this host (repeatable): HOST, or
    /// HOST:PORT for that port only. A key otherwise goes only to its
    /// provider's own host, to loopback, to a base_url you give in
    /// --model/--judge or in a *_BASE_URL variable, or to a host in
    /// allow_hosts under [keys] in your config ($CRUCIBLE_CONFIG, else
    /// crucible/config.toml in your config directory). A suite that would
    /// send a key anywhere else is refused before anything is sent.
    #[arg(long = "allow-key-host", value_name = "HOST[:PORT]")]
    pub hosts: Vec<String>,

    /// Let a suite's api_key_env name this variable (repeatable). A suite
    /// may name only the providers' own key variables (OPENAI_API_KEY,
    /// ANTHROPIC_API_KEY, GEMINI_API_KEY, OPENROUTER_API_KEY,
    /// TOGETHER_API_KEY) and those you allow here or in allow_env under
    /// [keys] in your config; any api_key_env must end in _KEY or _TOKEN.
    #[arg(long = "allow-key-env", value_name = "NAME")]
    pub envs: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Seconds of guest time one plugin call may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub call_timeout: f64,

    /// Memory a plugin instance may use, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub memory_mib: usize,

    /// Fuel per plugin call (off by default; the deadline still applies).
    #[arg(long)]
    pub fuel: Option<u64>,

    /// Compile components afresh instead of using the compiled-component
    /// cache ($CRUCIBLE_CACHE, else the user's cache directory).
    #[arg(long)]
    pub no_compile_cache: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run: its directory (`runs/<run-id>`) or its results.sqlite, or
    /// a bundle. A run still in progress is reported as far as it has got.
    pub run: PathBuf,

    /// Where to write the report [default: report.html in the run's
    /// directory; for a bundle, its name with .html].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The component (.wasm) to inspect: a scenario or a classifier.
    pub component: PathBuf,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// A spend ceiling: a positive, finite number of US dollars.
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

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("32MiB"), Ok(32 << 20));
        for bad in ["", "0", "1GB", "-1", "MiB", "1.5MiB"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }
}
