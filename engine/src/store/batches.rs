//! The run store's record of the batches a `--batch` run submitted: which
//! provider batch carries which request, so that a run killed while its
//! batches were processing resumes by polling them rather than paying for
//! the same requests again.
//!
//! It writes through a connection of its own rather than the run's sample
//! writer (see `run/execute.rs`): a batch must be on disk before the run
//! waits hours on it, a write happens once a batch (rare beside samples),
//! and the models that submit batches are built before the store is
//! opened. The store is in WAL mode, so this second connection and the
//! writer take turns under the busy timeout without blocking readers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use rusqlite::{Connection, params};

use crate::model::batch::Ledger;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("results store {path}: recording a batch: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the batch record is not attached to a results store yet")]
    Detached,
}

/// The batches of one run. Created detached, when the run's models are
/// built; attached once the run's store exists.
#[derive(Default)]
pub struct BatchLedger {
    conn: Mutex<Option<(Connection, PathBuf)>>,
}

impl BatchLedger {
    pub fn attach(&self, path: &Path) -> Result<(), LedgerError> {
        let wrap = |source| LedgerError::Sqlite {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open(path).map_err(wrap)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(wrap)?;
        // The store's own schema made the tables when it was opened.
        *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = Some((conn, path.to_owned()));
        Ok(())
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, LedgerError> {
        let mut guard = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let Some((conn, path)) = guard.as_mut() else {
            return Err(LedgerError::Detached);
        };
        f(conn).map_err(|source| LedgerError::Sqlite {
            path: path.clone(),
            source,
        })
    }
}

impl Ledger for BatchLedger {
    fn record(
        &self,
        id: &str,
        model: &str,
        custom_ids: &[&str],
    ) -> Result<(), crate::model::batch::LedgerError> {
        // One transaction: a batch is recorded with all its requests or not at all.
        let submitted = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Ok(self.with(|conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT OR REPLACE INTO batches (id, model, submitted, size) VALUES (?1, ?2, ?3, ?4)",
                params![id, model, submitted as i64, custom_ids.len() as i64],
            )?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT OR IGNORE INTO batch_items (batch_id, custom_id) VALUES (?1, ?2)",
                )?;
                for custom_id in custom_ids {
                    insert.execute(params![id, custom_id])?;
                }
            }
            tx.commit()
        })?)
    }

    fn forget(&self, id: &str, custom_id: &str) -> Result<(), crate::model::batch::LedgerError> {
        Ok(self.with(|conn| {
            conn.execute(
                "UPDATE batch_items SET failed = 1 WHERE batch_id = ?1 AND custom_id = ?2",
                params![id, custom_id],
            )
            .map(|_| ())
        })?)
    }

    fn carried(
        &self,
        model: &str,
    ) -> Result<HashMap<String, String>, crate::model::batch::LedgerError> {
        Ok(self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT i.custom_id, b.id FROM batch_items i JOIN batches b ON b.id = i.batch_id
                 WHERE b.model = ?1 AND i.failed = 0 ORDER BY b.submitted, b.rowid",
            )?;
            let rows = stmt.query_map([model], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })?)
    }

    fn items(&self, id: &str) -> Result<Vec<String>, crate::model::batch::LedgerError> {
        Ok(self.with(|conn| {
            let mut stmt = conn
                .prepare("SELECT custom_id FROM batch_items WHERE batch_id = ?1 ORDER BY rowid")?;
            let rows = stmt.query_map([id], |r| r.get(0))?;
            rows.collect()
        })?)
    }
}
