//! MS-FSCC information classes for QUERY_INFO, SET_INFO and QUERY_DIRECTORY.
//!
//! Pure encode/decode functions over `vfs` metadata: no I/O happens here. The caller applies
//! the SMB2 buffer rules (MS-SMB2 3.3.5.20): a client buffer smaller than
//! [`file_info_min_size`] / [`fs_info_min_size`] is STATUS_INFO_LENGTH_MISMATCH; a buffer that
//! holds the fixed part but not the whole variable part gets truncated data and
//! STATUS_BUFFER_OVERFLOW.

mod classes;
mod dir_info;
mod ea;
mod error;
mod file_info;
mod fs_info;
mod quota;
mod set_info;
mod utf16;
mod wildcard;
mod wire;

pub use classes::{FileInfoClass, FsInfoClass};
pub use dir_info::{DirListWriter, dir_entry_fixed_size};
pub use ea::{
    EaListWriter, decode_full_ea_list, decode_get_ea_list, full_ea_entry_len, is_valid_ea_name,
};
pub use error::FsccError;
pub use file_info::{
    FileInfoContext, StreamEntry, encode_file_info, encode_stream_information, file_info_min_size,
};
pub use fs_info::{
    FS_ATTRIBUTES, FsInfoContext, encode_fs_info, fs_attribute_flags, fs_info_min_size,
};
pub use quota::{QuotaFigures, QuotaQuery, QuotaTarget, decode_quota_query, encode_quota_entries};
pub use set_info::{BasicInfo, SetFileInfo, decode_set_file_info};
pub use utf16::{utf16le_decode, utf16le_encode};
pub use vfs::short_names::{SHORT_NAME_MAX, is_8_3};
pub use wildcard::{MAX_PATTERN_LEN, wildcard_match};
