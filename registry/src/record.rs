//! The index record format. A package's index file holds one JSON object a
//! line, one line per published version, oldest first; lines are only ever
//! appended, and the one edit ever made to a line is its `yanked` flag.
//!
//! Each record carries a format number `v`. A reader skips records whose
//! `v` it does not know and keeps fields it does not know, so a registry
//! can move ahead of its clients without breaking them: an older client
//! simply does not see versions published in a newer format.

use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

use semver::Version;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::checksum::Checksum;
use crate::name::PackageName;

/// The record format this crate reads and writes.
pub const RECORD_V1: u64 = 1;

/// The package every Crucible contract belongs to; a record's `contract`
/// is `crucible:plugin@VERSION`.
pub const CONTRACT_PACKAGE: &str = "crucible:plugin";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Scenario,
    Classifier,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Scenario => "scenario",
            Kind::Classifier => "classifier",
        })
    }
}

/// One published version, as a format-1 index line holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub name: PackageName,
    pub version: Version,
    pub kind: Kind,
    /// `crucible:plugin@VERSION`, the contract the component targets.
    pub contract: String,
    pub sha256: Checksum,
    /// Size of the component in bytes.
    pub size: u64,
    /// When the registry accepted the version, RFC 3339 in UTC. For people
    /// only: resolution never looks at it.
    pub published: String,
    /// Hidden from new resolution; still served to a lockfile that pins it.
    pub yanked: bool,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Fields this reader does not know, written by a newer registry within
    /// format 1. Kept so that rewriting the line (a yank) loses nothing.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Record {
    /// The record as one index line, `v` first, without the newline.
    pub fn to_line(&self) -> String {
        #[derive(Serialize)]
        struct Line<'a> {
            v: u64,
            #[serde(flatten)]
            record: &'a Record,
        }
        let mut record = self.clone();
        // `v` is written here, once; a stray copy in `extra` would make the
        // key appear twice.
        record.extra.remove("v");
        serde_json::to_string(&Line {
            v: RECORD_V1,
            record: &record,
        })
        // Every field is a string, number, bool or JSON value with string
        // keys: serialization cannot fail.
        .unwrap_or_else(|e| unreachable!("a record always serializes: {e}"))
    }
}

/// The contract version in `crucible:plugin@VERSION`, if that is the form.
pub fn contract_version(contract: &str) -> Option<Version> {
    let version = contract.strip_prefix(CONTRACT_PACKAGE)?.strip_prefix('@')?;
    Version::parse(version).ok()
}

/// Now, as a record's `published` field.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Whether two versions are the same release. Build metadata does not make
/// a new version (as on crates.io): `1.0.0+a` and `1.0.0+b` cannot both be
/// published, or a lockfile pin would be ambiguous.
pub fn same_release(a: &Version, b: &Version) -> bool {
    a.major == b.major && a.minor == b.minor && a.patch == b.patch && a.pre == b.pre
}

/// A line of an index file that is not blank.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexLine {
    /// 1-based line number in the file as read.
    pub number: usize,
    /// The line exactly as read, without its newline; written back verbatim.
    pub raw: String,
    pub entry: Entry,
}

// Nearly every line is `Known`: boxing it would cost an allocation a line
// to save space on the rare other kind.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Known(Record),
    /// A record in a format newer than this reader: skipped. Its version,
    /// when it has a readable one, still counts as taken for publishing.
    Unknown {
        v: u64,
        version: Option<Version>,
    },
}

/// A package's index file, parsed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IndexFile {
    pub lines: Vec<IndexLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct RecordError {
    /// The index file, as a path or URL.
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl IndexFile {
    /// Parses the index file of `name`. `file` names it in errors.
    pub fn parse(file: &str, name: &PackageName, text: &str) -> Result<Self, RecordError> {
        let mut index = IndexFile::default();
        for (i, raw) in text.lines().enumerate() {
            let number = i + 1;
            if raw.trim().is_empty() {
                continue;
            }
            let fail = |message: String| RecordError {
                file: file.to_owned(),
                line: number,
                message,
            };
            let entry = parse_line(raw, name).map_err(fail)?;
            let version = match &entry {
                Entry::Known(record) => Some(&record.version),
                Entry::Unknown { version, .. } => version.as_ref(),
            };
            // Two lines for one version would make a pin ambiguous and mean
            // the file was edited by hand or tampered with.
            if let Some(version) = version
                && let Some(first) = index.line_for(version)
            {
                return Err(fail(format!(
                    "{name}@{version} appears again (first on line {})",
                    first.number
                )));
            }
            index.lines.push(IndexLine {
                number,
                raw: raw.to_owned(),
                entry,
            });
        }
        Ok(index)
    }

    /// The records this reader understands, in file order.
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.lines.iter().filter_map(|line| match &line.entry {
            Entry::Known(record) => Some(record),
            Entry::Unknown { .. } => None,
        })
    }

    /// The line holding `version` (build metadata ignored), in any format.
    pub fn line_for(&self, version: &Version) -> Option<&IndexLine> {
        self.position(version).map(|i| &self.lines[i])
    }

    /// Where in `lines` the line holding `version` is.
    pub fn position(&self, version: &Version) -> Option<usize> {
        self.lines.iter().position(|line| match &line.entry {
            Entry::Known(record) => same_release(&record.version, version),
            Entry::Unknown { version: v, .. } => {
                v.as_ref().is_some_and(|v| same_release(v, version))
            }
        })
    }

    /// The file's text: every line verbatim, each ending in a newline.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        for line in &self.lines {
            text.push_str(&line.raw);
            text.push('\n');
        }
        text
    }
}

fn parse_line(raw: &str, name: &PackageName) -> Result<Entry, String> {
    let value: Value = serde_json::from_str(raw).map_err(|e| format!("not a JSON record: {e}"))?;
    let Value::Object(object) = &value else {
        return Err("not a JSON object".to_owned());
    };
    let v = match object.get("v") {
        None => return Err("the record has no `v` (format number)".to_owned()),
        Some(v) => v
            .as_u64()
            .filter(|v| *v >= 1)
            .ok_or_else(|| format!("`v` is {v}, not a format number (1 or more)"))?,
    };
    if v != RECORD_V1 {
        let version = object
            .get("version")
            .and_then(Value::as_str)
            .and_then(|s| Version::parse(s).ok());
        return Ok(Entry::Unknown { v, version });
    }
    let mut record: Record =
        serde_json::from_value(value).map_err(|e| format!("malformed record: {e}"))?;
    record.extra.remove("v");
    if record.name != *name {
        return Err(format!(
            "the record is for `{}`, but this is the index of `{name}`",
            record.name
        ));
    }
    if contract_version(&record.contract).is_none() {
        return Err(format!(
            "{name}@{}: contract `{}` is not `{CONTRACT_PACKAGE}@VERSION`",
            record.version, record.contract
        ));
    }
    Ok(Entry::Known(record))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name() -> PackageName {
        "ns/pkg".parse().expect("valid")
    }

    fn line(version: &str) -> String {
        format!(
            r#"{{"v":1,"name":"ns/pkg","version":"{version}","kind":"scenario","contract":"crucible:plugin@0.1.0","sha256":"{}","size":3,"published":"2026-01-01T00:00:00Z","yanked":false,"description":"d"}}"#,
            Checksum::of(b"abc")
        )
    }

    #[test]
    fn a_record_round_trips_byte_for_byte() {
        let text = format!("{}\n", line("1.0.0"));
        let index = IndexFile::parse("f", &name(), &text).expect("valid");
        let record = index.records().next().expect("one record");
        assert_eq!(record.to_line(), line("1.0.0"));
        assert_eq!(index.to_text(), text);
    }

    #[test]
    fn skips_unknown_formats_and_keeps_unknown_fields() {
        let future = r#"{"v":2,"name":"ns/pkg","version":"2.0.0","something":"new"}"#;
        let extra = line("1.1.0").replacen(r#""v":1,"#, r#""v":1,"mirror":{"x":[1]},"#, 1);
        let text = format!("{}\n{future}\n\n{extra}\n", line("1.0.0"));
        let index = IndexFile::parse("f", &name(), &text).expect("tolerated");
        let versions: Vec<String> = index.records().map(|r| r.version.to_string()).collect();
        assert_eq!(versions, ["1.0.0", "1.1.0"]);
        let with_extra = index.records().nth(1).expect("second");
        assert_eq!(with_extra.extra.len(), 1, "{:?}", with_extra.extra);
        assert!(with_extra.to_line().contains(r#""mirror":{"x":[1]}"#));
        // The future line is kept verbatim and its version counts as taken.
        assert!(index.to_text().contains(future));
        let taken = index.line_for(&"2.0.0".parse().expect("v")).expect("taken");
        assert_eq!(taken.number, 2);
    }

    #[test]
    fn a_malformed_line_names_the_file_and_line() {
        let cases = [
            ("{not json", "not a JSON record"),
            ("[1]", "not a JSON object"),
            (r#"{"name":"ns/pkg"}"#, "no `v`"),
            (r#"{"v":"one"}"#, "not a format number"),
            (r#"{"v":1,"name":"ns/pkg"}"#, "malformed record"),
        ];
        for (bad, expected) in cases {
            let text = format!("{}\n{bad}\n", line("1.0.0"));
            let err = IndexFile::parse("index/ns/pkg.jsonl", &name(), &text).expect_err(bad);
            let message = err.to_string();
            assert!(message.starts_with("index/ns/pkg.jsonl:2: "), "{message}");
            assert!(message.contains(expected), "{message}");
        }
        let other = line("1.0.0").replace("ns/pkg", "ns/other");
        let err = IndexFile::parse("f", &name(), &other).expect_err("wrong name");
        assert!(err.to_string().contains("index of `ns/pkg`"), "{err}");
        let bad_contract = line("1.0.0").replace("crucible:plugin@0.1.0", "wasi:cli@1");
        let err = IndexFile::parse("f", &name(), &bad_contract).expect_err("contract");
        assert!(err.to_string().contains("wasi:cli@1"), "{err}");
    }

    #[test]
    fn a_version_twice_is_an_error_even_with_other_build_metadata() {
        let text = format!("{}\n{}\n", line("1.0.0+a"), line("1.0.0+b"));
        let err = IndexFile::parse("f", &name(), &text).expect_err("duplicate");
        assert_eq!(
            err.to_string(),
            "f:2: ns/pkg@1.0.0+b appears again (first on line 1)"
        );
    }

    #[test]
    fn contract_versions() {
        assert_eq!(
            contract_version("crucible:plugin@0.1.0"),
            Some(Version::new(0, 1, 0))
        );
        assert_eq!(contract_version("crucible:plugin0.1.0"), None);
        assert_eq!(contract_version("crucible:plugin@x"), None);
    }
}
