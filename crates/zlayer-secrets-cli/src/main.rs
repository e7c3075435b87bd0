//! `zlayer-secret`, the command-line tool.

fn main() {}
