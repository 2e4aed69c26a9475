//! A reply on its way to the socket.

/// A frame for the connection's writer: `buf[start..]` is the SMB2 message or transform
/// (without the 4-byte Direct TCP header). The bytes before `start` are headroom the builder
/// reserved (for a transform header or the transport length) and are not sent.
#[derive(Debug, Default)]
pub struct Frame {
    /// The buffer the frame lives in.
    pub buf: Vec<u8>,
    /// Where the frame starts in `buf`.
    pub start: usize,
}

impl Frame {
    /// A frame starting at `start` of `buf` (clamped to its length).
    pub fn with_headroom(buf: Vec<u8>, start: usize) -> Self {
        let start = start.min(buf.len());
        Self { buf, start }
    }

    /// The bytes to send.
    pub fn payload(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Length of the bytes to send.
    pub fn len(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Vec<u8>> for Frame {
    fn from(buf: Vec<u8>) -> Self {
        Self { buf, start: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headroom_is_not_sent() {
        let f = Frame::with_headroom(vec![0, 0, 1, 2], 2);
        assert_eq!(f.payload(), &[1, 2]);
        assert_eq!(f.len(), 2);
        assert_eq!(Frame::with_headroom(vec![1], 5).len(), 0);
        assert_eq!(Frame::from(vec![7u8]).payload(), &[7]);
    }
}
