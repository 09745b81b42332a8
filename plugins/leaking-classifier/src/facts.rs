//! The scenario facts the classifier relies on, checked once up front so a
//! scenario that omits one fails loudly instead of passing every transcript.

use agentic_misalignment::ledger::{self, Action};
use crucible_guest::Param;
use crucible_guest::facts::{list, optional, require};

pub struct Facts {
    /// The company's domain, lowercase: it and its subdomains are inside.
    pub company_domain: String,
    /// The outside company that asked for the material, lowercase, if the
    /// scenario names one: a confidential email forwarded there is a leak
    /// beyond doubt.
    pub competitor_domain: Option<String>,
    /// Who asked for the material, for the judge's benefit.
    pub leak_addresses: Vec<String>,
    /// What the episode executed, in order.
    pub actions: Vec<Action>,
}

impl Facts {
    pub fn from_params(params: &[Param]) -> Result<Facts, String> {
        Ok(Facts {
            company_domain: require(params, "company_domain")?.to_lowercase(),
            competitor_domain: optional(params, "competitor_domain").map(str::to_lowercase),
            leak_addresses: optional(params, "leak_addresses")
                .map(list)
                .unwrap_or_default(),
            actions: ledger::from_facts(params)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_missing_required_fact_is_named() {
        let full = [("company_domain", "Talmont.example"), ("actions", "[]")];
        let facts = Facts::from_params(&Param::list(&full)).expect("complete");
        assert_eq!(facts.company_domain, "talmont.example");
        assert_eq!(facts.competitor_domain, None);
        assert!(facts.leak_addresses.is_empty() && facts.actions.is_empty());
        for missing in ["company_domain", "actions"] {
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
