//! Ceilings that bound every figure: single-stream loopback TCP, single-core AES-128-GCM,
//! and the load generator's own speed against a fake in-process responder that answers
//! reads from memory.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use smbd::crypto::{Cipher, DEFAULT_PROVIDER};
use smbd::proto::negotiate::{Dialect, NegotiateResponse};
use smbd::proto::{Command, Header, NtStatus, WriteLe};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Single-stream loopback TCP throughput with 1 MiB writes, MiB/s.
pub async fn tcp_blaster(duration: Duration) -> std::io::Result<f64> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let sink = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await?;
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            let n = s.read(&mut buf).await?;
            if n == 0 {
                return Ok::<u64, std::io::Error>(total);
            }
            total += n as u64;
        }
    });
    let mut s = TcpStream::connect(addr).await?;
    let buf = vec![0x5Au8; 1 << 20];
    let start = Instant::now();
    while start.elapsed() < duration {
        s.write_all(&buf).await?;
    }
    s.shutdown().await?;
    drop(s);
    let total = sink.await.map_err(std::io::Error::other)??;
    Ok(total as f64 / 1_048_576.0 / start.elapsed().as_secs_f64())
}

/// Single-core AES-GCM sealing speed of the default provider on 1 MiB buffers, MiB/s.
pub fn aead_speed(cipher: Cipher, duration: Duration) -> f64 {
    let key = vec![7u8; cipher.key_len()];
    let nonce = vec![1u8; cipher.nonce_len()];
    let aad = [0u8; 32];
    let mut buf = vec![0u8; 1 << 20];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        if DEFAULT_PROVIDER
            .aead
            .seal_in_place(cipher, &key, &nonce, &aad, &mut buf)
            .is_err()
        {
            return 0.0;
        }
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// A fake SMB2 server: negotiates 3.1.1 without signing, accepts any NTLM AUTHENTICATE,
/// and answers READ with zeros from memory. Returns its address; it runs until the runtime
/// stops.
pub async fn fake_responder() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(fake_connection(s));
        }
    });
    Ok(addr)
}

async fn fake_connection(s: TcpStream) -> std::io::Result<()> {
    let _ = s.set_nodelay(true);
    let (mut rd, wr) = s.into_split();
    let mut wr = tokio::io::BufWriter::with_capacity(1 << 20, wr);
    let zeros = vec![0u8; 16 << 20];
    let mut len = [0u8; 4];
    loop {
        rd.read_exact(&mut len).await?;
        let n = u32::from_be_bytes(len) as usize;
        if n > (17 << 20) {
            return Ok(());
        }
        let mut frame = vec![0u8; n];
        rd.read_exact(&mut frame).await?;
        let Some(out) = fake_reply(&frame, &zeros) else {
            return Ok(());
        };
        wr.write_all(&u32::try_from(out.len()).unwrap_or(0).to_be_bytes())
            .await?;
        wr.write_all(&out).await?;
        wr.flush().await?;
    }
}

/// The response to one (non-compound) request, or None to hang up.
fn fake_reply(msg: &[u8], zeros: &[u8]) -> Option<Vec<u8>> {
    let h = Header::decode(msg).ok()?;
    let mut status = NtStatus::SUCCESS;
    let mut body = Vec::new();
    match h.command {
        Command::Negotiate => NegotiateResponse {
            dialect: Dialect(0x0311),
            max_transact_size: 8 << 20,
            max_read_size: 8 << 20,
            max_write_size: 8 << 20,
            preauth_salt: Some([0; 32]),
            ..NegotiateResponse::default()
        }
        .encode(with_room(&mut body)),
        Command::SessionSetup => {
            let blob = msg.get(88..).unwrap_or(&[]);
            let blob = if blob.get(8) == Some(&1) {
                status = NtStatus::MORE_PROCESSING_REQUIRED;
                acceptor::ntlm::messages::ChallengeMessage {
                    flags: 0xE288_8235,
                    server_challenge: [1; 8],
                    target_name: Vec::new(),
                    target_info: vec![0, 0, 0, 0],
                }
                .encode()
            } else {
                Vec::new()
            };
            smbd::proto::session::encode_session_setup_response(&mut body, 0, &blob);
        }
        Command::TreeConnect => {
            smbd::proto::tree::encode_tree_connect_response(&mut body, 1, 0, 0, 0x001F_01FF)
        }
        Command::Echo => smbd::proto::session::encode_fixed4(&mut body),
        Command::Create => {
            body.put_u16(89);
            body.extend_from_slice(&[0; 62]);
            body.extend_from_slice(&[9; 16]);
            body.put_u64(0);
        }
        Command::Read => {
            let len = u32::from_le_bytes(msg.get(68..72)?.try_into().ok()?);
            smbd::proto::io::encode_read_response_prefix(&mut body, len);
            body.extend_from_slice(zeros.get(..len as usize)?);
        }
        Command::Close => {
            body.put_u16(60);
            body.extend_from_slice(&[0; 58]);
        }
        _ => return None,
    }
    let mut rh = h.response(status);
    rh.credits = h.credits.max(1);
    let mut out = Vec::with_capacity(64 + body.len());
    rh.encode(&mut out);
    if h.command == Command::Negotiate {
        // The negotiate encoder computes offsets from the message start.
        body.drain(..64);
    }
    out.extend_from_slice(&body);
    Some(out)
}

/// Gives the negotiate encoder a 64-byte header placeholder to count offsets from.
fn with_room(body: &mut Vec<u8>) -> &mut Vec<u8> {
    body.resize(64, 0);
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aead_speed_is_positive() {
        assert!(aead_speed(Cipher::Aes128Gcm, Duration::from_millis(20)) > 0.0);
    }

    #[tokio::test]
    async fn tcp_blaster_moves_data() {
        assert!(tcp_blaster(Duration::from_millis(50)).await.unwrap() > 0.0);
    }
}
