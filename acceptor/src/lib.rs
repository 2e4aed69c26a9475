//! Session authentication: SPNEGO (RFC 4178, MS-SPNG) carrying NTLMv2 (MS-NLMP) today and
//! Kerberos (MS-KILE) next.
//!
//! The server creates one [`Authenticator`] per SESSION_SETUP exchange and feeds it each security
//! blob; the authenticator answers with the next blob until it is done or has failed.
//!
//! Policy choices:
//! - Local accounts are matched by user name alone, case-insensitively; any domain the client
//!   sends (the server name, empty, or another) is accepted, as Samba does for local accounts.
//!   The NTLMv2 proof is checked with the domain exactly as sent, since the client hashed that.
//! - NTLMv2 is accepted; NTLMv1 (24-byte responses, with or without extended session
//!   security, [`ntlm::v1`]) only when [`AcceptorConfig::allow_ntlmv1`] is set; LM-only
//!   responses never. Refusals are [`AuthError::NotAccepted`]. Plain NTLMv1's SPNEGO
//!   mechListMIC uses its own signing (RC4 over a CRC-32, one handle for both directions).
//! - An account may carry its previous NT hash with a deadline ([`PreviousHash`]): during a
//!   password change-over both passwords log on, judged by the `now` the step receives.
//! - Anonymous logons get the ANONYMOUS LOGON SID with Everyone and NETWORK (not Authenticated
//!   Users) and an empty session key.
//! - Raw NTLMSSP first legs (Linux cifs) are answered with raw NTLMSSP and a final empty blob.
//! - NTLM relay: an MsvAvTargetName naming another server and non-zero MsvAvChannelBindings
//!   are refused, and a MIC announced in MsvAvFlags is always verified ([`ntlm::client_av`]).
//! - Kerberos replay: each authenticator is remembered until ctime + skew; a full cache refuses
//!   new AP-REQs instead of forgetting live entries ([`krb5::replay`]).
//!
//! Layout: [`asn1`] (DER), [`spnego`] (token codec and acceptor), [`ntlm`] (messages, crypto and
//! the NTLM acceptor).
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::SystemTime;

pub mod asn1;
pub mod krb5;
pub mod ntlm;
pub mod pac;
#[cfg(test)]
mod redaction_tests;
pub mod spnego;
#[cfg(test)]
mod test_client;
#[cfg(test)]
mod tests;

pub use spnego::SpnegoAcceptor;
#[cfg(test)]
pub use test_client::{TestNtlmClient, ntlm_self_test_client};

/// A local account that may log on with NTLM.
#[derive(Clone)]
pub struct LocalAccount {
    /// The user name, matched case-insensitively.
    pub name: String,
    /// The NT hash (MD4 of the UTF-16LE password).
    pub nt_hash: [u8; 16],
    /// The relative identifier under the server's machine SID.
    pub rid: u32,
    /// Extra group SIDs for the account's token.
    pub groups: Vec<acl::Sid>,
    /// The hash of the password before the last change, still accepted until its deadline
    /// (a change-over window, so clients holding the old password keep working meanwhile).
    pub previous: Option<PreviousHash>,
}

/// An account's previous NT hash and the time until which it is still accepted.
#[derive(Clone, PartialEq, Eq)]
pub struct PreviousHash {
    /// The NT hash of the previous password.
    pub nt_hash: [u8; 16],
    /// Accepted while `now` is before this time (the `now` the authenticator's step receives).
    pub valid_until: SystemTime,
}

impl std::fmt::Debug for PreviousHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreviousHash")
            .field("valid_until", &self.valid_until)
            .finish_non_exhaustive()
    }
}

impl LocalAccount {
    /// The NT hashes this account accepts at `now`: the current one, then the previous one
    /// while its window is open.
    pub fn hashes_at(&self, now: SystemTime) -> impl Iterator<Item = &[u8; 16]> {
        std::iter::once(&self.nt_hash).chain(
            self.previous
                .as_ref()
                .filter(|p| now < p.valid_until)
                .map(|p| &p.nt_hash),
        )
    }
}

impl std::fmt::Debug for LocalAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalAccount")
            .field("name", &self.name)
            .field("rid", &self.rid)
            .field("groups", &self.groups)
            .field("previous", &self.previous)
            .finish_non_exhaustive()
    }
}

/// What the acceptor needs to know about the server and its accounts.
#[derive(Debug, Clone)]
pub struct AcceptorConfig {
    /// NetBIOS name of the server (upper case), used in NTLM target info.
    pub server_name: String,
    /// NetBIOS domain name the local accounts live in (upper case, usually the server name).
    pub domain_name: String,
    /// DNS name of the server, used in NTLM target info.
    pub dns_name: String,
    /// Machine SID; local accounts' SIDs are this plus their RID.
    pub machine_sid: acl::Sid,
    /// Local accounts for NTLM.
    pub accounts: Vec<LocalAccount>,
    /// Accept NTLMv1 responses (off by default: they can be cracked offline and carry no MIC).
    pub allow_ntlmv1: bool,
    /// Accept anonymous (null) sessions.
    pub allow_anonymous: bool,
    /// The service keys; Kerberos is offered only when set.
    pub keytab: Option<Arc<krb5::keytab::KeytabSource>>,
    /// Accept rc4-hmac tickets and session keys (off by default: RC4 is weak).
    pub allow_rc4: bool,
    /// Allowed clock difference for Kerberos tickets and authenticators (5 minutes by default).
    pub clock_skew: std::time::Duration,
    /// Identities for principals whose tickets carry no LOGON_INFO (an MIT KDC's PAC):
    /// `("user@REALM", user SID, group SIDs)`. Other such tickets are refused.
    pub principal_map: Vec<(String, acl::Sid, Vec<acl::Sid>)>,
    /// Further host names and addresses clients reach the server by (aliases, the IP addresses
    /// it listens on), accepted as `<host>` in an NTLM MsvAvTargetName `cifs/<host>` besides
    /// `server_name`, `dns_name` and the keytab's hosts; see [`ntlm::client_av`].
    pub ntlm_target_names: Vec<String>,
    /// Most Kerberos authenticators remembered at once for replay detection
    /// ([`DEFAULT_REPLAY_CACHE_CAPACITY`] by default). Each is kept until its ctime plus the clock
    /// skew; when this many are still live, new AP-REQs are refused until some expire.
    pub replay_cache_capacity: usize,
}

/// The default Kerberos clock skew.
pub const DEFAULT_CLOCK_SKEW: std::time::Duration = std::time::Duration::from_secs(300);

/// The default [`AcceptorConfig::replay_cache_capacity`]: one million authenticators.
pub const DEFAULT_REPLAY_CACHE_CAPACITY: usize = krb5::replay::DEFAULT_CAPACITY;

/// How a session was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// NTLMv2 against a local account.
    Ntlmv2,
    /// NTLMv1 against a local account (only when `allow_ntlmv1` is set).
    Ntlmv1,
    /// Kerberos AP-REQ.
    Kerberos,
    /// Anonymous (null session).
    Anonymous,
}

impl AuthMethod {
    /// Its name in reports and logs: "kerberos", "ntlmv2", "ntlmv1" or "anonymous".
    pub fn name(self) -> &'static str {
        match self {
            Self::Kerberos => "kerberos",
            Self::Ntlmv2 => "ntlmv2",
            Self::Ntlmv1 => "ntlmv1",
            Self::Anonymous => "anonymous",
        }
    }
}

/// The identity and keys of an authenticated session.
#[derive(Clone)]
pub struct AuthContext {
    /// User name as the client gave it.
    pub user: String,
    /// Domain name as the client gave it.
    pub domain: String,
    /// The session's SIDs.
    pub token: acl::Token,
    /// The session key from the exchange (16 bytes for NTLM; the GSS key for Kerberos).
    pub session_key: Vec<u8>,
    /// How the session authenticated.
    pub method: AuthMethod,
    /// When the session's credentials expire: the Kerberos ticket's `endtime` (EncTicketPart,
    /// RFC 4120 5.3), after which the server ends the session (MS-SMB2 3.3.5.2.9,
    /// STATUS_NETWORK_SESSION_EXPIRED). It may already have passed by up to the clock skew when
    /// the ticket is accepted. `None` for NTLM and anonymous sessions, which do not expire.
    pub expires_at: Option<SystemTime>,
}

impl std::fmt::Debug for AuthContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthContext")
            .field("user", &self.user)
            .field("domain", &self.domain)
            .field("token", &self.token)
            .field("method", &self.method)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Why authentication failed; each maps to an NT status in the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// Bad credentials or unknown user: STATUS_LOGON_FAILURE.
    LogonFailure(&'static str),
    /// A malformed token: STATUS_INVALID_PARAMETER.
    InvalidToken(&'static str),
    /// A response whose structure is invalid where Windows and Samba answer
    /// STATUS_INVALID_PARAMETER rather than STATUS_LOGON_FAILURE (an NTLMv2 client challenge
    /// whose AV_PAIR list does not parse); the server must answer that status.
    InvalidParameter(&'static str),
    /// The mechanism or variant is not accepted (e.g. NTLMv1, anonymous): STATUS_NOT_SUPPORTED
    /// or STATUS_LOGON_FAILURE as the server decides.
    NotAccepted(&'static str),
}

/// One step of the exchange.
pub enum Step {
    /// Send this blob back with STATUS_MORE_PROCESSING_REQUIRED and wait for the next.
    Continue(Vec<u8>),
    /// Done: send the (possibly empty) final blob with STATUS_SUCCESS.
    Done {
        /// Final blob for the client (e.g. SPNEGO accept-completed with mechListMIC).
        out: Vec<u8>,
        /// The authenticated identity.
        auth: Box<AuthContext>,
    },
    /// Failed: answer with the error's status.
    Failed(AuthError),
}

/// One authentication exchange in progress.
pub trait Authenticator: Send {
    /// Consumes the client's next security blob.
    fn step(&mut self, now: SystemTime, input: &[u8]) -> Step;

    /// The (user, domain) the client claimed, once a step has seen them, whether or not they
    /// were proven: what an audit line of a failed logon names. None until then, and for
    /// mechanisms whose claim is unreadable without the key (Kerberos).
    fn claimed_identity(&self) -> Option<(String, String)> {
        None
    }
}

/// Creates authenticators for new exchanges and the NEGOTIATE response's security blob.
pub trait AuthProvider: Send + Sync {
    /// The SPNEGO NegTokenInit2 blob advertised in the NEGOTIATE response.
    fn negotiate_blob(&self) -> Vec<u8>;
    /// A fresh authenticator for a new SESSION_SETUP exchange.
    fn start(&self) -> Box<dyn Authenticator>;
    /// A fresh authenticator for an exchange on a connection that arrived on the local address
    /// `local` (a name the client may use for this server).
    fn start_on(&self, local: Option<std::net::IpAddr>) -> Box<dyn Authenticator> {
        let _ = local;
        self.start()
    }
}

/// The server's default provider: SPNEGO offering NTLM (bare NTLMSSP tokens are accepted too).
///
/// With a keytab in the configuration it offers Kerberos first and keeps one replay cache for
/// every exchange.
pub struct SpnegoProvider {
    config: Arc<AcceptorConfig>,
    replay: Arc<krb5::replay::ReplayCache>,
}

impl SpnegoProvider {
    /// Creates a provider over the given configuration.
    pub fn new(config: Arc<AcceptorConfig>) -> Self {
        let replay = krb5::replay::ReplayCache::new(config.replay_cache_capacity);
        Self::with_replay_cache(config, Arc::new(replay))
    }

    /// Creates a provider over the given configuration that remembers authenticators in
    /// `replay` (a server keeps one cache when its configuration is reloaded).
    pub fn with_replay_cache(
        config: Arc<AcceptorConfig>,
        replay: Arc<krb5::replay::ReplayCache>,
    ) -> Self {
        Self { config, replay }
    }
}

impl AuthProvider for SpnegoProvider {
    fn negotiate_blob(&self) -> Vec<u8> {
        if self.config.keytab.is_some() {
            spnego::tokens::encode_negotiate_blob_for(spnego::tokens::SERVER_MECHS_KRB5)
        } else {
            spnego::tokens::encode_negotiate_blob()
        }
    }

    fn start(&self) -> Box<dyn Authenticator> {
        self.start_on(None)
    }

    fn start_on(&self, local: Option<std::net::IpAddr>) -> Box<dyn Authenticator> {
        Box::new(
            SpnegoAcceptor::with_replay_cache(Arc::clone(&self.config), Arc::clone(&self.replay))
                .on_address(local),
        )
    }
}

/// Computes the NT hash (MD4 of UTF-16LE) of a password.
pub fn nt_hash(password: &str) -> [u8; 16] {
    use md4::{Digest, Md4};
    let utf16: Vec<u8> = password
        .encode_utf16()
        .flat_map(|c| c.to_le_bytes())
        .collect();
    Md4::digest(&utf16).into()
}
