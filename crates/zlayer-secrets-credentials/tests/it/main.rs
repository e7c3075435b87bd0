//! Integration tests of the typed stores against the real backends (memory and SQLite).
#![allow(clippy::unwrap_used)] // tests report failure by panicking, helpers included

mod api_keys;
mod atomicity;
mod git;
mod grants;
mod no_leaks;
mod persistence;
mod registry;
mod support;
