//! The static layout every backend shares, so that any static file host can
//! serve a read-only mirror of a registry:
//!
//! ```text
//! config.json                          {"format": 1}
//! index/<namespace>/<name>.jsonl       one record a line (see `record`)
//! blobs/sha256/<first two hex>/<hex>   the component bytes
//! ```
//!
//! Paths are `/`-separated keys relative to the registry root, built only
//! from a `PackageName` and a `Checksum`, both validated: no raw input ever
//! becomes a path. The two-hex fan-out keeps directories small.

use serde::{Deserialize, Serialize};

use crate::checksum::Checksum;
use crate::name::PackageName;

/// The layout format this crate reads and writes.
pub const FORMAT: u32 = 1;

/// The registry's configuration, at the root.
pub const CONFIG: &str = "config.json";

/// `config.json`. Unknown fields are ignored, so a newer registry can add
/// some within one format; a newer `format` is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub format: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self { format: FORMAT }
    }
}

/// `index/<namespace>/<name>.jsonl`
pub fn index_path(name: &PackageName) -> String {
    format!("index/{}/{}.jsonl", name.namespace(), name.name())
}

/// `blobs/sha256/<first two hex>/<hex>`
pub fn blob_path(sha256: &Checksum) -> String {
    let hex = sha256.as_str();
    format!("blobs/sha256/{}/{hex}", &hex[..2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_come_from_validated_parts() {
        let name: PackageName = "crucible/blackmail-scenario".parse().expect("valid");
        assert_eq!(index_path(&name), "index/crucible/blackmail-scenario.jsonl");
        let sum = Checksum::of(b"abc");
        assert_eq!(
            blob_path(&sum),
            "blobs/sha256/ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn config_tolerates_unknown_fields() {
        let config: Config =
            serde_json::from_str(r#"{"format":1,"dl":"https://x"}"#).expect("tolerated");
        assert_eq!(config, Config::default());
        assert_eq!(
            serde_json::to_string(&Config::default()).expect("ser"),
            r#"{"format":1}"#
        );
    }
}
