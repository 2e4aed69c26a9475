//! Access mask bits, shared with the `acl` crate.
pub use acl::access::*;
