//! Wire formats of SMB2 and the structures it carries. No I/O and no VFS here.

pub mod fscc;
