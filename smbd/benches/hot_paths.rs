//! Micro-benchmarks of the per-message hot pieces: frame decode, signing, encryption and
//! directory encoding. `cargo bench -p smbd --bench hot_paths`; end-to-end speed is measured
//! by `perf` against Samba, these only localise a regression.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use smbd::crypto::{self, Cipher, DEFAULT_PROVIDER, SigningAlgorithm};
use smbd::fuzzing::seeds;
use smbd::proto::create::CreateRequest;
use smbd::proto::fscc::{DirListWriter, FileInfoClass};
use smbd::proto::header::{HEADER_LEN, Header};
use vfs::FileStat;

const KEY16: [u8; 16] = [0x42; 16];
const KEY32: [u8; 32] = [0x24; 32];

fn decode(c: &mut Criterion) {
    let create = seeds::create(5, 0x1122, "dir\\sub\\file.txt");
    c.bench_function("decode/header", |b| {
        b.iter(|| Header::decode(black_box(&create)).map(|h| h.message_id))
    });
    c.bench_function("decode/create", |b| {
        b.iter(|| CreateRequest::decode(black_box(&create[HEADER_LEN..])).map(|r| r.desired_access))
    });
}

/// A request-sized message: a header then `len - 64` bytes of payload.
fn message(len: usize) -> Vec<u8> {
    let mut m = seeds::message(
        smbd::proto::header::Command::Read,
        9,
        0x77,
        1,
        &vec![0xa5; len.saturating_sub(HEADER_LEN)],
    );
    m.truncate(len.max(HEADER_LEN));
    m
}

fn signing(c: &mut Criterion) {
    let mut g = c.benchmark_group("sign");
    for (name, alg) in [
        ("hmac-sha256", SigningAlgorithm::HmacSha256),
        ("aes-cmac", SigningAlgorithm::AesCmac),
        ("aes-gmac", SigningAlgorithm::AesGmac),
    ] {
        for len in [256usize, 64 * 1024] {
            let mut msg = message(len);
            g.throughput(Throughput::Bytes(len as u64));
            g.bench_with_input(BenchmarkId::new(name, len), &len, |b, _| {
                b.iter(|| crypto::sign_message(&DEFAULT_PROVIDER, alg, &KEY16, black_box(&mut msg)))
            });
        }
    }
    g.finish();
}

fn encryption(c: &mut Criterion) {
    let mut g = c.benchmark_group("encrypt");
    for (name, cipher, key) in [
        ("aes128-gcm", Cipher::Aes128Gcm, &KEY16[..]),
        ("aes256-gcm", Cipher::Aes256Gcm, &KEY32[..]),
        ("aes128-ccm", Cipher::Aes128Ccm, &KEY16[..]),
    ] {
        for len in [4096usize, 1 << 20] {
            let msg = message(len);
            g.throughput(Throughput::Bytes(len as u64));
            g.bench_with_input(BenchmarkId::new(name, len), &len, |b, _| {
                b.iter(|| {
                    crypto::encrypt_message(&DEFAULT_PROVIDER, cipher, key, 0x77, black_box(&msg))
                })
            });
            let sealed =
                crypto::encrypt_message(&DEFAULT_PROVIDER, cipher, key, 0x77, &msg).expect("seal");
            g.bench_with_input(
                BenchmarkId::new(format!("{name}-open"), len),
                &len,
                |b, _| {
                    b.iter(|| {
                        crypto::decrypt_message(&DEFAULT_PROVIDER, cipher, key, black_box(&sealed))
                    })
                },
            );
        }
    }
    g.finish();
}

fn directory(c: &mut Criterion) {
    let stat = FileStat {
        size: 4096,
        allocation_size: 4096,
        creation_time: 133_000_000_000_000_000,
        last_access_time: 133_000_000_000_000_000,
        last_write_time: 133_000_000_000_000_000,
        change_time: 133_000_000_000_000_000,
        attributes: 0x20,
        file_id: 1234,
        volume: 0,
        links: 1,
        ea_size: 0,
        is_dir: false,
    };
    let names: Vec<String> = (0..1000).map(|i| format!("profile_{i:05}.vhdx")).collect();
    let mut g = c.benchmark_group("dir-encode");
    g.throughput(Throughput::Elements(names.len() as u64));
    g.bench_function("id-both-1000", |b| {
        b.iter(|| {
            let mut w =
                DirListWriter::new(FileInfoClass::FILE_ID_BOTH_DIRECTORY_INFORMATION, 1 << 20)
                    .expect("class");
            for (i, n) in names.iter().enumerate() {
                w.push(n, &stat, i as u32);
            }
            w.finish()
        })
    });
    g.finish();
}

criterion_group!(benches, decode, signing, encryption, directory);
criterion_main!(benches);
