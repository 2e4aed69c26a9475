//! `crypto-bench`: single-core throughput of every implementation of each SMB primitive.
//!
//! Run it optimised: `cargo run --release -p smbd --bin crypto-bench`. It prints one row per
//! primitive and implementation with MB/s (10^6 bytes per second) on 256 B, 4 KiB, 64 KiB
//! and 1 MiB buffers, then the cost of one key schedule. (`ring` was measured too while
//! choosing: it lost to AWS-LC for AES-GCM and GMAC and tied elsewhere, so it is no
//! dependency.) Each cell is the median of several timed runs,
//! timed in the thread's CPU time where Linux reports it, so a busy machine disturbs it less.
//! `CRYPTO_BENCH_MS` sets the time per run (default 60 ms).
//!
//! "per call" rows go through the provider traits, which take the key on every call and so
//! redo the key schedule; "prepared" rows use `AeadProvider::prepare` once per key, as a
//! session that caches its keys would. "3 parts" GMAC is the verification path, where the
//! message reaches the MAC as header, zeroed signature and body.

use std::hint::black_box;
use std::time::{Duration, Instant};

use smbd::crypto::{
    AWS_LC_PROVIDER, Cipher, CryptoProvider, DEFAULT_PROVIDER, RUSTCRYPTO_PROVIDER,
};

/// Buffer sizes of the table's columns.
const SIZES: [usize; 4] = [256, 4 << 10, 64 << 10, 1 << 20];
/// Timed runs per cell; the median is kept.
const RUNS: usize = 7;

/// One operation to time: it processes `len` bytes of the buffer it is given.
type Op<'a> = Box<dyn FnMut(&mut [u8]) + 'a>;

/// The time budget of one run, from `CRYPTO_BENCH_MS`.
fn run_time() -> Duration {
    let ms = std::env::var("CRYPTO_BENCH_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    Duration::from_millis(ms)
}

/// Seconds per call of `op` on `buf`: the median of [`RUNS`] runs of about `budget` each.
fn seconds_per_call(op: &mut Op<'_>, buf: &mut [u8], budget: Duration) -> f64 {
    // Warm up and estimate how many calls fill one run.
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < budget / 4 {
        op(buf);
        calls += 1;
    }
    let per_call = start.elapsed().as_secs_f64() / calls as f64;
    let batch = ((budget.as_secs_f64() / per_call) as u64).max(1);
    let mut runs = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let cpu_start = thread_cpu_time();
        for _ in 0..batch {
            op(buf);
        }
        let wall = start.elapsed();
        let spent = match (cpu_start, thread_cpu_time()) {
            (Some(a), Some(b)) if b > a => b - a,
            _ => wall,
        };
        runs.push(spent.as_secs_f64() / batch as f64);
    }
    // The median: the kernel updates a running thread's CPU time only at ticks, so single
    // runs can be off in either direction.
    runs.sort_by(f64::total_cmp);
    runs[RUNS / 2]
}

/// CPU time this thread has run, from `/proc/thread-self/schedstat` (nanoseconds on the
/// CPU, first field), so time spent waiting for a core shared with other processes is not
/// counted; `None` where it is not available (then wall time is used).
fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// Prints one table row: MB/s of `make(len)` for each size.
fn row(primitive: &str, implementation: &str, make: impl FnMut(usize) -> Op<'static>) {
    timed_row(primitive, implementation, false, make);
}

/// Prints one row of an operation that starts by copying its input into the buffer (an
/// open must start from ciphertext every time); the time of that copy is subtracted.
fn row_after_copy(primitive: &str, implementation: &str, make: impl FnMut(usize) -> Op<'static>) {
    timed_row(primitive, implementation, true, make);
}

/// Times `make(len)` for each size and prints the row.
fn timed_row(
    primitive: &str,
    implementation: &str,
    minus_copy: bool,
    mut make: impl FnMut(usize) -> Op<'static>,
) {
    let budget = run_time();
    let mut cells = String::new();
    for len in SIZES {
        let mut buf: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let mut op = make(len);
        let mut secs = seconds_per_call(&mut op, &mut buf, budget);
        if minus_copy {
            let source = buf.clone();
            let mut copy: Op<'_> = Box::new(move |b| {
                b.copy_from_slice(&source);
                black_box(&b[0]);
            });
            // A noisy copy measurement must not leave less than a tenth of the total.
            let copy_secs = seconds_per_call(&mut copy, &mut buf, budget);
            secs = (secs - copy_secs).max(secs / 10.0);
        }
        cells.push_str(&format!(" {:>9.0} |", len as f64 / secs / 1e6));
    }
    println!("| {primitive:<16} | {implementation:<26} |{cells}");
}

/// A 32-byte key; AES-128 users take its first 16 bytes.
static KEY: [u8; 32] = [0x42; 32];
/// The transform header bytes the AEAD authenticates.
static AAD: [u8; 32] = [0x11; 32];

/// The providers measured, by name.
const PROVIDERS: [(&str, &CryptoProvider); 3] = [
    ("rustcrypto", &RUSTCRYPTO_PROVIDER),
    ("aws-lc", &AWS_LC_PROVIDER),
    ("default", &DEFAULT_PROVIDER),
];

/// Rows for one AEAD cipher: seal and open, per call and prepared, for every provider.
fn aead_rows(cipher: Cipher, name: &str) {
    let key = &KEY[..cipher.key_len()];
    let nonce = vec![7u8; cipher.nonce_len()];
    for (pname, p) in PROVIDERS {
        let n = nonce.clone();
        row(
            &format!("{name} seal"),
            &format!("{pname} per call"),
            |_| {
                let n = n.clone();
                Box::new(move |buf| {
                    black_box(p.aead.seal_in_place(cipher, key, &n, &AAD, buf).unwrap());
                })
            },
        );
        let prepared = p.aead.prepare(cipher, key).unwrap();
        let prepared: &'static _ = Box::leak(prepared);
        let n = nonce.clone();
        row(
            &format!("{name} seal"),
            &format!("{pname} prepared"),
            |_| {
                let n = n.clone();
                Box::new(move |buf| {
                    black_box(prepared.seal_in_place(&n, &AAD, buf).unwrap());
                })
            },
        );
        // Open starts from the same ciphertext every time (the copy is not counted).
        let n = nonce.clone();
        row_after_copy(
            &format!("{name} open"),
            &format!("{pname} per call"),
            |len| {
                let n = n.clone();
                let mut sealed: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
                let tag = prepared.seal_in_place(&n, &AAD, &mut sealed).unwrap();
                Box::new(move |buf| {
                    buf.copy_from_slice(&sealed);
                    p.aead
                        .open_in_place(cipher, key, &n, &AAD, buf, &tag)
                        .unwrap();
                    black_box(&buf[0]);
                })
            },
        );
        let n = nonce.clone();
        row_after_copy(
            &format!("{name} open"),
            &format!("{pname} prepared"),
            |len| {
                let n = n.clone();
                let mut sealed: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
                let tag = prepared.seal_in_place(&n, &AAD, &mut sealed).unwrap();
                Box::new(move |buf| {
                    buf.copy_from_slice(&sealed);
                    prepared.open_in_place(&n, &AAD, buf, &tag).unwrap();
                    black_box(&buf[0]);
                })
            },
        );
    }
}

/// Rows for the MACs and SHA-512.
fn mac_rows() {
    let key = &KEY[..16];
    let nonce = [3u8; 12];
    for (pname, p) in PROVIDERS {
        row("AES-128-GMAC", &format!("{pname} 1 part"), |_| {
            Box::new(move |buf| {
                black_box(p.mac.aes_gmac(key, &nonce, &[buf]).unwrap());
            })
        });
        row("AES-128-GMAC", &format!("{pname} 3 parts"), |_| {
            Box::new(move |buf| {
                let (head, body) = buf.split_at(buf.len().min(64));
                let head = &head[..head.len().min(48)];
                let parts: [&[u8]; 3] = [head, &[0; 16], body];
                black_box(p.mac.aes_gmac(key, &nonce, &parts).unwrap());
            })
        });
    }
    for (pname, p) in PROVIDERS {
        row("AES-128-CMAC", pname, |_| {
            Box::new(move |buf| {
                black_box(p.mac.aes_cmac(key, &[buf]).unwrap());
            })
        });
    }
    for (pname, p) in PROVIDERS {
        row("HMAC-SHA256", pname, |_| {
            Box::new(move |buf| {
                black_box(p.mac.hmac_sha256(key, &[buf]));
            })
        });
    }
    for (pname, p) in PROVIDERS {
        row("SHA-512", pname, |_| {
            Box::new(move |buf| {
                black_box(p.hash.sha512(&[buf]));
            })
        });
    }
}

/// Nanoseconds per call of `f`, median of [`RUNS`].
fn nanos_per_call(mut f: impl FnMut()) -> f64 {
    let budget = run_time();
    let mut op: Op<'_> = Box::new(move |_| f());
    seconds_per_call(&mut op, &mut [], budget) * 1e9
}

/// The cost of one key schedule: `prepare` alone, and a GMAC of an empty message.
fn key_setup_rows() {
    println!();
    println!("| key schedule                 | implementation |   ns/call |");
    println!("|------------------------------|----------------|-----------|");
    for (pname, p) in PROVIDERS {
        for cipher in [Cipher::Aes128Gcm, Cipher::Aes256Gcm, Cipher::Aes128Ccm] {
            let key = &KEY[..cipher.key_len()];
            let ns = nanos_per_call(|| {
                black_box(p.aead.prepare(cipher, key).unwrap());
            });
            println!(
                "| prepare {:<20} | {pname:<14} | {ns:>9.0} |",
                format!("{cipher:?}")
            );
        }
        let ns = nanos_per_call(|| {
            black_box(p.mac.aes_gmac(&KEY[..16], &[0; 12], &[]).unwrap());
        });
        println!("| GMAC of 0 bytes              | {pname:<14} | {ns:>9.0} |");
        let ns = nanos_per_call(|| {
            black_box(p.mac.aes_cmac(&KEY[..16], &[]).unwrap());
        });
        println!("| CMAC of 0 bytes              | {pname:<14} | {ns:>9.0} |");
    }
}

fn main() {
    println!("crypto-bench: MB/s on one core, median of {RUNS} runs per cell");
    println!();
    println!(
        "| primitive        | implementation             |     256 B |     4 KiB |    64 KiB |     1 MiB |"
    );
    println!(
        "|------------------|----------------------------|-----------|-----------|-----------|-----------|"
    );
    aead_rows(Cipher::Aes128Gcm, "AES-128-GCM");
    aead_rows(Cipher::Aes256Gcm, "AES-256-GCM");
    aead_rows(Cipher::Aes128Ccm, "AES-128-CCM");
    aead_rows(Cipher::Aes256Ccm, "AES-256-CCM");
    mac_rows();
    key_setup_rows();
}
