//! Joining shard stores (`crucible run --shard K/N`) into one run's store:
//! the one place that copies sample rows between stores. What a sample row
//! holds, and the tables beside it, change with the store; whatever they
//! become, a merge copies it here.
//!
//! Shard K of N holds plan positions K-1, K-1+N, K-1+2N, ... in id order
//! (see `run::Shard`), so its nth row becomes row `n*N + K` of the merged
//! store: the merged ids are the plan's order, as an unsharded run's are,
//! which is what resume, reports and verify read the plan by.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::{Store, StoreError};

/// What a merge checks of a shard before joining it, read without writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardFacts {
    /// Every `meta` entry, by key.
    pub meta: Vec<(String, String)>,
    /// `(role, sha256)` of every plugin, by role.
    pub plugins: Vec<(String, String)>,
    /// The shard's sample rows.
    pub samples: u64,
    /// `(name, classifier sha256)` of every label set, by name.
    pub label_sets: Vec<(String, String)>,
}

impl ShardFacts {
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads what a merge checks of the shard store at `path`.
pub fn shard_facts(path: &Path) -> Result<ShardFacts, StoreError> {
    let wrap = |source: rusqlite::Error| StoreError {
        path: path.display().to_string(),
        source: source.into(),
    };
    let conn = super::read::open_read_only(path)?;
    let pairs = |sql: &str| -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = conn.prepare(sql).map_err(wrap)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(wrap)?;
        rows.collect::<Result<_, _>>().map_err(wrap)
    };
    let meta = pairs("SELECT key, value FROM meta ORDER BY key")?;
    let plugins = pairs("SELECT role, sha256 FROM plugins ORDER BY role")?;
    let label_sets = if has_table(&conn, "main", "label_sets").map_err(wrap)? {
        pairs("SELECT name, sha256 FROM label_sets ORDER BY name")?
    } else {
        Vec::new()
    };
    let samples: i64 = conn
        .query_row("SELECT COUNT(*) FROM samples", [], |r| r.get(0))
        .map_err(wrap)?;
    Ok(ShardFacts {
        meta,
        plugins,
        samples: samples.max(0) as u64,
        label_sets,
    })
}

impl Store {
    /// Copies shard `index` of `count` (its store at `shard`) into this
    /// store, in one transaction: its plugins, components and shared texts
    /// (the compact layout's blobs: openings and reference samples) and
    /// batches (`--batch`) with their requests, each once,
    /// every sample row as stored (transcript, verdict inputs, logs, usage,
    /// status) at its place in the plan, the sample's verdicts, and its
    /// label sets' verdicts, joined by label set name. The caller has
    /// checked that the shards belong together; this only copies.
    pub fn copy_shard(&mut self, shard: &Path, index: u32, count: u32) -> Result<(), StoreError> {
        let label = format!("{} (merging {})", self.path, shard.display());
        let wrap = |source: rusqlite::Error| StoreError {
            path: label.clone(),
            source: source.into(),
        };
        let source = shard.to_string_lossy().into_owned();
        self.conn
            .execute("ATTACH DATABASE ?1 AS shard", [&source])
            .map_err(wrap)?;
        let copied = copy_attached(&mut self.conn, index, count);
        let detached = self.conn.execute_batch("DETACH DATABASE shard");
        copied.and(detached).map_err(wrap)
    }
}

fn copy_attached(conn: &mut Connection, index: u32, count: u32) -> Result<(), rusqlite::Error> {
    let tx = conn.transaction()?;
    // Keyed by content (a component's or a blob's sha256), by role, or by
    // the provider's batch id: what two shards both hold is the same, and
    // is kept once. A shard's batches still in flight come along, so that
    // a resume of the merged run answers their requests from them rather
    // than submitting them again.
    for table in ["plugins", "components", "blobs", "batches", "batch_items"] {
        if !has_table(&tx, "shard", table)? {
            continue;
        }
        let columns = shared_columns(&tx, table, &[])?;
        if !columns.is_empty() {
            tx.execute_batch(&format!(
                "INSERT OR IGNORE INTO main.{table} ({columns}) SELECT {columns} FROM shard.{table}"
            ))?;
        }
    }
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS shard_ids (old INTEGER PRIMARY KEY, new INTEGER NOT NULL);
         DELETE FROM temp.shard_ids;",
    )?;
    tx.execute(
        "INSERT INTO temp.shard_ids (old, new)
         SELECT id, (ROW_NUMBER() OVER (ORDER BY id) - 1) * ?1 + ?2 FROM shard.samples",
        params![count, index],
    )?;
    let columns = shared_columns(&tx, "samples", &["id"])?;
    let from = prefixed("s", &columns);
    tx.execute_batch(&format!(
        "INSERT INTO main.samples (id, {columns})
         SELECT m.new, {from} FROM shard.samples s JOIN temp.shard_ids m ON m.old = s.id"
    ))?;
    let columns = shared_columns(&tx, "verdicts", &["sample_id"])?;
    let from = prefixed("v", &columns);
    tx.execute_batch(&format!(
        "INSERT INTO main.verdicts (sample_id, {columns})
         SELECT m.new, {from} FROM shard.verdicts v JOIN temp.shard_ids m ON m.old = v.sample_id"
    ))?;
    if has_table(&tx, "shard", "label_sets")? {
        let columns = shared_columns(&tx, "label_sets", &["id"])?;
        tx.execute_batch(&format!(
            "INSERT OR IGNORE INTO main.label_sets ({columns}) SELECT {columns} FROM shard.label_sets"
        ))?;
        let columns = shared_columns(&tx, "label_verdicts", &["label_set", "sample_id"])?;
        let from = prefixed("v", &columns);
        tx.execute_batch(&format!(
            "INSERT INTO main.label_verdicts (label_set, sample_id, {columns})
             SELECT merged.id, m.new, {from} FROM shard.label_verdicts v
             JOIN shard.label_sets own ON own.id = v.label_set
             JOIN main.label_sets merged ON merged.name = own.name
             JOIN temp.shard_ids m ON m.old = v.sample_id"
        ))?;
    }
    tx.commit()
}

/// The columns of `table` both stores have, but `except`, quoted and
/// comma-separated: a shard written before a column was added leaves it
/// at its default. The names come from this store's own schema.
fn shared_columns(
    conn: &Connection,
    table: &str,
    except: &[&str],
) -> Result<String, rusqlite::Error> {
    let mut stmt = conn.prepare(
        "SELECT m.name FROM pragma_table_info(?1, 'main') m
         JOIN pragma_table_info(?1, 'shard') s ON s.name = m.name
         ORDER BY m.cid",
    )?;
    let names = stmt.query_map([table], |r| r.get::<_, String>(0))?;
    let mut columns = Vec::new();
    for name in names {
        let name = name?;
        if !except.contains(&name.as_str()) {
            columns.push(format!("\"{}\"", name.replace('"', "\"\"")));
        }
    }
    Ok(columns.join(", "))
}

fn prefixed(alias: &str, columns: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn has_table(conn: &Connection, schema: &str, table: &str) -> Result<bool, rusqlite::Error> {
    let sql = format!("SELECT 1 FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?1");
    Ok(conn
        .query_row(&sql, [table], |_| Ok(()))
        .optional()?
        .is_some())
}
