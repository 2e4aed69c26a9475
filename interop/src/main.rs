//! Drives real SMB clients against the server (the scripts live beside this crate).
fn main() {}
