//! Wire formats of SMB2 and the structures it carries. No I/O and no VFS here.

pub mod codec;
pub mod create;
pub mod create_contexts;
pub mod dir;
pub mod fscc;
pub mod fsctl;
pub mod header;
pub mod info;
pub mod io;
pub mod ioctl;
pub mod macros;
pub mod negotiate;
pub mod oplock;
pub mod session;
pub mod status;
pub mod tree;

pub use codec::{DecodeError, Reader, WriteLe};
pub use header::{Command, Header};
pub use status::NtStatus;
