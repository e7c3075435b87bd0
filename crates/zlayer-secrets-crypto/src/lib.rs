//! XChaCha20-Poly1305 encryption keys, Argon2id key derivation and key files.
