//! Mapping of errno values to [`VfsError`].

use crate::VfsError;
use std::io;

/// Maps an OS error to the storage error the server understands.
pub(crate) fn map_io(e: io::Error) -> VfsError {
    let Some(code) = e.raw_os_error() else {
        return VfsError::Io(e);
    };
    match code {
        libc::ENOENT => VfsError::NotFound,
        libc::ENOTDIR => VfsError::NotADirectory,
        libc::EEXIST => VfsError::Exists,
        libc::EISDIR => VfsError::IsADirectory,
        libc::ENOTEMPTY => VfsError::NotEmpty,
        libc::EACCES | libc::EPERM | libc::EROFS | libc::ETXTBSY | libc::EBADF | libc::EBUSY => {
            VfsError::AccessDenied
        }
        // RESOLVE_BENEATH refuses with EXDEV; a symlink loop or a refused symlink is ELOOP.
        libc::EXDEV | libc::ELOOP => VfsError::Escape,
        libc::ENOSPC | libc::EDQUOT => VfsError::NoSpace,
        libc::EFBIG | libc::EOVERFLOW => VfsError::TooLarge,
        libc::ENAMETOOLONG | libc::EILSEQ => VfsError::InvalidName,
        libc::EOPNOTSUPP | libc::ENOSYS => VfsError::Unsupported,
        _ => VfsError::Io(e),
    }
}

/// Whether an error says the filesystem keeps no extended attributes.
pub(crate) fn is_no_xattr(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EOPNOTSUPP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_common_errnos() {
        let m = |c| map_io(io::Error::from_raw_os_error(c));
        assert!(matches!(m(libc::ENOENT), VfsError::NotFound));
        assert!(matches!(m(libc::EXDEV), VfsError::Escape));
        assert!(matches!(m(libc::ENOTEMPTY), VfsError::NotEmpty));
        assert!(matches!(m(libc::ENOSPC), VfsError::NoSpace));
        assert!(matches!(m(libc::EIO), VfsError::Io(_)));
    }
}
