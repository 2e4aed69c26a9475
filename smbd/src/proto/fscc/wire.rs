//! Little-endian writers and bounds-checked readers shared by the codecs.

/// Appends a `u8`.
pub(super) fn put_u8(out: &mut Vec<u8>, v: u8) {
    out.push(v);
}

/// Appends a little-endian `u16`.
pub(super) fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a little-endian `u32`.
pub(super) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a little-endian `u64`.
pub(super) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends `n` zero bytes.
pub(super) fn put_zeros(out: &mut Vec<u8>, n: usize) {
    out.resize(out.len() + n, 0);
}

/// Overwrites a little-endian `u32` at `at`; does nothing if it would not fit.
pub(super) fn patch_u32(out: &mut [u8], at: usize, v: u32) {
    if let Some(dst) = out.get_mut(at..at.saturating_add(4)) {
        dst.copy_from_slice(&v.to_le_bytes());
    }
}

/// Rounds `n` up to a multiple of 8.
pub(super) fn align8(n: usize) -> usize {
    n.saturating_add(7) & !7
}

/// Reads a `u8` at `at`.
pub(super) fn get_u8(b: &[u8], at: usize) -> Option<u8> {
    b.get(at).copied()
}

/// Reads a little-endian `u32` at `at`.
pub(super) fn get_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Reads a little-endian `u64` at `at`.
pub(super) fn get_u64(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

/// Reads a little-endian `i64` at `at`.
pub(super) fn get_i64(b: &[u8], at: usize) -> Option<i64> {
    get_u64(b, at).map(|v| v as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_are_bounds_checked() {
        let b = [1u8, 2, 3];
        assert_eq!(get_u8(&b, 2), Some(3));
        assert_eq!(get_u8(&b, 3), None);
        assert_eq!(get_u32(&b, 0), None);
        assert_eq!(get_u64(&b, usize::MAX), None);
        assert_eq!(get_u32(&[1, 0, 0, 0], 0), Some(1));
    }

    #[test]
    fn align_and_patch() {
        assert_eq!(align8(0), 0);
        assert_eq!(align8(1), 8);
        assert_eq!(align8(8), 8);
        assert_eq!(align8(9), 16);
        let mut v = vec![0u8; 6];
        patch_u32(&mut v, 4, 0xAABBCCDD);
        assert_eq!(v, [0, 0, 0, 0, 0, 0]);
        patch_u32(&mut v, 2, 0xAABBCCDD);
        assert_eq!(v, [0, 0, 0xDD, 0xCC, 0xBB, 0xAA]);
    }
}
