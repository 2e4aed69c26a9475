//! IOCTL (MS-SMB2 2.2.31, 2.2.32) and the FSCTL codes the server knows.

use super::codec::{DecodeError, Reader, WriteLe};
use super::create::FileId;
use super::header::HEADER_LEN;

crate::wire_enum! {
    /// FSCTL/IOCTL control codes (MS-FSCC 2.3, MS-SMB2 2.2.31).
    pub struct Fsctl(u32) {
        /// FSCTL_DFS_GET_REFERRALS.
        DFS_GET_REFERRALS = 0x0006_0194,
        /// FSCTL_DFS_GET_REFERRALS_EX.
        DFS_GET_REFERRALS_EX = 0x0006_01B0,
        /// FSCTL_PIPE_PEEK.
        PIPE_PEEK = 0x0011_400C,
        /// FSCTL_PIPE_WAIT.
        PIPE_WAIT = 0x0011_0018,
        /// FSCTL_PIPE_TRANSCEIVE.
        PIPE_TRANSCEIVE = 0x0011_C017,
        /// FSCTL_SRV_COPYCHUNK.
        SRV_COPYCHUNK = 0x0014_40F2,
        /// FSCTL_SRV_COPYCHUNK_WRITE.
        SRV_COPYCHUNK_WRITE = 0x0014_80F2,
        /// FSCTL_SRV_ENUMERATE_SNAPSHOTS.
        SRV_ENUMERATE_SNAPSHOTS = 0x0014_4064,
        /// FSCTL_SRV_REQUEST_RESUME_KEY.
        SRV_REQUEST_RESUME_KEY = 0x0014_0078,
        /// FSCTL_SRV_READ_HASH.
        SRV_READ_HASH = 0x0014_41BB,
        /// FSCTL_LMR_REQUEST_RESILIENCY.
        LMR_REQUEST_RESILIENCY = 0x0014_01D4,
        /// FSCTL_QUERY_NETWORK_INTERFACE_INFO.
        QUERY_NETWORK_INTERFACE_INFO = 0x0014_01FC,
        /// FSCTL_VALIDATE_NEGOTIATE_INFO.
        VALIDATE_NEGOTIATE_INFO = 0x0014_0204,
        /// FSCTL_GET_REPARSE_POINT.
        GET_REPARSE_POINT = 0x0009_00A8,
        /// FSCTL_SET_SPARSE.
        SET_SPARSE = 0x0009_00C4,
        /// FSCTL_SET_ZERO_DATA.
        SET_ZERO_DATA = 0x0009_80C8,
        /// FSCTL_QUERY_ALLOCATED_RANGES.
        QUERY_ALLOCATED_RANGES = 0x0009_40CF,
        /// FSCTL_GET_OBJECT_ID.
        GET_OBJECT_ID = 0x0009_009C,
        /// FSCTL_CREATE_OR_GET_OBJECT_ID.
        CREATE_OR_GET_OBJECT_ID = 0x0009_00C0,
        /// FSCTL_FILESYSTEM_GET_STATISTICS.
        FILESYSTEM_GET_STATISTICS = 0x0009_0060,
        /// FSCTL_GET_COMPRESSION.
        GET_COMPRESSION = 0x0009_003C,
        /// FSCTL_SET_COMPRESSION.
        SET_COMPRESSION = 0x0009_C040,
        /// FSCTL_GET_INTEGRITY_INFORMATION.
        GET_INTEGRITY_INFORMATION = 0x0009_027C,
        /// FSCTL_QUERY_FILE_REGIONS.
        QUERY_FILE_REGIONS = 0x0009_0284,
        /// FSCTL_SET_REPARSE_POINT.
        SET_REPARSE_POINT = 0x0009_00A4,
        /// FSCTL_DELETE_REPARSE_POINT.
        DELETE_REPARSE_POINT = 0x0009_00AC,
        /// FSCTL_DUPLICATE_EXTENTS_TO_FILE.
        DUPLICATE_EXTENTS_TO_FILE = 0x0009_8344,
        /// FSCTL_DUPLICATE_EXTENTS_TO_FILE_EX.
        DUPLICATE_EXTENTS_TO_FILE_EX = 0x0009_83E8,
    }
}

/// SMB2_0_IOCTL_IS_FSCTL.
pub const IOCTL_IS_FSCTL: u32 = 0x0000_0001;

/// A decoded IOCTL request.
#[derive(Debug, Clone)]
pub struct IoctlRequest<'a> {
    /// CtlCode.
    pub ctl_code: Fsctl,
    /// The file (all ones for requests not tied to a file).
    pub file_id: FileId,
    /// Input buffer.
    pub input: &'a [u8],
    /// MaxInputResponse.
    pub max_input_response: u32,
    /// MaxOutputResponse.
    pub max_output_response: u32,
    /// Flags.
    pub flags: u32,
}

impl<'a> IoctlRequest<'a> {
    /// Decodes the request.
    pub fn decode(msg: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::at_pos(msg, HEADER_LEN);
        if r.u16("StructureSize")? != 57 {
            return Err(DecodeError::invalid("StructureSize"));
        }
        r.skip(2, "Reserved")?;
        let ctl_code = Fsctl(r.u32("CtlCode")?);
        let file_id = FileId::read(&mut r)?;
        let in_off = r.u32("InputOffset")? as usize;
        let in_len = r.u32("InputCount")? as usize;
        let max_input_response = r.u32("MaxInputResponse")?;
        let _out_off = r.u32("OutputOffset")?;
        let _out_len = r.u32("OutputCount")?;
        let max_output_response = r.u32("MaxOutputResponse")?;
        let flags = r.u32("Flags")?;
        let input = r.at(in_off, in_len, "Input")?;
        Ok(Self {
            ctl_code,
            file_id,
            input,
            max_input_response,
            max_output_response,
            flags,
        })
    }
}

/// Appends an IOCTL response body with the given output.
pub fn encode_ioctl_response(out: &mut Vec<u8>, ctl: Fsctl, file_id: FileId, output: &[u8]) {
    out.put_u16(49);
    out.put_u16(0);
    out.put_u32(ctl.0);
    out.put_u64(file_id.persistent);
    out.put_u64(file_id.volatile);
    let data_off = (HEADER_LEN + 48) as u32;
    out.put_u32(data_off);
    out.put_u32(0);
    out.put_u32(data_off);
    out.put_u32(output.len() as u32);
    out.put_u32(0);
    out.put_u32(0);
    out.extend_from_slice(output);
}

/// VALIDATE_NEGOTIATE_INFO request (MS-SMB2 2.2.31.4).
#[derive(Debug, Clone)]
pub struct ValidateNegotiateInfo {
    /// Capabilities.
    pub capabilities: u32,
    /// Guid.
    pub guid: [u8; 16],
    /// SecurityMode.
    pub security_mode: u16,
    /// Dialects.
    pub dialects: Vec<u16>,
}

impl ValidateNegotiateInfo {
    /// Decodes the input buffer.
    pub fn decode(input: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(input);
        let capabilities = r.u32("Capabilities")?;
        let guid = r.guid("Guid")?;
        let security_mode = r.u16("SecurityMode")?;
        let count = r.u16("DialectCount")? as usize;
        if count == 0 || r.remaining() < count * 2 {
            return Err(DecodeError::invalid("DialectCount"));
        }
        let dialects = (0..count)
            .map(|_| r.u16("Dialects"))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            capabilities,
            guid,
            security_mode,
            dialects,
        })
    }
}

/// Encodes the VALIDATE_NEGOTIATE_INFO response (MS-SMB2 2.2.32.6).
pub fn encode_validate_negotiate_response(
    caps: u32,
    guid: &[u8; 16],
    security_mode: u16,
    dialect: u16,
) -> Vec<u8> {
    let mut v = Vec::with_capacity(24);
    v.put_u32(caps);
    v.extend_from_slice(guid);
    v.put_u16(security_mode);
    v.put_u16(dialect);
    v
}
