//! Admin command-line tools for the SMB server.
fn main() {}
