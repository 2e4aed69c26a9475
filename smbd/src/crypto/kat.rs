//! Known-answer tests of the provider primitives, run against every real provider.
//!
//! Sources: RFC 4493 section 4 (AES-CMAC), RFC 4231 section 4 (HMAC-SHA256), FIPS 180-2
//! appendix C (SHA-512), and the test cases of the GCM specification (McGrew and Viega,
//! "The Galois/Counter Mode of Operation", appendix B). The SMB-level vectors of Microsoft's
//! blogs are in `vectors.rs`.

use super::test_util::{PROVIDERS, hex};
use super::*;

/// RFC 4493 section 4 (the AES-CMAC examples of NIST SP800-38B, appendix D.1).
#[test]
fn aes_cmac_rfc4493_examples() {
    let key = hex("2b7e151628aed2a6abf7158809cf4f3c");
    let msg = hex(
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
         30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
    );
    let cases = [
        (0, "bb1d6929e95937287fa37d129b756746"),
        (16, "070a16b46b4d4144f79bdd9dd04a287c"),
        (40, "dfa66747de9ae63030ca32611497c827"),
        (64, "51f0bebf7e3b9d92fc49741779363cfe"),
    ];
    for (name, p) in PROVIDERS {
        for (len, want) in cases {
            let got = p.mac.aes_cmac(&key, &[&msg[..len]]).unwrap();
            assert_eq!(got.to_vec(), hex(want), "{name} length {len}");
            // The same MAC when the message comes in pieces.
            let (a, b) = msg[..len].split_at(len / 3);
            assert_eq!(p.mac.aes_cmac(&key, &[a, &[], b]).unwrap(), got, "{name}");
        }
        assert_eq!(
            p.mac.aes_cmac(&key[..15], &[]),
            Err(CryptoError::BadKeyLength),
            "{name}"
        );
    }
}

/// RFC 4231 section 4.2 (test case 1) and 4.3 (test case 2, a key shorter than the block).
#[test]
fn hmac_sha256_rfc4231_cases_1_and_2() {
    for (name, p) in PROVIDERS {
        let got = p.mac.hmac_sha256(&[0x0b; 20], &[b"Hi ", b"There"]);
        assert_eq!(
            got.to_vec(),
            hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            "{name}"
        );
        let got = p
            .mac
            .hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            got.to_vec(),
            hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            "{name}"
        );
    }
}

/// RFC 4231 section 4.7 (test case 6): a 131-byte key, longer than the block, is hashed.
#[test]
fn hmac_sha256_rfc4231_case6_long_key() {
    for (name, p) in PROVIDERS {
        let got = p.mac.hmac_sha256(
            &[0xaa; 131],
            &[b"Test Using Larger Than Block-Size Key - Hash Key First"],
        );
        assert_eq!(
            got.to_vec(),
            hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            "{name}"
        );
    }
}

/// FIPS 180-2 appendix C.1 (SHA-512 of "abc").
#[test]
fn sha512_fips180_abc() {
    for (name, p) in PROVIDERS {
        let got = p.hash.sha512(&[b"a", b"bc"]);
        assert_eq!(
            got.to_vec(),
            hex(
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
                 2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
            ),
            "{name}"
        );
    }
}

/// GCM specification test case 1: zero key and IV, empty plaintext and AAD; the tag is the
/// GMAC of nothing.
#[test]
fn gmac_gcm_spec_test_case_1() {
    for (name, p) in PROVIDERS {
        let got = p.mac.aes_gmac(&[0; 16], &[0; 12], &[]).unwrap();
        assert_eq!(
            got.to_vec(),
            hex("58e2fccefa7e3061367f1d57a4e7455a"),
            "{name}"
        );
        assert_eq!(
            p.mac.aes_gmac(&[0; 15], &[0; 12], &[]),
            Err(CryptoError::BadKeyLength),
            "{name}"
        );
    }
}

/// GMAC is GCM with an empty plaintext and the message as AAD (NIST SP800-38D section 3):
/// each provider's GMAC equals its own and the others' GCM tag, for many lengths and splits.
#[test]
fn gmac_equals_gcm_tag_with_empty_plaintext() {
    let key = hex("000102030405060708090a0b0c0d0e0f");
    let nonce: [u8; 12] = core::array::from_fn(|i| 0xa0 + i as u8);
    let data: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    for len in [0usize, 1, 15, 16, 17, 48, 64, 65, 200, 4096, 5000] {
        let want = RUSTCRYPTO_PROVIDER
            .aead
            .seal_in_place(Cipher::Aes128Gcm, &key, &nonce, &data[..len], &mut [])
            .unwrap();
        for (name, p) in PROVIDERS {
            let got = p.mac.aes_gmac(&key, &nonce, &[&data[..len]]).unwrap();
            assert_eq!(got, want, "{name} length {len}");
            for cut in [0, 1, 7, len / 2, len] {
                let cut = cut.min(len);
                let (a, rest) = data[..len].split_at(cut);
                let (b, c) = rest.split_at(rest.len() / 2);
                let split = p.mac.aes_gmac(&key, &nonce, &[a, b, c]).unwrap();
                assert_eq!(split, want, "{name} {len}/{cut}");
            }
        }
    }
}

/// One GCM specification test case: (cipher, key, IV, plaintext, AAD, ciphertext, tag).
type GcmCase = (
    Cipher,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// GCM specification test cases 2 and 14 (zero key and IV, one zero block) and 4 and 16
/// (60-byte plaintext, 20-byte AAD) for AES-128 and AES-256.
const GCM_CASES: [GcmCase; 4] = [
    (
        Cipher::Aes128Gcm,
        "00000000000000000000000000000000",
        "000000000000000000000000",
        "00000000000000000000000000000000",
        "",
        "0388dace60b6a392f328c2b971b2fe78",
        "ab6e47d42cec13bdf53a67b21257bddf",
    ),
    (
        Cipher::Aes256Gcm,
        "0000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000",
        "00000000000000000000000000000000",
        "",
        "cea7403d4d606b6e074ec5d3baf39d18",
        "d0d1c8a799996bf0265b98b5d48ab919",
    ),
    (
        Cipher::Aes128Gcm,
        "feffe9928665731c6d6a8f9467308308",
        "cafebabefacedbaddecaf888",
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
         1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e\
         21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
        "5bc94fbc3221a5db94fae95ae7121a47",
    ),
    (
        Cipher::Aes256Gcm,
        "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        "cafebabefacedbaddecaf888",
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
         1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
         8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
        "76fc6ece0f4e1768cddf8853bb2d551b",
    ),
];

/// The GCM cases through each provider's per-call and prepared seal and open.
#[test]
fn gcm_spec_test_cases() {
    for (name, p) in PROVIDERS {
        for (cipher, key, iv, plain, aad, ct, tag) in GCM_CASES {
            let (key, iv, aad) = (hex(key), hex(iv), hex(aad));
            let mut buf = hex(plain);
            let got = p
                .aead
                .seal_in_place(cipher, &key, &iv, &aad, &mut buf)
                .unwrap();
            assert_eq!(buf, hex(ct), "{name} {cipher:?}");
            assert_eq!(got.to_vec(), hex(tag), "{name} {cipher:?}");
            p.aead
                .open_in_place(cipher, &key, &iv, &aad, &mut buf, &got)
                .unwrap();
            assert_eq!(buf, hex(plain), "{name} {cipher:?}");

            let prepared = p.aead.prepare(cipher, &key).unwrap();
            assert_eq!(prepared.cipher(), cipher);
            let got = prepared.seal_in_place(&iv, &aad, &mut buf).unwrap();
            assert_eq!((buf.clone(), got.to_vec()), (hex(ct), hex(tag)), "{name}");
            prepared.open_in_place(&iv, &aad, &mut buf, &got).unwrap();
            assert_eq!(buf, hex(plain), "{name} {cipher:?}");
        }
    }
}

const CIPHERS: [Cipher; 4] = [
    Cipher::Aes128Ccm,
    Cipher::Aes128Gcm,
    Cipher::Aes256Ccm,
    Cipher::Aes256Gcm,
];

/// Every provider opens what every other seals (per call or prepared), at sizes around the
/// block and the implementations' bulk strides, and rejects a flipped tag, AAD or ciphertext.
#[test]
fn providers_interoperate_and_reject_tampering() {
    for cipher in CIPHERS {
        let key: Vec<u8> = (0..cipher.key_len() as u8).map(|b| b ^ 0x5a).collect();
        let nonce: Vec<u8> = (0..cipher.nonce_len() as u8).collect();
        let aad = [0x33u8; 32];
        for len in [0usize, 1, 16, 255, 256, 1000, 4096, 70_000] {
            let plain: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
            for (seal_name, sealer) in PROVIDERS {
                let mut buf = plain.clone();
                let tag = sealer
                    .aead
                    .seal_in_place(cipher, &key, &nonce, &aad, &mut buf)
                    .unwrap();
                for (open_name, opener) in PROVIDERS {
                    let what = format!("{cipher:?} {len} {seal_name}->{open_name}");
                    let mut copy = buf.clone();
                    let prepared = opener.aead.prepare(cipher, &key).unwrap();
                    prepared
                        .open_in_place(&nonce, &aad, &mut copy, &tag)
                        .unwrap();
                    assert_eq!(copy, plain, "{what}");

                    let mut bad_tag = tag;
                    bad_tag[15] ^= 1;
                    let mut copy = buf.clone();
                    let r = opener
                        .aead
                        .open_in_place(cipher, &key, &nonce, &aad, &mut copy, &bad_tag);
                    assert_eq!(r, Err(CryptoError::Auth), "{what}");
                    let mut bad_aad = aad;
                    bad_aad[0] ^= 1;
                    let mut copy = buf.clone();
                    let r = opener
                        .aead
                        .open_in_place(cipher, &key, &nonce, &bad_aad, &mut copy, &tag);
                    assert_eq!(r, Err(CryptoError::Auth), "{what}");
                    if len > 0 {
                        let mut copy = buf.clone();
                        copy[len - 1] ^= 0x80;
                        let r = prepared.open_in_place(&nonce, &aad, &mut copy, &tag);
                        assert_eq!(r, Err(CryptoError::Auth), "{what}");
                    }
                }
            }
        }
    }
}

#[test]
fn aead_rejects_wrong_key_and_nonce_lengths() {
    for (name, p) in PROVIDERS {
        let aead = p.aead;
        let mut buf = [0u8; 4];
        for cipher in CIPHERS {
            let short_key = vec![0u8; cipher.key_len() - 1];
            let nonce = vec![0u8; cipher.nonce_len()];
            assert_eq!(
                aead.seal_in_place(cipher, &short_key, &nonce, &[], &mut buf),
                Err(CryptoError::BadKeyLength),
                "{name} {cipher:?}"
            );
            assert!(aead.prepare(cipher, &short_key).is_err(), "{name}");
            let key = vec![0u8; cipher.key_len()];
            let wrong_nonce = vec![0u8; 23 - cipher.nonce_len()];
            assert_eq!(
                aead.seal_in_place(cipher, &key, &wrong_nonce, &[], &mut buf),
                Err(CryptoError::BadNonceLength),
                "{name} {cipher:?}"
            );
            assert_eq!(
                aead.open_in_place(cipher, &key, &wrong_nonce, &[], &mut buf, &[0; 16]),
                Err(CryptoError::BadNonceLength),
                "{name} {cipher:?}"
            );
            let prepared = aead.prepare(cipher, &key).unwrap();
            assert_eq!(
                prepared.seal_in_place(&wrong_nonce, &[], &mut buf),
                Err(CryptoError::BadNonceLength),
                "{name} {cipher:?}"
            );
        }
        assert_eq!(
            aead.seal_in_place(Cipher::Aes256Ccm, &[0; 16], &[0; 11], &[], &mut buf),
            Err(CryptoError::BadKeyLength),
            "{name}"
        );
    }
}

#[test]
fn random_fills() {
    for (name, p) in PROVIDERS {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        p.random.fill(&mut a).unwrap();
        p.random.fill(&mut b).unwrap();
        assert_ne!(a, b, "{name}");
    }
}
