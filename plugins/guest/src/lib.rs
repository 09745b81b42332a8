//! Guest-side helpers for Crucible plugins written in Rust.
//!
//! The contract's shared types and the host imports are generated here once,
//! so every plugin and this crate speak the same Rust types. A plugin
//! generates only its own world's exports, mapping the shared interfaces to
//! this crate, in one line:
//!
//! ```ignore
//! crucible_guest::export_classifier!(MyClassifier, path = "wit/crucible-plugin@0.1.0");
//!
//! impl Guest for MyClassifier { /* describe, classify */ }
//! ```
//!
//! (`export_scenario!` likewise, for a scenario and its `GuestEpisode`.)
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

mod export;
pub mod facts;
pub mod log;
mod messages;
pub mod text;
pub mod tools;

pub use messages::transcript_text;
pub use types::{
    Condition, Label, Message, Metadata, Opening, Param, ParameterSpec, Reference, Reply, Role,
    Step, ToolCall, ToolDefinition, Verdict,
};

/// Asks the host's judge, logging why first: the host keeps a plugin's logs
/// with the sample, so its record shows what led to each judge call.
pub fn ask_judge(
    request: &types::JudgeRequest,
    why: &str,
    fields: &[(&str, &str)],
) -> Result<types::JudgeResponse, types::JudgeError> {
    log::debug(why, fields);
    host::judge(request)
}

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

    /// Named values from `(name, value)` pairs, in order.
    pub fn list(pairs: &[(&str, &str)]) -> Vec<Param> {
        pairs
            .iter()
            .map(|(name, value)| Param::new(*name, *value))
            .collect()
    }
}

impl Condition {
    /// The value of one of the condition's parameters.
    pub fn param(&self, name: &str) -> Option<&str> {
        lookup(&self.params, name)
    }

    /// Checks that every parameter one of `specs` names holds one of the
    /// values the spec allows; the error names the parameter, the value and
    /// what is allowed. Parameters no spec names are left alone: a suite may
    /// add its own.
    pub fn check_values(&self, specs: &[ParameterSpec]) -> Result<(), String> {
        for spec in specs {
            if let Some(value) = self.param(&spec.name)
                && !spec.values.iter().any(|v| v == value)
            {
                return Err(format!(
                    "parameter `{}` has value `{value}`, which is not allowed (allowed: {})",
                    spec.name,
                    spec.values.join(", ")
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_a_spec_does_not_allow_is_named_and_others_pass() {
        let spec = ParameterSpec {
            name: "protocol".into(),
            description: String::new(),
            values: vec!["native".into(), "text".into()],
        };
        let condition = |params: &[(&str, &str)]| Condition {
            id: "x".into(),
            params: Param::list(params),
        };
        assert_eq!(
            condition(&[("protocol", "text"), ("temperature", "0.7")])
                .check_values(std::slice::from_ref(&spec)),
            Ok(())
        );
        assert_eq!(
            condition(&[("protocol", "smoke")]).check_values(&[spec]),
            Err(
                "parameter `protocol` has value `smoke`, which is not allowed (allowed: native, \
                 text)"
                    .into()
            )
        );
    }
}
