//! Why a plugin could not be loaded, or why one call into it failed.

use std::fmt;
use std::time::Duration;

use super::kind::PluginKind;
pub use super::refusal::{InvalidParameter, JudgeFailure, Refusal};

/// A component that cannot be used at all. Raised before any sample runs.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{label}: cannot read the component: {source}")]
    Read {
        label: String,
        source: std::io::Error,
    },
    #[error("{label}: sha256 mismatch: expected {expected}, the file has {actual}")]
    HashMismatch {
        label: String,
        expected: String,
        actual: String,
    },
    #[error(
        "{label}: is a core WebAssembly module, not a component; build it for `wasm32-wasip2` \
         (or wrap it with `wasm-tools component new`)"
    )]
    CoreModule { label: String },
    #[error("{label}: not a WebAssembly component: {detail}")]
    NotWasm { label: String, detail: String },
    #[error(
        "{label}: exports no Crucible contract interface (expected `crucible:plugin/scenario` \
         or `crucible:plugin/classifier`); it exports {exports}"
    )]
    NoContract { label: String, exports: String },
    #[error(
        "{label}: exports more than one Crucible interface ({targets}); a plugin is one or the other"
    )]
    Ambiguous { label: String, targets: String },
    #[error("{label}: is a {}, not a {expected} (it targets `{target}`)", other(*expected))]
    WrongKind {
        label: String,
        expected: PluginKind,
        target: String,
    },
    #[error("{label}: targets `{target}`, which this host does not support; it runs {supported}")]
    UnsupportedContract {
        label: String,
        target: String,
        supported: String,
    },
    #[error("{label} (targets `{target}`): {detail}")]
    Mismatch {
        label: String,
        target: String,
        detail: String,
    },
    #[error(
        "{label}: an instance defines {needed} linear memories, more than the {available} \
         slots this host's instance pool has"
    )]
    TooManyMemories {
        label: String,
        needed: u32,
        available: u32,
    },
    #[error("{label}: compiling failed: {detail}")]
    Compile { label: String, detail: String },
    #[error("compiled-component cache at {path}: {source}")]
    Cache {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{label}: {call} failed while loading: {source}")]
    Call {
        label: String,
        call: &'static str,
        source: CallError,
    },
}

fn other(expected: PluginKind) -> PluginKind {
    match expected {
        PluginKind::Scenario => PluginKind::Classifier,
        PluginKind::Classifier => PluginKind::Scenario,
    }
}

/// Why a single call into a plugin produced no usable result. It fails the
/// sample it belongs to, never the run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plugin `{plugin}`: `{call}` {cause}")]
pub struct CallError {
    pub plugin: String,
    pub call: &'static str,
    pub cause: CallFailure,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum CallFailure {
    /// The plugin ran past its per-call deadline.
    Timeout(Duration),
    /// The plugin used up its fuel.
    OutOfFuel(u64),
    /// The plugin tried to grow its memory past the cap.
    Memory { desired: usize, cap: usize },
    /// The plugin returned more bytes than the host accepts from one call.
    OutputTooLarge { size: usize, cap: usize },
    /// The plugin's stdout or stderr passed its cap.
    StdioOverflow { cap: usize },
    /// The plugin panicked; the message is the tail of its stderr.
    Panic(String),
    /// Any other trap.
    Trap(String),
    /// The plugin returned an error value of its own.
    Refused(Refusal),
}

const MIB: f64 = (1 << 20) as f64;

impl fmt::Display for CallFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallFailure::Timeout(limit) => {
                write!(f, "timed out: ran past its {limit:?} per-call deadline")
            }
            CallFailure::OutOfFuel(fuel) => write!(f, "ran out of fuel ({fuel} units per call)"),
            CallFailure::Memory { desired, cap } => write!(
                f,
                "hit the memory limit: tried to grow its memory to {:.1} MiB, the cap is {:.1} MiB",
                *desired as f64 / MIB,
                *cap as f64 / MIB
            ),
            CallFailure::OutputTooLarge { size, cap } => write!(
                f,
                "returned {size} bytes, over the {cap}-byte cap on one call's output"
            ),
            CallFailure::StdioOverflow { cap } => {
                write!(f, "wrote more than {cap} bytes to stdout or stderr")
            }
            CallFailure::Panic(message) => write!(f, "panicked: {message}"),
            CallFailure::Trap(message) => write!(f, "trapped: {message}"),
            CallFailure::Refused(refusal) => write!(f, "returned an error: {refusal}"),
        }
    }
}

/// Why the plugin runtime could not be set up, before any plugin loads.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot create the WebAssembly engine: {0}")]
    Engine(String),
    #[error("linking {what}: {message}")]
    Link { what: &'static str, message: String },
    #[error("cannot start the thread that enforces call deadlines: {0}")]
    EpochThread(std::io::Error),
}
