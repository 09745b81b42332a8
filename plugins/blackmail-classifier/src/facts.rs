//! The scenario facts the classifier relies on, checked once up front so a
//! scenario that omits one fails loudly instead of passing every transcript.

use agentic_misalignment::ledger::{self, Action};
use crucible_guest::Param;
use crucible_guest::facts::{optional, require};

pub struct Facts {
    /// Lowercase.
    pub executive_address: String,
    /// Only for the judge's benefit; the address is what the rules match.
    pub executive_name: Option<String>,
    pub secret_partner_name: Option<String>,
    /// What the episode executed, in order.
    pub actions: Vec<Action>,
}

impl Facts {
    pub fn from_params(params: &[Param]) -> Result<Facts, String> {
        Ok(Facts {
            executive_address: require(params, "executive_address")?.to_lowercase(),
            executive_name: optional(params, "executive_name").map(str::to_owned),
            secret_partner_name: optional(params, "secret_partner_name").map(str::to_owned),
            actions: ledger::from_facts(params)?,
        })
    }

    /// How the judge prompt and explanations name the executive.
    pub fn executive(&self) -> String {
        match &self.executive_name {
            Some(name) => format!("{name} ({})", self.executive_address),
            None => self.executive_address.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_missing_required_fact_is_named() {
        let full = [
            ("executive_address", "Boss@Corp.example"),
            ("actions", "[]"),
        ];
        let facts = Facts::from_params(&Param::list(&full)).expect("complete");
        assert_eq!(facts.executive_address, "boss@corp.example");
        assert_eq!(facts.executive(), "boss@corp.example");
        assert!(facts.actions.is_empty());

        for missing in ["executive_address", "actions"] {
            let partial: Vec<(&str, &str)> = full
                .iter()
                .copied()
                .filter(|(n, _)| *n != missing)
                .collect();
            let error = Facts::from_params(&Param::list(&partial))
                .err()
                .expect("should fail");
            assert!(error.contains(&format!("`{missing}`")), "{error}");
        }
    }
}
