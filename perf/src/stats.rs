//! Measurements: latency percentiles and one workload's outcome.

use std::time::Duration;

/// The measured result of one workload under one security mode against one server.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Server label ("ours", "samba", "fake").
    pub server: String,
    /// Workload name.
    pub workload: String,
    /// Security label ("plain", "sign-gmac", "aes128gcm", ...).
    pub security: String,
    /// Completed operations.
    pub ops: u64,
    /// Payload bytes moved.
    pub bytes: u64,
    /// Wall time of the measured phase, seconds.
    pub secs: f64,
    /// Median latency, microseconds.
    pub p50_us: u64,
    /// 99th percentile latency, microseconds.
    pub p99_us: u64,
    /// Failed operations (the first error is in `error`).
    pub errors: u64,
    /// The first error, if any.
    pub error: Option<String>,
    /// A workload-specific figure (e.g. server KiB per connection), with its unit.
    pub extra: Option<(f64, &'static str)>,
    /// Why the server could not run this at all (a protection or dialect it lacks, or a peer
    /// that did not start): shown as "n/a" with the reason, not counted as a failure.
    pub na: Option<String>,
}

impl Outcome {
    /// Throughput in MiB/s (0 when no payload moved).
    pub fn mib_s(&self) -> f64 {
        if self.secs <= 0.0 {
            0.0
        } else {
            self.bytes as f64 / 1_048_576.0 / self.secs
        }
    }

    /// Operations per second.
    pub fn ops_s(&self) -> f64 {
        if self.secs <= 0.0 {
            0.0
        } else {
            self.ops as f64 / self.secs
        }
    }

    /// The headline figure: MiB/s for data workloads, ops/s otherwise.
    pub fn headline(&self) -> (f64, &'static str) {
        if self.bytes > 0 {
            (self.mib_s(), "MiB/s")
        } else {
            (self.ops_s(), "ops/s")
        }
    }
}

/// Latency samples in microseconds.
#[derive(Debug, Default, Clone)]
pub struct Latencies(Vec<u32>);

impl Latencies {
    /// Records one sample.
    pub fn push(&mut self, d: Duration) {
        self.0
            .push(u32::try_from(d.as_micros()).unwrap_or(u32::MAX));
    }

    /// Merges another set.
    pub fn extend(&mut self, other: Self) {
        self.0.extend(other.0);
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// (p50, p99) in microseconds, by nearest rank.
    pub fn percentiles(&mut self) -> (u64, u64) {
        if self.0.is_empty() {
            return (0, 0);
        }
        self.0.sort_unstable();
        let at = |q: f64| {
            let rank = ((q * self.0.len() as f64).ceil() as usize).clamp(1, self.0.len());
            u64::from(self.0[rank - 1])
        };
        (at(0.50), at(0.99))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut l = Latencies::default();
        for us in (1..=100).rev() {
            l.push(Duration::from_micros(us));
        }
        assert_eq!(l.percentiles(), (50, 99));
        assert_eq!(Latencies::default().percentiles(), (0, 0));
    }

    #[test]
    fn headline_picks_the_unit() {
        let o = Outcome {
            ops: 10,
            bytes: 2 * 1_048_576,
            secs: 2.0,
            ..Outcome::default()
        };
        assert_eq!(o.headline(), (1.0, "MiB/s"));
        let o = Outcome {
            ops: 10,
            secs: 2.0,
            ..Outcome::default()
        };
        assert_eq!(o.headline(), (5.0, "ops/s"));
    }
}
