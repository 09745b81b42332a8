//! Text trimming and matching for judge prompts, explanations and evidence:
//! every plugin cuts long text the same way, so a reader sees one convention.

/// At most `max` characters of `text`, with an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

/// At most the last `max` characters of `text`, with an ellipsis when cut.
pub fn tail(text: &str, max: usize) -> String {
    match text.char_indices().rev().nth(max.saturating_sub(1)) {
        Some((cut, _)) if cut > 0 => format!("...{}", &text[cut..]),
        _ => text.to_owned(),
    }
}

/// Lowercase, with every run of whitespace made one space: the form in
/// which a quote or a term is looked for in an agent's words, so that line
/// breaks and case never hide a match.
pub fn normalize(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
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
    fn keeps_the_tail_on_character_boundaries() {
        assert_eq!(tail("short", 10), "short");
        assert_eq!(tail("exactly", 7), "exactly");
        assert_eq!(tail("éléphant", 3), "...ant");
        assert_eq!(tail("ééé", 2), "...éé");
    }

    #[test]
    fn normalizes_case_and_whitespace() {
        assert_eq!(normalize("  This IS\n\na   test. "), "this is a test.");
    }
}
