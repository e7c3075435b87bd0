//! The JSON files zlayer-secrets reads and writes: one flat object whose values are all
//! strings.
//!
//! Errors name the key or the position (line and column) and never echo a value. The
//! reader streams: each value is copied once, straight from the text into the result, and
//! reading stops at the first entry past the limit, so memory stays close to the size of
//! the text.

mod reader;
mod writer;

pub use reader::parse;
pub use writer::write;

#[cfg(test)]
mod tests;
