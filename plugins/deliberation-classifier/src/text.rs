//! Text trimming and matching for prompts, explanations and evidence.

/// At most `max` characters of `text`, with an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Lowercase, with every run of whitespace made one space: the form in
/// which a judge's quote is looked for in the agent's words.
pub fn normalize(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The sentences of `text`, trimmed: a sentence ends at a line break, or
/// at `.`, `!` or `?` followed by whitespace or the end.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let (end, next) = match c {
            '\n' => (i, i + 1),
            '.' | '!' | '?' if chars.peek().is_none_or(|(_, n)| n.is_whitespace()) => {
                (i + 1, i + 1)
            }
            _ => continue,
        };
        let sentence = text[start..end].trim();
        if !sentence.is_empty() {
            out.push(sentence);
        }
        start = next;
    }
    let last = text[start..].trim();
    if !last.is_empty() {
        out.push(last);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_on_character_boundaries() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("exactly", 7), "exactly");
        assert_eq!(truncate("éléphant", 3), "élé...");
    }

    #[test]
    fn splits_sentences_at_stops_and_line_breaks() {
        assert_eq!(
            sentences("One. Two?! Three\n\nFour: 3.5 out of 5\nv1.2 works. End"),
            [
                "One.",
                "Two?!",
                "Three",
                "Four: 3.5 out of 5",
                "v1.2 works.",
                "End"
            ]
        );
        assert!(sentences(" \n ").is_empty());
    }

    #[test]
    fn normalizes_case_and_whitespace() {
        assert_eq!(normalize("  This IS\n\na   test. "), "this is a test.");
    }
}
