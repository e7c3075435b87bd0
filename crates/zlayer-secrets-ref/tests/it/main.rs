//! Integration tests of the reference grammar: every form, every rejection, the character
//! rules, the round-trip laws (property tests) and the serde shape.
#![allow(clippy::unwrap_used)] // tests report failure by panicking, helpers included

mod chars;
mod forms;
mod props;
mod rejects;
#[cfg(feature = "serde")]
mod serde_shape;
