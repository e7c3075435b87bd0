//! The secret-reference grammar of zlayer-secrets: `$S:name`, `$S:@service/name`,
//! `$S::env/name`, `$S:project:env/name` (each with an optional `/field`) and
//! `$secret://env/KEY[/field]`.
//!
//! Depend on this crate only if you need to recognise references without resolving them
//! (it is `#![no_std]` and needs only `alloc`); everything else should use
//! `zlayer-secrets-core`, which re-exports it.
#![no_std]

extern crate alloc;

mod secret_ref;

pub use secret_ref::SecretRef;
