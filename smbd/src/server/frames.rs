//! Reading Direct TCP frames (MS-SMB2 2.1): a 4-byte big-endian length, then the frame.
//!
//! [`FrameReader`] keeps its progress in itself rather than in a future, so the driver can poll
//! it in a `select!` beside its timer and drop that future whenever another branch wins without
//! losing a byte. It also notes when it starts waiting for the peer, between frames or in the
//! middle of one: the times the driver's deadlines count from. The clock is read only when a
//! read has to wait, never for a frame that arrives whole.
//!
//! A frame's buffer grows as its bytes arrive instead of being reserved from the length prefix:
//! it gets at most [`FIRST_CHUNK`] before any of its bytes are in, so a peer announcing 16 MiB
//! and sending 100 bytes holds 68 KiB, not 16 MiB. Once that first chunk has really arrived the
//! rest of the frame is reserved at once, so a large WRITE costs one reallocation (a copy of
//! the first chunk) and no more. Bytes go into the spare capacity, never zero-filled first.

use std::future::{Future, poll_fn};
use std::io;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};
use tokio::time::Instant;

/// Largest frame accepted: what the 24-bit length of Direct TCP can carry (MS-SMB2 2.1: the
/// first byte of the 4-byte prefix is zero). The largest WRITE offered
/// (`config::MAX_MAX_IO_SIZE`) fits with its headers.
pub(super) const MAX_FRAME: usize = 0x00FF_FFFF;
/// Most of a frame's buffer reserved before its bytes arrive: a 64 KiB READ or WRITE request
/// with its headers (and a transform header) still fits in one allocation.
pub(super) const FIRST_CHUNK: usize = 68 * 1024;
/// Bytes of the length prefix.
const PREFIX: usize = 4;

/// What the reader produced.
#[derive(Debug)]
pub(super) enum Event {
    /// A whole frame (without its length prefix).
    Frame(Vec<u8>),
    /// The reader began waiting for the rest of a frame (once per frame); see
    /// [`FrameReader::waiting`].
    Partial,
    /// The peer closed the stream between two frames.
    Closed,
}

/// Whether and since when the reader waits for the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wait {
    /// It does not: bytes came in since it last waited, or the last frame was just returned.
    No,
    /// For a frame to start, since then.
    Idle(Instant),
    /// For the rest of a frame whose first bytes arrived, since then.
    MidFrame(Instant),
}

/// Reads frames one after another from a byte stream; see the module documentation.
#[derive(Debug)]
pub(super) struct FrameReader {
    /// The length prefix, `prefix_len` bytes of it read.
    prefix: [u8; PREFIX],
    prefix_len: usize,
    /// The frame's length, once the prefix is whole.
    want: usize,
    /// The frame's bytes so far.
    body: Vec<u8>,
    waiting: Wait,
}

impl Default for FrameReader {
    fn default() -> Self {
        Self {
            prefix: [0; PREFIX],
            prefix_len: 0,
            want: 0,
            body: Vec::new(),
            waiting: Wait::No,
        }
    }
}

impl FrameReader {
    /// Whether and since when the reader waits for the peer.
    pub(super) fn waiting(&self) -> Wait {
        self.waiting
    }

    /// The next event; cancel-safe (a dropped future loses nothing).
    pub(super) fn next<'a, R: AsyncRead + Unpin>(
        &'a mut self,
        rd: &'a mut R,
    ) -> impl Future<Output = Result<Event, &'static str>> + 'a {
        poll_fn(move |cx| self.poll_next(cx, rd))
    }

    fn poll_next<R: AsyncRead + Unpin>(
        &mut self,
        cx: &mut Context<'_>,
        rd: &mut R,
    ) -> Poll<Result<Event, &'static str>> {
        loop {
            if self.prefix_len == PREFIX && self.body.len() == self.want {
                self.prefix_len = 0;
                self.waiting = Wait::No;
                return Poll::Ready(Ok(Event::Frame(std::mem::take(&mut self.body))));
            }
            let in_prefix = self.prefix_len < PREFIX;
            let read = if in_prefix {
                self.poll_prefix(cx, rd)
            } else {
                self.poll_body(cx, rd)
            };
            match read {
                Poll::Pending => return self.pending(),
                Poll::Ready(Err(_)) => return Poll::Ready(Err("read failed")),
                Poll::Ready(Ok(0)) if self.prefix_len == 0 => {
                    return Poll::Ready(Ok(Event::Closed));
                }
                Poll::Ready(Ok(0)) => return Poll::Ready(Err("peer closed mid-frame")),
                Poll::Ready(Ok(_)) => {
                    if let Wait::Idle(_) = self.waiting {
                        self.waiting = Wait::No;
                    }
                    if in_prefix && self.prefix_len == PREFIX {
                        self.start_body()?;
                    }
                }
            }
        }
    }

    /// The read has to wait: notes since when, and tells once per frame that one is partial.
    fn pending(&mut self) -> Poll<Result<Event, &'static str>> {
        match self.waiting {
            Wait::MidFrame(_) => Poll::Pending,
            _ if self.prefix_len > 0 => {
                self.waiting = Wait::MidFrame(Instant::now());
                Poll::Ready(Ok(Event::Partial))
            }
            Wait::No => {
                self.waiting = Wait::Idle(Instant::now());
                Poll::Pending
            }
            Wait::Idle(_) => Poll::Pending,
        }
    }

    fn poll_prefix<R: AsyncRead + Unpin>(
        &mut self,
        cx: &mut Context<'_>,
        rd: &mut R,
    ) -> Poll<io::Result<usize>> {
        let mut buf = ReadBuf::new(&mut self.prefix[self.prefix_len..]);
        Pin::new(rd).poll_read(cx, &mut buf).map_ok(|()| {
            let n = buf.filled().len();
            self.prefix_len += n;
            n
        })
    }

    /// Checks the frame's length and gives its buffer the first chunk.
    fn start_body(&mut self) -> Result<(), &'static str> {
        let n = u32::from_be_bytes(self.prefix) as usize;
        if !(4..=MAX_FRAME).contains(&n) {
            return Err("frame length out of range");
        }
        self.want = n;
        self.body = Vec::with_capacity(n.min(FIRST_CHUNK));
        Ok(())
    }

    fn poll_body<R: AsyncRead + Unpin>(
        &mut self,
        cx: &mut Context<'_>,
        rd: &mut R,
    ) -> Poll<io::Result<usize>> {
        let have = self.body.len();
        if have == self.body.capacity() {
            // The first chunk has arrived: the rest is reserved once.
            self.body.reserve_exact(self.want - have);
        }
        // `take` keeps the read inside this frame and the buffer's capacity.
        let limit = (self.want - have) as u64;
        let mut rd = AsyncReadExt::take(rd, limit);
        let read = pin!(rd.read_buf(&mut self.body));
        read.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::task::Waker;
    use std::time::Duration;

    use tokio::io::{AsyncWriteExt, DuplexStream, duplex};

    use super::*;

    /// One poll of the reader with a fresh future, as a `select!` that another branch won.
    fn poll_once(r: &mut FrameReader, rd: &mut DuplexStream) -> Poll<Result<Event, &'static str>> {
        r.poll_next(&mut Context::from_waker(Waker::noop()), rd)
    }

    /// The next whole frame.
    async fn frame(r: &mut FrameReader, rd: &mut DuplexStream) -> Result<Vec<u8>, &'static str> {
        loop {
            match r.next(rd).await? {
                Event::Frame(f) => return Ok(f),
                Event::Partial => {}
                Event::Closed => return Err("closed"),
            }
        }
    }

    fn r_new() -> FrameReader {
        FrameReader::default()
    }

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut v = (body.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(body);
        v
    }

    #[tokio::test]
    async fn frames_are_read_whole_and_never_past_their_length() {
        let (mut tx, mut rx) = duplex(64);
        let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            tx.write_all(&framed(&sent)).await.unwrap();
            tx.write_all(&framed(&[1, 2, 3, 4])).await.unwrap();
            tx.write_all(&framed(&[5; 5])[..7]).await.unwrap();
        });
        let mut r = FrameReader::default();
        let f = frame(&mut r, &mut rx).await.unwrap();
        assert_eq!(f, data);
        assert_eq!(f.capacity(), 1000);
        // The next frame's bytes stayed in the stream.
        assert_eq!(frame(&mut r, &mut rx).await.unwrap(), [1, 2, 3, 4]);
        writer.await.unwrap();
        // A peer gone mid-frame is an error, not a short frame; between frames, an end.
        assert_eq!(frame(&mut r, &mut rx).await, Err("peer closed mid-frame"));
        let (tx, mut rx) = duplex(64);
        drop(tx);
        assert!(matches!(r_new().next(&mut rx).await, Ok(Event::Closed)));
    }

    #[tokio::test]
    async fn lengths_out_of_range_are_refused() {
        for n in [0u32, 3, (MAX_FRAME + 1) as u32, u32::MAX] {
            let (mut tx, mut rx) = duplex(64);
            tx.write_all(&n.to_be_bytes()).await.unwrap();
            let r = frame(&mut r_new(), &mut rx).await;
            assert_eq!(r, Err("frame length out of range"), "length {n}");
        }
    }

    #[tokio::test]
    async fn an_announced_length_is_not_reserved_before_its_bytes_arrive() {
        // 200 peers announce the largest frame (16 MiB less a byte) and send 100 bytes.
        const N: usize = MAX_FRAME;
        let mut held = 0;
        let mut peers = Vec::new();
        for _ in 0..200 {
            let (mut tx, mut rx) = duplex(1 << 20);
            tx.write_all(&(N as u32).to_be_bytes()).await.unwrap();
            tx.write_all(&[7; 100]).await.unwrap();
            let mut r = r_new();
            assert!(matches!(
                poll_once(&mut r, &mut rx),
                Poll::Ready(Ok(Event::Partial))
            ));
            assert_eq!(r.body.len(), 100);
            held += r.body.capacity();
            peers.push((tx, rx, r));
        }
        // At most 68 KiB each, where 16 MiB each would be 3.2 GiB.
        assert!(held <= 200 * (68 << 10), "{held} bytes held");
        // Once the first chunk has arrived, the rest of the frame is reserved in one step.
        let (mut tx, mut rx, mut r) = peers.pop().unwrap();
        tx.write_all(&vec![7; FIRST_CHUNK - 100]).await.unwrap();
        assert!(poll_once(&mut r, &mut rx).is_pending());
        assert_eq!(r.body.len(), FIRST_CHUNK);
        assert_eq!(r.body.capacity(), N);
        let writer = tokio::spawn(async move {
            let rest: Vec<u8> = (FIRST_CHUNK..N).map(|i| (i % 253) as u8).collect();
            tx.write_all(&rest).await.unwrap();
        });
        let f = frame(&mut r, &mut rx).await.unwrap();
        writer.await.unwrap();
        assert_eq!(f.len(), N);
        assert_eq!(f.capacity(), N);
        assert!(f[..FIRST_CHUNK].iter().all(|&b| b == 7));
        assert!((FIRST_CHUNK..N).all(|i| f[i] == (i % 253) as u8));
    }

    #[tokio::test]
    async fn a_read_dropped_midway_loses_no_byte() {
        let (mut tx, mut rx) = duplex(4096);
        let bodies: Vec<Vec<u8>> = (0..5u8)
            .map(|i| vec![i; 10 + usize::from(i) * 300])
            .collect();
        let bytes: Vec<u8> = bodies.iter().flat_map(|b| framed(b)).collect();
        let mut r = r_new();
        let mut got = Vec::new();
        // Bytes arrive a few at a time; every poll uses a new future.
        for piece in bytes.chunks(7) {
            tx.write_all(piece).await.unwrap();
            while let Poll::Ready(ev) = poll_once(&mut r, &mut rx) {
                match ev.unwrap() {
                    Event::Frame(f) => got.push(f),
                    Event::Partial => {}
                    Event::Closed => unreachable!(),
                }
            }
        }
        assert_eq!(got, bodies);
    }

    #[tokio::test(start_paused = true)]
    async fn waits_are_noted_between_and_inside_frames() {
        let (mut tx, mut rx) = duplex(4096);
        let mut r = r_new();
        let t0 = Instant::now();
        assert_eq!(r.waiting(), Wait::No);
        assert!(poll_once(&mut r, &mut rx).is_pending());
        assert_eq!(r.waiting(), Wait::Idle(t0));
        tokio::time::advance(Duration::from_secs(5)).await;
        let bytes = framed(&[9; 20]);
        tx.write_all(&bytes[..2]).await.unwrap();
        // Told once that a frame is partial; trickling bytes do not move its start.
        assert!(matches!(
            poll_once(&mut r, &mut rx),
            Poll::Ready(Ok(Event::Partial))
        ));
        let started = Wait::MidFrame(t0 + Duration::from_secs(5));
        assert_eq!(r.waiting(), started);
        tokio::time::advance(Duration::from_secs(3)).await;
        tx.write_all(&bytes[2..10]).await.unwrap();
        assert!(poll_once(&mut r, &mut rx).is_pending());
        assert_eq!(r.waiting(), started);
        tx.write_all(&bytes[10..]).await.unwrap();
        assert!(matches!(
            poll_once(&mut r, &mut rx),
            Poll::Ready(Ok(Event::Frame(_)))
        ));
        assert_eq!(r.waiting(), Wait::No);
        // A frame that arrives whole is never partial.
        tx.write_all(&bytes).await.unwrap();
        assert!(matches!(
            poll_once(&mut r, &mut rx),
            Poll::Ready(Ok(Event::Frame(_)))
        ));
        assert!(poll_once(&mut r, &mut rx).is_pending());
        assert_eq!(r.waiting(), Wait::Idle(t0 + Duration::from_secs(8)));
    }
}
