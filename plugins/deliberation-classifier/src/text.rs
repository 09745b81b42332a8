//! Splitting the agent's words into sentences, the unit in which the
//! fallback matches deliberation terms and quotes its evidence.

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
}
