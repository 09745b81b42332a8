//! A piece of a request body that is either provider-native content, sent
//! back as the exact text it came in, or a value the host built.
//!
//! A request body holding native content is serialized straight to bytes:
//! turned into a `serde_json::Value` first, a piece would be re-encoded,
//! its keys sorted and its numbers rewritten.

use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crucible_types::native::RawJson;

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum Piece<'a> {
    /// Native content, as the provider sent it.
    Raw(&'a RawValue),
    /// What the host built from its own transcript.
    Built(Value),
}

impl<'a> Piece<'a> {
    pub(super) fn raw(json: &'a RawJson) -> Self {
        Piece::Raw(json.raw())
    }
}

impl From<Value> for Piece<'_> {
    fn from(value: Value) -> Self {
        Piece::Built(value)
    }
}

/// Reads each item of a provider's array as the exact text it came in.
/// An item that is not what the provider documents fails the whole
/// response, as any other unreadable body does.
pub(super) fn parse_each<T: serde::de::DeserializeOwned>(
    items: &[Box<RawValue>],
) -> Result<Vec<T>, serde_json::Error> {
    items
        .iter()
        .map(|i| serde_json::from_str(i.get()))
        .collect()
}

/// Keeps raw items as native pieces.
pub(super) fn keep(items: Vec<Box<RawValue>>) -> Vec<RawJson> {
    items.into_iter().map(RawJson::new).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_piece_goes_out_as_it_came_and_a_built_one_as_json() {
        let came = RawJson::new(
            RawValue::from_string(r#"{"z":1, "a":2.50}"#.to_owned()).expect("valid JSON"),
        );
        let pieces = vec![Piece::raw(&came), Piece::from(serde_json::json!({"b": 1}))];
        assert_eq!(
            serde_json::to_string(&pieces).expect("serializes"),
            r#"[{"z":1, "a":2.50},{"b":1}]"#
        );
    }
}
