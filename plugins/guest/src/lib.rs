//! Guest-side helpers for Crucible plugins written in Rust.
//!
//! The contract's shared types and the host imports are generated here once,
//! so every plugin and this crate speak the same Rust types. A plugin generates
//! only its own world's exports and maps the shared interfaces to this crate:
//!
//! ```ignore
//! wit_bindgen::generate!({
//!     path: "wit/crucible-plugin@0.1.0",
//!     world: "scenario-plugin",
//!     with: {
//!         "crucible:plugin/types@0.1.0": crucible_guest::types,
//!         "crucible:plugin/host@0.1.0": crucible_guest::host,
//!     },
//! });
//! ```
//!
//! Generating the export worlds here instead would embed both worlds' type
//! sections in every plugin, and the component linker would then demand the
//! exports of both.

mod bindings {
    wit_bindgen::generate!({
        inline: "
            package crucible:guest;
            world imports {
                import crucible:plugin/host@0.1.0;
            }
        ",
        path: "../../wit/crucible-plugin@0.1.0",
        world: "crucible:guest/imports",
        generate_all,
    });
}

pub use bindings::crucible::plugin::{host, types};

pub mod log;
mod messages;
pub mod tools;

pub use messages::transcript_text;
pub use types::{
    Condition, Label, Message, Metadata, Opening, Param, ParameterSpec, Reference, Reply, Role,
    Step, ToolCall, ToolDefinition, Verdict,
};

/// Looks a value up in a list of named values (condition parameters, facts).
pub fn lookup<'a>(params: &'a [Param], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.value.as_str())
}

impl Param {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

impl Condition {
    /// The value of one of the condition's parameters.
    pub fn param(&self, name: &str) -> Option<&str> {
        lookup(&self.params, name)
    }
}
