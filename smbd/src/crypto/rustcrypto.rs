//! The RustCrypto provider: every primitive from the pure-Rust RustCrypto crates.
//!
//! [`DEFAULT_PROVIDER`](super::DEFAULT_PROVIDER) keeps these for AES-CCM (AWS-LC has none);
//! the whole provider stays available as [`RUSTCRYPTO_PROVIDER`] for comparison and tests.

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

use super::provider::{
    AeadProvider, CryptoProvider, HashProvider, MacProvider, PreparedAead, RandomSource,
};
use super::{Cipher, CryptoError};

/// AES-128-CCM with a 16-byte tag and an 11-byte nonce, as SMB uses it (2.2.41).
type Aes128Ccm = Ccm<Aes128, U16, U11>;
/// AES-256-CCM with a 16-byte tag and an 11-byte nonce.
type Aes256Ccm = Ccm<Aes256, U16, U11>;

/// Every primitive from the RustCrypto crates (pure Rust, with AES-NI and PCLMULQDQ).
pub static RUSTCRYPTO_PROVIDER: CryptoProvider = CryptoProvider {
    mac: &RustCryptoMac,
    aead: &RustCryptoAead,
    hash: &RustCryptoHash,
    random: &OsRandom,
};

/// HMAC-SHA256, AES-CMAC and AES-GMAC from the `hmac`, `cmac`, `aes` and `ghash` crates.
pub(super) struct RustCryptoMac;

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
pub(super) struct RustCryptoAead;

/// Seals `buf` in place with AEAD `A`, checking key and nonce lengths first.
fn seal<A>(key: &[u8], nonce: &[u8], aad: &[u8], buf: &mut [u8]) -> Result<[u8; 16], CryptoError>
where
    A: AeadInPlace + KeyInit + AeadCore<TagSize = U16>,
{
    let aead = A::new_from_slice(key).map_err(|_| CryptoError::BadKeyLength)?;
    seal_keyed(&aead, nonce, aad, buf)
}

/// Seals `buf` in place with the keyed AEAD `aead`, checking the nonce length first.
fn seal_keyed<A>(
    aead: &A,
    nonce: &[u8],
    aad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; 16], CryptoError>
where
    A: AeadInPlace + AeadCore<TagSize = U16>,
{
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
    open_keyed(&aead, nonce, aad, buf, tag)
}

/// Opens `buf` in place with the keyed AEAD `aead`, checking the nonce length first.
fn open_keyed<A>(
    aead: &A,
    nonce: &[u8],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; 16],
) -> Result<(), CryptoError>
where
    A: AeadInPlace + AeadCore<TagSize = U16>,
{
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

/// A RustCrypto AEAD with its key schedule done (see [`AeadProvider::prepare`]).
pub(super) enum RustCryptoPrepared {
    /// AES-128-CCM.
    Aes128Ccm(Box<Aes128Ccm>),
    /// AES-128-GCM.
    Aes128Gcm(Box<Aes128Gcm>),
    /// AES-256-CCM.
    Aes256Ccm(Box<Aes256Ccm>),
    /// AES-256-GCM.
    Aes256Gcm(Box<Aes256Gcm>),
}

impl RustCryptoPrepared {
    /// Runs the key schedule of `key` for `cipher`.
    pub(super) fn new(cipher: Cipher, key: &[u8]) -> Result<Self, CryptoError> {
        fn keyed<A: KeyInit>(key: &[u8]) -> Result<Box<A>, CryptoError> {
            A::new_from_slice(key)
                .map(Box::new)
                .map_err(|_| CryptoError::BadKeyLength)
        }
        Ok(match cipher {
            Cipher::Aes128Ccm => Self::Aes128Ccm(keyed(key)?),
            Cipher::Aes128Gcm => Self::Aes128Gcm(keyed(key)?),
            Cipher::Aes256Ccm => Self::Aes256Ccm(keyed(key)?),
            Cipher::Aes256Gcm => Self::Aes256Gcm(keyed(key)?),
        })
    }
}

impl PreparedAead for RustCryptoPrepared {
    fn cipher(&self) -> Cipher {
        match self {
            Self::Aes128Ccm(_) => Cipher::Aes128Ccm,
            Self::Aes128Gcm(_) => Cipher::Aes128Gcm,
            Self::Aes256Ccm(_) => Cipher::Aes256Ccm,
            Self::Aes256Gcm(_) => Cipher::Aes256Gcm,
        }
    }

    fn seal_in_place(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], CryptoError> {
        match self {
            Self::Aes128Ccm(a) => seal_keyed(a.as_ref(), nonce, aad, buf),
            Self::Aes128Gcm(a) => seal_keyed(a.as_ref(), nonce, aad, buf),
            Self::Aes256Ccm(a) => seal_keyed(a.as_ref(), nonce, aad, buf),
            Self::Aes256Gcm(a) => seal_keyed(a.as_ref(), nonce, aad, buf),
        }
    }

    fn open_in_place(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CryptoError> {
        match self {
            Self::Aes128Ccm(a) => open_keyed(a.as_ref(), nonce, aad, buf, tag),
            Self::Aes128Gcm(a) => open_keyed(a.as_ref(), nonce, aad, buf, tag),
            Self::Aes256Ccm(a) => open_keyed(a.as_ref(), nonce, aad, buf, tag),
            Self::Aes256Gcm(a) => open_keyed(a.as_ref(), nonce, aad, buf, tag),
        }
    }
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

    fn prepare(&self, cipher: Cipher, key: &[u8]) -> Result<Box<dyn PreparedAead>, CryptoError> {
        Ok(Box::new(RustCryptoPrepared::new(cipher, key)?))
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
pub(super) struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError> {
        getrandom::getrandom(buf).map_err(|_| CryptoError::Random)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::hex;

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
}
