//! The 64-byte SMB2 packet header, sync and async forms (MS-SMB2 2.2.1).

use super::codec::{DecodeError, Reader, WriteLe};
use super::status::NtStatus;

/// Size of the SMB2 header.
pub const HEADER_LEN: usize = 64;
/// ProtocolId of an SMB2 message: 0xFE 'S' 'M' 'B'.
pub const PROTOCOL_ID: [u8; 4] = [0xFE, b'S', b'M', b'B'];
/// ProtocolId of an SMB2 TRANSFORM_HEADER: 0xFD 'S' 'M' 'B'.
pub const TRANSFORM_ID: [u8; 4] = [0xFD, b'S', b'M', b'B'];
/// ProtocolId of an SMB1 message: 0xFF 'S' 'M' 'B'.
pub const SMB1_ID: [u8; 4] = [0xFF, b'S', b'M', b'B'];
/// ProtocolId of a compressed message: 0xFC 'S' 'M' 'B'.
pub const COMPRESSION_ID: [u8; 4] = [0xFC, b'S', b'M', b'B'];

crate::wire_enum! {
    /// SMB2 command codes (MS-SMB2 2.2.1.2).
    pub struct Command(u16) {
        /// SMB2 NEGOTIATE.
        Negotiate = 0x0000,
        /// SMB2 SESSION_SETUP.
        SessionSetup = 0x0001,
        /// SMB2 LOGOFF.
        Logoff = 0x0002,
        /// SMB2 TREE_CONNECT.
        TreeConnect = 0x0003,
        /// SMB2 TREE_DISCONNECT.
        TreeDisconnect = 0x0004,
        /// SMB2 CREATE.
        Create = 0x0005,
        /// SMB2 CLOSE.
        Close = 0x0006,
        /// SMB2 FLUSH.
        Flush = 0x0007,
        /// SMB2 READ.
        Read = 0x0008,
        /// SMB2 WRITE.
        Write = 0x0009,
        /// SMB2 LOCK.
        Lock = 0x000A,
        /// SMB2 IOCTL.
        Ioctl = 0x000B,
        /// SMB2 CANCEL.
        Cancel = 0x000C,
        /// SMB2 ECHO.
        Echo = 0x000D,
        /// SMB2 QUERY_DIRECTORY.
        QueryDirectory = 0x000E,
        /// SMB2 CHANGE_NOTIFY.
        ChangeNotify = 0x000F,
        /// SMB2 QUERY_INFO.
        QueryInfo = 0x0010,
        /// SMB2 SET_INFO.
        SetInfo = 0x0011,
        /// SMB2 OPLOCK_BREAK.
        OplockBreak = 0x0012,
    }
}

/// SMB2 header flag bits (MS-SMB2 2.2.1.2 Flags).
pub mod flags {
    /// SMB2_FLAGS_SERVER_TO_REDIR.
    pub const SERVER_TO_REDIR: u32 = 0x0000_0001;
    /// SMB2_FLAGS_ASYNC_COMMAND.
    pub const ASYNC_COMMAND: u32 = 0x0000_0002;
    /// SMB2_FLAGS_RELATED_OPERATIONS.
    pub const RELATED_OPERATIONS: u32 = 0x0000_0004;
    /// SMB2_FLAGS_SIGNED.
    pub const SIGNED: u32 = 0x0000_0008;
    /// SMB2_FLAGS_PRIORITY_MASK.
    pub const PRIORITY_MASK: u32 = 0x0000_0070;
    /// SMB2_FLAGS_DFS_OPERATIONS.
    pub const DFS_OPERATIONS: u32 = 0x1000_0000;
    /// SMB2_FLAGS_REPLAY_OPERATION.
    pub const REPLAY_OPERATION: u32 = 0x2000_0000;
}

/// A decoded SMB2 header. `async_id` is set for async messages, `tree_id` for sync ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header {
    /// CreditCharge (0 from 2.0.2 clients).
    pub credit_charge: u16,
    /// Status (responses) or ChannelSequence/Reserved (requests).
    pub status: u32,
    /// Command code.
    pub command: Command,
    /// CreditRequest (requests) or CreditResponse (responses).
    pub credits: u16,
    /// Flags.
    pub flags: u32,
    /// NextCommand: offset of the next message of a compound chain, 0 for the last.
    pub next_command: u32,
    /// MessageId.
    pub message_id: u64,
    /// AsyncId, for async messages.
    pub async_id: u64,
    /// TreeId, for sync messages.
    pub tree_id: u32,
    /// SessionId.
    pub session_id: u64,
    /// Signature.
    pub signature: [u8; 16],
}

impl Header {
    /// Whether this is the async form.
    pub fn is_async(&self) -> bool {
        self.flags & flags::ASYNC_COMMAND != 0
    }

    /// Whether the related-operations flag is set.
    pub fn is_related(&self) -> bool {
        self.flags & flags::RELATED_OPERATIONS != 0
    }

    /// Whether the message claims to be signed.
    pub fn is_signed(&self) -> bool {
        self.flags & flags::SIGNED != 0
    }

    /// Decodes the header at the start of `msg` (ProtocolId and StructureSize checked).
    pub fn decode(msg: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(msg);
        if r.take(4, "ProtocolId")? != PROTOCOL_ID {
            return Err(DecodeError::invalid("ProtocolId"));
        }
        if r.u16("StructureSize")? != 64 {
            return Err(DecodeError::invalid("StructureSize"));
        }
        let credit_charge = r.u16("CreditCharge")?;
        let status = r.u32("Status")?;
        let command = Command(r.u16("Command")?);
        let credits = r.u16("CreditRequest")?;
        let flags = r.u32("Flags")?;
        let next_command = r.u32("NextCommand")?;
        let message_id = r.u64("MessageId")?;
        let (async_id, tree_id) = if flags & flags::ASYNC_COMMAND != 0 {
            (r.u64("AsyncId")?, 0)
        } else {
            r.skip(4, "Reserved")?;
            (0, r.u32("TreeId")?)
        };
        let session_id = r.u64("SessionId")?;
        let signature = r.guid("Signature")?;
        Ok(Self {
            credit_charge,
            status,
            command,
            credits,
            flags,
            next_command,
            message_id,
            async_id,
            tree_id,
            session_id,
            signature,
        })
    }

    /// Appends the 64-byte encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&PROTOCOL_ID);
        out.put_u16(64);
        out.put_u16(self.credit_charge);
        out.put_u32(self.status);
        out.put_u16(self.command.0);
        out.put_u16(self.credits);
        out.put_u32(self.flags);
        out.put_u32(self.next_command);
        out.put_u64(self.message_id);
        if self.is_async() {
            out.put_u64(self.async_id);
        } else {
            out.put_u32(0);
            out.put_u32(self.tree_id);
        }
        out.put_u64(self.session_id);
        out.extend_from_slice(&self.signature);
    }

    /// A response header for this request: same command, message id, ids; server flag set.
    pub fn response(&self, status: NtStatus) -> Self {
        Self {
            credit_charge: self.credit_charge,
            status: status.0,
            command: self.command,
            credits: 0,
            flags: flags::SERVER_TO_REDIR
                | (self.flags & (flags::PRIORITY_MASK | flags::ASYNC_COMMAND)),
            next_command: 0,
            message_id: self.message_id,
            async_id: self.async_id,
            tree_id: self.tree_id,
            session_id: self.session_id,
            signature: [0; 16],
        }
    }
}

/// Offset of the NextCommand field in the header.
pub const NEXT_COMMAND_OFFSET: usize = 20;
/// Offset of the Flags field in the header.
pub const FLAGS_OFFSET: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_sync_and_async() {
        let h = Header {
            credit_charge: 1,
            status: 0,
            command: Command::Read,
            credits: 31,
            flags: flags::SIGNED,
            next_command: 0,
            message_id: 7,
            async_id: 0,
            tree_id: 5,
            session_id: 0x1122334455667788,
            signature: [9; 16],
        };
        let mut v = Vec::new();
        h.encode(&mut v);
        assert_eq!(v.len(), HEADER_LEN);
        assert_eq!(Header::decode(&v).unwrap(), h);
        let a = Header {
            flags: flags::ASYNC_COMMAND,
            async_id: 42,
            tree_id: 0,
            ..h
        };
        let mut v = Vec::new();
        a.encode(&mut v);
        assert_eq!(Header::decode(&v).unwrap(), a);
        assert!(Header::decode(&v[..63]).is_err());
        assert_eq!(format!("{:?}", Command(0x99)), "Command(0x99)");
    }
}
