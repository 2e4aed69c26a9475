//! The server's checks of the AV_PAIRs a client puts in its NTLMv2 response (MS-NLMP 2.2.2.1,
//! 2.2.2.7, 3.2.5.1.2): MsvAvFlags, MsvAvTargetName and MsvAvChannelBindings.
//!
//! These pairs sit inside the NTLMv2_CLIENT_CHALLENGE, which the NTProofStr covers, so they are
//! checked only after the proof has verified: a relaying party cannot change them.
//!
//! Target name policy: a missing or empty MsvAvTargetName is accepted (older clients send none).
//! Otherwise it must be an SPN `cifs/<host>` or `host/<host>` (service class and host compared
//! case-insensitively, one trailing dot on the host ignored) where `<host>` is one of
//! - [`AcceptorConfig::server_name`] or [`AcceptorConfig::dns_name`],
//! - an entry of [`AcceptorConfig::ntlm_target_names`] (aliases and the IP addresses clients
//!   connect to; a client reaching `\\10.0.0.5` sends `cifs/10.0.0.5`),
//! - the local address the client's connection arrived on (so a server listening on every
//!   address accepts each of them), and `localhost` when that address is a loopback one,
//! - a host the keytab holds a `cifs/<host>` or `host/<host>` key for.
//!
//! Anything else means the client meant to authenticate to another server and the exchange was
//! relayed here; it is refused with [`NtlmError::TargetNameMismatch`].
//!
//! Channel bindings policy: SMB over TCP has no outer channel (no TLS), so the only bindings the
//! server can expect are none. A missing pair or an all-zero value (MS-NLMP: "absence of channel
//! bindings") is accepted; any other value is the hash of a TLS channel the client saw, which
//! means the exchange was relayed from a TLS connection: [`NtlmError::ChannelBindingsMismatch`].

use super::crypto::{self, NTLMV2_RESPONSE_MIN};
use super::messages::{self, AvPair, av_id};
use super::state::NtlmError;
use crate::AcceptorConfig;
use std::net::IpAddr;

/// Service classes accepted in MsvAvTargetName (`host` is the generic class AD maps to `cifs`).
const SERVICE_CLASSES: [&str; 2] = ["cifs", "host"];

/// What the server learned from the client's AV_PAIRs once they passed its checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAvPairs {
    /// MsvAvFlags has bit 0x2 set: the AUTHENTICATE carries a MIC that must be verified.
    pub mic_present: bool,
}

/// Parses and checks the AV_PAIRs of an NTLMv2 `nt_response` (NTProofStr and client challenge).
/// `local` is the address the client's connection arrived on, when known.
pub fn check(
    config: &AcceptorConfig,
    local: Option<IpAddr>,
    nt_response: &[u8],
) -> Result<ClientAvPairs, NtlmError> {
    let av = nt_response.get(NTLMV2_RESPONSE_MIN..).unwrap_or(&[]);
    let pairs = messages::parse_av_pairs(av)?;
    let mut flags = 0u32;
    // Every occurrence is checked: a pair sent twice cannot hide a bad value behind a good one.
    for AvPair { id, value } in pairs {
        match id {
            av_id::FLAGS => {
                let bytes: [u8; 4] = value
                    .try_into()
                    .map_err(|_| NtlmError::MalformedAvPair("MsvAvFlags is not 4 bytes"))?;
                flags |= u32::from_le_bytes(bytes);
            }
            av_id::TARGET_NAME => check_target_name(config, local, value)?,
            av_id::CHANNEL_BINDINGS => check_channel_bindings(value)?,
            _ => {}
        }
    }
    Ok(ClientAvPairs {
        mic_present: flags & messages::AV_FLAG_MIC_PRESENT != 0,
    })
}

/// MsvAvTargetName: empty, or an SPN naming this server (see the module docs).
fn check_target_name(
    config: &AcceptorConfig,
    local: Option<IpAddr>,
    value: &[u8],
) -> Result<(), NtlmError> {
    if value.is_empty() {
        return Ok(());
    }
    let spn = messages::utf16le_to_string(value)?;
    if names_this_server(config, local, &spn) {
        Ok(())
    } else {
        Err(NtlmError::TargetNameMismatch)
    }
}

/// Whether `spn` is `<class>/<host>` with an accepted class and a host naming this server;
/// `local` is the address the client's connection arrived on, when known.
pub fn names_this_server(config: &AcceptorConfig, local: Option<IpAddr>, spn: &str) -> bool {
    let Some((class, host)) = spn.split_once('/') else {
        return false;
    };
    if !SERVICE_CLASSES
        .iter()
        .any(|c| c.eq_ignore_ascii_case(class))
    {
        return false;
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() {
        return false;
    }
    let wanted = crypto::upcase(host);
    let configured = [&config.server_name, &config.dns_name]
        .into_iter()
        .chain(&config.ntlm_target_names)
        .map(|n| n.strip_suffix('.').unwrap_or(n))
        .filter(|n| !n.is_empty())
        .any(|n| crypto::upcase(n) == wanted);
    configured || names_local_address(local, host) || in_keytab(config, host)
}

/// Whether `host` is the address the connection arrived on (IPv6 possibly in brackets), or
/// `localhost` on a loopback connection.
fn names_local_address(local: Option<IpAddr>, host: &str) -> bool {
    let Some(ip) = local else {
        return false;
    };
    let literal = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match literal.parse::<IpAddr>() {
        Ok(named) => named == ip || ip.to_canonical() == named.to_canonical(),
        Err(_) => ip.is_loopback() && host.eq_ignore_ascii_case("localhost"),
    }
}

/// The names a listening address gives the server for [`AcceptorConfig::ntlm_target_names`]:
/// its IP address when it is a specific one (clients connecting by address send `cifs/<ip>`),
/// plus `localhost` for a loopback address (every client is then on this host, so its
/// `localhost` is this server); none for the unspecified address (0.0.0.0 or ::), whose
/// addresses are not known here.
pub fn listen_names(listen: std::net::SocketAddr) -> Vec<String> {
    let ip = listen.ip();
    let mut names = Vec::new();
    if !ip.is_unspecified() {
        names.push(ip.to_string());
    }
    if ip.is_loopback() {
        names.push("localhost".to_owned());
    }
    names
}

/// Whether the keytab holds a `cifs/<host>` or `host/<host>` key.
fn in_keytab(config: &AcceptorConfig, host: &str) -> bool {
    let Some(source) = &config.keytab else {
        return false;
    };
    let keytab = source.current();
    SERVICE_CLASSES
        .iter()
        .any(|class| keytab.has_principal(&[(*class).to_owned(), host.to_owned()]))
}

/// MsvAvChannelBindings: 16 bytes, all zero (no channel) on SMB over TCP.
fn check_channel_bindings(value: &[u8]) -> Result<(), NtlmError> {
    let hash: [u8; 16] = value
        .try_into()
        .map_err(|_| NtlmError::MalformedAvPair("MsvAvChannelBindings is not 16 bytes"))?;
    if hash == [0; 16] {
        Ok(())
    } else {
        Err(NtlmError::ChannelBindingsMismatch)
    }
}
