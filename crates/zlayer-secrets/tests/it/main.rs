//! Compile tests of the original public paths, and a smoke test of each main flow.
#![allow(clippy::unwrap_used)] // tests report failure by panicking

mod minimal;
#[cfg(feature = "persistent")]
mod paths;
#[cfg(feature = "vault")]
mod vault;
