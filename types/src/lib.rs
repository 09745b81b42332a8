//! The vocabulary every part of Crucible speaks: the transcript (messages,
//! tool calls, openings, references, verdicts), what a provider call
//! recorded (`provenance`), and provider content kept as it came
//! (`native`). It depends on nothing of Crucible's, so the runtime, the
//! models, the engine and the tools that read runs can all share it.

pub mod native;
pub mod provenance;
pub mod transcript;
