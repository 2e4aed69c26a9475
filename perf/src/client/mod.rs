//! A lean async SMB2/3 client: negotiate (2.1, 3.0, 3.0.2, 3.1.1 with preauth integrity),
//! NTLMv2 session setup, tree connect, session binding (multichannel, 3.x), and the file
//! operations the workloads need, with optional signing and encryption and credit-driven
//! pipelining.

pub mod ntlm;
pub mod transport;
pub mod wire;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use smbd::crypto::{Cipher, CryptoError, DEFAULT_PROVIDER, SigningAlgorithm};
use smbd::crypto::{derive_session_keys, preauth_update, verify_message};
use smbd::proto::{Command, DecodeError, NtStatus};
use tokio::net::TcpStream;

pub use transport::{Protection, Reply, Request, Transport};
use wire::Create;

/// Why a client operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The socket failed.
    Io(std::io::ErrorKind),
    /// The connection is closed.
    Closed,
    /// A response did not parse.
    Decode(DecodeError),
    /// Signing or encryption failed (including a reply that does not authenticate).
    Crypto(CryptoError),
    /// A signed response carries a wrong signature.
    BadSignature,
    /// The server answered with an error status.
    Status {
        /// Command code.
        command: u16,
        /// NTSTATUS.
        status: u32,
    },
    /// The NTLM exchange failed.
    Ntlm(ntlm::NtlmClientError),
    /// The server broke the protocol in the named way.
    Protocol(&'static str),
    /// Data read back differs from what was written.
    DataMismatch,
    /// The operation did not complete in time.
    Timeout,
    /// The server does not offer what the run asks for (a dialect, signing algorithm or
    /// cipher): reported as "n/a" with this reason, not as a failure.
    Unsupported(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Status { command, status } => {
                write!(f, "command {command:#x} failed with status {status:#010x}")
            }
            Self::Unsupported(why) => write!(f, "not supported: {why}"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<std::io::Error> for ClientError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e.kind())
    }
}
impl From<DecodeError> for ClientError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}
impl From<CryptoError> for ClientError {
    fn from(e: CryptoError) -> Self {
        Self::Crypto(e)
    }
}

/// How a session protects its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Neither signed nor encrypted.
    Plain,
    /// Signed with the given algorithm (GMAC and HMAC need 3.1.1 resp. 2.x).
    Signed(SigningAlgorithm),
    /// Encrypted with the given cipher (3.x).
    Encrypted(Cipher),
}

impl Security {
    /// A short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Signed(SigningAlgorithm::AesGmac) => "sign-gmac",
            Self::Signed(SigningAlgorithm::AesCmac) => "sign-cmac",
            Self::Signed(SigningAlgorithm::HmacSha256) => "sign-hmac",
            Self::Encrypted(Cipher::Aes128Gcm) => "aes128gcm",
            Self::Encrypted(Cipher::Aes256Gcm) => "aes256gcm",
            Self::Encrypted(Cipher::Aes128Ccm) => "aes128ccm",
            Self::Encrypted(Cipher::Aes256Ccm) => "aes256ccm",
        }
    }
}

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Server address.
    pub addr: SocketAddr,
    /// Share name.
    pub share: String,
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
    /// Domain sent in AUTHENTICATE (empty is fine for local accounts).
    pub domain: String,
    /// Dialect: 0x0210, 0x0300, 0x0302 or 0x0311.
    pub dialect: u16,
    /// Signing or encryption.
    pub security: Security,
    /// Check the signatures of signed responses.
    pub verify: bool,
    /// Offer SMB2_GLOBAL_CAP_MULTI_CHANNEL in NEGOTIATE, so that more connections can be
    /// bound to the session with [`Client::bind`].
    pub multichannel: bool,
}

/// A connected, authenticated client with one tree: one channel of its session. More
/// channels of the same session come from [`Client::bind`].
pub struct Client {
    t: Transport,
    /// The negotiated dialect.
    pub dialect: u16,
    /// MaxReadSize of the server.
    pub max_read: u32,
    /// MaxWriteSize of the server.
    pub max_write: u32,
    /// What another channel of the session needs (the same for every channel).
    session: Arc<SessionState>,
}

/// The session as its channels share it (MS-SMB2 3.2.1.3, 3.2.1.8).
struct SessionState {
    /// The ClientGuid of every NEGOTIATE of this client: a binding connection must carry the
    /// session's.
    client_guid: [u8; 16],
    /// The signing algorithm and Session.SigningKey (3.x), which signs binding requests.
    signing: Option<(SigningAlgorithm, Vec<u8>)>,
    /// The first channel's protection: its encryption keys are the session's, used by every
    /// channel; its signing key is the first channel's (Session.SigningKey).
    protection: Protection,
}

/// The session a binding exchange joins: its SessionId is the transport's, its requests are
/// signed with the session's signing key.
#[derive(Clone, Copy)]
struct Binding<'a> {
    alg: SigningAlgorithm,
    key: &'a [u8],
}

/// Channel.SigningKey of a bound channel (MS-SMB2 3.2.5.3.3, derived as 3.2.5.3.1 says): the
/// signing key of the binding exchange's own session key, and on 3.1.1 of that exchange's
/// preauth hash (the new connection's NEGOTIATE and the binding SESSION_SETUP legs), not the
/// session's. On 3.0 and 3.0.2 the hash plays no part.
pub fn channel_signing_key(dialect: u16, binding_key: &[u8; 16], preauth: &[u8; 64]) -> Vec<u8> {
    let pre = (dialect == 0x0311).then_some(preauth);
    derive_session_keys(&DEFAULT_PROVIDER, dialect, binding_key, pre, None).signing
}

/// A bound channel's protection: signing (when the session signs) with the channel's own key
/// under the session's algorithm, the same requests signed, and the session's encryption keys.
pub fn channel_protection(session: &Protection, channel_key: Vec<u8>) -> Protection {
    Protection {
        signing: session.signing.as_ref().map(|(alg, _)| (*alg, channel_key)),
        sign_all: session.sign_all,
        encryption: session.encryption.clone(),
    }
}

/// Checks the signature of a SESSION_SETUP response in a binding exchange (the reader task
/// cannot: the channel has no key yet). An unsigned response passes unless `required`.
fn check_signature(
    verify: bool,
    alg: SigningAlgorithm,
    key: &[u8],
    reply: &Reply,
    required: bool,
) -> Result<(), ClientError> {
    if !reply.header.is_signed() {
        return if required {
            Err(ClientError::Protocol(
                "binding SESSION_SETUP response not signed",
            ))
        } else {
            Ok(())
        };
    }
    if verify && !verify_message(&DEFAULT_PROVIDER, alg, key, reply.msg()) {
        return Err(ClientError::BadSignature);
    }
    Ok(())
}

/// A refused binding is something the server does not offer ("n/a"), not a failure.
fn binding_refused(e: ClientError) -> ClientError {
    match e {
        ClientError::Status { status, .. } => ClientError::Unsupported(format!(
            "session binding refused with status {status:#010x}"
        )),
        other => other,
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // The default provider's random source only fails if the OS does; zeros still work.
    let _ = DEFAULT_PROVIDER.random.fill(&mut b);
    b
}

fn filetime_now() -> u64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() + 11_644_473_600) * 10_000_000 + u64::from(d.subsec_nanos() / 100)
}

/// CreditCharge of a `len`-byte read or write (MS-SMB2 3.1.5.2).
pub fn credit_charge(len: usize) -> u16 {
    u16::try_from(len.div_ceil(65536).max(1)).unwrap_or(u16::MAX)
}

/// Whether the server chose what the run asked for: the dialect, and on 3.1.1 the signing
/// algorithm or cipher (a server that lacks them picks another, which would measure the wrong
/// protection under this run's label).
fn check_offer(
    security: Security,
    dialect: u16,
    neg: &wire::NegotiateReply,
) -> Result<(), ClientError> {
    if neg.dialect != dialect {
        return Err(ClientError::Unsupported(format!(
            "dialect {dialect:x} not offered (server chose {:x})",
            neg.dialect
        )));
    }
    if dialect != 0x0311 {
        return Ok(());
    }
    match security {
        Security::Signed(want) => {
            let got = neg
                .signing
                .and_then(SigningAlgorithm::from_wire)
                .unwrap_or(SigningAlgorithm::AesCmac);
            if got != want {
                return Err(ClientError::Unsupported(format!(
                    "{want:?} signing not offered (server chose {got:?})"
                )));
            }
        }
        Security::Encrypted(want) => match Cipher::from_wire(neg.cipher) {
            Some(got) if got == want => {}
            Some(got) => {
                return Err(ClientError::Unsupported(format!(
                    "{want:?} not offered (server chose {got:?})"
                )));
            }
            None => {
                return Err(ClientError::Unsupported(format!(
                    "{want:?} not offered (server chose no cipher)"
                )));
            }
        },
        Security::Plain => {}
    }
    Ok(())
}

/// Opens a TCP connection and negotiates `cfg.dialect` with `client_guid`; returns the
/// transport, the NEGOTIATE response and, on 3.1.1, the preauth hash after NEGOTIATE.
async fn negotiate(
    cfg: &ClientConfig,
    client_guid: [u8; 16],
) -> Result<(Transport, wire::NegotiateReply, [u8; 64]), ClientError> {
    let stream = TcpStream::connect(cfg.addr).await?;
    let t = Transport::new(stream, cfg.verify);
    let (ciphers, signing) = match cfg.security {
        Security::Encrypted(c) => (vec![c.to_wire()], vec![SigningAlgorithm::AesCmac.to_wire()]),
        Security::Signed(a) => (vec![], vec![a.to_wire()]),
        Security::Plain => (vec![], vec![SigningAlgorithm::AesGmac.to_wire()]),
    };
    let mut capabilities = wire::CAP_LARGE_MTU | wire::CAP_ENCRYPTION;
    if cfg.multichannel {
        capabilities |= wire::CAP_MULTI_CHANNEL;
    }
    let offer = wire::NegotiateOffer {
        dialects: vec![cfg.dialect],
        security_mode: wire::SIGNING_ENABLED,
        client_guid,
        capabilities,
        salt: random(),
        ciphers,
        signing,
    };
    let (req, reply) = t
        .call_raw(Request::new(Command::Negotiate, 1, |m| {
            wire::negotiate(m, &offer)
        }))
        .await?;
    let reply = reply.expect(NtStatus::SUCCESS).map_err(|e| match e {
        ClientError::Status { status, .. } => ClientError::Unsupported(format!(
            "dialect {:x} refused with status {status:#010x}",
            cfg.dialect
        )),
        other => other,
    })?;
    let neg = wire::negotiate_reply(reply.msg())?;
    check_offer(cfg.security, cfg.dialect, &neg)?;
    let mut preauth = [0u8; 64];
    if neg.dialect == 0x0311 {
        preauth_update(&DEFAULT_PROVIDER, &mut preauth, &req);
        preauth_update(&DEFAULT_PROVIDER, &mut preauth, reply.msg());
    }
    Ok((t, neg, preauth))
}

impl Client {
    /// Connects, negotiates, authenticates and connects the tree.
    pub async fn connect(cfg: &ClientConfig) -> Result<Self, ClientError> {
        let client_guid = random();
        let (t, neg, mut preauth) = negotiate(cfg, client_guid).await?;
        let cipher = match cfg.security {
            Security::Encrypted(_) if neg.dialect == 0x0311 => {
                Some(Cipher::from_wire(neg.cipher).ok_or(ClientError::Protocol("no cipher"))?)
            }
            Security::Encrypted(_) => Some(Cipher::Aes128Ccm),
            _ => None,
        };
        let (session_key, _) = Self::authenticate(&t, cfg, &mut preauth, neg.dialect, None).await?;
        let keys = derive_session_keys(
            &DEFAULT_PROVIDER,
            neg.dialect,
            &session_key,
            Some(&preauth),
            cipher,
        );
        let signing_alg = match neg.dialect {
            0x0311 => neg
                .signing
                .and_then(SigningAlgorithm::from_wire)
                .unwrap_or(SigningAlgorithm::AesCmac),
            0x0300 | 0x0302 => SigningAlgorithm::AesCmac,
            _ => SigningAlgorithm::HmacSha256,
        };
        let protection = Protection {
            signing: (neg.dialect == 0x0311 || matches!(cfg.security, Security::Signed(_)))
                .then(|| (signing_alg, keys.signing.clone())),
            sign_all: matches!(cfg.security, Security::Signed(_)),
            encryption: cipher.map(|c| (c, keys.decryption.clone(), keys.encryption.clone())),
        };
        t.protect(protection.clone());
        let unc = format!("\\\\{}\\{}", cfg.addr.ip(), cfg.share);
        let tree = t
            .call(Request::new(Command::TreeConnect, 1, |m| {
                wire::tree_connect(m, &unc)
            }))
            .await?
            .expect(NtStatus::SUCCESS)?;
        t.tree_id
            .store(u64::from(tree.header.tree_id), Ordering::Relaxed);
        let session = SessionState {
            client_guid,
            signing: (neg.dialect >= 0x0300).then_some((signing_alg, keys.signing)),
            protection,
        };
        let client = Self {
            t,
            dialect: neg.dialect,
            max_read: neg.max_read,
            max_write: neg.max_write,
            session: Arc::new(session),
        };
        client.warm_credits(256).await?;
        Ok(client)
    }

    /// Binds a new connection to this client's session as another channel (MS-SMB2
    /// 3.3.5.5, 3.2.5.3.3): NEGOTIATE of the same dialect with the same ClientGuid, then
    /// NTLMv2 again for `cfg`'s user in SESSION_SETUPs flagged BINDING that carry the
    /// SessionId and are signed with the session's key. The channel signs with a key of its own
    /// ([`channel_signing_key`]), encrypts with the session's keys and shares the session's
    /// tree and opens. A server that refuses (no multichannel, or an error status) yields
    /// [`ClientError::Unsupported`].
    pub async fn bind(&self, cfg: &ClientConfig) -> Result<Self, ClientError> {
        let Some((alg, key)) = &self.session.signing else {
            return Err(ClientError::Unsupported(
                "session binding needs SMB 3.x".into(),
            ));
        };
        let cfg = ClientConfig {
            dialect: self.dialect,
            multichannel: true,
            ..cfg.clone()
        };
        let (t, neg, mut preauth) = negotiate(&cfg, self.session.client_guid).await?;
        if neg.capabilities & wire::CAP_MULTI_CHANNEL == 0 {
            return Err(ClientError::Unsupported(
                "server does not offer multichannel (no SMB2_GLOBAL_CAP_MULTI_CHANNEL)".into(),
            ));
        }
        t.set_session(self.t.session_id());
        let binding = Binding { alg: *alg, key };
        let (binding_key, done) =
            Self::authenticate(&t, &cfg, &mut preauth, self.dialect, Some(binding))
                .await
                .map_err(binding_refused)?;
        let channel_key = channel_signing_key(self.dialect, &binding_key, &preauth);
        // The final response is signed with the channel's new key (MS-SMB2 3.3.5.5.3).
        check_signature(cfg.verify, *alg, &channel_key, &done, true)?;
        t.protect(channel_protection(&self.session.protection, channel_key));
        t.tree_id
            .store(self.t.tree_id.load(Ordering::Relaxed), Ordering::Relaxed);
        let channel = Self {
            t,
            dialect: neg.dialect,
            max_read: neg.max_read,
            max_write: neg.max_write,
            session: self.session.clone(),
        };
        channel.warm_credits(256).await?;
        Ok(channel)
    }

    /// The SessionId (the same on every channel of the session).
    pub fn session_id(&self) -> u64 {
        self.t.session_id()
    }

    /// The NTLMv2 exchange (raw NTLMSSP); folds the 3.1.1 preauth hash; returns the session
    /// key and the final response. With `bind`, the legs are flagged BINDING and signed with
    /// the session's key, and the interim response's signature is checked with it.
    async fn authenticate(
        t: &Transport,
        cfg: &ClientConfig,
        preauth: &mut [u8; 64],
        dialect: u16,
        bind: Option<Binding<'_>>,
    ) -> Result<([u8; 16], Reply), ClientError> {
        let mode = if matches!(cfg.security, Security::Signed(_)) {
            wire::SIGNING_REQUIRED as u8
        } else {
            wire::SIGNING_ENABLED as u8
        };
        let flags = if bind.is_some() {
            wire::SESSION_FLAG_BINDING
        } else {
            0
        };
        let sign = |r: Request| match bind {
            Some(b) => r.signed_with(b.alg, b.key),
            None => r,
        };
        let hash = dialect == 0x0311;
        let neg = ntlm::negotiate_message();
        let (req, reply) = t
            .call_raw(sign(Request::new(Command::SessionSetup, 1, |m| {
                wire::session_setup(m, flags, mode, &neg)
            })))
            .await?;
        let reply = reply.expect(NtStatus::MORE_PROCESSING_REQUIRED)?;
        if reply.status() != NtStatus::MORE_PROCESSING_REQUIRED {
            return Err(ClientError::Protocol(
                "SESSION_SETUP finished after one leg",
            ));
        }
        if let Some(b) = bind {
            check_signature(cfg.verify, b.alg, b.key, &reply, false)?;
        }
        if hash {
            preauth_update(&DEFAULT_PROVIDER, preauth, &req);
            preauth_update(&DEFAULT_PROVIDER, preauth, reply.msg());
        }
        t.set_session(reply.header.session_id);
        let (_, challenge) = wire::session_setup_reply(reply.msg())?;
        let rnd = ntlm::Randomness {
            client_challenge: random(),
            session_key: random(),
            now: filetime_now(),
        };
        let auth = ntlm::authenticate(challenge, &cfg.user, &cfg.domain, &cfg.password, &rnd)
            .map_err(ClientError::Ntlm)?;
        let (req, reply) = t
            .call_raw(sign(Request::new(Command::SessionSetup, 1, |m| {
                wire::session_setup(m, flags, mode, &auth.message)
            })))
            .await?;
        let reply = reply.expect(NtStatus::SUCCESS)?;
        if hash {
            preauth_update(&DEFAULT_PROVIDER, preauth, &req);
        }
        Ok((auth.session_key, reply))
    }

    /// Sends ECHOs until `target` credits are available or the server stops granting more.
    async fn warm_credits(&self, target: usize) -> Result<(), ClientError> {
        let mut last = 0;
        for _ in 0..16 {
            let now = self.t.available_credits();
            if now >= target || (now == last && now > 1) {
                break;
            }
            last = now;
            self.t
                .call(Request::new(Command::Echo, 1, wire::echo))
                .await?
                .expect(NtStatus::SUCCESS)?;
        }
        Ok(())
    }

    /// Credits available now.
    pub fn credits(&self) -> usize {
        self.t.available_credits()
    }

    /// Opens or creates a file or directory.
    pub async fn create(&self, c: &Create<'_>) -> Result<wire::Created, ClientError> {
        let r = self
            .t
            .call(Request::new(Command::Create, 1, |m| wire::create(m, c)))
            .await?
            .expect(NtStatus::SUCCESS)?;
        Ok(wire::create_reply(r.msg())?)
    }

    /// Opens an existing file for reading and writing.
    pub async fn open_rw(&self, name: &str, disposition: u32) -> Result<[u8; 16], ClientError> {
        Ok(self
            .create(&Create {
                name,
                access: wire::ACCESS_RW,
                attributes: 0x80,
                share: wire::SHARE_ALL,
                disposition,
                options: wire::OPT_NON_DIRECTORY,
            })
            .await?
            .file_id)
    }

    /// Closes a handle.
    pub async fn close(&self, fid: &[u8; 16]) -> Result<(), ClientError> {
        self.t
            .call(Request::new(Command::Close, 1, |m| wire::close(m, fid)))
            .await?
            .expect(NtStatus::SUCCESS)?;
        Ok(())
    }

    /// Reads up to `len` bytes at `offset`; `check` sees the data.
    pub async fn read<T>(
        &self,
        fid: &[u8; 16],
        offset: u64,
        len: u32,
        check: impl FnOnce(&[u8]) -> T,
    ) -> Result<T, ClientError> {
        let charge = credit_charge(len as usize);
        let r = self
            .t
            .call(Request::new(Command::Read, charge, |m| {
                wire::read(m, fid, offset, len)
            }))
            .await?
            .expect(NtStatus::SUCCESS)?;
        Ok(check(wire::read_reply(r.msg())?))
    }

    /// Writes `data` at `offset`; returns the count written.
    pub async fn write(
        &self,
        fid: &[u8; 16],
        offset: u64,
        data: &[u8],
    ) -> Result<u32, ClientError> {
        let len = u32::try_from(data.len()).map_err(|_| ClientError::Protocol("write size"))?;
        let charge = credit_charge(data.len());
        let req = Request::new(Command::Write, charge, |m| {
            m.reserve(wire::WRITE_FIXED + data.len());
            wire::write_prefix(m, fid, offset, len);
            m.extend_from_slice(data);
        });
        let r = self.t.call(req).await?.expect(NtStatus::SUCCESS)?;
        Ok(wire::write_reply(r.msg())?)
    }

    /// Lists a directory with QUERY_DIRECTORY until STATUS_NO_MORE_FILES; returns the count.
    pub async fn list(&self, dir: &str) -> Result<usize, ClientError> {
        let fid = self
            .create(&Create {
                name: dir,
                access: wire::ACCESS_READ,
                attributes: 0,
                share: wire::SHARE_ALL,
                disposition: wire::FILE_OPEN,
                options: wire::OPT_DIRECTORY,
            })
            .await?
            .file_id;
        let max = self.max_read.min(65536);
        let mut total = 0usize;
        let mut flags = wire::RESTART_SCANS;
        let result = loop {
            let req = Request::new(Command::QueryDirectory, 1, |m| {
                wire::query_directory(m, &fid, flags, "*", max)
            });
            let r = match self.t.call(req).await {
                Ok(r) => r,
                Err(e) => break Err(e),
            };
            if r.status() == NtStatus::NO_MORE_FILES {
                break Ok(total);
            }
            let r = match r.expect(NtStatus::SUCCESS) {
                Ok(r) => r,
                Err(e) => break Err(e),
            };
            match wire::buffer_reply(r.msg()).and_then(wire::count_dir_entries) {
                Ok(n) => total += n,
                Err(e) => break Err(e.into()),
            }
            flags = 0;
        };
        self.close(&fid).await?;
        result
    }

    /// CREATE + QUERY_INFO(FileNetworkOpenInformation) + CLOSE as one compound; returns the
    /// file's size.
    pub async fn stat(&self, name: &str) -> Result<u64, ClientError> {
        let c = Create {
            name,
            access: wire::ACCESS_READ_ATTRIBUTES,
            attributes: 0,
            share: wire::SHARE_ALL,
            disposition: wire::FILE_OPEN,
            options: 0,
        };
        let fid = wire::RELATED_FILE_ID;
        let replies = self
            .t
            .compound(vec![
                Request::new(Command::Create, 1, |m| wire::create(m, &c)),
                Request::new(Command::QueryInfo, 1, |m| {
                    wire::query_info(
                        m,
                        &fid,
                        wire::INFO_FILE,
                        wire::FILE_NETWORK_OPEN_INFORMATION,
                        56,
                    )
                })
                .related(),
                Request::new(Command::Close, 1, |m| wire::close(m, &fid)).related(),
            ])
            .await?;
        let mut it = replies.into_iter();
        let created = it
            .next()
            .ok_or(ClientError::Closed)?
            .expect(NtStatus::SUCCESS)?;
        let info = it
            .next()
            .ok_or(ClientError::Closed)?
            .expect(NtStatus::SUCCESS)?;
        it.next()
            .ok_or(ClientError::Closed)?
            .expect(NtStatus::SUCCESS)?;
        let _ = wire::create_reply(created.msg())?;
        let buf = wire::buffer_reply(info.msg())?;
        let eof = buf
            .get(40..48)
            .ok_or(ClientError::Protocol("FileNetworkOpenInformation"))?;
        Ok(u64::from_le_bytes(
            eof.try_into().map_err(|_| ClientError::Protocol("eof"))?,
        ))
    }

    /// CREATE(DELETE) + SET_INFO(FileDispositionInformation) + CLOSE as one compound.
    pub async fn delete(&self, name: &str) -> Result<(), ClientError> {
        let c = Create {
            name,
            access: wire::ACCESS_DELETE,
            attributes: 0,
            share: wire::SHARE_ALL,
            disposition: wire::FILE_OPEN,
            options: wire::OPT_NON_DIRECTORY,
        };
        let fid = wire::RELATED_FILE_ID;
        let replies = self
            .t
            .compound(vec![
                Request::new(Command::Create, 1, |m| wire::create(m, &c)),
                Request::new(Command::SetInfo, 1, |m| {
                    wire::set_info(
                        m,
                        &fid,
                        wire::INFO_FILE,
                        wire::FILE_DISPOSITION_INFORMATION,
                        &[1],
                    )
                })
                .related(),
                Request::new(Command::Close, 1, |m| wire::close(m, &fid)).related(),
            ])
            .await?;
        for r in replies {
            r.expect(NtStatus::SUCCESS)?;
        }
        Ok(())
    }

    /// CREATE(OVERWRITE_IF) + WRITE + CLOSE as one compound.
    pub async fn create_write_close(&self, name: &str, data: &[u8]) -> Result<(), ClientError> {
        let c = Create {
            name,
            access: wire::ACCESS_RW,
            attributes: 0x80,
            share: wire::SHARE_ALL,
            disposition: wire::FILE_OVERWRITE_IF,
            options: wire::OPT_NON_DIRECTORY,
        };
        let fid = wire::RELATED_FILE_ID;
        let len = u32::try_from(data.len()).map_err(|_| ClientError::Protocol("write size"))?;
        let replies = self
            .t
            .compound(vec![
                Request::new(Command::Create, 1, |m| wire::create(m, &c)),
                Request::new(Command::Write, credit_charge(data.len()), |m| {
                    wire::write_prefix(m, &fid, 0, len);
                    m.extend_from_slice(data);
                })
                .related(),
                Request::new(Command::Close, 1, |m| wire::close(m, &fid)).related(),
            ])
            .await?;
        for r in replies {
            r.expect(NtStatus::SUCCESS)?;
        }
        Ok(())
    }

    /// One ECHO round trip.
    pub async fn echo(&self) -> Result<(), ClientError> {
        self.t
            .call(Request::new(Command::Echo, 1, wire::echo))
            .await?
            .expect(NtStatus::SUCCESS)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_signs_with_its_own_key_and_seals_with_the_sessions() {
        let (session_key, binding_key) = ([1u8; 16], [2u8; 16]);
        let (pre_a, pre_b) = ([3u8; 64], [4u8; 64]);
        // 3.1.1: the binding exchange's session key and its preauth hash both count.
        let k = channel_signing_key(0x0311, &binding_key, &pre_a);
        let expected =
            derive_session_keys(&DEFAULT_PROVIDER, 0x0311, &binding_key, Some(&pre_a), None);
        assert_eq!(k, expected.signing);
        assert_ne!(k, channel_signing_key(0x0311, &binding_key, &pre_b));
        assert_ne!(k, channel_signing_key(0x0311, &session_key, &pre_a));
        // 3.0 and 3.0.2: no hash, the binding exchange's key alone.
        for d in [0x0300, 0x0302] {
            let k = channel_signing_key(d, &binding_key, &pre_a);
            assert_eq!(k.len(), 16);
            assert_eq!(k, channel_signing_key(d, &binding_key, &pre_b));
            assert_ne!(k, channel_signing_key(d, &session_key, &pre_a));
        }
        let session = Protection {
            signing: Some((SigningAlgorithm::AesGmac, vec![9; 16])),
            sign_all: true,
            encryption: Some((Cipher::Aes128Gcm, vec![5; 16], vec![6; 16])),
        };
        let channel = channel_protection(&session, k.clone());
        assert_eq!(channel.signing, Some((SigningAlgorithm::AesGmac, k)));
        assert!(channel.sign_all);
        assert_eq!(channel.encryption, session.encryption);
        // A session that signs nothing gives its channels nothing to sign with either.
        let plain = Protection {
            signing: None,
            sign_all: false,
            encryption: None,
        };
        assert!(channel_protection(&plain, vec![1; 16]).signing.is_none());
    }

    #[test]
    fn a_refused_binding_is_unsupported_other_failures_stay() {
        let refused = binding_refused(ClientError::Status {
            command: 1,
            status: NtStatus::REQUEST_NOT_ACCEPTED.0,
        });
        assert!(matches!(refused, ClientError::Unsupported(ref why) if why.contains("0xc00000d0")));
        assert_eq!(
            binding_refused(ClientError::BadSignature),
            ClientError::BadSignature
        );
    }

    fn reply(dialect: u16, cipher: u16, signing: Option<u16>) -> wire::NegotiateReply {
        wire::NegotiateReply {
            dialect,
            cipher,
            signing,
            ..wire::NegotiateReply::default()
        }
    }

    #[test]
    fn a_server_that_picks_other_protection_is_unsupported_not_failed() {
        let gmac = Security::Signed(SigningAlgorithm::AesGmac);
        let cmac = SigningAlgorithm::AesCmac.to_wire();
        assert!(matches!(
            check_offer(gmac, 0x0311, &reply(0x0311, 0, Some(cmac))),
            Err(ClientError::Unsupported(_))
        ));
        let gmac_wire = SigningAlgorithm::AesGmac.to_wire();
        assert_eq!(
            check_offer(gmac, 0x0311, &reply(0x0311, 0, Some(gmac_wire))),
            Ok(())
        );
        // No SIGNING_CAPABILITIES back means AES-CMAC on 3.1.1.
        let want_cmac = Security::Signed(SigningAlgorithm::AesCmac);
        assert_eq!(
            check_offer(want_cmac, 0x0311, &reply(0x0311, 0, None)),
            Ok(())
        );
        let gcm = Security::Encrypted(Cipher::Aes256Gcm);
        let err = check_offer(
            gcm,
            0x0311,
            &reply(0x0311, Cipher::Aes128Ccm.to_wire(), None),
        );
        assert!(matches!(err, Err(ClientError::Unsupported(_))), "{err:?}");
        assert!(matches!(
            check_offer(gcm, 0x0311, &reply(0x0311, 0, None)),
            Err(ClientError::Unsupported(_))
        ));
        assert_eq!(
            check_offer(
                gcm,
                0x0311,
                &reply(0x0311, Cipher::Aes256Gcm.to_wire(), None)
            ),
            Ok(())
        );
        assert!(matches!(
            check_offer(Security::Plain, 0x0311, &reply(0x0302, 0, None)),
            Err(ClientError::Unsupported(_))
        ));
        // Before 3.1.1 the algorithms follow from the dialect.
        assert_eq!(
            check_offer(want_cmac, 0x0300, &reply(0x0300, 0, None)),
            Ok(())
        );
    }
}
