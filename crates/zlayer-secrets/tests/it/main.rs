//! Code written against the original crate's API, and what remains without default features.
#![allow(clippy::unwrap_used)] // tests report failure by panicking
#![allow(clippy::print_stdout)] // printing `Debug` output is part of what the original's users do

mod minimal;
#[cfg(feature = "persistent")]
mod original_api;
