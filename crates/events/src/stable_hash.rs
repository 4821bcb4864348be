//! FNV-1a, the one stable hash of the workspace: the same value on every platform, run and build
//! (std's `DefaultHasher` promises none of that). Used where a value derived from an id must be
//! reproducible: seeds per lead or packet in the generators, the sandbox's channel ids, the version of
//! a customised tier policy. Not for anything an attacker chooses to collide (it is not keyed).

const OFFSET_64: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME_64: u64 = 0x0000_0100_0000_01b3;
const OFFSET_32: u32 = 0x811c_9dc5;
const PRIME_32: u32 = 0x0100_0193;

/// 64-bit FNV-1a of `bytes`.
pub fn fnv1a_64(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(OFFSET_64, |h, b| (h ^ u64::from(*b)).wrapping_mul(PRIME_64))
}

/// 32-bit FNV-1a of `bytes`.
pub fn fnv1a_32(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(OFFSET_32, |h, b| (h ^ u32::from(*b)).wrapping_mul(PRIME_32))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values computed with the copies this function replaced (the sandbox's channel ids, the
    /// generators' seeds, the tier policy's version); the first two are FNV's published vectors.
    #[test]
    fn known_values() {
        let cases: &[(&str, u64, u32)] = &[
            ("", 0xcbf2_9ce4_8422_2325, 0x811c_9dc5),
            ("a", 0xaf63_dc4c_8601_ec8c, 0xe40c_292c),
            ("new-leads", 0xa362_013d_b870_de93, 0xd2b5_c433),
            ("lead-00000042", 0xf9f5_d3fe_45c5_e23c, 0x389d_f17c),
            ("pkt-7f3c", 0xc6cb_e77f_43bf_3d18, 0x04da_3e18),
            ("héllo", 0xa35f_f71f_9602_40e0, 0x4aa4_8540),
        ];
        for (input, want_64, want_32) in cases {
            assert_eq!(fnv1a_64(input.as_bytes()), *want_64, "{input:?}");
            assert_eq!(fnv1a_32(input.as_bytes()), *want_32, "{input:?}");
        }
    }
}
