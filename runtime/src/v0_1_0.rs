//! Contract `crucible:plugin@0.1.0`: its generated bindings, the host side of
//! its imports, and conversions between its types and the host's.
//!
//! A later contract version gets a module of its own beside this one; this
//! one stays as long as the host supports plugins built against 0.1.0.

use wasmtime::component::{HasSelf, Linker};

use super::sandbox::{LogRecord, SandboxState};
use crucible_types::judge;
use crucible_types::transcript as t;

/// The contract version this module implements.
pub const VERSION: semver::Version = semver::Version::new(0, 1, 0);

// Every export is called on a fiber, and the judge import awaits the judge
// model there: a sample waiting on its judge holds no thread.
pub mod scenario_world {
    wasmtime::component::bindgen!({
        path: "../wit/crucible-plugin@0.1.0",
        world: "scenario-plugin",
        imports: { "crucible:plugin/host.judge": async },
        exports: { default: async },
    });
}

pub mod classifier_world {
    wasmtime::component::bindgen!({
        path: "../wit/crucible-plugin@0.1.0",
        world: "classifier-plugin",
        exports: { default: async },
        with: {
            "crucible:plugin/types@0.1.0": super::scenario_world::crucible::plugin::types,
            "crucible:plugin/host@0.1.0": super::scenario_world::crucible::plugin::host,
        },
    });
}

use scenario_world::crucible::plugin::{host as wit_host, types as wit};

pub use classifier_world::ClassifierPlugin;
pub use scenario_world::ScenarioPlugin;

/// Adds this version's host interface to a linker.
pub fn add_host_to_linker(linker: &mut Linker<SandboxState>) -> wasmtime::Result<()> {
    wit_host::add_to_linker::<SandboxState, HasSelf<SandboxState>>(linker, |state| state)
}

super::glue::host_imports!();
super::glue::shared_conversions!();

/// A 0.1.0 plugin's error is a string: the refusal it stands for.
impl From<String> for super::error::Refusal {
    fn from(message: String) -> Self {
        Self::from_text(message)
    }
}
