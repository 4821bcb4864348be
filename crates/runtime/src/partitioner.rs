//! Key → partition, as a producer's partitioner chooses it: librdkafka's default `consistent_random`
//! (CRC-32 of the key) or the Java client's `murmur2` (librdkafka `murmur2_random`). Every leadflow
//! producer is librdkafka with its default, so the default here is CRC-32; `[kafka] partitioner =
//! "murmur2_random"` (the producers' setting) switches both.
//!
//! Two users: the runtime's send gate, which picks each output's partition itself so that it can
//! hand records over per partition (`send_gate.rs`), and `leadflow trace`, which reads only the
//! partition a lead's key maps to. A broker test checks the choice against librdkafka's own
//! (`crates/runtime/tests/partitioner.rs`).

/// The partitioner of the producers that wrote the topics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partitioner {
    Crc32,
    Murmur2,
}

impl Partitioner {
    /// From librdkafka's `partitioner` setting; `None` for ones that ignore the key (`random`).
    pub fn from_setting(value: Option<&str>) -> Option<Partitioner> {
        match value.unwrap_or("consistent_random") {
            "consistent" | "consistent_random" => Some(Partitioner::Crc32),
            "murmur2" | "murmur2_random" => Some(Partitioner::Murmur2),
            _ => None,
        }
    }

    pub fn partition(self, key: &[u8], partitions: i32) -> i32 {
        if partitions <= 1 {
            return 0;
        }
        let n = partitions.unsigned_abs();
        let p = match self {
            Partitioner::Crc32 => crc32(key) % n,
            Partitioner::Murmur2 => (murmur2(key) & 0x7fff_ffff) % n,
        };
        // p < n <= i32::MAX
        i32::try_from(p).unwrap_or(0)
    }
}

/// CRC-32 (IEEE 802.3, zlib's, librdkafka's `rd_crc32`), by `crc32fast`: it runs once per output
/// record in the send gate, where a table-driven or SIMD CRC is ~10x the bitwise loop.
pub fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// Kafka's murmur2 (seed 0x9747b28c), as the Java client's default partitioner.
pub fn murmur2(data: &[u8]) -> u32 {
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = 0x9747_b28c ^ (len as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn murmur2_matches_kafkas_test_vectors() {
        // org.apache.kafka.common.utils.UtilsTest#testMurmur2
        assert_eq!(murmur2(b"21") as i32, -973_932_308);
        assert_eq!(murmur2(b"foobar") as i32, -790_332_482);
        assert_eq!(murmur2(b"a-little-bit-long-string") as i32, -985_981_536);
        assert_eq!(
            murmur2(b"a-little-bit-longer-string") as i32,
            -1_486_304_829
        );
        assert_eq!(
            murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") as i32,
            -58_897_971
        );
        assert_eq!(murmur2(b"abc") as i32, 479_470_107);
    }

    #[test]
    fn partitions_are_in_range_and_stable() {
        for p in [Partitioner::Crc32, Partitioner::Murmur2] {
            let a = p.partition(b"lead-0042", 6);
            assert!((0..6).contains(&a));
            assert_eq!(a, p.partition(b"lead-0042", 6));
            assert_eq!(p.partition(b"lead-0042", 1), 0);
        }
        assert_eq!(Partitioner::from_setting(None), Some(Partitioner::Crc32));
        assert_eq!(Partitioner::from_setting(Some("random")), None);
    }
}
