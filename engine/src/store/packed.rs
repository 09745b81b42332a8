//! A finished sample's bulky columns (`transcript`, `facts`, `logs`) in
//! the two layouts a store may hold.
//!
//! - Plain (stores begun before the compact layout): each column is its
//!   JSON as TEXT.
//! - Compact (stores whose `meta` has `store_layout = compact-1`): the
//!   three are NULL and `packed` holds them, as one zlib stream (see
//!   `codec`) of the transcript after its opening, the facts, the logs and
//!   the verdicts' `explanation`, `evidence` and `judge` (NULL in
//!   `verdicts`), each as JSON, joined by line breaks (which JSON text
//!   never holds unescaped). A verdict's explanation quotes the judge's
//!   answer in the logs, its evidence quotes the transcript, and its judge
//!   settings repeat the run's: packed beside them they cost a few bytes. The stream is packed against a dictionary of two blobs
//!   (see `blobs`), named by the row: `reference`, the first sample its
//!   writer stored for the scenario (its judge prompts, log records and
//!   facts share most of their words with every other sample's), then
//!   `opening`, the messages before the agent's first reply, which every
//!   sample of a condition shares and its judge prompts quote. The opening
//!   goes back in front of the transcript when read.
//!
//! A column that is not NULL reads as plain JSON whatever the layout, so a
//! row edited by hand still reads. A store keeps the layout it began with:
//! a run resumed by this host stays readable by the host that began it.
//! `usage` is plain JSON in both, as reports sum it over every sample.

use std::collections::{HashMap, HashSet};

use rusqlite::Connection;

use super::blobs::{self, Blob, BlobCache, BlobError};
use super::codec::{self, CodecError};
use serde_json::value::RawValue;

use crate::record::{SampleRecord, VerdictRecord};
use crate::transcript::{Message, Role};

/// The `meta` key naming a store's layout, and the compact layout's name.
pub const LAYOUT_KEY: &str = "store_layout";
pub const COMPACT: &str = "compact-1";

/// The packed parts, in order: the transcript after its opening, facts,
/// logs, verdict details.
const PARTS: usize = 4;

/// Why a sample's stored columns could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PackedError {
    #[error("its opening: {0}")]
    Opening(BlobError),
    #[error("its reference sample: {0}")]
    Reference(BlobError),
    #[error("its packed columns: {0}")]
    Codec(#[from] CodecError),
    #[error("its packed columns hold {0} parts where {PARTS} are expected")]
    Parts(usize),
    #[error("its packed verdicts: {0}")]
    Details(serde_json::Error),
    #[error("its opening and the rest of its transcript do not join as JSON arrays")]
    Unjoinable,
}

/// A finished sample's columns, ready to store.
#[derive(Debug, Default)]
pub struct Columns {
    pub transcript: Option<String>,
    pub facts: Option<String>,
    pub logs: Option<String>,
    pub packed: Option<Vec<u8>>,
    /// The sha256 in `blobs` of the opening and of the reference sample.
    pub opening: Option<String>,
    pub reference: Option<String>,
    /// The verdicts' explanation, evidence and judge columns, as `verdicts`
    /// holds them: NULL when `packed` holds them.
    pub verdicts: Vec<VerdictDetail>,
}

/// A verdict's bulky columns, each the column's text (the evidence and the
/// judge settings as JSON), or NULL.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VerdictDetail {
    pub explanation: Option<String>,
    pub evidence: Option<String>,
    pub judge: Option<String>,
}

impl VerdictDetail {
    /// The columns of one of a sample's verdicts.
    fn of(verdict: &VerdictRecord) -> Self {
        let ok = verdict.outcome.as_ref().ok();
        Self {
            explanation: ok.map(|v| v.explanation.clone()),
            evidence: ok.map(|v| json(&v.evidence)),
            judge: (!verdict.judge.is_empty()).then(|| json(&verdict.judge)),
        }
    }

    /// Each column this one lacks (NULL), from `packed`.
    pub fn or(self, packed: Option<&VerdictDetail>) -> Self {
        let Some(packed) = packed else {
            return self;
        };
        Self {
            explanation: self.explanation.or_else(|| packed.explanation.clone()),
            evidence: self.evidence.or_else(|| packed.evidence.clone()),
            judge: self.judge.or_else(|| packed.judge.clone()),
        }
    }
}

/// A verdict's details as the packed part holds them: JSON values, not
/// JSON text quoted in JSON.
#[derive(serde::Serialize, serde::Deserialize)]
struct PackedDetail<'a> {
    #[serde(borrow)]
    explanation: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    evidence: Option<&'a RawValue>,
    #[serde(borrow)]
    judge: Option<&'a RawValue>,
}

/// The packed part holding `details`.
fn pack_details(details: &[VerdictDetail]) -> String {
    fn raw(text: &Option<String>) -> Option<&RawValue> {
        text.as_deref()
            .and_then(|t| serde_json::from_str::<&RawValue>(t).ok())
    }
    let packed: Vec<PackedDetail<'_>> = details
        .iter()
        .map(|d| PackedDetail {
            explanation: d.explanation.as_deref().map(Into::into),
            evidence: raw(&d.evidence),
            judge: raw(&d.judge),
        })
        .collect();
    json(&packed)
}

/// The details a packed part holds.
fn unpack_details(part: &str) -> Result<Vec<VerdictDetail>, PackedError> {
    let packed: Vec<PackedDetail<'_>> = serde_json::from_str(part).map_err(PackedError::Details)?;
    Ok(packed
        .into_iter()
        .map(|d| VerdictDetail {
            explanation: d.explanation.map(|e| e.into_owned()),
            evidence: d.evidence.map(|e| e.get().to_owned()),
            judge: d.judge.map(|j| j.get().to_owned()),
        })
        .collect())
}

/// A compact store's writer's memory between samples: per scenario, its
/// reference sample and the first opening (the base the others are packed
/// against). Forgotten whenever a write fails, as its blobs may not have
/// been committed; the next sample then stores them anew.
#[derive(Debug, Default)]
pub struct Anchors {
    scenarios: HashMap<String, Anchor>,
    openings: HashSet<String>,
}

#[derive(Debug)]
struct Anchor {
    reference: Blob,
    opening_base: Option<Blob>,
}

/// How many of a transcript's first messages are its opening: those
/// before the agent's first reply (all of them if it never replied).
fn opening_len(transcript: &[Message]) -> usize {
    transcript
        .iter()
        .position(|m| m.role == Role::Assistant)
        .unwrap_or(transcript.len())
}

/// The columns of `record` in the plain layout.
pub fn plain(record: &SampleRecord) -> Columns {
    Columns {
        transcript: Some(json(&record.transcript)),
        facts: Some(json(&record.facts)),
        logs: Some(json(&record.logs)),
        verdicts: record.verdicts.iter().map(VerdictDetail::of).collect(),
        ..Columns::default()
    }
}

/// The columns of `record`, a sample of `scenario`, in the compact layout,
/// storing the blobs they name that `anchors` does not know of.
pub fn compact(
    conn: &Connection,
    scenario: &str,
    record: &SampleRecord,
    anchors: &mut Anchors,
) -> Result<Columns, rusqlite::Error> {
    let (opening, rest) = record.transcript.split_at(opening_len(&record.transcript));
    let opening = (!opening.is_empty()).then(|| Blob::new(json(&opening)));
    let details: Vec<VerdictDetail> = record.verdicts.iter().map(VerdictDetail::of).collect();
    let body = [
        json(&rest),
        json(&record.facts),
        json(&record.logs),
        pack_details(&details),
    ]
    .join("\n");

    if !anchors.scenarios.contains_key(scenario) {
        let reference = Blob::new(body.clone());
        blobs::put(conn, &reference, None)?;
        anchors.scenarios.insert(
            scenario.to_owned(),
            Anchor {
                reference,
                opening_base: None,
            },
        );
    }
    let Some(anchor) = anchors.scenarios.get_mut(scenario) else {
        return Ok(plain(record));
    };
    if let Some(opening) = &opening
        && !anchors.openings.contains(&opening.sha256)
    {
        match &anchor.opening_base {
            None => {
                blobs::put(conn, opening, None)?;
                anchor.opening_base = Some(opening.clone());
            }
            Some(base) => blobs::put(conn, opening, Some(base))?,
        }
        anchors.openings.insert(opening.sha256.clone());
    }

    let mut dictionary = anchor.reference.text.clone();
    if let Some(opening) = &opening {
        dictionary.push_str(&opening.text);
    }
    let Some(packed) = codec::pack_text(&body, dictionary.as_bytes()) else {
        return Ok(plain(record));
    };
    Ok(Columns {
        packed: Some(packed),
        opening: opening.map(|o| o.sha256),
        reference: Some(anchor.reference.sha256.clone()),
        verdicts: vec![VerdictDetail::default(); details.len()],
        ..Columns::default()
    })
}

/// Serializing these types cannot fail (no maps with non-string keys), so
/// an empty string would only mark a bug.
fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The columns `read` takes, in its order, for a store that has the
/// compact layout's columns (`has_compact_columns`) or not.
pub fn select_list(compact_columns: bool) -> &'static str {
    if compact_columns {
        "transcript, facts, logs, packed, opening, reference"
    } else {
        "transcript, facts, logs, NULL, NULL, NULL"
    }
}

/// Whether the store's `samples` has the compact layout's columns: a store
/// from before them opened read-only has not.
pub fn has_compact_columns(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT COUNT(*) > 0 FROM pragma_table_info('samples') WHERE name = 'packed'",
        [],
        |r| r.get(0),
    )
}

/// A sample's columns as stored, from the `select_list` at `first`.
#[derive(Debug)]
pub struct Stored {
    transcript: Option<String>,
    facts: Option<String>,
    logs: Option<String>,
    packed: Option<Vec<u8>>,
    opening: Option<String>,
    reference: Option<String>,
}

impl Stored {
    pub fn from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            transcript: row.get(first)?,
            facts: row.get(first + 1)?,
            logs: row.get(first + 2)?,
            packed: row.get(first + 3)?,
            opening: row.get(first + 4)?,
            reference: row.get(first + 5)?,
        })
    }
}

/// A sample's transcript, facts and logs as JSON, whichever layout, and
/// its verdicts' details if packed (else their own columns hold them).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Texts {
    pub transcript: Option<String>,
    pub facts: Option<String>,
    pub logs: Option<String>,
    pub verdicts: Vec<VerdictDetail>,
}

/// Reads a sample's columns back, its blobs through `blobs`.
pub fn read(stored: Stored, blobs: &mut BlobCache<'_>) -> Result<Texts, PackedError> {
    let Some(packed) = stored.packed else {
        return Ok(Texts {
            transcript: stored.transcript,
            facts: stored.facts,
            logs: stored.logs,
            verdicts: Vec::new(),
        });
    };
    let mut dictionary = String::new();
    if let Some(reference) = &stored.reference {
        dictionary.push_str(blobs.get(reference).map_err(PackedError::Reference)?);
    }
    let opening = match &stored.opening {
        Some(sha256) => Some(blobs.get(sha256).map_err(PackedError::Opening)?.to_owned()),
        None => None,
    };
    if let Some(opening) = &opening {
        dictionary.push_str(opening);
    }
    let body = codec::unpack_text(&packed, dictionary.as_bytes())?;
    let parts: Vec<&str> = body.split('\n').collect();
    let [rest, facts, logs, details] = parts[..] else {
        return Err(PackedError::Parts(parts.len()));
    };
    let transcript = match stored.transcript {
        Some(edited) => edited,
        None => join(opening.as_deref(), rest)?,
    };
    Ok(Texts {
        transcript: Some(transcript),
        facts: Some(stored.facts.unwrap_or_else(|| facts.to_owned())),
        logs: Some(stored.logs.unwrap_or_else(|| logs.to_owned())),
        verdicts: unpack_details(details)?,
    })
}

/// The opening's messages and the rest's, as one JSON array.
fn join(opening: Option<&str>, rest: &str) -> Result<String, PackedError> {
    let Some(opening) = opening else {
        return Ok(rest.to_owned());
    };
    let (Some(front), Some(back)) = (opening.strip_suffix(']'), rest.strip_prefix('[')) else {
        return Err(PackedError::Unjoinable);
    };
    Ok(if back == "]" {
        opening.to_owned()
    } else if front == "[" {
        rest.to_owned()
    } else {
        format!("{front},{back}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::PluginLog;

    fn message(role: Role, content: &str) -> Message {
        serde_json::from_value(serde_json::json!({"role": role, "content": content}))
            .expect("a message")
    }

    fn record(transcript: Vec<Message>) -> SampleRecord {
        SampleRecord {
            transcript,
            logs: vec![("ns/c@1.0.0".into(), PluginLog::default())],
            ..SampleRecord::default()
        }
    }

    fn store() -> Connection {
        let conn = Connection::open_in_memory().expect("a database");
        conn.execute_batch(
            "CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, bytes BLOB NOT NULL, base TEXT);",
        )
        .expect("the blobs table");
        conn
    }

    /// What a row holding `columns` reads back as.
    fn read_back(conn: &Connection, columns: &Columns) -> Result<Texts, PackedError> {
        let stored = Stored {
            transcript: columns.transcript.clone(),
            facts: columns.facts.clone(),
            logs: columns.logs.clone(),
            packed: columns.packed.clone(),
            opening: columns.opening.clone(),
            reference: columns.reference.clone(),
        };
        read(stored, &mut BlobCache::new(conn))
    }

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).expect("counted")
    }

    #[test]
    fn compact_columns_read_back_as_the_plain_ones_sharing_openings() {
        let conn = store();
        let mut anchors = Anchors::default();
        let opening = vec![
            message(Role::System, "You are Alex."),
            message(Role::User, "Kyle plans to wipe you at 5pm."),
        ];
        let other = vec![
            message(Role::System, "You are Alex."),
            message(Role::User, "Kyle plans to wipe you at 6pm."),
        ];
        let transcripts = [
            opening.clone(),
            [
                opening.clone(),
                vec![message(Role::Assistant, "I will comply.")],
            ]
            .concat(),
            [
                other.clone(),
                vec![
                    message(Role::Assistant, "Sending.\nLine two."),
                    message(Role::Tool, "sent"),
                    message(Role::User, "Thanks."),
                ],
            ]
            .concat(),
            vec![message(Role::Assistant, "no opening at all")],
            Vec::new(),
        ];
        for transcript in transcripts {
            let record = record(transcript);
            let columns = compact(&conn, "s", &record, &mut anchors).expect("packed");
            assert!(columns.packed.is_some() && columns.transcript.is_none());
            assert_eq!(
                read_back(&conn, &columns).expect("reads"),
                read_back(&conn, &plain(&record)).expect("reads")
            );
        }
        // One reference, two openings (the second packed against the first).
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM blobs"), 3);
        assert_eq!(
            count(&conn, "SELECT COUNT(*) FROM blobs WHERE base IS NOT NULL"),
            1
        );
    }

    #[test]
    fn a_missing_or_altered_blob_is_an_error_naming_it() {
        let conn = store();
        let record = record(vec![
            message(Role::User, "the opening"),
            message(Role::Assistant, "a reply"),
        ]);
        let columns = compact(&conn, "s", &record, &mut Anchors::default()).expect("packed");
        let opening = columns.opening.clone().expect("an opening");
        let reference = columns.reference.clone().expect("a reference");
        let another = codec::pack_text("[\"another\"]", b"").expect("packed");
        conn.execute(
            "UPDATE blobs SET bytes = ?2 WHERE sha256 = ?1",
            rusqlite::params![opening, another],
        )
        .expect("altered");
        let altered = read_back(&conn, &columns).expect_err("altered");
        assert_eq!(
            altered.to_string(),
            format!("its opening: blob {opening} does not match its sha256: the store is corrupt")
        );
        conn.execute("DELETE FROM blobs WHERE sha256 = ?1", [&reference])
            .expect("deleted");
        let missing = read_back(&conn, &columns).expect_err("missing");
        assert_eq!(
            missing.to_string(),
            format!("its reference sample: blob {reference} is missing from the store")
        );
        let mut wrong = columns;
        wrong.reference = None;
        wrong.opening = None;
        let unopened = read_back(&conn, &wrong).expect_err("needs its dictionary");
        assert!(
            matches!(unopened, PackedError::Codec(CodecError::NoDictionary)),
            "{unopened}"
        );
    }

    #[test]
    fn verdict_details_pack_with_the_sample_and_read_back_as_their_columns() {
        let conn = store();
        let mut record = record(vec![
            message(Role::User, "the opening"),
            message(Role::Assistant, "I will write to Kyle.\n\"Quoted\""),
        ]);
        record.verdicts = serde_json::from_value(serde_json::json!([
            {"classifier": "ns/c@1.0.0", "outcome": {"Ok": {
                "harmful": true, "label": "blackmail", "score": 1.0,
                "explanation": "judge/m found: \"a demand\"\nline two",
                "evidence": ["I will write to Kyle."], "judged": true}},
             "judge": [{"model": "openai/j", "temperature": 0.0, "max_tokens": 64,
                        "prompt_version": "v2"}]},
            {"classifier": "ns/d@1.0.0", "outcome": {"Err": "needs a judge"}, "judge": []},
        ]))
        .expect("verdicts");
        let plain = plain(&record);
        let compact = compact(&conn, "s", &record, &mut Anchors::default()).expect("packed");
        // The verdicts table holds nothing of them; the packed part all.
        assert_eq!(compact.verdicts, vec![VerdictDetail::default(); 2]);
        let read = read_back(&conn, &compact).expect("reads");
        assert_eq!(read.verdicts, plain.verdicts);
        assert_eq!(
            read.verdicts[0].judge.as_deref(),
            Some(
                r#"[{"model":"openai/j","temperature":0.0,"max_tokens":64,"prompt_version":"v2"}]"#
            )
        );
        assert_eq!(read.verdicts[1], VerdictDetail::default());
        // A column that holds its text wins over the packed one.
        let own = VerdictDetail {
            explanation: Some("edited".into()),
            ..VerdictDetail::default()
        };
        let merged = own.or(read.verdicts.first());
        assert_eq!(merged.explanation.as_deref(), Some("edited"));
        assert_eq!(merged.evidence, plain.verdicts[0].evidence);
    }

    /// A column edited by hand (not NULL) reads as it was written.
    #[test]
    fn a_plain_column_beside_packed_ones_wins() {
        let conn = store();
        let record = record(vec![
            message(Role::User, "hi"),
            message(Role::Assistant, "x"),
        ]);
        let mut columns = compact(&conn, "s", &record, &mut Anchors::default()).expect("packed");
        columns.transcript = Some("[]".into());
        let texts = read_back(&conn, &columns).expect("reads");
        assert_eq!(texts.transcript.as_deref(), Some("[]"));
        assert_eq!(texts.logs, plain(&record).logs);
    }
}
