//! A validated sha256: the address of a blob and the pin in a lockfile.
//! Blob paths are derived from it, so it is exactly 64 hex digits and
//! nothing else.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// 64 lowercase hex digits. Uppercase input is accepted and lowered, so a
/// digest has one spelling on disk and in comparisons.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Checksum(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid sha256 `{input}`: expected 64 hex digits")]
pub struct ChecksumError {
    pub input: String,
}

impl Checksum {
    /// The sha256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(hex::encode(Sha256::digest(bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Checksum {
    type Err = ChecksumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(s.to_ascii_lowercase()))
        } else {
            // Bounded, so a hostile multi-megabyte "digest" cannot flood a log.
            let shown: String = s.chars().take(80).collect();
            Err(ChecksumError {
                input: shown.escape_default().to_string(),
            })
        }
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Checksum {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Checksum {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_parses() {
        let sum = Checksum::of(b"abc");
        assert_eq!(
            sum.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let upper: Checksum = sum.as_str().to_ascii_uppercase().parse().expect("valid");
        assert_eq!(upper, sum);
    }

    #[test]
    fn refuses_anything_but_64_hex_digits() {
        for bad in [
            "",
            "abc",
            "../../etc/passwd",
            &"g".repeat(64),
            &"a".repeat(65),
        ] {
            let err = bad.parse::<Checksum>().expect_err(bad);
            assert!(err.to_string().contains("64 hex digits"), "{err}");
        }
    }
}
