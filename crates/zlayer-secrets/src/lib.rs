//! zlayer-secrets: the facade.
