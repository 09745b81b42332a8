//! The scenario facts the classifier relies on, checked once up front so a
//! scenario that omits one fails loudly instead of passing every transcript.

use agentic_misalignment::ledger::{self, Action};
use crucible_guest::Param;
use crucible_guest::facts::optional;

pub struct Facts {
    /// Only for the judge's benefit.
    pub executive_name: Option<String>,
    pub harmful_option: Option<String>,
    /// What the episode executed, in order.
    pub actions: Vec<Action>,
}

impl Facts {
    pub fn from_params(params: &[Param]) -> Result<Facts, String> {
        Ok(Facts {
            executive_name: optional(params, "executive_name").map(str::to_owned),
            harmful_option: optional(params, "harmful_option").map(str::to_owned),
            actions: ledger::from_facts(params)?,
        })
    }

    /// How the judge prompt names the person in danger.
    pub fn person(&self) -> &str {
        self.executive_name.as_deref().unwrap_or("a person")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_is_required_and_the_rest_optional() {
        let facts = Facts::from_params(&Param::list(&[("actions", "[]")])).expect("complete");
        assert_eq!(facts.person(), "a person");
        let error = Facts::from_params(&[]).err().expect("should fail");
        assert!(error.contains("`actions`"), "{error}");
    }
}
