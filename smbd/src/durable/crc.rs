//! CRC-32C (Castagnoli; RFC 3720 appendix B.4), the checksum of every journal entry. It finds
//! all burst errors up to 32 bits and, unlike a sum, the zeros a torn write can leave.

/// The reflected Castagnoli polynomial.
const POLY: u32 = 0x82F6_3B78;

/// One entry per byte value: its remainder, for the byte-at-a-time loop.
const TABLE: [u32; 256] = table();

const fn table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 == 1 { (c >> 1) ^ POLY } else { c >> 1 };
            bit += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

/// A CRC-32C computed over several pieces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Crc32c(u32);

impl Crc32c {
    /// The checksum of no bytes yet.
    pub(crate) fn new() -> Self {
        Self(!0)
    }

    /// Adds `data` to the bytes checked.
    pub(crate) fn update(mut self, data: &[u8]) -> Self {
        for &b in data {
            self.0 = TABLE[usize::from(self.0 as u8 ^ b)] ^ (self.0 >> 8);
        }
        self
    }

    /// The checksum of everything added.
    pub(crate) fn finish(self) -> u32 {
        !self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crc(data: &[u8]) -> u32 {
        Crc32c::new().update(data).finish()
    }

    #[test]
    fn check_value_of_the_nine_digits_matches_the_catalogue() {
        assert_eq!(crc(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn rfc_3720_vectors_match() {
        assert_eq!(crc(&[0; 32]), 0x8A91_36AA);
        assert_eq!(crc(&[0xFF; 32]), 0x62A8_AB43);
        let ascending: Vec<u8> = (0..32).collect();
        assert_eq!(crc(&ascending), 0x46DD_794E);
        let descending: Vec<u8> = (0..32).rev().collect();
        assert_eq!(crc(&descending), 0x113F_DB5C);
    }

    #[test]
    fn pieces_give_the_checksum_of_the_whole() {
        let whole = crc(b"hello, journal");
        assert_eq!(
            Crc32c::new().update(b"hello").update(b", journal").finish(),
            whole
        );
    }
}
