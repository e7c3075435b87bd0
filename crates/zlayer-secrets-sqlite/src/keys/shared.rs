//! The keys of an open store, shared by its writer and its read connections.
//!
//! One [`Keys`] per store, behind a read-write lock: the data key is unwrapped once and never
//! copied to a connection. Every transaction first reads the data key generation of its own
//! snapshot and takes the keys of that generation:
//!
//! - the same generation as the keys held: they are used, under the read lock, for the whole
//!   transaction;
//! - a newer one (another process re-encrypted the store): the keys are refreshed from the
//!   snapshot's key record under the write lock, for this store's writer and readers alike;
//! - an older one, in a read: the snapshot began before this store's own re-encryption
//!   committed and adopted its new keys. The caller starts a new read transaction, which sees
//!   the commit. Only if the file itself still holds an older key after
//!   `STALE_RETRIES` (`readers.rs`) new transactions are its keys taken, as a writer takes
//!   any generation other than its own.
//!
//! A re-key or re-encryption by this store commits and adopts its new keys under the write
//! lock, so no transaction starts with the new data key before the keys that decrypt it are
//! in place.

use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use rusqlite::Connection;
use zlayer_secrets_core::Result;

use super::{Keys, stored_generation};

/// The keys of one store, shared by its connections.
pub(crate) struct SharedKeys {
    keys: RwLock<Keys>,
}

impl SharedKeys {
    /// Shares `keys`.
    pub(crate) fn new(keys: Keys) -> Self {
        Self {
            keys: RwLock::new(keys),
        }
    }

    /// The keys as they are, for reading.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Keys> {
        // A panic cannot leave the keys half-changed: `Keys::refresh` changes them only after
        // the new data key has been unwrapped, by plain assignments, and a re-key or
        // re-encryption replaces them by a value built beforehand. Poison can be ignored.
        self.keys.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The keys, to change (see [`read`](Self::read) on poison).
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Keys> {
        self.keys.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The keys of a write transaction `tx` (`BEGIN IMMEDIATE`, so its snapshot is the latest
    /// commit): refreshed from its key record when its data key generation is not the one
    /// held.
    pub(crate) fn for_write(&self, tx: &Connection) -> Result<RwLockReadGuard<'_, Keys>> {
        let generation = stored_generation(tx)?;
        loop {
            let keys = self.read();
            if keys.generation() == generation {
                return Ok(keys);
            }
            drop(keys);
            self.adopt(tx, generation)?;
        }
    }

    /// The keys of a read transaction `tx`, as [`for_write`](Self::for_write), except that a
    /// snapshot with an older data key than the one held gives `None` when `retry_older` is
    /// set: the caller ends `tx` and starts a new one.
    pub(crate) fn for_read(
        &self,
        tx: &Connection,
        retry_older: bool,
    ) -> Result<Option<RwLockReadGuard<'_, Keys>>> {
        let generation = stored_generation(tx)?;
        loop {
            let keys = self.read();
            let held = keys.generation();
            if held == generation {
                return Ok(Some(keys));
            }
            drop(keys);
            if retry_older && generation < held {
                return Ok(None);
            }
            self.adopt(tx, generation)?;
        }
    }

    /// Takes the keys of `tx`'s snapshot, whose data key generation is `generation`, unless
    /// another connection did so meanwhile.
    fn adopt(&self, tx: &Connection, generation: u32) -> Result<()> {
        let mut keys = self.write();
        if keys.generation() != generation {
            keys.refresh(tx)?;
        }
        Ok(())
    }
}
