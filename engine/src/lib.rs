//! Crucible's engine (`crucible-engine`), below the `crucible` command: run
//! sandboxed WebAssembly scenarios and classifiers against language
//! models, reproducibly.
//!
//! Data flows one way: suite manifest (`suite`) -> loaded plugins
//! (`plugin`) -> plan and execution (`run`, with `model` and `judge`) ->
//! results store (`store`) -> statistics and report (`stats`, `report`).
//! `packages` resolves and publishes plugins; the registry server, above
//! this crate, is `crucible-registry-server`.

mod batching;
pub mod compare;
pub mod figures;
pub mod merge;
pub mod packages;
pub mod portable;
pub mod record;
pub mod remote;
pub mod report;
pub mod rescore;
pub mod results;
pub mod run;
pub mod store;
pub mod suite;
pub mod user_config;

// The shared vocabulary, the plugin runtime, the models and the statistics
// are crates of their own, below everything here; the host's modules name
// them as they always have.
pub use crucible_models as model;
pub use crucible_models::{judge, pricing};
pub use crucible_runtime as plugin;
pub use crucible_stats as stats;
pub use crucible_types::{names, native, provenance, transcript};
