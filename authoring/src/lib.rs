//! Writing plugins: a new project from a template, building it with its
//! language's own tool, and testing the component against the contract.

pub mod build_cache;
pub mod component_build;
pub mod contract_test;
pub mod labelled;
pub mod project;
pub mod scaffold;
pub mod toolchain;
pub mod watch;

pub use component_build::{BuildError, Built, build};
pub use project::{Language, Project, ProjectError};
