//! Open.LockSequenceArray (MS-SMB2 3.3.1.10, 3.3.5.14): the last lock sequence number seen in
//! each of 64 buckets, so that a LOCK request a client replays (after a lost connection, on
//! another channel) is answered with success instead of being applied twice.
//!
//! A request's LockSequence holds LockSequenceNumber in its low 4 bits and LockSequenceIndex in
//! the 28 bits above; only indices 1 to 64 name a bucket, others are not verified.

/// A bucket of a request: its index into the array (0 to 63) and the number to remember.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceSlot {
    index: usize,
    number: u8,
}

/// What verification says of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// A replay of the last request of its bucket: complete it with success, doing nothing.
    Replay,
    /// Process it; on success remember its number in this bucket (when it names one).
    Proceed(Option<SequenceSlot>),
}

/// The 64 buckets: each empty (Valid = FALSE) or holding a sequence number.
#[derive(Debug, Clone)]
pub struct LockSequences {
    buckets: [Option<u8>; 64],
}

impl Default for LockSequences {
    fn default() -> Self {
        Self {
            buckets: [None; 64],
        }
    }
}

impl LockSequences {
    /// The bucket a LockSequence names, if it is one of 1 to 64.
    pub fn slot(lock_sequence: u32) -> Option<SequenceSlot> {
        let index = (lock_sequence >> 4) as usize;
        (1..=64).contains(&index).then(|| SequenceSlot {
            index: index - 1,
            number: (lock_sequence & 0xF) as u8,
        })
    }

    /// Verifies a request's LockSequence: the same number as its bucket holds is a replay;
    /// any other empties the bucket (it is filled again when this request succeeds).
    pub fn verify(&mut self, lock_sequence: u32) -> Verified {
        let Some(slot) = Self::slot(lock_sequence) else {
            return Verified::Proceed(None);
        };
        let bucket = &mut self.buckets[slot.index];
        if *bucket == Some(slot.number) {
            return Verified::Replay;
        }
        *bucket = None;
        Verified::Proceed(Some(slot))
    }

    /// Remembers the number of a request that succeeded.
    pub fn record(&mut self, slot: SequenceSlot) {
        self.buckets[slot.index] = Some(slot.number);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sequence of smbtorture smb2.lock.replay_broken_windows on a resilient handle.
    #[test]
    fn replays_are_recognised_per_bucket() {
        let mut s = LockSequences::default();
        // Bucket 0 and 65 are not buckets: never a replay.
        assert_eq!(s.verify(0x001), Verified::Proceed(None));
        assert_eq!(s.verify(0x411), Verified::Proceed(None));
        let Verified::Proceed(Some(b1)) = s.verify(0x011) else {
            panic!("bucket 1")
        };
        s.record(b1);
        assert_eq!(s.verify(0x011), Verified::Replay);
        assert_eq!(s.verify(0x011), Verified::Replay);
        // Another number empties the bucket; a failed request leaves it empty.
        assert!(matches!(s.verify(0x012), Verified::Proceed(Some(_))));
        assert!(matches!(s.verify(0x011), Verified::Proceed(Some(_))));
        let Verified::Proceed(Some(b64)) = s.verify(0x402) else {
            panic!("bucket 64")
        };
        s.record(b64);
        assert_eq!(s.verify(0x402), Verified::Replay);
        assert!(matches!(s.verify(0x403), Verified::Proceed(Some(_))));
    }
}
