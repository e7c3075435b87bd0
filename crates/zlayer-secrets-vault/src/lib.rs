//! VaultSecretsProvider: secrets in HashiCorp Vault / OpenBao KV v2.
