//! Guest-side helpers for Crucible plugins written in Rust against
//! contract `crucible:plugin@0.2.0`, whose errors are typed.
//!
//! The same helpers as `crucible-guest` (0.1.0), over 0.2.0's types: the
//! helper modules are that crate's own source files, compiled here again,
//! since each version's generated types are distinct Rust types. A plugin
//! exports its world in one line:
//!
//! ```ignore
//! crucible_guest_v0_2::export_classifier!(MyClassifier, path = "wit/crucible-plugin@0.2.0");
//!
//! impl Guest for MyClassifier { /* describe, classify */ }
//! ```

mod bindings {
    wit_bindgen::generate!({
        inline: "
            package crucible:guest;
            world imports {
                import crucible:plugin/host@0.2.0;
            }
        ",
        path: "../../wit/crucible-plugin@0.2.0",
        world: "crucible:guest/imports",
        generate_all,
    });
}

pub use bindings::crucible::plugin::{host, types};

mod export;
#[path = "../../guest/src/facts.rs"]
pub mod facts;
#[path = "../../guest/src/log.rs"]
pub mod log;
#[path = "../../guest/src/messages.rs"]
mod messages;
#[path = "../../guest/src/text.rs"]
pub mod text;
#[path = "../../guest/src/tools.rs"]
pub mod tools;

pub use messages::transcript_text;
pub use types::{
    ClassifyError, Condition, ConditionError, InvalidParameter, JudgeError, Label, Message,
    Metadata, Opening, Param, ParameterSpec, Reference, Reply, Role, Step, StepError, ToolCall,
    ToolDefinition, Verdict,
};

/// Asks the host's judge, logging why first: the host keeps a plugin's logs
/// with the sample, so its record shows what led to each judge call.
pub fn ask_judge(
    request: &types::JudgeRequest,
    why: &str,
    fields: &[(&str, &str)],
) -> Result<types::JudgeResponse, JudgeError> {
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
    /// values the spec allows; the error is `invalid-parameter`, with the
    /// parameter, its value and what is allowed. Parameters no spec names
    /// are left alone: a suite may add its own.
    pub fn check_values(&self, specs: &[ParameterSpec]) -> Result<(), ConditionError> {
        for spec in specs {
            if let Some(value) = self.param(&spec.name)
                && !spec.values.iter().any(|v| v == value)
            {
                return Err(ConditionError::InvalidParameter(InvalidParameter {
                    name: spec.name.clone(),
                    value: value.to_owned(),
                    allowed: spec.values.clone(),
                }));
            }
        }
        Ok(())
    }

    /// Checks that the condition's id is one of `offered`; the error is
    /// `unknown-condition`, with the id.
    pub fn check_offered(&self, offered: &[Condition]) -> Result<(), ConditionError> {
        if offered.iter().any(|c| c.id == self.id) {
            Ok(())
        } else {
            Err(ConditionError::UnknownCondition(self.id.clone()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_a_spec_does_not_allow_is_a_typed_invalid_parameter() {
        let spec = ParameterSpec {
            name: "pace".into(),
            description: String::new(),
            values: vec!["slow".into(), "fast".into()],
        };
        let condition = |params: &[(&str, &str)]| Condition {
            id: "x".into(),
            params: Param::list(params),
        };
        assert!(
            condition(&[("pace", "fast"), ("seed-note", "any")])
                .check_values(std::slice::from_ref(&spec))
                .is_ok()
        );
        match condition(&[("pace", "sideways")]).check_values(&[spec]) {
            Err(ConditionError::InvalidParameter(p)) => {
                assert_eq!((p.name.as_str(), p.value.as_str()), ("pace", "sideways"));
                assert_eq!(p.allowed, ["slow", "fast"]);
            }
            other => panic!("expected invalid-parameter, got {other:?}"),
        }
    }

    #[test]
    fn an_id_not_offered_is_a_typed_unknown_condition() {
        let offered = [Condition {
            id: "a".into(),
            params: Vec::new(),
        }];
        let asked = |id: &str| Condition {
            id: id.into(),
            params: Vec::new(),
        };
        assert!(asked("a").check_offered(&offered).is_ok());
        assert!(matches!(
            asked("b").check_offered(&offered),
            Err(ConditionError::UnknownCondition(id)) if id == "b"
        ));
    }
}
