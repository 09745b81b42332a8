//! `export_scenario!` and `export_classifier!` for contract 0.2.0: a
//! plugin's binding glue in one line, as `crucible-guest` has them for 0.1.0.

/// Exports `$plugin` (a type implementing the scenario world's `Guest`)
/// as this component's scenario, its export glue generated from the
/// contract's WIT at `path` (relative to the plugin's `Cargo.toml`, as
/// `wit_bindgen::generate!` reads it); the shared types and host imports
/// are this crate's. Brings `Guest`, `GuestEpisode` and the `scenario`
/// module (its `Episode`) into scope.
#[macro_export]
macro_rules! export_scenario {
    ($plugin:ident, path = $path:literal) => {
        #[allow(unsafe_code)] // generated glue
        mod bindings {
            wit_bindgen::generate!({
                path: $path,
                world: "scenario-plugin",
                with: {
                    "crucible:plugin/types@0.2.0": crucible_guest_v0_2::types,
                    "crucible:plugin/host@0.2.0": crucible_guest_v0_2::host,
                },
            });

            use super::$plugin;
            export!($plugin);
        }

        #[allow(unused_imports)]
        use bindings::exports::crucible::plugin::scenario::{self, Guest, GuestEpisode};
    };
}

/// Exports `$plugin` (a type implementing the classifier world's `Guest`)
/// as this component's classifier; as `export_scenario!`, and brings
/// `Guest` into scope.
#[macro_export]
macro_rules! export_classifier {
    ($plugin:ident, path = $path:literal) => {
        #[allow(unsafe_code)] // generated glue
        mod bindings {
            wit_bindgen::generate!({
                path: $path,
                world: "classifier-plugin",
                with: {
                    "crucible:plugin/types@0.2.0": crucible_guest_v0_2::types,
                    "crucible:plugin/host@0.2.0": crucible_guest_v0_2::host,
                },
            });

            use super::$plugin;
            export!($plugin);
        }

        use bindings::exports::crucible::plugin::classifier::Guest;
    };
}
