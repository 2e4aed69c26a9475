//! Where a connection's replies go: straight to the socket, written by whichever request task
//! has a frame to send, with no writer task, channel or buffer held while the connection is idle.
//!
//! The first sender becomes the writer; frames sent while it writes are queued and it writes
//! them too, many in one vectored write, until the queue is empty. Frames therefore leave in
//! the order their `send` calls queued them, and never interleave mid-frame. A sender waits
//! when the queue holds [`QUEUE_MAX`] frames.
//!
//! A client that stops reading cannot hold the server's memory or its tasks: the bytes of
//! every frame handed to the outbox and not yet written are counted, and a frame that would
//! take them past `max_send_queue_bytes` waits for the client to take what it asked for (a
//! frame alone is always taken). A client that reads keeps that wait short (a 16-deep queue of
//! signed 8 MiB reads passes 64 MiB while the client takes it); one whose queue stays over the
//! bound for `send_timeout` (it stopped, or reads a trickle) closes the outbox, and so does a
//! wait of the writer on the socket that sees no progress for `send_timeout`. The request tasks
//! waiting meanwhile hold their slots, so the reader takes no new requests.
//! Closing drops the queued frames, fails every waiting sender and interrupts the writer, so
//! nothing waits for the peer forever. The fast path (a socket with room) arms no timer.
//!
//! A frame may end with a range of an open file ([`FileTail`]): on a TCP socket its bytes go
//! from the page cache to the socket with sendfile(2), right after the frame's own bytes and
//! before any other frame, so the data never passes through user space.

use std::future::{Future, poll_fn};
use std::io::{self, IoSlice};
use std::os::fd::AsFd;
use std::pin::pin;
use std::sync::Mutex;
use std::task::Poll;
use std::time::Duration;

use tokio::io::{AsyncWrite, AsyncWriteExt, Interest};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::futures::Notified;
use tokio::sync::{Notify, mpsc};

use super::Frame;
use crate::limits::Limits;

/// Frames queued behind the one being written before senders wait.
const QUEUE_MAX: usize = 128;
/// Frames gathered into one vectored write.
const FRAMES_PER_WRITE: usize = 16;
/// Bytes of the Direct TCP transport header (MS-SMB2 2.1).
const TRANSPORT_HEADER: usize = 4;

/// The byte stream replies are written to.
pub type ReplySink = Box<dyn AsyncWrite + Send + Unpin>;

/// The last bytes of a frame, sent from a file rather than from memory: `len` bytes at
/// `offset`. Whoever builds the frame has already counted them (checked against the file's
/// size); if the file has shrunk since, the connection is closed rather than the promised
/// bytes replaced by others.
pub struct FileTail {
    /// The file.
    pub file: vfs::FileRef,
    /// Where the bytes start in the file.
    pub offset: u64,
    /// How many bytes the frame ends with.
    pub len: usize,
}

/// What a stream outbox writes to.
enum Sink {
    /// A TCP socket: file tails go out with sendfile(2).
    Tcp(OwnedWriteHalf),
    /// Any other byte stream: file tails are read and written.
    Stream(ReplySink),
}

impl Sink {
    fn writer(&mut self) -> &mut (dyn AsyncWrite + Send + Unpin) {
        match self {
            Self::Tcp(w) => w,
            Self::Stream(s) => s.as_mut(),
        }
    }
}

/// A queued frame and the file range it ends with, if any.
struct Item {
    frame: Frame,
    tail: Option<FileTail>,
}

/// The connection is closed; the frame was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed")
    }
}

impl std::error::Error for Closed {}

/// The outgoing side of a connection.
pub enum Outbox {
    /// Written to a byte stream with the 4-byte transport header.
    Stream(StreamOutbox),
    /// Handed to a channel as they are (tests and fuzzing read them there).
    Channel(mpsc::Sender<Frame>),
}

impl Outbox {
    /// An outbox writing to `sink`, within the send bounds of `limits`.
    pub fn stream(sink: ReplySink, limits: &Limits) -> Self {
        Self::Stream(StreamOutbox::new(Sink::Stream(sink), limits))
    }

    /// An outbox writing to a TCP socket, which sends file tails with sendfile(2), within the
    /// send bounds of `limits`.
    pub fn tcp(sock: OwnedWriteHalf, limits: &Limits) -> Self {
        Self::Stream(StreamOutbox::new(Sink::Tcp(sock), limits))
    }

    /// Whether [`Outbox::send_with_file`] sends the file's bytes without reading them into
    /// memory; otherwise it reads them, and a caller may as well build the whole frame.
    pub fn sends_files(&self) -> bool {
        matches!(self, Self::Stream(s) if s.tcp)
    }

    /// Sends one frame (without its transport header). Returns once the frame is written or
    /// queued behind the one being written; fails when the connection is closed.
    pub async fn send(&self, frame: Frame) -> Result<(), Closed> {
        match self {
            Self::Stream(s) => s.send(Item { frame, tail: None }).await,
            Self::Channel(tx) => tx.send(frame).await.map_err(|_| Closed),
        }
    }

    /// Sends a frame whose last `tail.len` bytes are a range of a file (the frame's own
    /// length fields already count them). If the file no longer holds them all when they
    /// are sent, the connection is closed.
    pub async fn send_with_file(&self, mut frame: Frame, tail: FileTail) -> Result<(), Closed> {
        match self {
            Self::Stream(s) => {
                s.send(Item {
                    frame,
                    tail: Some(tail),
                })
                .await
            }
            Self::Channel(tx) => {
                let data = read_tail(&tail, tail.offset, tail.len).await;
                let Ok(data) = data else {
                    return Err(Closed);
                };
                frame.buf.extend_from_slice(&data);
                tx.send(frame).await.map_err(|_| Closed)
            }
        }
    }

    /// Closes the outgoing side: queued frames are dropped and later sends fail.
    pub fn close(&self) {
        self.close_with("closed");
    }

    /// Closes the outgoing side, recording why (the first reason given is kept).
    pub fn close_with(&self, why: &'static str) {
        if let Self::Stream(s) = self {
            s.close(why);
        }
    }

    /// Bytes of replies accepted and not yet written (a stream outbox's send queue; what a
    /// channel holds is not counted).
    pub fn queued_bytes(&self) -> usize {
        match self {
            Self::Stream(s) => s.state.lock().unwrap().queued,
            Self::Channel(_) => 0,
        }
    }

    /// Why the outbox was closed, once it is.
    pub fn close_reason(&self) -> Option<&'static str> {
        match self {
            Self::Stream(s) => s.state.lock().unwrap().why,
            Self::Channel(tx) => tx.is_closed().then_some("closed"),
        }
    }

    /// Completes when a stream outbox closes (a send bound was crossed, a write failed, or
    /// someone called [`Outbox::close_with`]); never for a channel. Meant for one waiter, the
    /// connection's reader, which polls it beside its reads (hence a plain `Notified`).
    pub fn closed(&self) -> Notified<'_> {
        /// Never notified.
        static NEVER: Notify = Notify::const_new();
        match self {
            Self::Stream(s) => s.gone.notified(),
            Self::Channel(_) => NEVER.notified(),
        }
    }
}

impl From<mpsc::Sender<Frame>> for Outbox {
    fn from(tx: mpsc::Sender<Frame>) -> Self {
        Self::Channel(tx)
    }
}

/// What a sender does once it has looked at the outbox's state.
enum Next {
    /// Write its frame (and those queued meanwhile) to the stream it took.
    Write(Sink),
    /// Wait for room in the queue.
    Wait,
    /// Wait, at most `send_timeout` in all, for the queued bytes to fall under the bound.
    WaitUnderBound,
}

/// Replies written to a byte stream by the sending tasks themselves.
pub struct StreamOutbox {
    /// The sink is a TCP socket.
    tcp: bool,
    /// Most bytes of frames accepted and not yet written (`max_send_queue_bytes`).
    max_queued: usize,
    /// Longest wait of the writer on the socket without progress (`send_timeout`).
    stall: Duration,
    state: Mutex<State>,
    /// Woken when the queue drains (by the writer, for the senders waiting for room) or the
    /// outbox closes (for them and for the writer waiting on the socket).
    room: Notify,
    /// Tells [`Outbox::closed`] that the outbox closed (a stored permit if the reader is not
    /// waiting: there is one reader, and a closed outbox stays so).
    gone: Notify,
}

struct State {
    /// The stream, when no sender is writing to it and the outbox is open.
    sink: Option<Sink>,
    /// A sender is writing (it holds the stream).
    writing: bool,
    /// No more frames are accepted.
    closed: bool,
    /// Why the outbox closed.
    why: Option<&'static str>,
    /// Bytes of the frames accepted and not yet written: queued, being written, or held by
    /// senders waiting for room.
    queued: usize,
    /// Frames waiting for the writer; unallocated while idle.
    queue: Vec<Item>,
}

impl StreamOutbox {
    fn new(sink: Sink, limits: &Limits) -> Self {
        Self {
            tcp: matches!(sink, Sink::Tcp(_)),
            max_queued: limits.max_send_queue_bytes,
            stall: limits.send_timeout,
            state: Mutex::new(State {
                sink: Some(sink),
                writing: false,
                closed: false,
                why: None,
                queued: 0,
                queue: Vec::new(),
            }),
            room: Notify::new(),
            gone: Notify::new(),
        }
    }

    async fn send(&self, frame: Item) -> Result<(), Closed> {
        let bytes = frame.frame.len();
        let mut counted = false;
        // When this frame first found the queue over its bound.
        let mut over_since: Option<tokio::time::Instant> = None;
        loop {
            let mut room = pin!(self.room.notified());
            let next = {
                let mut st = self.state.lock().unwrap();
                if st.closed {
                    return Err(Closed);
                }
                if !counted && st.queued > 0 && st.queued.saturating_add(bytes) > self.max_queued {
                    // A frame alone is always taken; one that joins others past the bound
                    // waits until the client has taken enough of what it asked for.
                    // Registered before the lock is released, so no wake-up is missed.
                    room.as_mut().enable();
                    Next::WaitUnderBound
                } else {
                    if !counted {
                        counted = true;
                        st.queued += bytes;
                    }
                    if !st.writing {
                        st.writing = true;
                        st.sink.take().map_or(Next::Wait, Next::Write)
                    } else if st.queue.len() < QUEUE_MAX {
                        st.queue.push(frame);
                        return Ok(());
                    } else {
                        room.as_mut().enable();
                        Next::Wait
                    }
                }
            };
            match next {
                Next::Write(sink) => return self.write_out(sink, frame).await,
                Next::Wait => room.await,
                Next::WaitUnderBound => {
                    let since = *over_since.get_or_insert_with(tokio::time::Instant::now);
                    if tokio::time::timeout_at(since + self.stall, room)
                        .await
                        .is_err()
                    {
                        // The client has not taken its replies down to the bound in
                        // `send_timeout`: it stopped reading, or reads a trickle.
                        self.close("send queue over its limit");
                        return Err(Closed);
                    }
                }
            }
        }
    }

    /// Writes `first` and whatever others queue meanwhile, then gives the stream back.
    async fn write_out(&self, sink: Sink, first: Item) -> Result<(), Closed> {
        let mut guard = Writing {
            outbox: self,
            sink: Some(sink),
        };
        let pace = Pace { outbox: self };
        let mut bytes = first.frame.len();
        let mut batch = vec![first];
        loop {
            let sink = guard.sink.as_mut().ok_or(Closed)?;
            if let Err(e) = write_items(sink, &mut batch, &pace).await {
                self.close(match e.kind() {
                    io::ErrorKind::TimedOut => "send stalled",
                    _ => "send failed",
                });
                // `guard` drops the stream.
                return Err(Closed);
            }
            batch.clear();
            let mut st = self.state.lock().unwrap();
            st.queued = st.queued.saturating_sub(bytes);
            if st.queue.is_empty() || st.closed {
                st.writing = false;
                st.queue = Vec::new();
                if !st.closed {
                    st.sink = guard.sink.take();
                }
                drop(st);
                self.room.notify_waiters();
                return Ok(());
            }
            std::mem::swap(&mut batch, &mut st.queue);
            drop(st);
            bytes = batch.iter().map(|it| it.frame.len()).sum();
            self.room.notify_waiters();
        }
    }

    /// Closes the outbox (once; the first reason stays): drops the queue and the stream if no
    /// one is writing, fails the waiting senders, interrupts the writer and tells the reader.
    fn close(&self, why: &'static str) {
        let (sink, queue) = {
            let mut st = self.state.lock().unwrap();
            if st.closed {
                return;
            }
            st.closed = true;
            st.why = Some(why);
            st.queued = 0;
            (st.sink.take(), std::mem::take(&mut st.queue))
        };
        drop((sink, queue));
        self.room.notify_waiters();
        self.gone.notify_one();
    }
}

/// Held by the sender that writes. If its future is dropped mid-write, a frame may be cut
/// short, so the outbox closes rather than let another frame follow the partial one.
struct Writing<'a> {
    outbox: &'a StreamOutbox,
    sink: Option<Sink>,
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        if self.sink.is_some() {
            self.outbox.close("reply write cancelled");
        }
    }
}

/// Bounds each wait of the writer on the peer: a wait that sees no progress for the send
/// timeout, or that the outbox's closing interrupts, ends the write with an error.
struct Pace<'a> {
    outbox: &'a StreamOutbox,
}

impl Pace<'_> {
    /// Runs one step of a write (a single write call or readiness wait).
    async fn step<T>(&self, op: impl Future<Output = io::Result<T>>) -> io::Result<T> {
        let mut op = pin!(op);
        // A socket with room completes at once: this path arms no timer and takes no lock.
        if let Poll::Ready(r) = poll_fn(|cx| Poll::Ready(op.as_mut().poll(cx))).await {
            return r;
        }
        // Only the writer and the senders waiting for room wait on `room`, and only a close
        // wakes it while the writer waits. Registered before the check, so none is missed.
        let mut closing = pin!(self.outbox.room.notified());
        closing.as_mut().enable();
        if self.outbox.state.lock().unwrap().closed {
            return Err(io::ErrorKind::ConnectionAborted.into());
        }
        let aborted = async {
            loop {
                closing.as_mut().await;
                if self.outbox.state.lock().unwrap().closed {
                    return;
                }
                closing.set(self.outbox.room.notified());
            }
        };
        tokio::select! {
            biased;
            r = &mut op => r,
            () = aborted => Err(io::ErrorKind::ConnectionAborted.into()),
            () = tokio::time::sleep(self.outbox.stall) => Err(io::ErrorKind::TimedOut.into()),
        }
    }
}

/// Writes the items, each frame after its 4-byte big-endian length, a few per vectored write;
/// a frame's file tail follows its bytes before anything else is written.
async fn write_items(sink: &mut Sink, items: &mut [Item], pace: &Pace<'_>) -> io::Result<()> {
    let mut rest = items;
    while !rest.is_empty() {
        // Up to FRAMES_PER_WRITE frames, ending early after one with a file tail.
        let mut take = rest.len().min(FRAMES_PER_WRITE);
        if let Some(i) = rest[..take].iter().position(|it| it.tail.is_some()) {
            take = i + 1;
        }
        let (chunk, later) = rest.split_at_mut(take);
        write_chunk(sink.writer(), chunk, pace).await?;
        if let Some(tail) = chunk.last().and_then(|it| it.tail.as_ref()) {
            send_tail(sink, tail, pace).await?;
        }
        rest = later;
    }
    pace.step(sink.writer().flush()).await
}

/// One vectored write of the chunk's frames (without their file tails).
async fn write_chunk(
    sink: &mut (dyn AsyncWrite + Send + Unpin),
    chunk: &mut [Item],
    pace: &Pace<'_>,
) -> io::Result<()> {
    // The length of each frame whose headroom cannot hold it.
    let mut heads = [None::<[u8; TRANSPORT_HEADER]>; FRAMES_PER_WRITE];
    for (item, head) in chunk.iter_mut().zip(heads.iter_mut()) {
        let tail = item.tail.as_ref().map_or(0, |t| t.len);
        let len = item
            .frame
            .len()
            .checked_add(tail)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame too long"))?
            .to_be_bytes();
        let frame = &mut item.frame;
        if frame.start >= TRANSPORT_HEADER {
            // The length goes in the frame's headroom: one slice for the frame.
            frame.start -= TRANSPORT_HEADER;
            let at = frame.start;
            frame.buf[at..at + TRANSPORT_HEADER].copy_from_slice(&len);
        } else {
            *head = Some(len);
        }
    }
    let mut slices = [IoSlice::new(&[]); 2 * FRAMES_PER_WRITE];
    let mut n = 0;
    for (item, head) in chunk.iter().zip(heads.iter()) {
        if let Some(head) = head {
            slices[n] = IoSlice::new(head);
            n += 1;
        }
        slices[n] = IoSlice::new(item.frame.payload());
        n += 1;
    }
    let mut bufs = &mut slices[..n];
    while !bufs.is_empty() {
        let k = pace.step(sink.write_vectored(bufs)).await?;
        if k == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut bufs, k);
    }
    Ok(())
}

/// Sends a frame's file tail: with sendfile(2) on a TCP socket, waiting for room whenever the
/// socket buffer is full; what sendfile does not send (another kind of stream, a backend
/// without sendfile, a file that shrank) is read and written. A file too short for the
/// promised bytes is an error, which closes the connection: the length is already on the
/// wire and padding would hand the client bytes the file never held.
async fn send_tail(sink: &mut Sink, tail: &FileTail, pace: &Pace<'_>) -> io::Result<()> {
    let mut offset = tail.offset;
    let mut left = tail.len;
    if let Sink::Tcp(wr) = sink {
        let sock: &TcpStream = wr.as_ref();
        while left > 0 {
            let cached = tail.file.is_cached(offset, left);
            let sent = may_block(cached, || {
                sock.try_io(Interest::WRITABLE, || {
                    tail.file.send_range_to(sock.as_fd(), offset, left)
                })
            });
            match sent {
                Ok(0) => break,
                Ok(n) => {
                    offset += n as u64;
                    left = left.saturating_sub(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    pace.step(sock.writable()).await?
                }
                // sendfile cannot serve this file or socket: the bytes are read instead.
                Err(e) if e.kind() == io::ErrorKind::Unsupported => break,
                Err(e) => return Err(e),
            }
        }
    }
    if left > 0 {
        let data = read_tail(tail, offset, left).await?;
        let mut rest = &data[..];
        while !rest.is_empty() {
            match pace.step(sink.writer().write(rest)).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                k => rest = &rest[k..],
            }
        }
    }
    Ok(())
}

/// Exactly `len` bytes of the tail's file at `offset`, read into memory; an error when the
/// file no longer holds them.
async fn read_tail(tail: &FileTail, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let data = tail
        .file
        .read_at(offset, len)
        .await
        .map_err(|e| io::Error::other(format!("reading a reply's data: {e:?}")))?;
    if data.len() < len {
        tracing::warn!(
            offset,
            promised = len,
            held = data.len(),
            "file shrank under a READ reply being sent; closing the connection"
        );
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(data)
}

/// Runs `f`, a sendfile(2) call, on this worker thread when its data is in the page cache
/// (`cached`), else under `block_in_place` so waiting for the disk does not stall the worker's
/// other tasks. Handing the worker off costs more than the copy of cached data it would guard.
fn may_block<R>(cached: bool, f: impl FnOnce() -> R) -> R {
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi_thread && !cached {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, DuplexStream, duplex};

    /// Reads one length-prefixed frame.
    async fn read_frame(rd: &mut (impl tokio::io::AsyncRead + Unpin)) -> Vec<u8> {
        let mut len = [0u8; 4];
        rd.read_exact(&mut len).await.unwrap();
        let mut buf = vec![0u8; u32::from_be_bytes(len) as usize];
        rd.read_exact(&mut buf).await.unwrap();
        buf
    }

    fn outbox(capacity: usize) -> (Arc<Outbox>, DuplexStream) {
        let (wr, rd) = duplex(capacity);
        (
            Arc::new(Outbox::stream(Box::new(wr), &Limits::default())),
            rd,
        )
    }

    fn queued(out: &Outbox) -> usize {
        match out {
            Outbox::Stream(s) => s.state.lock().unwrap().queue.len(),
            Outbox::Channel(_) => 0,
        }
    }

    #[tokio::test]
    async fn frames_get_their_length_with_or_without_headroom() {
        let (out, mut rd) = outbox(1024);
        out.send(Frame::from(vec![1, 2, 3])).await.unwrap();
        out.send(Frame::with_headroom(vec![9, 9, 9, 9, 9, 4, 5], 5))
            .await
            .unwrap();
        out.send(Frame::with_headroom(vec![9, 9, 6], 2))
            .await
            .unwrap();
        assert_eq!(read_frame(&mut rd).await, [1, 2, 3]);
        assert_eq!(read_frame(&mut rd).await, [4, 5]);
        assert_eq!(read_frame(&mut rd).await, [6]);
    }

    #[tokio::test]
    async fn concurrent_senders_never_interleave_and_keep_their_order() {
        // A small pipe: senders queue behind the writer and batches form.
        let (out, mut rd) = outbox(100);
        let senders = 40u8;
        let per_sender = 20u8;
        let mut tasks = Vec::new();
        for id in 0..senders {
            let out = out.clone();
            tasks.push(tokio::spawn(async move {
                for seq in 0..per_sender {
                    // Frames of different sizes, filled with who sent them.
                    // odd ones with headroom for the length.
                    let pad = usize::from(seq % 2) * 4;
                    let len = 8 + usize::from(id) * 7 + usize::from(seq);
                    let mut buf = vec![id; len];
                    buf[pad + 1] = seq;
                    out.send(Frame::with_headroom(buf, pad)).await.unwrap();
                }
            }));
        }
        let mut next = vec![0u8; usize::from(senders)];
        for _ in 0..u32::from(senders) * u32::from(per_sender) {
            let f = read_frame(&mut rd).await;
            let (id, seq) = (f[0], f[1]);
            let pad = usize::from(seq % 2) * 4;
            assert_eq!(f.len(), 8 + usize::from(id) * 7 + usize::from(seq) - pad);
            assert!(f[2..].iter().all(|&b| b == id), "frame of {id} mixed");
            assert_eq!(seq, next[usize::from(id)], "order of sender {id}");
            next[usize::from(id)] += 1;
        }
        for t in tasks {
            t.await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_client_that_does_not_read_holds_a_bounded_queue() {
        let (out, mut rd) = outbox(64);
        let n = QUEUE_MAX + 50;
        let mut tasks = Vec::new();
        for i in 0..n {
            let out = out.clone();
            tasks.push(tokio::spawn(async move {
                out.send(Frame::from(vec![(i % 251) as u8; 200])).await
            }));
        }
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        assert!(queued(&out) <= QUEUE_MAX);
        for _ in 0..n {
            assert_eq!(read_frame(&mut rd).await.len(), 200);
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(queued(&out), 0);
    }

    #[tokio::test]
    async fn closed_or_broken_outboxes_refuse_frames() {
        let (out, rd) = outbox(64);
        out.close();
        assert_eq!(out.send(Frame::from(vec![1])).await, Err(Closed));
        drop(rd);

        let (out, rd) = outbox(64);
        drop(rd);
        assert_eq!(out.send(Frame::from(vec![1])).await, Err(Closed));
        assert_eq!(out.send(Frame::from(vec![2])).await, Err(Closed));
    }

    #[tokio::test]
    async fn a_write_cut_short_closes_the_outbox() {
        let (out, _rd) = outbox(16);
        let writer = {
            let out = out.clone();
            tokio::spawn(async move { out.send(Frame::from(vec![0; 1000])).await })
        };
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        writer.abort();
        assert!(writer.await.unwrap_err().is_cancelled());
        assert_eq!(out.send(Frame::from(vec![1])).await, Err(Closed));
    }

    fn bounded(capacity: usize, limits: Limits) -> (Arc<Outbox>, DuplexStream) {
        let (wr, rd) = duplex(capacity);
        (Arc::new(Outbox::stream(Box::new(wr), &limits)), rd)
    }

    fn queued_bytes(out: &Outbox) -> usize {
        match out {
            Outbox::Stream(s) => s.state.lock().unwrap().queued,
            Outbox::Channel(_) => 0,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_stops_reading_fails_every_sender_after_the_send_timeout() {
        let limits = Limits {
            send_timeout: Duration::from_secs(5),
            ..Limits::default()
        };
        // The peer keeps its end open and never reads.
        let (out, _rd) = bounded(64, limits);
        let t0 = tokio::time::Instant::now();
        let n = QUEUE_MAX + 20;
        let mut tasks = Vec::new();
        for i in 0..n {
            let out = out.clone();
            tasks.push(tokio::spawn(async move {
                out.send(Frame::from(vec![(i % 251) as u8; 200])).await
            }));
        }
        let all = async {
            let mut failed = 0;
            for t in tasks {
                failed += usize::from(t.await.unwrap().is_err());
            }
            failed
        };
        let failed = tokio::time::timeout(Duration::from_secs(60), all)
            .await
            .expect("senders still waiting");
        // The writer and those waiting for room fail; the queued ones had returned.
        assert_eq!(failed, n - QUEUE_MAX);
        let took = t0.elapsed();
        assert!(took >= Duration::from_secs(5) && took < Duration::from_secs(6));
        assert_eq!(out.close_reason(), Some("send stalled"));
        assert_eq!((queued(&out), queued_bytes(&out)), (0, 0));
        tokio::time::timeout(Duration::from_millis(1), out.closed())
            .await
            .expect("the reader is told");
        assert_eq!(out.send(Frame::from(vec![1])).await, Err(Closed));
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_that_progresses_is_not_a_stall() {
        let limits = Limits {
            send_timeout: Duration::from_secs(5),
            ..Limits::default()
        };
        let (out, mut rd) = bounded(64, limits);
        let writer = {
            let out = out.clone();
            tokio::spawn(async move { out.send(Frame::from(vec![3; 1000])).await })
        };
        // 64 bytes every 4 s: the whole frame takes a minute, each step less than the timeout.
        let mut got = 0;
        while got < 1004 {
            tokio::time::sleep(Duration::from_secs(4)).await;
            let mut buf = [0u8; 64];
            got += rd.read(&mut buf).await.unwrap();
        }
        assert_eq!(writer.await.unwrap(), Ok(()));
        assert_eq!(out.close_reason(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn bytes_past_the_bound_close_the_outbox_and_free_the_queue() {
        let limits = Limits {
            max_send_queue_bytes: 1000,
            send_timeout: Duration::from_secs(5),
            ..Limits::default()
        };
        let (out, _rd) = bounded(64, limits.clone());
        // The first frame takes the stream and blocks on the full pipe.
        let writer = {
            let out = out.clone();
            tokio::spawn(async move { out.send(Frame::from(vec![1; 200])).await })
        };
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        // 200 bytes being written; four more frames make 1000, the bound.
        for _ in 0..4 {
            out.send(Frame::from(vec![2; 200])).await.unwrap();
        }
        assert_eq!(queued_bytes(&out), 1000);
        // One more waits for the client to take some; it never does, so after the send
        // timeout the outbox closes with the queue freed.
        let t0 = tokio::time::Instant::now();
        assert_eq!(out.send(Frame::from(vec![3; 200])).await, Err(Closed));
        assert!(t0.elapsed() <= Duration::from_secs(5));
        assert_eq!(out.close_reason(), Some("send queue over its limit"));
        assert_eq!((queued(&out), queued_bytes(&out)), (0, 0));
        // The writer is interrupted at once.
        let w = tokio::time::timeout(Duration::from_millis(100), writer).await;
        assert_eq!(w.expect("writer still blocked").unwrap(), Err(Closed));

        // A frame alone is taken whatever its size.
        let (out, mut rd) = bounded(8192, limits);
        out.send(Frame::from(vec![4; 5000])).await.unwrap();
        assert_eq!(read_frame(&mut rd).await.len(), 5000);
        assert_eq!(queued_bytes(&out), 0);
    }

    /// A client that asks for more than the bound and reads it (a deep queue of large signed
    /// reads) is slowed down, not dropped: frames past the bound wait and then go out.
    #[tokio::test(start_paused = true)]
    async fn a_client_that_reads_what_it_asked_for_is_not_dropped_at_the_bound() {
        let limits = Limits {
            max_send_queue_bytes: 1000,
            send_timeout: Duration::from_secs(5),
            ..Limits::default()
        };
        let (out, mut rd) = bounded(64, limits);
        let senders: Vec<_> = (0..20u8)
            .map(|i| {
                let out = out.clone();
                tokio::spawn(async move { out.send(Frame::from(vec![i; 200])).await })
            })
            .collect();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(queued_bytes(&out) <= 1000 + 200);
        // The client takes its replies after a second.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut got = 0;
        while got < 20 {
            assert_eq!(read_frame(&mut rd).await.len(), 200);
            got += 1;
        }
        for s in senders {
            assert_eq!(s.await.unwrap(), Ok(()));
        }
        assert_eq!(out.close_reason(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn closing_interrupts_a_writer_waiting_on_the_peer() {
        let limits = Limits {
            send_timeout: Duration::from_secs(3600),
            ..Limits::default()
        };
        let (out, _rd) = bounded(16, limits);
        let writer = {
            let out = out.clone();
            tokio::spawn(async move { out.send(Frame::from(vec![0; 1000])).await })
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        out.close_with("idle timeout");
        let w = tokio::time::timeout(Duration::from_secs(1), writer).await;
        assert_eq!(w.expect("writer still blocked").unwrap(), Err(Closed));
        assert_eq!(out.close_reason(), Some("idle timeout"));
    }

    /// A file of `len` patterned bytes in a fresh directory, opened for reading.
    async fn posix_file(tag: &str, len: usize) -> (vfs::FileRef, vfs::FileRef, std::path::PathBuf) {
        use vfs::Vfs;
        let dir = std::env::temp_dir().join(format!("smbd-outbox-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let data: Vec<u8> = (0..len).map(|i| (i * 13 % 251) as u8).collect();
        std::fs::write(dir.join("f"), &data).unwrap();
        let fs = vfs::posix::PosixFs::new(dir.clone()).unwrap();
        let rd = fs
            .open("f", &vfs::OpenOptions::read_existing())
            .await
            .unwrap();
        let mut rw = vfs::OpenOptions::read_existing();
        rw.write = true;
        let wr = fs.open("f", &rw).await.unwrap();
        (rd.file, wr.file, dir)
    }

    fn pattern_at(offset: usize, len: usize) -> Vec<u8> {
        (offset..offset + len)
            .map(|i| (i * 13 % 251) as u8)
            .collect()
    }

    /// A connected TCP pair on loopback: the outbox on one end, a reader on the other.
    async fn tcp_outbox() -> (Arc<Outbox>, TcpStream) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let (client, server) = tokio::join!(TcpStream::connect(addr), l.accept());
        let (_, wr) = server.unwrap().0.into_split();
        (
            Arc::new(Outbox::tcp(wr, &Limits::default())),
            client.unwrap(),
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn file_tails_follow_their_frames_whole_among_other_frames() {
        let (file, _, dir) = posix_file("tails", 5 << 20).await;
        let (out, mut rd) = tcp_outbox().await;
        assert!(out.sends_files());
        let mut tasks = Vec::new();
        for i in 0..12usize {
            let (out, file) = (out.clone(), file.clone());
            tasks.push(tokio::spawn(async move {
                // Headers of different sizes, tails of up to 3 MiB (more than a socket holds).
                let head = vec![i as u8; 4 + 8 + i];
                let frame = Frame::with_headroom(head, 4);
                if i % 3 == 2 {
                    return out.send(frame).await;
                }
                let tail = FileTail {
                    file,
                    offset: (i * 100_003) as u64,
                    len: (i % 4) * 1_000_000 + 70_000,
                };
                out.send_with_file(frame, tail).await
            }));
        }
        // A slow reader: the socket buffer fills and sendfile meets EAGAIN.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut seen = [false; 12];
        for _ in 0..12 {
            let f = read_frame(&mut rd).await;
            let i = f[0] as usize;
            assert!(f[..8 + i].iter().all(|&b| b == i as u8), "frame {i} head");
            let data = &f[8 + i..];
            if i % 3 == 2 {
                assert!(data.is_empty());
            } else {
                let len = (i % 4) * 1_000_000 + 70_000;
                assert!(data == pattern_at(i * 100_003, len), "frame {i} data");
            }
            seen[i] = true;
        }
        assert!(seen.iter().all(|&s| s));
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_file_that_shrank_closes_the_connection_rather_than_pad() {
        let (file, writer, dir) = posix_file("shrank", 200_000).await;
        let (out, mut rd) = tcp_outbox().await;
        writer.set_len(100_000).await.unwrap();
        let tail = FileTail {
            file: file.clone(),
            offset: 0,
            len: 200_000,
        };
        assert_eq!(
            out.send_with_file(Frame::with_headroom(vec![0; 6], 4), tail)
                .await,
            Err(Closed)
        );
        assert_eq!(out.send(Frame::from(vec![1])).await, Err(Closed));
        // The peer sees the length, what the file held, then the end of the stream.
        let mut got = Vec::new();
        rd.read_to_end(&mut got).await.unwrap();
        assert_eq!(&got[..4], &200_002u32.to_be_bytes());
        assert_eq!(got.len(), 4 + 2 + 100_000);
        assert!(got[6..] == pattern_at(0, 100_000));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(start_paused = true)]
    async fn sendfile_to_a_peer_that_stops_reading_stalls_out() {
        let (file, _, dir) = posix_file("stall", 8 << 20).await;
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (client, server) =
            tokio::join!(TcpStream::connect(l.local_addr().unwrap()), l.accept());
        let (_, wr) = server.unwrap().0.into_split();
        let limits = Limits {
            send_timeout: Duration::from_secs(5),
            ..Limits::default()
        };
        let out = Outbox::tcp(wr, &limits);
        // 8 MiB is more than the socket buffers hold: sendfile meets EAGAIN and waits.
        let tail = FileTail {
            file,
            offset: 0,
            len: 8 << 20,
        };
        let sent = out.send_with_file(Frame::with_headroom(vec![0; 6], 4), tail);
        let sent = tokio::time::timeout(Duration::from_secs(60), sent).await;
        assert_eq!(sent.expect("still waiting on the peer"), Err(Closed));
        assert_eq!(out.close_reason(), Some("send stalled"));
        drop(client);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn tails_without_sendfile_are_read_and_written() {
        use vfs::Vfs;
        let mem = vfs::mem::MemFs::new();
        let mut o = vfs::OpenOptions::read_existing();
        o.disposition = vfs::Disposition::Create;
        o.write = true;
        let f = mem.open("f", &o).await.unwrap().file;
        f.write_at(0, (0..=255u8).collect()).await.unwrap();
        let tail = |offset, len| FileTail {
            file: f.clone(),
            offset,
            len,
        };
        // A stream that is not a socket, and a file of a backend without sendfile.
        let (out, mut rd) = outbox(4096);
        assert!(!out.sends_files());
        out.send_with_file(Frame::from(vec![9, 9]), tail(10, 5))
            .await
            .unwrap();
        assert_eq!(read_frame(&mut rd).await, [9, 9, 10, 11, 12, 13, 14]);
        // A tail past the end of the file is refused, never padded.
        assert_eq!(
            out.send_with_file(Frame::from(vec![1]), tail(250, 10))
                .await,
            Err(Closed)
        );
        // Channels get the data appended.
        let (tx, mut rx) = mpsc::channel(2);
        let out = Outbox::from(tx);
        out.send_with_file(Frame::from(vec![7]), tail(0, 3))
            .await
            .unwrap();
        assert_eq!(rx.recv().await.unwrap().payload(), &[7, 0, 1, 2]);
    }

    #[tokio::test]
    async fn channel_outboxes_pass_frames_through() {
        let (tx, mut rx) = mpsc::channel(2);
        let out = Outbox::from(tx);
        out.send(Frame::from(vec![7])).await.unwrap();
        out.close();
        assert_eq!(rx.recv().await.unwrap().payload(), &[7]);
        drop(rx);
        assert_eq!(out.send(Frame::from(vec![8])).await, Err(Closed));
    }
}
