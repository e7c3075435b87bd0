//! Integration tests of the typed stores against the real backends.
