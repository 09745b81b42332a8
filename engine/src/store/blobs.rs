//! The run's content-addressed texts (`blobs`): a text many samples share,
//! such as a condition's opening, stored once, packed, under the sha256 of
//! its text, and checked against that hash whenever it is read.
//!
//! A blob may be packed against another (`base`) as its dictionary: the
//! openings of one scenario's conditions differ in a few lines, so each is
//! packed against the first. A base never has a base of its own.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::codec::{self, CodecError};

/// Why a blob could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob {0} is missing from the store")]
    Missing(String),
    #[error("blob {sha256} cannot be unpacked: {source}")]
    Unpack { sha256: String, source: CodecError },
    #[error("blob {0} does not match its sha256: the store is corrupt")]
    Mismatch(String),
    #[error("blob {0}'s base has a base of its own: the store is corrupt")]
    Chained(String),
    #[error("reading blob {sha256}: {source}")]
    Sql {
        sha256: String,
        source: rusqlite::Error,
    },
}

/// The hex sha256 a text is stored under.
pub fn address(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A stored text: its address and the text.
#[derive(Debug, Clone)]
pub struct Blob {
    pub sha256: String,
    pub text: String,
}

impl Blob {
    pub fn new(text: String) -> Self {
        Self {
            sha256: address(&text),
            text,
        }
    }
}

/// Stores `blob` unless it is there, packed against `base` (a blob with no
/// base of its own) when there is one.
pub fn put(conn: &Connection, blob: &Blob, base: Option<&Blob>) -> Result<(), rusqlite::Error> {
    let dictionary = base.map_or(&b""[..], |b| b.text.as_bytes());
    let base = base.map(|b| b.sha256.as_str());
    match codec::pack_text(&blob.text, dictionary) {
        Some(bytes) => conn
            .prepare_cached(
                "INSERT OR IGNORE INTO blobs (sha256, bytes, base) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![blob.sha256, bytes, base]),
        // Kept as the text itself, which reads back without a codec.
        None => conn
            .prepare_cached("INSERT OR IGNORE INTO blobs (sha256, bytes) VALUES (?1, ?2)")?
            .execute(params![blob.sha256, blob.text]),
    }
    .map(drop)
}

/// Blobs read so far, so a run's thousands of samples unpack and check
/// each shared text once.
pub struct BlobCache<'c> {
    conn: &'c Connection,
    texts: HashMap<String, String>,
}

impl<'c> BlobCache<'c> {
    pub fn new(conn: &'c Connection) -> Self {
        Self {
            conn,
            texts: HashMap::new(),
        }
    }

    /// The text stored under `sha256`, checked against it.
    pub fn get(&mut self, sha256: &str) -> Result<&str, BlobError> {
        if !self.texts.contains_key(sha256) {
            let text = self.read(sha256, true)?;
            self.texts.insert(sha256.to_owned(), text);
        }
        Ok(self
            .texts
            .get(sha256)
            .map(String::as_str)
            .unwrap_or_default())
    }

    fn read(&mut self, sha256: &str, may_have_base: bool) -> Result<String, BlobError> {
        let row: Option<(rusqlite::types::Value, Option<String>)> = self
            .conn
            .prepare_cached("SELECT bytes, base FROM blobs WHERE sha256 = ?1")
            .and_then(|mut stmt| {
                stmt.query_row([sha256], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(|source| BlobError::Sql {
                sha256: sha256.to_owned(),
                source,
            })?;
        let (stored, base) = row.ok_or_else(|| BlobError::Missing(sha256.to_owned()))?;
        let dictionary = match base {
            None => String::new(),
            Some(_) if !may_have_base => return Err(BlobError::Chained(sha256.to_owned())),
            Some(base) => match self.texts.get(&base) {
                Some(text) => text.clone(),
                None => {
                    let text = self.read(&base, false).map_err(|e| match e {
                        BlobError::Chained(_) => BlobError::Chained(sha256.to_owned()),
                        other => other,
                    })?;
                    self.texts.insert(base.clone(), text.clone());
                    text
                }
            },
        };
        let unpack = |source| BlobError::Unpack {
            sha256: sha256.to_owned(),
            source,
        };
        let text = match stored {
            rusqlite::types::Value::Text(text) => text,
            rusqlite::types::Value::Blob(bytes) => {
                codec::unpack_text(&bytes, dictionary.as_bytes()).map_err(unpack)?
            }
            _ => return Err(unpack(CodecError::NotText)),
        };
        if address(&text) != sha256 {
            return Err(BlobError::Mismatch(sha256.to_owned()));
        }
        Ok(text)
    }
}
