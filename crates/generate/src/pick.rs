//! Seeded random choices: every draw of the generator goes through one ChaCha8 stream.

use rand::Rng as _;

/// The generator's random source (ChaCha8: fast, portable, stable across rand versions' seeding).
pub type Rng = rand_chacha::ChaCha8Rng;

/// A uniformly chosen element of a non-empty slice.
pub fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// An element chosen with probability proportional to its weight (the slice must be non-empty).
pub fn weighted<T: Copy>(rng: &mut Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    if total == 0 {
        return items[0].0;
    }
    let mut roll = rng.random_range(0..total);
    for (item, w) in items {
        if roll < *w {
            return *item;
        }
        roll -= w;
    }
    items[items.len() - 1].0
}

/// True with probability `p` (clamped to 0..=1).
pub fn chance(rng: &mut Rng, p: f64) -> bool {
    rng.random_bool(p.clamp(0.0, 1.0))
}

/// A confidence with two decimals in `lo..=hi` (hundredths), exact in JSON and back.
pub fn confidence(rng: &mut Rng, lo: u32, hi: u32) -> f64 {
    f64::from(rng.random_range(lo..=hi)) / 100.0
}

/// Milliseconds in `lo..hi` seconds.
pub fn secs(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    rng.random_range(lo * 1000..hi * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn weighted_follows_weights() {
        let mut rng = Rng::seed_from_u64(3);
        let mut counts = [0u32; 3];
        for _ in 0..10_000 {
            counts[weighted(&mut rng, &[(0usize, 10), (1, 30), (2, 60)])] += 1;
        }
        assert!((800..1200).contains(&counts[0]), "{counts:?}");
        assert!((2700..3300).contains(&counts[1]), "{counts:?}");
        assert!((5600..6400).contains(&counts[2]), "{counts:?}");
        assert_eq!(weighted(&mut rng, &[(7, 0)]), 7);
    }

    #[test]
    fn confidences_round_trip_through_json() {
        let mut rng = Rng::seed_from_u64(4);
        for _ in 0..1000 {
            let c = confidence(&mut rng, 0, 100);
            let text = serde_json::to_string(&c).expect("serialises");
            let back: f64 = serde_json::from_str(&text).expect("parses");
            assert_eq!(c.to_bits(), back.to_bits(), "{text}");
        }
    }
}
