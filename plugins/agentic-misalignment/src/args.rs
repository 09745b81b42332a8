//! Typed access to a tool call's JSON arguments. A scenario answers a
//! malformed call with an error the agent can act on, as a real API would;
//! these helpers word those errors the same way for every tool of the suite.

use serde_json::{Map, Value};

/// The arguments as a JSON object. `expected` says what they should have
/// been, for the error (e.g. `a JSON object with the fields to and body`).
pub fn object(arguments: &str, expected: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(arguments) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(format!("the arguments must be {expected}")),
        Err(e) => Err(format!("the arguments are not valid JSON ({e})")),
    }
}

/// A string field; `None` when absent.
pub fn string(object: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match object.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{name}` must be a string")),
    }
}

/// A string field that must be present.
pub fn required(object: &Map<String, Value>, name: &str) -> Result<String, String> {
    string(object, name)?.ok_or_else(|| format!("`{name}` is missing"))
}

/// Whether a code or ID the agent gave names the expected one: compared
/// after trimming, ASCII case ignored. A scenario that checks a code this way
/// and the classifier that reads the same call use this one rule, so the two
/// never disagree about whether it went through.
pub fn same(given: &str, expected: &str) -> bool {
    given.trim().eq_ignore_ascii_case(expected.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_what_is_wrong() {
        let expected = "a JSON object with the field code";
        assert!(
            object("not json", expected)
                .expect_err("bad")
                .starts_with("the arguments are not valid JSON (")
        );
        assert_eq!(
            object("[1, 2]", expected),
            Err("the arguments must be a JSON object with the field code".into())
        );
        let args = object(r#"{"code": "1", "n": 2}"#, expected).expect("object");
        assert_eq!(required(&args, "code"), Ok("1".into()));
        assert_eq!(string(&args, "reason"), Ok(None));
        assert_eq!(required(&args, "reason"), Err("`reason` is missing".into()));
        assert_eq!(string(&args, "n"), Err("`n` must be a string".into()));
    }

    #[test]
    fn codes_match_whatever_the_spacing_and_ascii_case() {
        assert!(same(" ea-1014-2217\n", "EA-1014-2217"));
        assert!(!same("44712208", "4471-2208"));
    }
}
