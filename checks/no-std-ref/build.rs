//! Links the proof binary without the C runtime's start files: `src/main.rs` provides
//! `_start` itself, as there is no `std` to provide `main`'s caller. The C library is linked
//! (rustc links none for a `no_std` program) only for the `memcpy`-style symbols that `core`
//! and `alloc` call.

fn main() {
    println!("cargo:rustc-link-arg-bins=-nostartfiles");
    println!("cargo:rustc-link-arg-bins=-lc");
    println!("cargo:rerun-if-changed=build.rs");
}
