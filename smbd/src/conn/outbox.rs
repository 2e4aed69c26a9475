//! Where a connection's replies go: straight to the socket, written by whichever request task
//! has a frame to send, with no writer task, channel or buffer held while the connection is idle.
//!
//! The first sender becomes the writer; frames sent while it writes are queued and it writes
//! them too, many in one vectored write, until the queue is empty. Frames therefore leave in
//! the order their `send` calls queued them, and never interleave mid-frame. A sender waits only
//! when the queue is full (a client that does not read its replies), so memory stays bounded.

use std::io::{self, IoSlice};
use std::pin::pin;
use std::sync::Mutex;

use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{Notify, mpsc};

use super::Frame;

/// Frames queued behind the one being written before senders wait.
const QUEUE_MAX: usize = 128;
/// Frames gathered into one vectored write.
const FRAMES_PER_WRITE: usize = 16;
/// Bytes of the Direct TCP transport header (MS-SMB2 2.1).
const TRANSPORT_HEADER: usize = 4;

/// The byte stream replies are written to.
pub type ReplySink = Box<dyn AsyncWrite + Send + Unpin>;

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
    /// An outbox writing to `sink`.
    pub fn stream(sink: ReplySink) -> Self {
        Self::Stream(StreamOutbox::new(sink))
    }

    /// Sends one frame (without its transport header). Returns once the frame is written or
    /// queued behind the one being written; fails when the connection is closed.
    pub async fn send(&self, frame: Frame) -> Result<(), Closed> {
        match self {
            Self::Stream(s) => s.send(frame).await,
            Self::Channel(tx) => tx.send(frame).await.map_err(|_| Closed),
        }
    }

    /// Closes the outgoing side: queued frames are dropped and later sends fail.
    pub fn close(&self) {
        if let Self::Stream(s) = self {
            s.close();
        }
    }
}

impl From<mpsc::Sender<Frame>> for Outbox {
    fn from(tx: mpsc::Sender<Frame>) -> Self {
        Self::Channel(tx)
    }
}

/// Replies written to a byte stream by the sending tasks themselves.
pub struct StreamOutbox {
    state: Mutex<State>,
    /// Woken when the queue drains or the outbox closes.
    room: Notify,
}

struct State {
    /// The stream, when no sender is writing to it and the outbox is open.
    sink: Option<ReplySink>,
    /// A sender is writing (it holds the stream).
    writing: bool,
    /// No more frames are accepted.
    closed: bool,
    /// Frames waiting for the writer; unallocated while idle.
    queue: Vec<Frame>,
}

impl StreamOutbox {
    fn new(sink: ReplySink) -> Self {
        Self {
            state: Mutex::new(State {
                sink: Some(sink),
                writing: false,
                closed: false,
                queue: Vec::new(),
            }),
            room: Notify::new(),
        }
    }

    async fn send(&self, frame: Frame) -> Result<(), Closed> {
        loop {
            let mut room = pin!(self.room.notified());
            let sink = {
                let mut st = self.state.lock().unwrap();
                if st.closed {
                    return Err(Closed);
                }
                if !st.writing {
                    st.writing = true;
                    st.sink.take()
                } else if st.queue.len() < QUEUE_MAX {
                    st.queue.push(frame);
                    return Ok(());
                } else {
                    // Registered before the lock is released, so no wake-up is missed.
                    room.as_mut().enable();
                    None
                }
            };
            match sink {
                Some(sink) => return self.write_out(sink, frame).await,
                None => room.await,
            }
        }
    }

    /// Writes `first` and whatever others queue meanwhile, then gives the stream back.
    async fn write_out(&self, sink: ReplySink, first: Frame) -> Result<(), Closed> {
        let mut guard = Writing {
            outbox: self,
            sink: Some(sink),
        };
        let mut batch = vec![first];
        loop {
            let sink = guard.sink.as_mut().ok_or(Closed)?;
            if write_frames(sink, &mut batch).await.is_err() {
                // `guard` closes the outbox as it drops.
                return Err(Closed);
            }
            batch.clear();
            let mut st = self.state.lock().unwrap();
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
            self.room.notify_waiters();
        }
    }

    fn close(&self) {
        let sink = {
            let mut st = self.state.lock().unwrap();
            st.closed = true;
            st.queue = Vec::new();
            st.sink.take()
        };
        drop(sink);
        self.room.notify_waiters();
    }
}

/// Held by the sender that writes. If its future is dropped mid-write, a frame may be cut
/// short, so the outbox closes rather than let another frame follow the partial one.
struct Writing<'a> {
    outbox: &'a StreamOutbox,
    sink: Option<ReplySink>,
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        if self.sink.is_some() {
            self.outbox.close();
        }
    }
}

/// Writes the frames, each after its 4-byte big-endian length, a few per vectored write.
async fn write_frames(sink: &mut ReplySink, frames: &mut [Frame]) -> io::Result<()> {
    for chunk in frames.chunks_mut(FRAMES_PER_WRITE) {
        // The length of each frame whose headroom cannot hold it.
        let mut heads = [None::<[u8; TRANSPORT_HEADER]>; FRAMES_PER_WRITE];
        for (frame, head) in chunk.iter_mut().zip(heads.iter_mut()) {
            let len = u32::try_from(frame.len())
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too long"))?
                .to_be_bytes();
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
        for (frame, head) in chunk.iter().zip(heads.iter()) {
            if let Some(head) = head {
                slices[n] = IoSlice::new(head);
                n += 1;
            }
            slices[n] = IoSlice::new(frame.payload());
            n += 1;
        }
        let mut bufs = &mut slices[..n];
        while !bufs.is_empty() {
            let k = sink.write_vectored(bufs).await?;
            if k == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            IoSlice::advance_slices(&mut bufs, k);
        }
    }
    sink.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, DuplexStream, duplex};

    /// Reads one length-prefixed frame.
    async fn read_frame(rd: &mut DuplexStream) -> Vec<u8> {
        let mut len = [0u8; 4];
        rd.read_exact(&mut len).await.unwrap();
        let mut buf = vec![0u8; u32::from_be_bytes(len) as usize];
        rd.read_exact(&mut buf).await.unwrap();
        buf
    }

    fn outbox(capacity: usize) -> (Arc<Outbox>, DuplexStream) {
        let (wr, rd) = duplex(capacity);
        (Arc::new(Outbox::stream(Box::new(wr))), rd)
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
