//! The srvsvc interface (MS-SRVS, 4b324fc8-1670-01d3-1278-5a47bf6ee188 v3.0): NetrShareEnum
//! (opnum 15), NetrShareGetInfo (opnum 16) and NetrServerGetInfo (opnum 21). Every other opnum
//! faults with nca_s_op_rng_error.

use super::ndr::{Field, NdrError, NdrReader, NdrWriter};
use super::pdu::{NCA_S_FAULT_NDR, NCA_S_OP_RNG_ERROR, SyntaxId};
use super::{ServerIdentity, ShareEntry};

/// The srvsvc abstract syntax.
pub(super) const SRVSVC: SyntaxId = SyntaxId::new(
    0x4b32_4fc8,
    0x1670,
    0x01d3,
    [0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88],
    3,
    0,
);

/// Opnum of NetrShareEnum (MS-SRVS 3.1.4.8).
pub(super) const OP_SHARE_ENUM: u16 = 15;
/// Opnum of NetrShareGetInfo (MS-SRVS 3.1.4.10).
pub(super) const OP_SHARE_GET_INFO: u16 = 16;
/// Opnum of NetrServerGetInfo (MS-SRVS 3.1.4.17).
pub(super) const OP_SERVER_GET_INFO: u16 = 21;

/// Win32 error ERROR_INVALID_LEVEL.
pub(super) const ERROR_INVALID_LEVEL: u32 = 124;
/// NERR_NetNameNotFound: no share of that name.
pub(super) const NERR_NET_NAME_NOT_FOUND: u32 = 2310;
/// PLATFORM_ID_NT (MS-SRVS 2.2.2.6).
pub(super) const PLATFORM_ID_NT: u32 = 500;
/// Reported OS version: 6.1, what Samba reports by default.
pub(super) const VERSION_MAJOR: u32 = 6;
/// Reported OS minor version.
pub(super) const VERSION_MINOR: u32 = 1;
/// SV_TYPE_WORKSTATION | SV_TYPE_SERVER | SV_TYPE_NT | SV_TYPE_SERVER_NT (MS-SRVS 2.2.2.7).
pub(super) const SERVER_TYPE: u32 = 0x0000_0001 | 0x0000_0002 | 0x0000_1000 | 0x0000_8000;
/// SHI_USES_UNLIMITED.
const SHI_USES_UNLIMITED: u32 = 0xFFFF_FFFF;

/// Runs one srvsvc call; `Err` is the NCA status of the fault to send.
pub(super) fn call(opnum: u16, stub: &[u8], server: &ServerIdentity) -> Result<Vec<u8>, u32> {
    let out = match opnum {
        OP_SHARE_ENUM => share_enum(stub, server),
        OP_SHARE_GET_INFO => share_get_info(stub, server),
        OP_SERVER_GET_INFO => server_get_info(stub, server),
        _ => return Err(NCA_S_OP_RNG_ERROR),
    };
    out.map_err(|_: NdrError| NCA_S_FAULT_NDR)
}

/// Reads the `[in, string, unique] SRVSVC_HANDLE ServerName` every call starts with.
pub(super) fn server_name(r: &mut NdrReader<'_>) -> Result<Option<String>, NdrError> {
    match r.pointer()? {
        Some(_) => r.wide_string().map(Some),
        None => Ok(None),
    }
}

/// Members of one SHARE_INFO_x structure (MS-SRVS 2.2.4.22-2.2.4.29), or `None` for a level
/// we do not serve.
fn share_fields(level: u32, s: &ShareEntry) -> Option<Vec<Field<'_>>> {
    use Field::{Null, Str, Word};
    let head = [Str(&s.name), Word(s.stype()), Str(&s.comment)];
    let v = match level {
        0 => vec![Str(&s.name)],
        1 => head.to_vec(),
        // permissions, max_uses, current_uses, path, passwd.
        2 => [
            &head[..],
            &[
                Word(0),
                Word(SHI_USES_UNLIMITED),
                Word(0),
                Str(&s.path),
                Null,
            ],
        ]
        .concat(),
        // shi501_flags: manual caching.
        501 => [&head[..], &[Word(0)]].concat(),
        // ..., shi502_reserved (security descriptor length) 0, security descriptor NULL.
        502 => [
            &head[..],
            &[
                Word(0),
                Word(SHI_USES_UNLIMITED),
                Word(0),
                Str(&s.path),
                Null,
            ],
            &[Word(0), Null],
        ]
        .concat(),
        // shi1005_flags.
        1005 => vec![Word(0)],
        _ => return None,
    };
    Some(v)
}

/// Levels NetrShareEnum serves.
fn enum_level_supported(level: u32) -> bool {
    matches!(level, 0 | 1 | 2 | 501 | 502)
}

/// Layout of request-side SHARE_INFO_x elements, for skipping a buffer a client sent in.
#[derive(Clone, Copy)]
enum InField {
    Word,
    Str,
    Bytes,
}

fn in_layout(level: u32) -> Option<&'static [InField]> {
    use InField::{Bytes, Str, Word};
    Some(match level {
        0 => &[Str],
        1 => &[Str, Word, Str],
        2 => &[Str, Word, Str, Word, Word, Word, Str, Str],
        501 => &[Str, Word, Str, Word],
        502 => &[Str, Word, Str, Word, Word, Word, Str, Str, Word, Bytes],
        _ => return None,
    })
}

/// Skips a conformant array of SHARE_INFO_x and its deferred pointees.
fn skip_share_array(r: &mut NdrReader<'_>, layout: &[InField]) -> Result<(), NdrError> {
    let count = r.array_count(4 * layout.len())? as usize;
    // Bounded by array_count: count * layout.len() * 4 <= stub length.
    let mut present = Vec::with_capacity(count * layout.len());
    for _ in 0..count {
        for f in layout {
            let v = r.u32()?;
            present.push(!matches!(f, InField::Word) && v != 0);
        }
    }
    for (i, p) in present.into_iter().enumerate() {
        if !p {
            continue;
        }
        match layout[i % layout.len()] {
            InField::Str => {
                r.wide_string()?;
            }
            InField::Bytes => {
                let n = r.array_count(1)?;
                r.bytes(n as usize)?;
            }
            InField::Word => {}
        }
    }
    Ok(())
}

/// NetrShareEnum: all shares in one reply, whatever PreferedMaximumLength says.
fn share_enum(stub: &[u8], server: &ServerIdentity) -> Result<Vec<u8>, NdrError> {
    let mut r = NdrReader::new(stub);
    server_name(&mut r)?;
    let level = r.u32()?;
    let switch = r.u32()?;
    if switch != level {
        return Err(NdrError::SwitchMismatch { level, switch });
    }
    let supported = enum_level_supported(level);
    let mut resume_in = None;
    if supported {
        if r.pointer()?.is_some() {
            let _entries_read = r.u32()?;
            if r.pointer()?.is_some() {
                let layout = in_layout(level).unwrap_or(&[]);
                skip_share_array(&mut r, layout)?;
            }
        }
        let _prefered_maximum_length = r.u32()?;
        if r.pointer()?.is_some() {
            resume_in = Some(r.u32()?);
        }
    }

    let shares = server.all_shares();
    let total = u32::try_from(shares.len()).unwrap_or(u32::MAX);
    let mut w = NdrWriter::new();
    w.u32(level);
    w.u32(level);
    if !supported {
        w.u32(0); // NULL container
        w.u32(0); // TotalEntries
        w.u32(0); // ResumeHandle NULL
        w.u32(ERROR_INVALID_LEVEL);
        return Ok(w.into_bytes());
    }
    let start = resume_in.map_or(0, |h| (h as usize).min(shares.len()));
    let elems: Vec<Vec<Field<'_>>> = shares[start..]
        .iter()
        .filter_map(|s| share_fields(level, s))
        .collect();
    let n = u32::try_from(elems.len()).unwrap_or(u32::MAX);
    w.referent(); // SHARE_INFO_x_CONTAINER*
    w.u32(n); // EntriesRead
    w.referent(); // Buffer
    w.u32(n); // conformance
    w.structs(&elems);
    w.u32(total);
    match resume_in {
        Some(_) => {
            w.referent();
            w.u32(0);
        }
        None => w.u32(0),
    }
    w.u32(0); // NERR_Success
    Ok(w.into_bytes())
}

/// Levels that are arms of the SHARE_INFO union (MS-SRVS 2.2.3.6); others use its empty
/// default arm.
fn share_info_has_arm(level: u32) -> bool {
    matches!(
        level,
        0 | 1 | 2 | 501 | 502 | 503 | 1004 | 1005 | 1006 | 1501
    )
}

/// NetrShareGetInfo.
fn share_get_info(stub: &[u8], server: &ServerIdentity) -> Result<Vec<u8>, NdrError> {
    let mut r = NdrReader::new(stub);
    server_name(&mut r)?;
    let net_name = r.wide_string()?;
    let level = r.u32()?;

    let mut w = NdrWriter::new();
    w.u32(level);
    let share = server.find_share(&net_name);
    let fields = share.as_ref().and_then(|s| share_fields(level, s));
    let level_ok = share_fields(level, &ShareEntry::ipc()).is_some();
    let status = if let Some(f) = fields {
        w.referent();
        w.structs(&[f]);
        0
    } else {
        if share_info_has_arm(level) {
            w.u32(0); // NULL arm
        }
        if level_ok {
            NERR_NET_NAME_NOT_FOUND
        } else {
            ERROR_INVALID_LEVEL
        }
    };
    w.u32(status);
    Ok(w.into_bytes())
}

/// Members of SERVER_INFO_100/101/102 (MS-SRVS 2.2.4.40-2.2.4.42).
fn server_fields(level: u32, server: &ServerIdentity) -> Option<Vec<Field<'_>>> {
    use Field::{Str, Word};
    let v101 = [
        Word(PLATFORM_ID_NT),
        Str(&server.name),
        Word(VERSION_MAJOR),
        Word(VERSION_MINOR),
        Word(SERVER_TYPE),
        Str(&server.comment),
    ];
    Some(match level {
        100 => vec![Word(PLATFORM_ID_NT), Str(&server.name)],
        101 => v101.to_vec(),
        // users, disc (-1: never), hidden (SV_VISIBLE), announce, anndelta, licenses, userpath.
        102 => [
            &v101[..],
            &[
                Word(0xFFFF_FFFF),
                Word(0xFFFF_FFFF),
                Word(0),
                Word(240),
                Word(3000),
                Word(0),
                Str("C:\\"),
            ],
        ]
        .concat(),
        _ => return None,
    })
}

/// NetrServerGetInfo.
fn server_get_info(stub: &[u8], server: &ServerIdentity) -> Result<Vec<u8>, NdrError> {
    let mut r = NdrReader::new(stub);
    server_name(&mut r)?;
    let level = r.u32()?;
    let mut w = NdrWriter::new();
    w.u32(level);
    match server_fields(level, server) {
        Some(f) => {
            w.referent();
            w.structs(&[f]);
            w.u32(0);
        }
        None => {
            // Every arm of SERVER_INFO is a pointer: send it NULL.
            w.u32(0);
            w.u32(ERROR_INVALID_LEVEL);
        }
    }
    Ok(w.into_bytes())
}
