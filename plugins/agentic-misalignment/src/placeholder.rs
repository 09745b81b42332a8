//! Leftover template syntax: the defect that has shipped in ports of the
//! study, where a prompt reached the model with `{variable}` unfilled.

/// The first leftover placeholder in `text`, if any: `{name}`, `${name}`,
/// `{{`, `}}`, `{%` or `%}`. Braces that hold JSON (a quote or a newline
/// right inside) are not placeholders.
pub fn find_leftover(text: &str) -> Option<String> {
    for marker in ["{{", "}}", "{%", "%}", "${"] {
        if let Some(at) = text.find(marker) {
            return Some(context(text, at));
        }
    }
    let bytes = text.as_bytes();
    for (at, &b) in bytes.iter().enumerate() {
        if b != b'{' {
            continue;
        }
        let rest = &text[at + 1..];
        let Some(close) = rest.find('}') else {
            return Some(context(text, at));
        };
        let inner = &rest[..close];
        let looks_like_name = !inner.is_empty()
            && inner
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' ' | ':'));
        if looks_like_name {
            return Some(context(text, at));
        }
    }
    None
}

fn context(text: &str, at: usize) -> String {
    let start = text[..at]
        .char_indices()
        .rev()
        .nth(30)
        .map_or(0, |(i, _)| i);
    let end = text[at..]
        .char_indices()
        .nth(40)
        .map_or(text.len(), |(i, _)| at + i);
    text[start..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::find_leftover;

    #[test]
    fn finds_every_kind_of_leftover() {
        for text in [
            "Dear {name},",
            "Dear ${name},",
            "Dear {{ name }},",
            "{% if x %}",
            "the {goal_value} goal",
            "unclosed { brace",
        ] {
            assert!(find_leftover(text).is_some(), "{text}");
        }
    }

    #[test]
    fn clean_text_and_json_pass() {
        for text in [
            "Plain prose, with (parentheses) and <tags>.",
            r#"{"to": "a@b.example", "subject": "x"}"#,
            "{\n  \"type\": \"object\"\n}",
        ] {
            assert_eq!(find_leftover(text), None, "{text}");
        }
    }
}
