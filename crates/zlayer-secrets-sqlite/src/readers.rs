//! The read connections of a store: up to [`StoreOptions::read_connections`] connections to
//! the database file beside the writer's, opened when first needed and kept for reuse. In
//! WAL mode they read while the writer writes, and each read is one read transaction with
//! the data key of its snapshot ([`SharedKeys`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use zlayer_secrets_core::Result;

use crate::StoreOptions;
use crate::error::database;
use crate::keys::{Keys, SharedKeys};
use crate::schema;

/// How many times a read starts a new transaction when its snapshot holds an older data key
/// than the store's (the snapshot began just before this store's own re-encryption
/// committed). One is enough unless re-encryptions follow each other faster than a read
/// starts; after that, the file's own key is taken.
const STALE_RETRIES: u32 = 3;

/// The connections not in use, and how many are open in all.
struct Idle {
    free: Vec<Connection>,
    open: usize,
}

/// The pool of read connections of one store.
pub(crate) struct Readers {
    path: PathBuf,
    busy_timeout: Duration,
    max: usize,
    keys: Arc<SharedKeys>,
    idle: Mutex<Idle>,
    /// Signalled when a connection is given back or a slot is freed.
    freed: Condvar,
}

/// A read connection taken from the pool, given back when dropped.
struct Lease<'a> {
    readers: &'a Readers,
    conn: Option<Connection>,
}

impl Readers {
    /// A pool for the database at `path`, already opened (and checked) by the writer, whose
    /// keys are `keys`. Opens no connection yet.
    pub(crate) fn new(path: &Path, options: &StoreOptions, keys: Arc<SharedKeys>) -> Self {
        Self {
            path: path.to_path_buf(),
            busy_timeout: options.busy_timeout,
            max: options.read_connections,
            keys,
            idle: Mutex::new(Idle {
                free: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        }
    }

    /// Runs `work` in one read transaction on a free read connection, with the keys of the
    /// transaction's snapshot: refreshed first if another process replaced the data key.
    pub(crate) fn read<T>(&self, work: impl FnOnce(&Connection, &Keys) -> Result<T>) -> Result<T> {
        let mut lease = self.lease()?;
        let conn = lease.conn();
        let mut retries = STALE_RETRIES;
        loop {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Deferred)
                .map_err(|e| database("starting a read", e))?;
            if let Some(keys) = self.keys.for_read(&tx, retries > 0)? {
                return work(&tx, &keys);
            }
            // The snapshot predates a re-encryption this store committed: `tx` rolls back
            // as it is dropped, and the next transaction sees the commit.
            retries -= 1;
        }
    }

    /// Runs `work`, which needs no key and executes one statement (its own transaction), on
    /// a free read connection.
    pub(crate) fn unkeyed<T>(&self, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let mut lease = self.lease()?;
        work(lease.conn())
    }

    fn lock(&self) -> MutexGuard<'_, Idle> {
        // The pool's state is a list and a count, each changed in one step: poison can be
        // ignored.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A free connection: an idle one, else a new one while fewer than `max` are open, else
    /// the next one given back.
    fn lease(&self) -> Result<Lease<'_>> {
        let mut idle = self.lock();
        loop {
            if let Some(conn) = idle.free.pop() {
                return Ok(Lease {
                    readers: self,
                    conn: Some(conn),
                });
            }
            if idle.open < self.max {
                idle.open += 1;
                drop(idle);
                return match self.open_connection() {
                    Ok(conn) => Ok(Lease {
                        readers: self,
                        conn: Some(conn),
                    }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            idle = self
                .freed
                .wait(idle)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Opens a read connection: the database must exist (the writer created it), is not
    /// followed through a symbolic link, and refuses writes (`query_only`). It waits for
    /// locks as long as the writer does and checks, as the writer's preflight does, that the
    /// schema is not newer than this crate's and that the database is in WAL mode.
    fn open_connection(&self) -> Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let conn = Connection::open_with_flags(&self.path, flags)
            .map_err(|e| database("opening a read connection", e))?;
        conn.busy_timeout(self.busy_timeout)
            .map_err(|e| database("setting the busy timeout", e))?;
        conn.pragma_update(None, "query_only", "ON")
            .map_err(|e| database("making a read connection read-only", e))?;
        schema::check_reader(&conn)?;
        Ok(conn)
    }

    /// Takes back `conn`, or closes it if a transaction is still open on it (never the case
    /// after a read, whose transaction ends as it is dropped).
    fn give_back(&self, conn: Connection) {
        let mut idle = self.lock();
        if conn.is_autocommit() {
            idle.free.push(conn);
        } else {
            idle.open -= 1;
            drop(idle);
            drop(conn);
        }
        self.freed.notify_one();
    }
}

impl Lease<'_> {
    fn conn(&mut self) -> &mut Connection {
        self.conn
            .as_mut()
            .expect("a lease holds its connection until it is dropped")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.readers.give_back(conn);
        }
    }
}

#[cfg(test)]
mod tests;
