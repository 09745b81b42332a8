//! What no name or URL the host accepts may hold: a character that breaks
//! or rearranges a line where the name is shown. A CR or LF in a model name
//! forged a row of the results table; NUL cuts a C string; U+2028/U+2029
//! break lines in editors and browsers; a bidirectional override reorders
//! what follows it on the terminal.

/// The first character of `text` that no name may hold: a control
/// character (C0, DEL, C1: CR, LF, NUL, TAB, ESC, NEL among them), a line
/// or paragraph separator, or a bidirectional embedding, override or
/// isolate.
pub fn forbidden_char(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        c.is_control()
            || matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
            )
    })
}

/// The character as an error names it: `U+000D (a control character)`.
pub fn describe(c: char) -> String {
    let kind = match c {
        '\u{2028}' | '\u{2029}' => "a line break",
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => "a bidirectional override",
        _ => "a control character",
    };
    format!("U+{:04X} ({kind})", u32::from(c))
}

/// `Err` naming the character when `text` holds one no name may hold;
/// `what` says which name it is, for the error.
pub fn check(what: &str, text: &str) -> Result<(), ForbiddenChar> {
    match forbidden_char(text) {
        None => Ok(()),
        Some(c) => Err(ForbiddenChar {
            what: what.to_owned(),
            shown: text.escape_debug().to_string(),
            found: describe(c),
        }),
    }
}

/// A name or URL holding a character no name may hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{what} `{shown}` holds {found}: names and URLs may not hold control characters, line breaks or bidirectional overrides"
)]
pub struct ForbiddenChar {
    pub what: String,
    /// The text with the character escaped, so the error itself stays on
    /// one line.
    pub shown: String,
    pub found: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_and_controls_are_found() {
        for bad in [
            "a\rb",
            "a\nb",
            "a\0b",
            "a\tb",
            "a\u{1b}[2Jb",
            "a\u{85}b",
            "a\u{2028}b",
            "a\u{2029}b",
            "a\u{202E}b",
            "a\u{2066}b",
        ] {
            assert!(forbidden_char(bad).is_some(), "{bad:?}");
        }
        for good in [
            "openai/gpt-4.1",
            "together/meta-llama/Llama-3",
            "é-名前",
            "",
        ] {
            assert_eq!(forbidden_char(good), None, "{good:?}");
        }
        let e = check("model", "x\r\n| forged |").expect_err("refused");
        assert_eq!(
            e.to_string(),
            "model `x\\r\\n| forged |` holds U+000D (a control character): names and URLs may not hold control characters, line breaks or bidirectional overrides"
        );
    }
}
