//! Integration tests of zlayer-secrets-crypto, one binary for the whole crate.
#![allow(clippy::unwrap_used)] // tests report failure by panicking

mod key;
mod manager;
mod private_file;
mod props;
mod race;

/// The names of the entries of `dir`, sorted.
pub(crate) fn file_names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}
