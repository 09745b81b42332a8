//! The vocabulary every part of Crucible speaks: the transcript (messages,
//! tool calls, openings, references, verdicts), what a provider call
//! recorded (`provenance`) and the tokens it used (`usage`), provider
//! content kept as it came (`native`), and what a classifier asks of the
//! judge and gets back (`judge`, with the `Judge` trait). It depends on nothing of Crucible's, so the runtime, the
//! models, the engine and the tools that read runs can all share it.

pub mod judge;
pub mod names;
pub mod native;
pub mod provenance;
pub mod transcript;
pub mod usage;
