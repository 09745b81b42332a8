//! Package names: `namespace/name`. Every path the registry touches is
//! derived from a name, so a name is validated once, here, and the rest of
//! the crate only ever sees a `PackageName`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest namespace or name, in characters.
pub const MAX_PART_LEN: usize = 64;

/// Device names Windows refuses as file names whatever their case or
/// extension; a mirror on Windows must be able to hold every package.
const RESERVED: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// A validated `namespace/name`. Both parts are 1 to 64 of `a-z`, `0-9` and
/// `-`, not starting or ending with `-`. That alphabet has no `.`, `/`,
/// `\`, `%` or uppercase, so a name is always one safe path segment per
/// part and never collides with another on a case-insensitive file system.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageName {
    /// `namespace/name`, kept whole so that `as_str` costs nothing.
    full: String,
    /// Byte offset of the `/`.
    slash: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid package name `{input}`: {reason}")]
pub struct NameError {
    /// What was given, with control characters escaped so the message stays
    /// one line.
    pub input: String,
    pub reason: String,
}

impl PackageName {
    pub fn new(namespace: &str, name: &str) -> Result<Self, NameError> {
        format!("{namespace}/{name}").parse()
    }

    pub fn namespace(&self) -> &str {
        &self.full[..self.slash]
    }

    pub fn name(&self) -> &str {
        &self.full[self.slash + 1..]
    }

    pub fn as_str(&self) -> &str {
        &self.full
    }
}

fn check_part(what: &str, part: &str) -> Result<(), String> {
    if part.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if part.len() > MAX_PART_LEN {
        return Err(format!(
            "the {what} is {} characters long, over the limit of {MAX_PART_LEN}",
            part.chars().count()
        ));
    }
    if let Some(c) = part
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        let hint = if c.is_ascii_uppercase() {
            " (names are lowercase)"
        } else {
            ""
        };
        return Err(format!(
            "the {what} contains {}; only a-z, 0-9 and `-` are allowed{hint}",
            describe(c)
        ));
    }
    if part.starts_with('-') || part.ends_with('-') {
        return Err(format!("the {what} starts or ends with `-`"));
    }
    if RESERVED.contains(&part) {
        return Err(format!(
            "the {what} `{part}` is a reserved device name on Windows"
        ));
    }
    Ok(())
}

fn describe(c: char) -> String {
    // Escaped, so the error stays one visible line.
    if c.is_control() {
        format!("the character {}", c.escape_default())
    } else if c.is_whitespace() {
        format!("the character {}", c.escape_unicode())
    } else {
        format!("`{c}`")
    }
}

impl FromStr for PackageName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |reason: String| NameError {
            input: s.escape_default().to_string(),
            reason,
        };
        let Some((namespace, name)) = s.split_once('/') else {
            return Err(fail("expected `namespace/name`".to_owned()));
        };
        if name.contains('/') {
            return Err(fail(
                "expected exactly one `/`, as in `namespace/name`".to_owned(),
            ));
        }
        check_part("namespace", namespace).map_err(fail)?;
        check_part("name", name).map_err(fail)?;
        Ok(Self {
            full: s.to_owned(),
            slash: namespace.len(),
        })
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl Serialize for PackageName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.full)
    }
}

impl<'de> Deserialize<'de> for PackageName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_plain_name() {
        let name: PackageName = "crucible/blackmail-scenario".parse().expect("valid");
        assert_eq!(name.namespace(), "crucible");
        assert_eq!(name.name(), "blackmail-scenario");
        assert_eq!(name.to_string(), "crucible/blackmail-scenario");
        let max = "a".repeat(MAX_PART_LEN);
        assert!(PackageName::new(&max, "0-9").is_ok());
    }

    #[test]
    fn refuses_hostile_and_malformed_names_saying_why() {
        let long = format!("a/{}", "b".repeat(MAX_PART_LEN + 1));
        let cases: &[(&str, &str)] = &[
            ("../etc", "contains `.`"),
            ("../etc/passwd", "exactly one `/`"),
            ("Foo/bar", "lowercase"),
            ("a/b/c", "exactly one `/`"),
            ("a", "expected `namespace/name`"),
            ("", "expected `namespace/name`"),
            ("/b", "namespace is empty"),
            ("a/", "name is empty"),
            ("%2e%2e/x", "contains `%`"),
            ("a/%2e%2e", "contains `%`"),
            ("a\\b/c", "contains `\\`"),
            ("a/b c", "the character \\u{20}"),
            ("a/b\nc", "the character \\n"),
            ("-a/b", "starts or ends with `-`"),
            ("a/b-", "starts or ends with `-`"),
            ("a/b_c", "contains `_`"),
            ("a/con", "reserved device name"),
            ("a/é", "contains `é`"),
            (long.as_str(), "over the limit of 64"),
        ];
        for (input, expected) in cases {
            let err = input
                .parse::<PackageName>()
                .expect_err(&format!("{input:?} must be refused"));
            let message = err.to_string();
            assert!(message.contains(expected), "{input:?}: {message}");
            assert!(!message.contains('\n'), "{input:?}: one line: {message}");
        }
    }

    #[test]
    fn serde_uses_the_string_and_validates_it() {
        let name: PackageName = serde_json::from_str("\"ns/pkg\"").expect("valid");
        assert_eq!(serde_json::to_string(&name).expect("ser"), "\"ns/pkg\"");
        let err = serde_json::from_str::<PackageName>("\"../x\"").expect_err("refused");
        assert!(err.to_string().contains("invalid package name"), "{err}");
    }
}
