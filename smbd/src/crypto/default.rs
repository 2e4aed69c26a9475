//! The default provider: RustCrypto implementations of every primitive.

use aes::cipher::BlockEncrypt;
use aes::{Aes128, Aes256};
use aes_gcm::aead::consts::{U11, U16};
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::generic_array::typenum::Unsigned;
use aes_gcm::aead::{AeadCore, AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use ccm::Ccm;
use ghash::GHash;
use ghash::universal_hash::UniversalHash;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

use super::provider::{AeadProvider, CryptoProvider, HashProvider, MacProvider, RandomSource};
use super::{Cipher, CryptoError};

/// AES-128-CCM with a 16-byte tag and an 11-byte nonce, as SMB uses it (2.2.41).
type Aes128Ccm = Ccm<Aes128, U16, U11>;
/// AES-256-CCM with a 16-byte tag and an 11-byte nonce.
type Aes256Ccm = Ccm<Aes256, U16, U11>;

/// The RustCrypto-backed provider every production code path uses.
pub static DEFAULT_PROVIDER: CryptoProvider = CryptoProvider {
    mac: &RustCryptoMac,
    aead: &RustCryptoAead,
    hash: &RustCryptoHash,
    random: &OsRandom,
};

/// HMAC-SHA256, AES-CMAC and AES-GMAC from the `hmac`, `cmac`, `aes` and `ghash` crates.
struct RustCryptoMac;

impl MacProvider for RustCryptoMac {
    fn hmac_sha256(&self, key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        // HMAC hashes over-long keys and pads short ones, so every key length is valid.
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    fn aes_cmac(&self, key: &[u8], parts: &[&[u8]]) -> Result<[u8; 16], CryptoError> {
        let mut mac = <cmac::Cmac<Aes128> as Mac>::new_from_slice(key)
            .map_err(|_| CryptoError::BadKeyLength)?;
        for part in parts {
            mac.update(part);
        }
        Ok(mac.finalize().into_bytes().into())
    }

    fn aes_gmac(
        &self,
        key: &[u8],
        nonce: &[u8; 12],
        parts: &[&[u8]],
    ) -> Result<[u8; 16], CryptoError> {
        gmac(key, nonce, parts)
    }
}

/// AES-128-GMAC (NIST SP800-38D with empty plaintext): GHASH over the AAD and the length
/// block, masked with E(K, nonce || 0x00000001). Written over `ghash` so the AAD can be
/// fed in pieces without joining them.
fn gmac(key: &[u8], nonce: &[u8; 12], parts: &[&[u8]]) -> Result<[u8; 16], CryptoError> {
    let aes = Aes128::new_from_slice(key).map_err(|_| CryptoError::BadKeyLength)?;
    let mut h = GenericArray::default();
    aes.encrypt_block(&mut h);
    let mut ghash = GHash::new(&h);

    // Bytes of a block split across two parts wait here.
    let mut pending = [0u8; 16];
    let mut pending_len = 0usize;
    let mut total_len: u64 = 0;
    for part in parts {
        total_len = total_len.wrapping_add(part.len() as u64);
        let mut data: &[u8] = part;
        if pending_len > 0 {
            let take = (16 - pending_len).min(data.len());
            let (head, rest) = data.split_at(take);
            pending[pending_len..pending_len + take].copy_from_slice(head);
            pending_len += take;
            data = rest;
            if pending_len < 16 {
                continue;
            }
            ghash.update_padded(&pending);
        }
        let whole = data.len() - data.len() % 16;
        let (blocks, tail) = data.split_at(whole);
        ghash.update_padded(blocks);
        pending[..tail.len()].copy_from_slice(tail);
        pending_len = tail.len();
    }
    if pending_len > 0 {
        ghash.update_padded(&pending[..pending_len]);
    }
    // Length block: bit length of the AAD, then of the (empty) ciphertext, big-endian.
    let mut lengths = [0u8; 16];
    lengths[..8].copy_from_slice(&total_len.wrapping_mul(8).to_be_bytes());
    ghash.update_padded(&lengths);
    let s = ghash.finalize();

    let mut j0 = GenericArray::default();
    j0[..12].copy_from_slice(nonce);
    j0[15] = 1;
    aes.encrypt_block(&mut j0);
    let mut tag = [0u8; 16];
    for (i, out) in tag.iter_mut().enumerate() {
        *out = s[i] ^ j0[i];
    }
    Ok(tag)
}

/// AES-CCM and AES-GCM from the `ccm` and `aes-gcm` crates.
struct RustCryptoAead;

/// Seals `buf` in place with AEAD `A`, checking key and nonce lengths first.
fn seal<A>(key: &[u8], nonce: &[u8], aad: &[u8], buf: &mut [u8]) -> Result<[u8; 16], CryptoError>
where
    A: AeadInPlace + KeyInit + AeadCore<TagSize = U16>,
{
    let aead = A::new_from_slice(key).map_err(|_| CryptoError::BadKeyLength)?;
    if nonce.len() != A::NonceSize::USIZE {
        return Err(CryptoError::BadNonceLength);
    }
    let tag = aead
        .encrypt_in_place_detached(GenericArray::from_slice(nonce), aad, buf)
        .map_err(|_| CryptoError::TooLarge)?;
    Ok(tag.into())
}

/// Opens `buf` in place with AEAD `A`, checking key and nonce lengths first.
fn open<A>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; 16],
) -> Result<(), CryptoError>
where
    A: AeadInPlace + KeyInit + AeadCore<TagSize = U16>,
{
    let aead = A::new_from_slice(key).map_err(|_| CryptoError::BadKeyLength)?;
    if nonce.len() != A::NonceSize::USIZE {
        return Err(CryptoError::BadNonceLength);
    }
    aead.decrypt_in_place_detached(
        GenericArray::from_slice(nonce),
        aad,
        buf,
        GenericArray::from_slice(tag),
    )
    .map_err(|_| CryptoError::Auth)
}

impl AeadProvider for RustCryptoAead {
    fn seal_in_place(
        &self,
        cipher: Cipher,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], CryptoError> {
        match cipher {
            Cipher::Aes128Ccm => seal::<Aes128Ccm>(key, nonce, aad, buf),
            Cipher::Aes128Gcm => seal::<Aes128Gcm>(key, nonce, aad, buf),
            Cipher::Aes256Ccm => seal::<Aes256Ccm>(key, nonce, aad, buf),
            Cipher::Aes256Gcm => seal::<Aes256Gcm>(key, nonce, aad, buf),
        }
    }

    fn open_in_place(
        &self,
        cipher: Cipher,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CryptoError> {
        match cipher {
            Cipher::Aes128Ccm => open::<Aes128Ccm>(key, nonce, aad, buf, tag),
            Cipher::Aes128Gcm => open::<Aes128Gcm>(key, nonce, aad, buf, tag),
            Cipher::Aes256Ccm => open::<Aes256Ccm>(key, nonce, aad, buf, tag),
            Cipher::Aes256Gcm => open::<Aes256Gcm>(key, nonce, aad, buf, tag),
        }
    }
}

/// SHA-512 from the `sha2` crate.
pub(super) struct RustCryptoHash;

impl HashProvider for RustCryptoHash {
    fn sha512(&self, parts: &[&[u8]]) -> [u8; 64] {
        let mut hasher = Sha512::new();
        for part in parts {
            hasher.update(part);
        }
        hasher.finalize().into()
    }
}

/// The operating system's random source, through `getrandom`.
struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError> {
        getrandom::getrandom(buf).map_err(|_| CryptoError::Random)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::hex;

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
        let mac = DEFAULT_PROVIDER.mac;
        for (len, want) in cases {
            let got = mac.aes_cmac(&key, &[&msg[..len]]).unwrap();
            assert_eq!(got.to_vec(), hex(want), "length {len}");
            // The same MAC when the message comes in pieces.
            let (a, b) = msg[..len].split_at(len / 3);
            assert_eq!(mac.aes_cmac(&key, &[a, &[], b]).unwrap(), got);
        }
        assert_eq!(
            mac.aes_cmac(&key[..15], &[]),
            Err(CryptoError::BadKeyLength)
        );
    }

    /// RFC 4231 section 4.2 (HMAC-SHA256 test case 1).
    #[test]
    fn hmac_sha256_rfc4231_case1() {
        let key = [0x0b; 20];
        let got = DEFAULT_PROVIDER.mac.hmac_sha256(&key, &[b"Hi ", b"There"]);
        assert_eq!(
            got.to_vec(),
            hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        );
    }

    /// FIPS 180-2 appendix C.1 (SHA-512 of "abc").
    #[test]
    fn sha512_fips180_abc() {
        let got = DEFAULT_PROVIDER.hash.sha512(&[b"a", b"bc"]);
        assert_eq!(
            got.to_vec(),
            hex(
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
                 2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
            )
        );
    }

    /// GMAC checked against an independent construction: AES-128-GCM of an empty plaintext
    /// with the data as AAD (NIST SP800-38D section 3 defines GMAC exactly so), for many
    /// lengths and splits so the block buffering is exercised.
    #[test]
    fn gmac_matches_gcm_with_empty_plaintext() {
        let key = hex("000102030405060708090a0b0c0d0e0f");
        let nonce: [u8; 12] = core::array::from_fn(|i| 0xa0 + i as u8);
        let data: Vec<u8> = (0..200u8).collect();
        let gcm = Aes128Gcm::new_from_slice(&key).unwrap();
        for len in [0usize, 1, 15, 16, 17, 48, 64, 65, 200] {
            let want = gcm
                .encrypt_in_place_detached(GenericArray::from_slice(&nonce), &data[..len], &mut [])
                .unwrap();
            let got = gmac(&key, &nonce, &[&data[..len]]).unwrap();
            assert_eq!(got[..], want[..], "length {len}");
            for cut in [0, 1, 7, len / 2, len] {
                let cut = cut.min(len);
                let (a, rest) = data[..len].split_at(cut);
                let (b, c) = rest.split_at(rest.len() / 2);
                assert_eq!(gmac(&key, &nonce, &[a, b, c]).unwrap(), got, "{len}/{cut}");
            }
        }
    }

    /// NIST GCM specification (McGrew and Viega, "The Galois/Counter Mode of Operation"),
    /// test case 1: zero key, zero IV, empty plaintext and AAD; the tag is the GMAC of nothing.
    #[test]
    fn gmac_gcm_spec_test_case_1() {
        let got = gmac(&[0; 16], &[0; 12], &[]).unwrap();
        assert_eq!(got.to_vec(), hex("58e2fccefa7e3061367f1d57a4e7455a"));
    }

    /// NIST GCM specification test cases 2 (AES-128) and 14 (AES-256): zero key and IV, one
    /// zero plaintext block, through the provider's seal and open.
    #[test]
    fn gcm_spec_test_cases_2_and_14() {
        let cases = [
            (
                Cipher::Aes128Gcm,
                "0388dace60b6a392f328c2b971b2fe78",
                "ab6e47d42cec13bdf53a67b21257bddf",
            ),
            (
                Cipher::Aes256Gcm,
                "cea7403d4d606b6e074ec5d3baf39d18",
                "d0d1c8a799996bf0265b98b5d48ab919",
            ),
        ];
        for (cipher, ct, tag) in cases {
            let key = vec![0u8; cipher.key_len()];
            let mut buf = [0u8; 16];
            let got = DEFAULT_PROVIDER
                .aead
                .seal_in_place(cipher, &key, &[0; 12], &[], &mut buf)
                .unwrap();
            assert_eq!(buf.to_vec(), hex(ct));
            assert_eq!(got.to_vec(), hex(tag));
            DEFAULT_PROVIDER
                .aead
                .open_in_place(cipher, &key, &[0; 12], &[], &mut buf, &got)
                .unwrap();
            assert_eq!(buf, [0u8; 16]);
        }
    }

    #[test]
    fn aead_rejects_wrong_key_and_nonce_lengths() {
        let aead = DEFAULT_PROVIDER.aead;
        let mut buf = [0u8; 4];
        assert_eq!(
            aead.seal_in_place(Cipher::Aes256Ccm, &[0; 16], &[0; 11], &[], &mut buf),
            Err(CryptoError::BadKeyLength)
        );
        assert_eq!(
            aead.seal_in_place(Cipher::Aes128Ccm, &[0; 16], &[0; 12], &[], &mut buf),
            Err(CryptoError::BadNonceLength)
        );
        assert_eq!(
            aead.open_in_place(
                Cipher::Aes128Gcm,
                &[0; 16],
                &[0; 11],
                &[],
                &mut buf,
                &[0; 16]
            ),
            Err(CryptoError::BadNonceLength)
        );
    }

    #[test]
    fn random_fills() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        DEFAULT_PROVIDER.random.fill(&mut a).unwrap();
        DEFAULT_PROVIDER.random.fill(&mut b).unwrap();
        assert_ne!(a, b);
    }
}
