//! One connection: reads length-framed messages (MS-SMB2 2.1 Direct TCP) and hands each to the
//! dispatcher in its own task, so many requests are in flight at once. Replies are written by
//! the tasks themselves through the connection's [`Outbox`]: an idle connection holds this
//! task's small future, the connection state and nothing else.

use std::sync::Arc;

use tokio::io::AsyncRead;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, broadcast};
use tokio::time::Instant;

use super::deadline::{Deadlines, Watched};
use super::frames::{Event, FrameReader};
use crate::conn::{Connection, Outbox};
use crate::dispatch;
use crate::state::ServerContext;

/// Requests of one connection being processed at once.
const IN_FLIGHT: usize = 128;

/// A request's place among those in flight, given back when its task ends (even by panic).
/// The permit lives here rather than as an `OwnedSemaphorePermit` so that spawning a request
/// clones one `Arc` and nothing else.
struct Slot(Arc<Semaphore>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.add_permits(1);
    }
}

/// What the deadlines look at.
struct State<'a> {
    conn: &'a Connection,
    slots: &'a Semaphore,
}

impl Watched for State<'_> {
    fn handshake_done(&self) -> bool {
        self.conn.handshake_done()
    }

    fn busy(&self) -> bool {
        self.slots.available_permits() < IN_FLIGHT || self.conn.holds_opens()
    }
}

/// Runs a TCP connection until the peer closes it, it breaks the protocol or a bound, or the
/// server stops.
pub(super) async fn run(
    ctx: Arc<ServerContext>,
    stream: TcpStream,
    peer: String,
    stop: broadcast::Receiver<()>,
) {
    let local = stream.local_addr().ok().map(|a| a.ip());
    let (mut rd, wr) = stream.into_split();
    let out = Outbox::tcp(wr, &ctx.settings().limits);
    let conn = Connection::new(ctx, peer, out)
        .with_local_address(local)
        .register();
    let reason = drive(&mut rd, conn, stop).await;
    if matches!(reason, "send stalled" | "send queue over its limit") {
        // The peer does not read: reset rather than leave the unsent bytes to the kernel.
        let _ = rd.as_ref().set_zero_linger();
    }
}

/// Runs a connection reading from `rd` (its replies go through `conn.out`); returns why it
/// ended. What the future holds is what an idle connection costs: keep its arguments few.
async fn drive<R: AsyncRead + Unpin>(
    rd: &mut R,
    conn: Arc<Connection>,
    mut stop: broadcast::Receiver<()>,
) -> &'static str {
    tracing::debug!(peer = %conn.peer, "connected");
    let ctx = &conn.server;
    let settings = arc_swap::Guard::into_inner(ctx.settings());
    let mut deadlines = Deadlines::new(&settings.limits, Instant::now());
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut reader = FrameReader::default();
    // One timer for every deadline, moved only when one passes or a frame arrives in pieces.
    let first = deadlines.next(reader.waiting(), Instant::now());
    let timer = tokio::time::sleep_until(first.unwrap_or_else(Instant::now));
    tokio::pin!(timer);
    let mut armed = first.is_some();

    let reason = loop {
        let frame = tokio::select! {
            ev = reader.next(rd) => match ev {
                Ok(Event::Frame(frame)) => frame,
                Ok(Event::Partial) => {
                    // The frame deadline may come before the timer.
                    let now = Instant::now();
                    let sooner = deadlines
                        .next(reader.waiting(), now)
                        .filter(|&at| !armed || at < timer.deadline());
                    if let Some(at) = sooner {
                        timer.as_mut().reset(at);
                        armed = true;
                    }
                    continue;
                }
                Ok(Event::Closed) => break "peer closed",
                Err(why) => break why,
            },
            () = &mut timer, if armed => {
                let now = Instant::now();
                let state = State { conn: &conn, slots: &slots };
                if let Err(why) = deadlines.check(now, reader.waiting(), &state) {
                    break why;
                }
                match deadlines.next(reader.waiting(), now) {
                    Some(at) => timer.as_mut().reset(at),
                    None => armed = false,
                }
                continue;
            }
            _ = stop.recv() => break "server stopping",
            () = conn.out.closed() => break conn.out.close_reason().unwrap_or("closed"),
        };
        if dispatch::handle_in_order(&frame) {
            // Handled before the next frame is read, in a task of its own all the same: its
            // future would otherwise make every idle connection's future as large as itself.
            let conn = conn.clone();
            let _ = tokio::spawn(async move {
                if let Err(dispatch::Disconnect(why)) = dispatch::handle_frame(&conn, frame).await {
                    conn.out.close_with(why);
                }
            })
            .await;
            continue;
        }
        match slots.try_acquire() {
            Ok(permit) => permit.forget(),
            // Every slot taken: the requests in flight keep the connection busy, so only the
            // end of one (or of the connection) is waited for; the timer is looked at after.
            Err(_) => {
                let permit = tokio::select! {
                    p = slots.acquire() => p,
                    _ = stop.recv() => break "server stopping",
                    () = conn.out.closed() => break conn.out.close_reason().unwrap_or("closed"),
                };
                let Ok(permit) = permit else { break "closed" };
                permit.forget();
            }
        }
        let slot = Slot(slots.clone());
        let conn = conn.clone();
        tokio::spawn(async move {
            if let Err(dispatch::Disconnect(why)) = dispatch::handle_frame(&conn, frame).await {
                conn.out.close_with(why);
            }
            drop(slot);
        });
    };
    match reason {
        "peer closed" | "peer closed mid-frame" | "read failed" | "server stopping" => {
            tracing::debug!(peer = %conn.peer, reason, "disconnected");
        }
        _ => tracing::info!(peer = %conn.peer, reason, "dropping connection"),
    }
    dispatch::connection_closed(&conn);
    conn.out.close_with(reason);
    conn.server.metrics.connection_closed(reason);
    reason
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
    use tokio::task::JoinHandle;

    use super::*;
    use crate::fuzzing::seeds;
    use crate::limits::Limits;
    use crate::proto::header::{Command, Header};

    const S: Duration = Duration::from_secs(1);

    fn limits() -> Limits {
        Limits {
            handshake_timeout: 30 * S,
            frame_timeout: 10 * S,
            idle_timeout: Some(100 * S),
            send_timeout: 5 * S,
            ..Limits::default()
        }
    }

    /// A connection driven over an in-memory pipe of `pipe` bytes each way.
    struct Client {
        io: DuplexStream,
        done: JoinHandle<&'static str>,
        _stop: broadcast::Sender<()>,
        next_mid: u64,
        sid: u64,
        conn: Arc<Connection>,
    }

    fn connect(limits: Limits, pipe: usize) -> Client {
        let ctx = crate::harness::server::server(Arc::new(vfs::mem::MemFs::new()), 64);
        let mut settings = crate::state::Settings::clone(&ctx.settings());
        settings.limits = limits;
        ctx.set_settings(settings);
        let (io, server) = tokio::io::duplex(pipe);
        let (mut rd, wr) = tokio::io::split(server);
        let out = Outbox::stream(Box::new(wr), &ctx.settings().limits);
        let conn = Connection::start(ctx, "t".into(), out);
        let (stop_tx, stop) = broadcast::channel(1);
        let driven = conn.clone();
        let done = tokio::spawn(async move { drive(&mut rd, driven, stop).await });
        Client {
            io,
            done,
            _stop: stop_tx,
            next_mid: 0,
            sid: 0,
            conn,
        }
    }

    impl Client {
        async fn try_send(&mut self, msg: &[u8]) -> std::io::Result<()> {
            let len = u32::try_from(msg.len()).unwrap().to_be_bytes();
            self.io.write_all(&len).await?;
            self.io.write_all(msg).await
        }

        async fn try_recv(&mut self) -> std::io::Result<Vec<u8>> {
            let mut len = [0u8; 4];
            self.io.read_exact(&mut len).await?;
            let mut msg = vec![0; u32::from_be_bytes(len) as usize];
            self.io.read_exact(&mut msg).await?;
            Ok(msg)
        }

        async fn send(&mut self, msg: &[u8]) {
            self.try_send(msg).await.unwrap();
        }

        async fn recv(&mut self) -> Vec<u8> {
            self.try_recv().await.unwrap()
        }

        /// Sends a request and returns its reply's status and header.
        async fn call(&mut self, msg: Vec<u8>) -> (Header, Vec<u8>) {
            self.send(&msg).await;
            let reply = self.recv().await;
            (Header::decode(&reply).unwrap(), reply)
        }

        fn mid(&mut self) -> u64 {
            self.next_mid += 1;
            self.next_mid - 1
        }

        fn echo(&mut self) -> Vec<u8> {
            let mid = self.mid();
            seeds::message(Command::Echo, mid, self.sid, 0, &[4, 0, 0, 0])
        }

        /// NEGOTIATE, then an anonymous NTLM session.
        async fn handshake(&mut self) {
            let _ = self.mid();
            assert_eq!(self.call(seeds::negotiate()).await.0.status, 0);
            let m = self.mid();
            let (h, _) = self
                .call(seeds::session_setup(m, 0, &seeds::NTLM_NEGOTIATE))
                .await;
            assert_eq!(h.status, 0xC000_0016, "MORE_PROCESSING_REQUIRED");
            self.sid = h.session_id;
            let m = self.mid();
            let auth = seeds::session_setup(m, self.sid, &seeds::ntlm_anonymous());
            assert_eq!(self.call(auth).await.0.status, 0);
            // A null session reaches no disk share: count it as a signed-in user's.
            crate::harness::server::sign_in(&self.conn, self.sid);
        }

        /// Whether the connection is still up after `wait`.
        async fn alive_after(&mut self, wait: Duration) -> bool {
            tokio::time::timeout(wait, &mut self.done).await.is_err()
        }

        /// Why the connection ended, waiting at most `wait`.
        async fn ended_within(&mut self, wait: Duration) -> Option<&'static str> {
            tokio::time::timeout(wait, &mut self.done)
                .await
                .ok()
                .map(|r| r.unwrap())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn negotiating_and_echoing_forever_is_not_a_handshake() {
        let mut c = connect(limits(), 4096);
        let t0 = Instant::now();
        assert_eq!(c.call(seeds::negotiate()).await.0.status, 0);
        c.next_mid = 1;
        for _ in 0..60 {
            tokio::time::sleep(S).await;
            if c.done.is_finished() {
                break;
            }
            let echo = c.echo();
            // The reply may never come: the deadline can pass meanwhile.
            if c.try_send(&echo).await.is_err() || c.try_recv().await.is_err() {
                break;
            }
        }
        assert_eq!(c.ended_within(S).await, Some("handshake timeout"));
        let took = t0.elapsed();
        assert!(took >= 30 * S && took <= 31 * S, "closed after {took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_connection_is_closed_at_the_handshake_deadline() {
        let mut c = connect(limits(), 4096);
        assert!(c.alive_after(29 * S).await);
        assert_eq!(c.ended_within(2 * S).await, Some("handshake timeout"));
    }

    #[tokio::test(start_paused = true)]
    async fn an_authenticated_connection_outlives_the_handshake_deadline() {
        let mut c = connect(limits(), 4096);
        c.handshake().await;
        assert!(c.alive_after(60 * S).await);
        let echo = c.echo();
        assert_eq!(c.call(echo).await.0.status, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_frame_sent_a_byte_a_second_is_cut_at_the_frame_deadline() {
        let mut c = connect(limits(), 4096);
        c.handshake().await;
        let echo = c.echo();
        let mut bytes = (echo.len() as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(&echo);
        let t0 = Instant::now();
        for b in bytes {
            if c.done.is_finished() {
                break;
            }
            c.io.write_all(&[b]).await.unwrap();
            tokio::time::sleep(S).await;
        }
        assert_eq!(c.ended_within(S).await, Some("frame timeout"));
        let took = t0.elapsed();
        assert!(took >= 10 * S && took <= 12 * S, "closed after {took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_frame_in_pieces_within_the_deadline_is_served() {
        let mut c = connect(limits(), 4096);
        c.handshake().await;
        let echo = c.echo();
        c.io.write_all(&(echo.len() as u32).to_be_bytes())
            .await
            .unwrap();
        c.io.write_all(&echo[..30]).await.unwrap();
        tokio::time::sleep(9 * S).await;
        c.io.write_all(&echo[30..]).await.unwrap();
        let reply = c.recv().await;
        assert_eq!(Header::decode(&reply).unwrap().status, 0);
        assert!(c.alive_after(20 * S).await);
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_holding_nothing_is_closed() {
        let mut c = connect(limits(), 4096);
        c.handshake().await;
        tokio::time::sleep(50 * S).await;
        let echo = c.echo();
        c.call(echo).await;
        // Idle counts from the last request.
        assert!(c.alive_after(99 * S).await);
        assert_eq!(c.ended_within(2 * S).await, Some("idle timeout"));
    }

    #[tokio::test(start_paused = true)]
    async fn no_idle_timeout_means_never() {
        let mut c = connect(
            Limits {
                idle_timeout: None,
                ..limits()
            },
            4096,
        );
        c.handshake().await;
        assert!(c.alive_after(10_000 * S).await);
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_with_an_open_file_stays_until_it_closes_it() {
        let mut c = connect(limits(), 4096);
        c.handshake().await;
        let (mid, sid) = (c.mid(), c.sid);
        assert_eq!(
            c.call(seeds::tree_connect(mid, sid, "share"))
                .await
                .0
                .status,
            0
        );
        let mid = c.mid();
        let (h, reply) = c.call(seeds::create(mid, sid, "a.txt")).await;
        assert_eq!(h.status, 0);
        let file_id = reply[64 + 64..64 + 80].to_vec();
        assert!(c.alive_after(1_000 * S).await);
        let mid = c.mid();
        let mut close = seeds::close(mid, sid);
        close[64 + 8..64 + 24].copy_from_slice(&file_id);
        assert_eq!(c.call(close).await.0.status, 0);
        assert!(c.alive_after(99 * S).await);
        assert_eq!(c.ended_within(102 * S).await, Some("idle timeout"));
    }

    /// Sends up to `n` ECHO requests without reading any reply, until the server is gone.
    async fn flood(c: &mut Client, n: usize) {
        for _ in 0..n {
            let echo = c.echo();
            if c.try_send(&echo).await.is_err() {
                return;
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_stops_reading_is_dropped_after_the_send_timeout() {
        // Room for three replies in the pipe.
        let mut c = connect(limits(), 256);
        c.handshake().await;
        let t0 = Instant::now();
        flood(&mut c, 20).await;
        assert_eq!(c.ended_within(60 * S).await, Some("send stalled"));
        let took = t0.elapsed();
        assert!(took >= 5 * S && took <= 6 * S, "closed after {took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn replies_piling_past_the_byte_bound_drop_the_connection() {
        let mut c = connect(
            Limits {
                max_send_queue_bytes: 1000,
                send_timeout: 10 * S,
                ..limits()
            },
            256,
        );
        c.handshake().await;
        flood(&mut c, 40).await;
        // The client takes a trickle: the writer makes progress, but the replies stay over the
        // bound for longer than the send timeout.
        let mut buf = [0u8; 16];
        let mut why = None;
        for _ in 0..30 {
            let _ = tokio::time::timeout(S, c.io.read(&mut buf)).await;
            why = c.ended_within(S).await;
            if why.is_some() {
                break;
            }
        }
        assert_eq!(why, Some("send queue over its limit"));
    }

    #[tokio::test(start_paused = true)]
    async fn the_server_stopping_ends_the_connection() {
        let mut c = connect(limits(), 4096);
        c.handshake().await;
        c._stop.send(()).unwrap();
        assert_eq!(c.ended_within(S).await, Some("server stopping"));
        // The peer sees the end of the stream.
        let mut rest = Vec::new();
        c.io.read_to_end(&mut rest).await.unwrap();
    }

    /// An idle connection's task holds this future, its timer included (736 bytes with
    /// rustc 1.95, 400 before the deadlines; the whole connection is about 4 KiB).
    #[tokio::test]
    async fn an_idle_connection_task_stays_small() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (client, server) =
            tokio::join!(TcpStream::connect(l.local_addr().unwrap()), l.accept());
        let ctx = crate::harness::server::server(Arc::new(vfs::mem::MemFs::new()), 64);
        let (_stop, rx) = broadcast::channel(1);
        let fut = run(ctx, server.unwrap().0, "t".into(), rx);
        let size = size_of_val(&fut);
        assert!(size <= 1024, "the connection future takes {size} bytes");
        drop((fut, client));
    }

    #[tokio::test(start_paused = true)]
    async fn a_bad_length_prefix_drops_the_connection() {
        let mut c = connect(limits(), 4096);
        c.io.write_all(&(64u32 << 20).to_be_bytes()).await.unwrap();
        assert_eq!(c.ended_within(S).await, Some("frame length out of range"));
    }
}
