//! PersistentSecretsStore: encrypted secrets in SQLite (WAL).
