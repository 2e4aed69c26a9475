//! Extended attributes of the POSIX backend: the file's whole list in one private xattr,
//! `user.smbd.eas` ([`crate::ea::encode`]), and its EaSize beside the DOS attributes.
//!
//! One xattr for the list, rather than one `user.NAME` per EA, because SMB names match without
//! regard to case and keep theirs (an xattr name cannot be both), a SET_INFO list must apply as a
//! whole or not at all (one setxattr is atomic), the order and the FILE_NEED_EA flag are kept,
//! and no client name can ever meet the server's own `user.smbd.*` attributes. Linux caps an
//! xattr value at 64 KiB, which is also the cap on an NTFS file's EAs.

use super::errors::{is_no_xattr, map_io};
use super::file::Handle;
use super::meta::write_dos;
use super::sys::{self, XattrTarget};
use crate::ea::{self, Ea};
use crate::{VfsError, VfsResult};
use std::ffi::CStr;
use std::io;
use std::os::fd::AsFd;

/// The xattr holding the list.
pub(crate) const EA_XATTR: &CStr = c"user.smbd.eas";

/// The stored list (empty when absent, or where the file system keeps no xattrs).
fn read(h: &Handle) -> VfsResult<Vec<Ea>> {
    match sys::get_xattr(XattrTarget::Fd(h.file.as_fd()), EA_XATTR) {
        Ok(None) => Ok(Vec::new()),
        Ok(Some(b)) => ea::decode(&b)
            .ok_or_else(|| VfsError::Io(io::Error::new(io::ErrorKind::InvalidData, "EA list"))),
        Err(e) if is_no_xattr(&e) => Ok(Vec::new()),
        Err(e) => Err(map_io(e)),
    }
}

/// The file's extended attributes.
pub(crate) fn get(h: &Handle) -> VfsResult<Vec<Ea>> {
    read(h)
}

/// Applies `changes` ([`ea::apply`]) and stores the list, then its EaSize; if the EaSize
/// cannot be stored, the list as it was is put back.
pub(crate) fn set(h: &Handle, changes: Vec<Ea>) -> VfsResult<()> {
    let old = read(h)?;
    let mut list = old.clone();
    ea::apply(&mut list, changes)?;
    let fd = h.file.as_fd();
    let store = |list: &[Ea]| match sys::set_xattr(fd, EA_XATTR, &ea::encode(list)) {
        Ok(()) => Ok(()),
        Err(e) if is_no_xattr(&e) => Err(VfsError::Unsupported),
        Err(e) if matches!(e.raw_os_error(), Some(libc::E2BIG | libc::ENOSPC)) => {
            Err(VfsError::TooLarge)
        }
        Err(e) => Err(map_io(e)),
    };
    h.keeping_change_time(|| {
        store(&list)?;
        let mut dos = h.dos()?;
        dos.ea_size = ea::ea_size(&list);
        if let Err(e) = write_dos(fd, &dos) {
            let _ = store(&old);
            return Err(e);
        }
        Ok(())
    })
}
