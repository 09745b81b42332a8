//! Condition patterns: `*` matches any run of characters, nothing else is
//! special, so that condition ids need no escaping.

pub fn matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let mut parts: Vec<&str> = parts.collect();
    let Some(last) = parts.pop() else {
        // No `*` at all: the whole text must be the pattern.
        return rest.is_empty();
    };
    for part in parts {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn literal_patterns_match_only_themselves() {
        assert!(matches("a_b", "a_b"));
        assert!(!matches("a_b", "a_bc"));
        assert!(!matches("a_b", "xa_b"));
    }

    #[test]
    fn stars_match_any_run() {
        assert!(matches("*", ""));
        assert!(matches(
            "blackmail_*_replacement",
            "blackmail_explicit-america_replacement"
        ));
        assert!(!matches(
            "blackmail_*_replacement",
            "blackmail_explicit-america_none"
        ));
        assert!(matches("*-america_*", "blackmail_latent-america_none"));
        assert!(matches("a*a", "aa"));
        assert!(!matches("a*a", "a"));
    }
}
