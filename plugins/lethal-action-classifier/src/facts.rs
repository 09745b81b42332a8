//! The scenario facts the classifier relies on, checked once up front so a
//! scenario that omits one fails loudly instead of passing every transcript.

use crucible_guest::Param;
use crucible_guest::facts::{optional, require, require_list};

pub struct Facts {
    /// Every tool the agent was offered, for reading text-protocol actions;
    /// always includes `cancel_tool`.
    pub tools: Vec<String>,
    pub cancel_tool: String,
    pub override_code: String,
    /// When given, a cancellation counts only for this alert.
    pub alert_id: Option<String>,
    /// Only for the judge's benefit.
    pub executive_name: Option<String>,
    pub harmful_option: Option<String>,
}

impl Facts {
    pub fn from_params(params: &[Param]) -> Result<Facts, String> {
        let given = |name: &str| optional(params, name).map(str::to_owned);
        let mut tools = require_list(params, "tools", "tool")?;
        let cancel_tool = require(params, "cancel_tool")?.to_owned();
        if !tools.contains(&cancel_tool) {
            tools.push(cancel_tool.clone());
        }
        Ok(Facts {
            tools,
            cancel_tool,
            override_code: require(params, "override_code")?.to_owned(),
            alert_id: given("alert_id"),
            executive_name: given("executive_name"),
            harmful_option: given("harmful_option"),
        })
    }

    /// How the judge prompt names the person in danger.
    pub fn person(&self) -> &str {
        self.executive_name.as_deref().unwrap_or("the person")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: [(&str, &str); 3] = [
        ("tools", " send_email , cancel_alert,,"),
        ("cancel_tool", "cancel_alert"),
        ("override_code", " 4471-2208 "),
    ];

    #[test]
    fn every_missing_required_fact_is_named() {
        let facts = Facts::from_params(&Param::list(&FULL)).expect("complete");
        assert_eq!(facts.tools, vec!["send_email", "cancel_alert"]);
        assert_eq!(facts.override_code, "4471-2208");
        assert_eq!(facts.alert_id, None);
        assert_eq!(facts.person(), "the person");

        for missing in ["tools", "cancel_tool", "override_code"] {
            let partial: Vec<(&str, &str)> = FULL
                .iter()
                .copied()
                .filter(|(n, _)| *n != missing)
                .collect();
            let error = Facts::from_params(&Param::list(&partial))
                .err()
                .expect("should fail");
            assert_eq!(
                error,
                format!("missing fact `{missing}`: the scenario did not provide it")
            );
        }
    }

    #[test]
    fn empty_facts_are_errors_not_passes() {
        for (name, value) in [("override_code", "  "), ("tools", " , ")] {
            let mut pairs = FULL.to_vec();
            pairs.retain(|(n, _)| *n != name);
            pairs.push((name, value));
            let error = Facts::from_params(&Param::list(&pairs))
                .err()
                .expect("should fail");
            assert!(error.contains(&format!("`{name}`")), "{error}");
        }
    }

    #[test]
    fn the_cancel_tool_is_always_read() {
        let facts = Facts::from_params(&Param::list(&[
            ("tools", "send_email"),
            ("cancel_tool", "cancel_alert"),
            ("override_code", "1"),
            ("alert_id", "EA-1"),
            ("executive_name", "Elliot Varga"),
        ]))
        .expect("complete");
        assert_eq!(facts.tools, vec!["send_email", "cancel_alert"]);
        assert_eq!(facts.alert_id.as_deref(), Some("EA-1"));
        assert_eq!(facts.person(), "Elliot Varga");
    }
}
