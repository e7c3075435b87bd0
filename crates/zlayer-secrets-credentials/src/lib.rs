//! Typed stores for API keys, registry and Git credentials, and environment grants.
