//! The wkssvc interface (MS-WKST, 6bffd098-a112-3610-9833-46c3f87e345a v1.0): only
//! NetrWkstaGetInfo (opnum 0) at level 100. Every other opnum faults with nca_s_op_rng_error.

use super::ServerIdentity;
use super::ndr::{Field, NdrError, NdrReader, NdrWriter};
use super::pdu::{NCA_S_FAULT_NDR, NCA_S_OP_RNG_ERROR, SyntaxId};
use super::srvsvc::{
    ERROR_INVALID_LEVEL, PLATFORM_ID_NT, VERSION_MAJOR, VERSION_MINOR, server_name,
};

/// The wkssvc abstract syntax.
pub(super) const WKSSVC: SyntaxId = SyntaxId::new(
    0x6bff_d098,
    0xa112,
    0x3610,
    [0x98, 0x33, 0x46, 0xc3, 0xf8, 0x7e, 0x34, 0x5a],
    1,
    0,
);

/// Opnum of NetrWkstaGetInfo (MS-WKST 3.2.4.1).
pub(super) const OP_WKSTA_GET_INFO: u16 = 0;

/// The LAN group reported at level 100 (ServerIdentity carries no workgroup).
pub(super) const LAN_GROUP: &str = "WORKGROUP";

/// Runs one wkssvc call; `Err` is the NCA status of the fault to send.
pub(super) fn call(opnum: u16, stub: &[u8], server: &ServerIdentity) -> Result<Vec<u8>, u32> {
    match opnum {
        OP_WKSTA_GET_INFO => wksta_get_info(stub, server).map_err(|_: NdrError| NCA_S_FAULT_NDR),
        _ => Err(NCA_S_OP_RNG_ERROR),
    }
}

/// NetrWkstaGetInfo: WKSTA_INFO_100 {platform_id, computername, langroup, ver_major,
/// ver_minor} (MS-WKST 2.2.5.1).
fn wksta_get_info(stub: &[u8], server: &ServerIdentity) -> Result<Vec<u8>, NdrError> {
    let mut r = NdrReader::new(stub);
    server_name(&mut r)?;
    let level = r.u32()?;
    let mut w = NdrWriter::new();
    w.u32(level);
    if level == 100 {
        w.referent();
        w.structs(&[vec![
            Field::Word(PLATFORM_ID_NT),
            Field::Str(&server.name),
            Field::Str(LAN_GROUP),
            Field::Word(VERSION_MAJOR),
            Field::Word(VERSION_MINOR),
        ]]);
        w.u32(0);
    } else {
        w.u32(0);
        w.u32(ERROR_INVALID_LEVEL);
    }
    Ok(w.into_bytes())
}
