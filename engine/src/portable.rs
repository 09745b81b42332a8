//! What a shared record may say of a path: never an absolute path of the
//! machine it was made on. A run's store, and any bundle made from it,
//! keeps a relative path as written, and an absolute one (or a
//! `file://` URL of one) by its file name alone.

use std::borrow::Cow;

/// `text` with an absolute path in it (alone, as a `file:` URL, or after a
/// lockfile's `registry+` / `path+` kind) cut down to its file name.
pub fn path(text: &str) -> Cow<'_, str> {
    let (kind, rest) = match text.split_once('+') {
        Some((kind, rest)) if matches!(kind, "registry" | "path") => (Some(kind), rest),
        _ => (None, text),
    };
    let (scheme, location) = if let Some(rest) = rest.strip_prefix("file://") {
        ("file://", rest)
    } else if let Some(rest) = rest.strip_prefix("file:") {
        ("file:", rest)
    } else {
        ("", rest)
    };
    if !is_absolute(location) {
        return Cow::Borrowed(text);
    }
    // Split by hand: a Windows path is still cut where `Path` would not.
    let name = location
        .trim_end_matches(['/', '\\'])
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let scheme = if scheme == "file://" { "file:" } else { scheme };
    Cow::Owned(match kind {
        Some(kind) => format!("{kind}+{scheme}{name}"),
        None => format!("{scheme}{name}"),
    })
}

fn is_absolute(location: &str) -> bool {
    let bytes = location.as_bytes();
    location.starts_with('/')
        || location.starts_with('\\')
        // `C:\...` or `C:/...`
        || (bytes.len() > 2
            && bytes[0].is_ascii_alphabetic()
            && bytes[1] == b':'
            && matches!(bytes[2], b'\\' | b'/'))
}

/// A TOML document (a suite manifest, a lockfile) with every absolute path
/// in its string values cut down by `path`. The text is kept as written
/// unless it holds one; then it is written anew (comments are lost).
pub fn toml(text: &str) -> Cow<'_, str> {
    let Ok(mut document) = text.parse::<toml::Table>() else {
        return Cow::Borrowed(text);
    };
    if !scrub_table(&mut document) {
        return Cow::Borrowed(text);
    }
    match toml::to_string(&document) {
        Ok(written) => Cow::Owned(written),
        Err(_) => Cow::Borrowed(text),
    }
}

fn scrub_table(table: &mut toml::Table) -> bool {
    let mut changed = false;
    for (_, value) in table.iter_mut() {
        changed |= scrub(value);
    }
    changed
}

fn scrub(value: &mut toml::Value) -> bool {
    match value {
        toml::Value::String(text) => match path(text) {
            Cow::Owned(portable) => {
                *text = portable;
                true
            }
            Cow::Borrowed(_) => false,
        },
        toml::Value::Array(items) => items.iter_mut().fold(false, |c, v| scrub(v) | c),
        toml::Value::Table(table) => scrub_table(table),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_paths_keep_only_their_file_name() {
        assert_eq!(path("/home/ada/suites/x.wasm"), "x.wasm");
        assert_eq!(path("C:\\Users\\ada\\x.wasm"), "x.wasm");
        assert_eq!(path("file:///home/ada/registry"), "file:registry");
        assert_eq!(
            path("registry+file:/home/ada/registry"),
            "registry+file:registry"
        );
        assert_eq!(path("path+file:///srv/x.wasm"), "path+file:x.wasm");
    }

    #[test]
    fn everything_else_is_kept_as_written() {
        for kept in [
            "registry",
            "../target/x.wasm",
            "registry+file:registry",
            "agentic-misalignment/blackmail@0.2.0",
            "https://registry.example/index",
            "openai/gpt-4.1",
            "",
        ] {
            assert!(matches!(path(kept), Cow::Borrowed(_)), "{kept}");
        }
    }

    #[test]
    fn a_manifest_without_absolute_paths_is_kept_byte_for_byte() {
        let text = "# a comment\n[suite]\nname = \"x\"\nregistry = \"registry\"\n";
        assert!(matches!(toml(text), Cow::Borrowed(_)));
    }

    #[test]
    fn a_manifest_with_absolute_paths_loses_them_everywhere() {
        let text = "[suite]\nname = \"x\"\nregistry = \"/home/ada/reg\"\n\n\
                    [scenarios.s]\ncomponent = \"/home/ada/s.wasm\"\nclassifiers = [\"c\"]\n";
        let portable = toml(text);
        assert!(!portable.contains("/home/ada"), "{portable}");
        assert!(portable.contains("\"s.wasm\""), "{portable}");
        assert!(portable.contains("\"reg\""), "{portable}");
    }
}
