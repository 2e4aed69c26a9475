//! The default provider: for each primitive, the implementation measured fastest.
//!
//! Measured with `crypto-bench` (release, one core, CPU time, median of 7; x86-64 with
//! AES-NI, VAES and VPCLMULQDQ, a 2-core machine shared with other builds, so absolute
//! figures are low), MB/s at 256 B / 4 KiB / 1 MiB:
//! * AES-128-GCM seal: AWS-LC 670 / 5700 / 11500 per call (1620 / 8400 / 12100 prepared),
//!   RustCrypto 500 / 890 / 1040, ring 2150 / 7400 / 8500 prepared. AES-256-GCM and open
//!   alike. AWS-LC at every size.
//! * AES-CCM: RustCrypto, about 750 (128) and 620 (256) from 4 KiB; AWS-LC has no CCM.
//! * AES-GMAC: AWS-LC 580 / 6400 / 20700, RustCrypto 620 / 1070 / 1110, ring 1340 / 1680 /
//!   1630 prepared. AWS-LC costs about 400 ns per call (key schedule and GHASH table)
//!   against 140 ns for RustCrypto, so RustCrypto wins below [`GMAC_AWS_LC_FROM`] bytes. A
//!   message in several pieces (verification) is joined first for AWS-LC and still runs at
//!   5100 / 9600 from 4 KiB.
//! * AES-CMAC: AWS-LC 370 / 760 / 1030, RustCrypto 410 / 545 / 570; AWS-LC's 420 ns per call
//!   against 200 ns puts the crossover at [`CMAC_AWS_LC_FROM`] bytes.
//! * HMAC-SHA256: RustCrypto 440 / 1060 / 1150, AWS-LC 320 / 940 / 1140: RustCrypto.
//! * SHA-512 (the preauth hash, of small messages): AWS-LC 320 / 370 / 450, RustCrypto
//!   140 / 235 / 370: AWS-LC.

use super::CryptoError;
use super::aws::{AwsLcAead, AwsLcHash, AwsLcMac};
use super::provider::{CryptoProvider, MacProvider};
use super::rustcrypto::{OsRandom, RustCryptoMac};

/// Messages of at least this many bytes get AWS-LC's GMAC, shorter ones RustCrypto's.
const GMAC_AWS_LC_FROM: usize = 192;
/// Messages of at least this many bytes get AWS-LC's CMAC, shorter ones RustCrypto's.
const CMAC_AWS_LC_FROM: usize = 256;

/// The provider production code uses: the fastest measured implementation of each primitive.
pub static DEFAULT_PROVIDER: CryptoProvider = CryptoProvider {
    mac: &DefaultMac,
    aead: &AwsLcAead,
    hash: &AwsLcHash,
    random: &OsRandom,
};

/// Total length of a message given in pieces.
fn total_len(parts: &[&[u8]]) -> usize {
    parts.iter().map(|p| p.len()).sum()
}

/// The MACs, each from its fastest implementation for the message's size.
struct DefaultMac;

impl MacProvider for DefaultMac {
    fn hmac_sha256(&self, key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        RustCryptoMac.hmac_sha256(key, parts)
    }

    fn aes_cmac(&self, key: &[u8], parts: &[&[u8]]) -> Result<[u8; 16], CryptoError> {
        if total_len(parts) >= CMAC_AWS_LC_FROM {
            AwsLcMac.aes_cmac(key, parts)
        } else {
            RustCryptoMac.aes_cmac(key, parts)
        }
    }

    fn aes_gmac(
        &self,
        key: &[u8],
        nonce: &[u8; 12],
        parts: &[&[u8]],
    ) -> Result<[u8; 16], CryptoError> {
        if total_len(parts) >= GMAC_AWS_LC_FROM {
            AwsLcMac.aes_gmac(key, nonce, parts)
        } else {
            RustCryptoMac.aes_gmac(key, nonce, parts)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both sides of each size threshold give the MAC of the other implementation, whole
    /// and in pieces.
    #[test]
    fn size_dispatch_agrees_with_both_implementations() {
        let key = [0x5cu8; 16];
        let nonce = [9u8; 12];
        let data: Vec<u8> = (0..700u32).map(|i| (i * 13) as u8).collect();
        for len in [0, 1, 100, 191, 192, 193, 255, 256, 257, 700] {
            let msg = &data[..len];
            let (a, b) = msg.split_at(len / 3);
            let cmac = RustCryptoMac.aes_cmac(&key, &[msg]).unwrap();
            assert_eq!(AwsLcMac.aes_cmac(&key, &[msg]).unwrap(), cmac, "{len}");
            assert_eq!(DefaultMac.aes_cmac(&key, &[a, b]).unwrap(), cmac, "{len}");
            let gmac = RustCryptoMac.aes_gmac(&key, &nonce, &[msg]).unwrap();
            assert_eq!(AwsLcMac.aes_gmac(&key, &nonce, &[msg]).unwrap(), gmac);
            assert_eq!(DefaultMac.aes_gmac(&key, &nonce, &[a, b]).unwrap(), gmac);
            assert_eq!(
                DefaultMac.hmac_sha256(&key, &[a, b]),
                AwsLcMac.hmac_sha256(&key, &[msg])
            );
        }
        for short in [&key[..15], &[0u8; 32][..]] {
            for len in [0, 700] {
                let msg = &data[..len];
                assert_eq!(
                    DefaultMac.aes_cmac(short, &[msg]),
                    Err(CryptoError::BadKeyLength)
                );
                assert_eq!(
                    DefaultMac.aes_gmac(short, &nonce, &[msg]),
                    Err(CryptoError::BadKeyLength)
                );
            }
        }
    }
}
