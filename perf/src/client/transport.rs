//! One TCP connection: framing, credits, message ids, signing and encryption, and a reader
//! task that hands each response to the request waiting for it.
//!
//! Credits (MS-SMB2 3.2.4.1.5, 3.2.5.1.4) are a tokio `Semaphore`: a request takes
//! CreditCharge permits before it gets its MessageIds, every response gives back what the
//! server granted. Requests can so be pipelined up to whatever window the server allows.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use smbd::crypto::{
    Cipher, DEFAULT_PROVIDER, SigningAlgorithm, TRANSFORM_HEADER_LEN, decrypt_in_place,
    encrypt_in_place, sign_message, verify_message,
};
use smbd::proto::header::{PROTOCOL_ID, TRANSFORM_ID, flags};
use smbd::proto::{Command, Header, NtStatus};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::ClientError;

/// Largest frame accepted from a server (16 MiB of data plus headers).
const MAX_FRAME: usize = 16 * 1024 * 1024 + 4096;
/// Credits asked for on top of each request's charge.
const EXTRA_CREDITS: u16 = 64;

/// A session's protection once SESSION_SETUP is done.
#[derive(Clone)]
pub struct Protection {
    /// Signing algorithm and key of the session.
    pub signing: Option<(SigningAlgorithm, Vec<u8>)>,
    /// Sign every request; otherwise only TREE_CONNECT is signed, which a 3.1.1 client must
    /// do for a non-anonymous session (MS-SMB2 3.2.4.1.1; Samba refuses it unsigned).
    pub sign_all: bool,
    /// Cipher, client-to-server key and server-to-client key, if messages are encrypted.
    pub encryption: Option<(Cipher, Vec<u8>, Vec<u8>)>,
}

/// One response message: the frame it arrived in and its bounds there.
#[derive(Debug)]
pub struct Reply {
    /// The decoded header.
    pub header: Header,
    buf: Arc<Vec<u8>>,
    start: usize,
    end: usize,
}

impl Reply {
    /// The whole message (header included), as SMB offsets expect.
    pub fn msg(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or(&[])
    }

    /// The NTSTATUS.
    pub fn status(&self) -> NtStatus {
        NtStatus(self.header.status)
    }

    /// Fails with [`ClientError::Status`] unless the status is `ok` or success.
    pub fn expect(self, ok: NtStatus) -> Result<Self, ClientError> {
        if self.header.status == 0 || self.header.status == ok.0 {
            Ok(self)
        } else {
            Err(ClientError::Status {
                command: self.header.command.0,
                status: self.header.status,
            })
        }
    }
}

/// One request of a (possibly compound) send.
#[derive(Debug)]
pub struct Request {
    /// Command code.
    pub command: Command,
    /// The encoded message with 64 zero bytes where the header goes.
    pub msg: Vec<u8>,
    /// CreditCharge (at least 1).
    pub charge: u16,
    /// Whether this message is related to the previous one of the chain.
    pub related: bool,
    /// Sign with this algorithm and key rather than the connection's protection: a binding
    /// SESSION_SETUP is signed with the session's key before the channel has one of its own
    /// (MS-SMB2 3.2.4.1.1).
    pub sign_with: Option<(SigningAlgorithm, Vec<u8>)>,
}

impl Request {
    /// A request whose `body` closure appends the body after a blank header.
    pub fn new(command: Command, charge: u16, body: impl FnOnce(&mut Vec<u8>)) -> Self {
        let mut msg = vec![0u8; 64];
        body(&mut msg);
        Self {
            command,
            msg,
            charge: charge.max(1),
            related: false,
            sign_with: None,
        }
    }

    /// Signs the request with `alg` and `key` (whatever the connection's protection).
    pub fn signed_with(mut self, alg: SigningAlgorithm, key: &[u8]) -> Self {
        self.sign_with = Some((alg, key.to_vec()));
        self
    }

    /// Marks the request as related to the previous one.
    pub fn related(mut self) -> Self {
        self.related = true;
        self
    }
}

type Waiter = oneshot::Sender<Result<Reply, ClientError>>;

/// State shared by the senders and the reader task.
struct Shared {
    pending: Mutex<HashMap<u64, Waiter>>,
    credits: Semaphore,
    next_id: Mutex<u64>,
    protection: OnceLock<Protection>,
    session_id: AtomicU64,
    verify: bool,
}

/// A connection to an SMB2 server.
pub struct Transport {
    shared: Arc<Shared>,
    tx: mpsc::Sender<Vec<u8>>,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
    /// TreeId put in requests (0 before TREE_CONNECT).
    pub tree_id: AtomicU64,
}

impl Drop for Transport {
    fn drop(&mut self) {
        self.reader.abort();
        self.writer.abort();
    }
}

impl Transport {
    /// Wraps a connected stream. `verify` checks the signatures of signed responses.
    pub fn new(stream: TcpStream, verify: bool) -> Self {
        let _ = stream.set_nodelay(true);
        let (rd, wr) = stream.into_split();
        let shared = Arc::new(Shared {
            pending: Mutex::new(HashMap::new()),
            credits: Semaphore::new(1),
            next_id: Mutex::new(0),
            protection: OnceLock::new(),
            session_id: AtomicU64::new(0),
            verify,
        });
        let (tx, rx) = mpsc::channel(256);
        let reader = tokio::spawn(read_loop(rd, shared.clone()));
        let writer = tokio::spawn(write_loop(wr, rx));
        Self {
            shared,
            tx,
            reader,
            writer,
            tree_id: AtomicU64::new(0),
        }
    }

    /// Sets the SessionId put in every following request.
    pub fn set_session(&self, id: u64) {
        self.shared.session_id.store(id, Ordering::Relaxed);
    }

    /// The SessionId.
    pub fn session_id(&self) -> u64 {
        self.shared.session_id.load(Ordering::Relaxed)
    }

    /// Turns on signing and/or encryption of every following request.
    pub fn protect(&self, p: Protection) {
        let _ = self.shared.protection.set(p);
    }

    /// Credits currently available (not held by requests in flight).
    pub fn available_credits(&self) -> usize {
        self.shared.credits.available_permits()
    }

    /// Sends one request and waits for its response; returns the sent message bytes too
    /// (the preauth hash needs them).
    pub async fn call_raw(&self, req: Request) -> Result<(Vec<u8>, Reply), ClientError> {
        let (mut sent, mut rx) = self.send(vec![req]).await?;
        let reply = rx.pop().ok_or(ClientError::Closed)?.await;
        let reply = reply.map_err(|_| ClientError::Closed)??;
        Ok((sent.pop().unwrap_or_default(), reply))
    }

    /// Sends one request and waits for its response.
    pub async fn call(&self, req: Request) -> Result<Reply, ClientError> {
        Ok(self.call_raw(req).await?.1)
    }

    /// Sends the requests as one compound chain and waits for every response, in order.
    pub async fn compound(&self, reqs: Vec<Request>) -> Result<Vec<Reply>, ClientError> {
        let (_, rxs) = self.send(reqs).await?;
        let mut out = Vec::with_capacity(rxs.len());
        for rx in rxs {
            out.push(rx.await.map_err(|_| ClientError::Closed)??);
        }
        Ok(out)
    }

    /// Takes credits, numbers, signs, chains and (optionally) encrypts the requests, registers
    /// a waiter per message and queues the frame.
    async fn send(
        &self,
        mut reqs: Vec<Request>,
    ) -> Result<
        (
            Vec<Vec<u8>>,
            Vec<oneshot::Receiver<Result<Reply, ClientError>>>,
        ),
        ClientError,
    > {
        let total: u32 = reqs.iter().map(|r| u32::from(r.charge)).sum();
        let permits = self
            .shared
            .credits
            .acquire_many(total)
            .await
            .map_err(|_| ClientError::Closed)?;
        permits.forget();
        let first_id = {
            let mut next = self
                .shared
                .next_id
                .lock()
                .map_err(|_| ClientError::Closed)?;
            let id = *next;
            *next += u64::from(total);
            id
        };
        let protection = self.shared.protection.get();
        let encrypt = protection.and_then(|p| p.encryption.as_ref());
        let sign_all = protection.is_some_and(|p| p.sign_all);
        let signing = protection
            .and_then(|p| p.signing.as_ref())
            .filter(|_| encrypt.is_none());
        let session_id = self.session_id();
        let tree_id = u32::try_from(self.tree_id.load(Ordering::Relaxed)).unwrap_or(0);

        let room = 4 + if encrypt.is_some() {
            TRANSFORM_HEADER_LEN
        } else {
            0
        };
        let body_len: usize = reqs.iter().map(|r| r.msg.len().div_ceil(8) * 8).sum();
        let mut frame = Vec::with_capacity(room + body_len);
        frame.resize(room, 0);
        let mut ids = Vec::with_capacity(reqs.len());
        let mut sent = Vec::new();
        let mut id = first_id;
        let n = reqs.len();
        for (i, req) in reqs.iter_mut().enumerate() {
            let last = i + 1 == n;
            if !last {
                req.msg.resize(req.msg.len().div_ceil(8) * 8, 0);
            }
            let mut flag_bits = if req.related {
                flags::RELATED_OPERATIONS
            } else {
                0
            };
            let own = req.sign_with.take();
            let sign = own
                .as_ref()
                .or(signing.filter(|_| sign_all || req.command == Command::TreeConnect));
            if sign.is_some() {
                flag_bits |= flags::SIGNED;
            }
            let header = Header {
                credit_charge: req.charge,
                status: 0,
                command: req.command,
                credits: req.charge.saturating_add(EXTRA_CREDITS),
                flags: flag_bits,
                next_command: if last {
                    0
                } else {
                    u32::try_from(req.msg.len()).unwrap_or(0)
                },
                message_id: id,
                async_id: 0,
                tree_id,
                session_id,
                signature: [0; 16],
            };
            let mut h = Vec::with_capacity(64);
            header.encode(&mut h);
            req.msg[..64].copy_from_slice(&h);
            if let Some((alg, key)) = sign {
                sign_message(&DEFAULT_PROVIDER, *alg, key, &mut req.msg)?;
            }
            ids.push(id);
            id += u64::from(req.charge);
            frame.extend_from_slice(&req.msg);
            if req.command == Command::Negotiate || req.command == Command::SessionSetup {
                sent.push(std::mem::take(&mut req.msg));
            }
        }
        if let Some((cipher, c2s, _)) = encrypt {
            encrypt_in_place(&DEFAULT_PROVIDER, *cipher, c2s, session_id, &mut frame[4..])?;
        }
        let len =
            u32::try_from(frame.len() - 4).map_err(|_| ClientError::Protocol("frame size"))?;
        frame[..4].copy_from_slice(&len.to_be_bytes());

        let mut rxs = Vec::with_capacity(ids.len());
        {
            let mut pending = self
                .shared
                .pending
                .lock()
                .map_err(|_| ClientError::Closed)?;
            for id in &ids {
                let (tx, rx) = oneshot::channel();
                pending.insert(*id, tx);
                rxs.push(rx);
            }
        }
        self.tx.send(frame).await.map_err(|_| ClientError::Closed)?;
        Ok((sent, rxs))
    }
}

/// Writes queued frames, flushing when the queue is empty.
async fn write_loop(wr: OwnedWriteHalf, mut rx: mpsc::Receiver<Vec<u8>>) {
    let mut w = BufWriter::with_capacity(256 * 1024, wr);
    while let Some(frame) = rx.recv().await {
        if w.write_all(&frame).await.is_err() {
            return;
        }
        while let Ok(frame) = rx.try_recv() {
            if w.write_all(&frame).await.is_err() {
                return;
            }
        }
        if w.flush().await.is_err() {
            return;
        }
    }
}

/// Reads frames until the connection fails, then fails every waiter.
async fn read_loop(mut rd: OwnedReadHalf, shared: Arc<Shared>) {
    let err = loop {
        match read_frame(&mut rd).await {
            Ok(frame) => {
                if let Err(e) = deliver(&shared, frame) {
                    break e;
                }
            }
            Err(e) => break e,
        }
    };
    shared.credits.close();
    let waiters: Vec<Waiter> = match shared.pending.lock() {
        Ok(mut p) => p.drain().map(|(_, w)| w).collect(),
        Err(_) => Vec::new(),
    };
    for w in waiters {
        let _ = w.send(Err(err.clone()));
    }
}

async fn read_frame(rd: &mut OwnedReadHalf) -> Result<Vec<u8>, ClientError> {
    let mut len = [0u8; 4];
    rd.read_exact(&mut len).await?;
    let len = usize::try_from(u32::from_be_bytes(len)).map_err(|_| ClientError::Protocol("len"))?;
    if !(4..=MAX_FRAME).contains(&len) {
        return Err(ClientError::Protocol("frame length"));
    }
    let mut frame = vec![0u8; len];
    rd.read_exact(&mut frame).await?;
    Ok(frame)
}

/// Decrypts a frame if needed, splits its chain and wakes the waiters.
fn deliver(shared: &Shared, mut frame: Vec<u8>) -> Result<(), ClientError> {
    let mut start = 0usize;
    let mut encrypted = false;
    if frame.get(..4) == Some(&TRANSFORM_ID[..]) {
        let (cipher, _, s2c) = shared
            .protection
            .get()
            .and_then(|p| p.encryption.as_ref())
            .ok_or(ClientError::Protocol("encrypted reply without keys"))?;
        decrypt_in_place(&DEFAULT_PROVIDER, *cipher, s2c, &mut frame)?;
        start = TRANSFORM_HEADER_LEN;
        encrypted = true;
    }
    let buf = Arc::new(frame);
    loop {
        if buf.get(start..start + 4) != Some(&PROTOCOL_ID[..]) {
            return Err(ClientError::Protocol("ProtocolId"));
        }
        let rest = buf.get(start..).unwrap_or(&[]);
        let header = Header::decode(rest)?;
        let next = usize::try_from(header.next_command).unwrap_or(usize::MAX);
        let end = if next == 0 {
            buf.len()
        } else {
            start
                .checked_add(next)
                .filter(|e| *e <= buf.len())
                .ok_or(ClientError::Protocol("NextCommand"))?
        };
        shared.credits.add_permits(usize::from(header.credits));
        let interim = header.is_async() && header.status == NtStatus::PENDING.0;
        if !interim {
            let key = shared.protection.get().and_then(|p| p.signing.as_ref());
            if let Some((alg, key)) =
                key.filter(|_| !encrypted && shared.verify && header.is_signed())
            {
                let msg = buf.get(start..end).unwrap_or(&[]);
                if !verify_message(&DEFAULT_PROVIDER, *alg, key, msg) {
                    return Err(ClientError::BadSignature);
                }
            }
            let waiter = shared
                .pending
                .lock()
                .map_err(|_| ClientError::Closed)?
                .remove(&header.message_id);
            if let Some(w) = waiter {
                let _ = w.send(Ok(Reply {
                    header,
                    buf: buf.clone(),
                    start,
                    end,
                }));
            }
        }
        if next == 0 {
            return Ok(());
        }
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// Reads one framed message as a server would.
    async fn read_one(s: &mut TcpStream) -> Vec<u8> {
        let mut len = [0u8; 4];
        s.read_exact(&mut len).await.unwrap();
        let mut msg = vec![0u8; u32::from_be_bytes(len) as usize];
        s.read_exact(&mut msg).await.unwrap();
        msg
    }

    #[tokio::test]
    async fn a_request_signed_with_its_own_key_ignores_the_connections() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let t = Arc::new(Transport::new(stream, true));
        let alg = SigningAlgorithm::AesCmac;
        let (session_key, channel_key) = ([1u8; 16], [2u8; 16]);
        t.set_session(7);
        t.protect(Protection {
            signing: Some((alg, channel_key.to_vec())),
            sign_all: true,
            encryption: None,
        });
        // A binding leg: signed with the session's key, not the channel's.
        let t2 = t.clone();
        let call = tokio::spawn(async move {
            t2.call(Request::new(Command::SessionSetup, 1, |_| {}).signed_with(alg, &session_key))
                .await
        });
        let msg = read_one(&mut server).await;
        let header = Header::decode(&msg).unwrap();
        assert!(header.is_signed());
        assert_eq!(header.session_id, 7);
        assert!(verify_message(&DEFAULT_PROVIDER, alg, &session_key, &msg));
        assert!(!verify_message(&DEFAULT_PROVIDER, alg, &channel_key, &msg));
        call.abort();
        // Any other request: the connection's (the channel's) key.
        let t3 = t.clone();
        let call =
            tokio::spawn(async move { t3.call(Request::new(Command::Echo, 1, |_| {})).await });
        // The first request's credit never came back: grant one with a reply to it.
        let mut reply = Vec::new();
        Header {
            credit_charge: 1,
            status: 0,
            command: Command::SessionSetup,
            credits: 1,
            flags: flags::SERVER_TO_REDIR,
            next_command: 0,
            message_id: header.message_id,
            async_id: 0,
            tree_id: 0,
            session_id: 7,
            signature: [0; 16],
        }
        .encode(&mut reply);
        let mut frame = u32::try_from(reply.len()).unwrap().to_be_bytes().to_vec();
        frame.extend_from_slice(&reply);
        server.write_all(&frame).await.unwrap();
        let msg = read_one(&mut server).await;
        assert!(verify_message(&DEFAULT_PROVIDER, alg, &channel_key, &msg));
        call.abort();
    }
}
