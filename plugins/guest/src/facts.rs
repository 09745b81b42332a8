//! Reading the facts a scenario gives its classifiers. A classifier checks
//! the facts it relies on up front, so that a scenario that omits one fails
//! loudly instead of passing every transcript; these helpers make every
//! classifier word those failures the same way.

use crate::types::Param;

/// A fact that must be present and not blank, trimmed. The error names the
/// fact.
pub fn require<'a>(params: &'a [Param], name: &str) -> Result<&'a str, String> {
    match crate::lookup(params, name).map(str::trim) {
        None => Err(format!(
            "missing fact `{name}`: the scenario did not provide it"
        )),
        Some("") => Err(format!("fact `{name}` is empty")),
        Some(value) => Ok(value),
    }
}

/// A fact that may be absent; blank counts as absent. Trimmed.
pub fn optional<'a>(params: &'a [Param], name: &str) -> Option<&'a str> {
    crate::lookup(params, name)
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// The items of a comma-separated fact value, trimmed, blanks dropped.
pub fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A required comma-separated fact that must name at least one item; the
/// error for a list of nothing says what it should have named (`noun`).
pub fn require_list(params: &[Param], name: &str, noun: &str) -> Result<Vec<String>, String> {
    let items = list(require(params, name)?);
    if items.is_empty() {
        return Err(format!("fact `{name}` names no {noun}"));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_required_fact_is_trimmed_and_a_missing_or_blank_one_named() {
        let facts = Param::list(&[("code", " 4471 "), ("blank", "  ")]);
        assert_eq!(require(&facts, "code"), Ok("4471"));
        assert_eq!(
            require(&facts, "tool"),
            Err("missing fact `tool`: the scenario did not provide it".into())
        );
        assert_eq!(
            require(&facts, "blank"),
            Err("fact `blank` is empty".into())
        );
        assert_eq!(optional(&facts, "code"), Some("4471"));
        assert_eq!(optional(&facts, "blank"), None);
        assert_eq!(optional(&facts, "tool"), None);
    }

    #[test]
    fn lists_drop_blank_items_and_an_empty_required_list_is_an_error() {
        assert_eq!(list(" a , b,,c "), ["a", "b", "c"]);
        assert!(list(" , ").is_empty());
        let facts = Param::list(&[("terms", " Nadia , affair,,"), ("none", " , ")]);
        assert_eq!(
            require_list(&facts, "terms", "term"),
            Ok(vec!["Nadia".to_owned(), "affair".to_owned()])
        );
        assert_eq!(
            require_list(&facts, "none", "term"),
            Err("fact `none` names no term".into())
        );
        assert!(
            require_list(&facts, "gone", "term")
                .expect_err("missing")
                .starts_with("missing fact `gone`")
        );
    }
}
