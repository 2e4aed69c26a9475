//! The n-fold operation of RFC 3961 section 5.1.

/// Reads bit `i` (most significant bit of byte 0 first) of `data`.
fn bit(data: &[u8], i: usize) -> u8 {
    data.get(i / 8).map_or(0, |b| (b >> (7 - i % 8)) & 1)
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Stretches or shrinks `input` to `out_len` bytes (RFC 3961 5.1): copies of the input, each
/// rotated 13 bits further right, are concatenated up to the least common multiple of the two
/// lengths and added in blocks of `out_len` bytes with one's-complement addition.
///
/// Callers pass short constants (key usage labels, "kerberos"), so the work stays small.
pub fn nfold(input: &[u8], out_len: usize) -> Vec<u8> {
    let in_len = input.len();
    if in_len == 0 || out_len == 0 {
        return vec![0; out_len];
    }
    let lcm = in_len / gcd(in_len, out_len) * out_len;
    let in_bits = in_len * 8;
    let mut big = vec![0u8; lcm];
    for copy in 0..lcm / in_len {
        let rot = (13 * copy) % in_bits;
        for j in 0..in_bits {
            // Rotating right by `rot`: output bit j comes from input bit j - rot.
            let src = (j + in_bits - rot) % in_bits;
            if bit(input, src) == 1 {
                let pos = copy * in_bits + j;
                big[pos / 8] |= 0x80 >> (pos % 8);
            }
        }
    }
    let mut sum = vec![0u8; out_len];
    for chunk in big.chunks(out_len) {
        let mut carry = 0u16;
        for i in (0..out_len).rev() {
            let v = u16::from(sum[i]) + u16::from(chunk[i]) + carry;
            sum[i] = v as u8;
            carry = v >> 8;
        }
        // End-around carry of one's-complement addition.
        while carry != 0 {
            for i in (0..out_len).rev() {
                let v = u16::from(sum[i]) + carry;
                sum[i] = v as u8;
                carry = v >> 8;
                if carry == 0 {
                    break;
                }
            }
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::nfold;

    use crate::krb5::crypto::tests::hex;

    /// RFC 3961 appendix A.1.
    #[test]
    fn rfc3961_a1_vectors() {
        assert_eq!(nfold(b"012345", 8), hex("be072631276b1955"));
        assert_eq!(nfold(b"password", 7), hex("78a07b6caf85fa"));
        assert_eq!(
            nfold(b"Rough Consensus, and Running Code", 8),
            hex("bb6ed30870b7f0e0")
        );
        assert_eq!(
            nfold(b"password", 21),
            hex("59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e")
        );
        assert_eq!(
            nfold(b"MASSACHVSETTS INSTITVTE OF TECHNOLOGY", 24),
            hex("db3b0d8f0b061e603282b308a50841229ad798fab9540c1b")
        );
        assert_eq!(nfold(b"kerberos", 8), hex("6b65726265726f73"));
        assert_eq!(
            nfold(b"kerberos", 16),
            hex("6b65726265726f737b9b5b2b93132b93")
        );
        assert_eq!(
            nfold(b"kerberos", 32),
            hex("6b65726265726f737b9b5b2b93132b935c9bdcdad95c9899c4cae4dee6d6cae4")
        );
    }
}
