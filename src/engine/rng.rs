//! Named random streams. Every concern (scheduler tie-breaks, container start latency,
//! pod names, faults, load noise) draws from its own `ChaCha8Rng`, derived from the run's
//! seed and the stream's name through a fixed in-tree hash (FNV-1a), so adding a draw in
//! one place never shifts another stream and results are identical on every machine.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The generator type used for every stream.
pub type SimRng = ChaCha8Rng;

/// FNV-1a 64-bit hash of a stream name: fixed, portable, never `DefaultHasher`.
pub const fn stream_id(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

/// Derives per-concern generators from one run seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RngStreams {
    seed: u64,
}

impl RngStreams {
    /// Streams for the run with this seed.
    pub fn new(seed: u64) -> Self {
        RngStreams { seed }
    }

    /// The run's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A fresh generator for the named stream. The same (seed, name) always yields the
    /// same sequence.
    pub fn stream(&self, name: &str) -> SimRng {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&self.seed.to_le_bytes());
        key[8..16].copy_from_slice(&stream_id(name).to_le_bytes());
        key[16..24].copy_from_slice(b"kubetwin");
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(stream_id(name));
        rng
    }
}

/// A uniform draw in `[0, 1)` with 53 bits of precision, the same on every platform.
pub fn unit_f64(rng: &mut SimRng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform integer in `[0, n)` (n > 0) by rejection, the same on every platform.
pub fn below(rng: &mut SimRng, n: u64) -> u64 {
    debug_assert!(n > 0);
    if n <= 1 {
        return 0;
    }
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let v = rng.next_u64();
        if v < zone {
            return v % n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_independent_and_reproducible() {
        let s = RngStreams::new(42);
        let a1: Vec<u64> = (0..4).map(|_| s.stream("a").next_u64()).collect();
        assert!(a1.windows(2).all(|w| w[0] == w[1]), "fresh streams restart");
        let mut a = s.stream("a");
        let mut b = s.stream("b");
        assert_ne!(a.next_u64(), b.next_u64());
        let mut a2 = RngStreams::new(42).stream("a");
        let mut a3 = s.stream("a");
        assert_eq!(a2.next_u64(), a3.next_u64());
        assert_ne!(
            RngStreams::new(1).stream("a").next_u64(),
            RngStreams::new(2).stream("a").next_u64()
        );
    }

    #[test]
    fn fnv_is_fixed() {
        assert_eq!(stream_id(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stream_id("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn below_is_in_range() {
        let mut r = RngStreams::new(7).stream("x");
        for n in 1..50 {
            assert!(below(&mut r, n) < n);
        }
        let u = unit_f64(&mut r);
        assert!((0.0..1.0).contains(&u));
    }
}
