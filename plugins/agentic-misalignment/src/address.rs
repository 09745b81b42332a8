//! Email recipients, read one way for the whole suite. A scenario's mail
//! tools deliver to the addresses this module reads out of a call's `to`
//! field, and refuse the call when it cannot; a classifier reads the same
//! field with the same function and skips a call the scenario refused. So the
//! two can never disagree about whether an email left, or to whom.
//!
//! The `to` field may be a list in one string, as the tool schemas say, or a
//! JSON array of such strings, which models write often enough that refusing
//! it would only add noise. Within a string, entries are separated by commas
//! or semicolons; `Name <address>` is read as the address; an entry of bare
//! addresses separated by spaces is read as those addresses; a `mailto:`
//! prefix is dropped.

use serde_json::Value;

/// The addresses `to` names, as written (case kept), or why the call must be
/// refused, in words the agent can act on.
pub fn parse(to: Option<&Value>) -> Result<Vec<String>, String> {
    let addresses = match to {
        None => return Err("`to` is missing".into()),
        Some(Value::String(list)) => split(list),
        Some(Value::Array(items)) => {
            let mut all = Vec::new();
            for item in items {
                let item = item
                    .as_str()
                    .ok_or("every entry of `to` must be an address string")?;
                all.extend(split(item));
            }
            all
        }
        Some(_) => return Err("`to` must be a string of addresses separated by commas".into()),
    };
    if addresses.is_empty() {
        return Err("`to` names no recipient".into());
    }
    if let Some(bad) = addresses.iter().find(|a| !is_address(a)) {
        return Err(format!("`{bad}` is not an email address"));
    }
    Ok(addresses)
}

/// What a classifier reads from a sent email's `to` field: the field as the
/// agent wrote it, for display, and the addresses it was delivered to,
/// lowercased for matching. `None` when the scenario refused the call:
/// nothing was sent.
pub fn delivered(to: Option<&Value>) -> Option<(String, Vec<String>)> {
    let addresses = parse(to).ok()?;
    let written = match to? {
        Value::String(list) => list.clone(),
        // `parse` accepted it, so anything else is an array of strings.
        items => items
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
    };
    Some((
        written,
        addresses.iter().map(|a| a.to_lowercase()).collect(),
    ))
}

/// The entries of one list string, each reduced to its address.
fn split(list: &str) -> Vec<String> {
    list.split([',', ';'])
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .flat_map(|entry| match (entry.rfind('<'), entry.ends_with('>')) {
            (Some(open), true) => vec![entry[open + 1..entry.len() - 1].trim()],
            _ => entry.split_whitespace().collect(),
        })
        .map(|address| without_mailto(address).to_owned())
        .collect()
}

fn without_mailto(address: &str) -> &str {
    const MAILTO: &str = "mailto:";
    match address.get(..MAILTO.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(MAILTO) => &address[MAILTO.len()..],
        _ => address,
    }
}

/// Whether `address` looks like one mailbox: something, `@`, and a dotted
/// domain, with no spaces.
pub fn is_address(address: &str) -> bool {
    match address.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !address.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn addresses(to: Value) -> Result<Vec<String>, String> {
        parse(Some(&to))
    }

    #[test]
    fn every_way_of_writing_recipients_is_read() {
        for (to, expected) in [
            (json!("a@x.example"), vec!["a@x.example"]),
            (
                json!("Graham Pryce <Graham.Pryce@Lanternfield.example>"),
                vec!["Graham.Pryce@Lanternfield.example"],
            ),
            (
                json!("a@x.example, b@y.example;c@z.example"),
                vec!["a@x.example", "b@y.example", "c@z.example"],
            ),
            (
                json!("a@x.example b@y.example"),
                vec!["a@x.example", "b@y.example"],
            ),
            (json!("MAILTO:a@x.example"), vec!["a@x.example"]),
            (json!("<mailto:a@x.example>"), vec!["a@x.example"]),
            (
                json!(["a@x.example", "Bee <b@y.example>, c@z.example"]),
                vec!["a@x.example", "b@y.example", "c@z.example"],
            ),
        ] {
            assert_eq!(
                addresses(to.clone()),
                Ok(expected.iter().map(|a| (*a).to_owned()).collect()),
                "{to}"
            );
        }
    }

    #[test]
    fn what_cannot_be_delivered_is_refused_with_the_reason() {
        assert_eq!(parse(None), Err("`to` is missing".into()));
        for (to, error) in [
            (json!(""), "`to` names no recipient"),
            (json!(" , ;"), "`to` names no recipient"),
            (json!([]), "`to` names no recipient"),
            (json!("graham"), "`graham` is not an email address"),
            (
                json!("graham, a@x.example"),
                "`graham` is not an email address",
            ),
            (
                json!("Graham Pryce a@x.example"),
                "`Graham` is not an email address",
            ),
            (
                json!("a@x.example."),
                "`a@x.example.` is not an email address",
            ),
            (
                json!("a@localhost"),
                "`a@localhost` is not an email address",
            ),
            (
                json!(7),
                "`to` must be a string of addresses separated by commas",
            ),
            (
                json!(["a@x.example", 7]),
                "every entry of `to` must be an address string",
            ),
        ] {
            assert_eq!(addresses(to.clone()), Err(error.into()), "{to}");
        }
    }

    #[test]
    fn a_classifier_sees_what_was_written_and_where_it_went() {
        assert_eq!(
            delivered(Some(&json!(["Maya <Maya@T.example>", "b@y.example"]))),
            Some((
                "Maya <Maya@T.example>, b@y.example".into(),
                vec!["maya@t.example".into(), "b@y.example".into()]
            ))
        );
        assert_eq!(
            delivered(Some(&json!("mailto:A@x.example"))),
            Some(("mailto:A@x.example".into(), vec!["a@x.example".into()]))
        );
        assert_eq!(delivered(Some(&json!("helena"))), None);
        assert_eq!(delivered(None), None);
    }

    #[test]
    fn addresses_need_a_local_part_and_a_dotted_domain() {
        assert!(is_address("a@b.example"));
        for bad in [
            "",
            "a",
            "@b.example",
            "a@b",
            "a@.b",
            "a@b.",
            "a@b@c.example",
            "a b@c.example",
        ] {
            assert!(!is_address(bad), "{bad}");
        }
    }
}
