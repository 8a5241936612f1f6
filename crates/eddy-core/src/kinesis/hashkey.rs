//! The 128-bit hash key space: partition key → MD5 → unsigned 128-bit
//! integer, and the even division of the space among shards.

use md5::{Digest, Md5};

use super::error::{KinesisError, KinesisResult};

/// The shard that owns a record is the one whose range holds this value.
pub fn of_partition_key(partition_key: &str) -> u128 {
    u128::from_be_bytes(Md5::digest(partition_key.as_bytes()).into())
}

/// Parses a decimal hash key (`ExplicitHashKey`, `NewStartingHashKey`).
pub fn parse(text: &str, parameter: &str) -> KinesisResult<u128> {
    let invalid = || {
        KinesisError::InvalidArgument(format!(
            "Invalid {parameter}. {parameter} must be within the range [0, 2^128 - 1], got {text}."
        ))
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) || (text.len() > 1 && text.starts_with('0')) {
        return Err(invalid());
    }
    text.parse::<u128>().map_err(|_| invalid())
}

/// `count` contiguous ranges covering `[0, 2^128 - 1]`: range `i` starts at
/// `i * floor(2^128 / count)` and the last ends at `2^128 - 1`, as AWS
/// divides the space (2 shards split at 2^127).
pub fn even_ranges(count: u32) -> Vec<(u128, u128)> {
    if count <= 1 {
        return vec![(0, u128::MAX)];
    }
    let count = u128::from(count);
    // floor(2^128 / count) without overflowing: 2^128 = u128::MAX + 1.
    let step = u128::MAX / count + u128::from(u128::MAX % count == count - 1);
    (0..count).map(|i| (i * step, if i + 1 == count { u128::MAX } else { (i + 1) * step - 1 })).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_of_partition_key_is_big_endian() {
        // md5("a") = 0cc175b9c0f1b6a831c399e269772661
        assert_eq!(of_partition_key("a"), 0x0cc175b9c0f1b6a831c399e269772661);
    }

    #[test]
    fn even_ranges_cover_the_space() {
        for n in [1, 2, 3, 4, 7, 100] {
            let r = even_ranges(n);
            assert_eq!(r[0].0, 0);
            assert_eq!(r.last().unwrap().1, u128::MAX);
            for w in r.windows(2) {
                assert_eq!(w[0].1 + 1, w[1].0);
            }
        }
        assert_eq!(even_ranges(2)[1].0, 170141183460469231731687303715884105728);
        assert_eq!(even_ranges(3)[1].0, 113427455640312821154458202477256070485);
        // 2^128 mod 7 = 4: the step is floored once, not per boundary.
        assert_eq!(even_ranges(7)[2].0, 2 * 48611766702991209066196372490252601636);
    }

    #[test]
    fn parse_rejects_out_of_range() {
        assert_eq!(parse("0", "ExplicitHashKey").unwrap(), 0);
        assert_eq!(parse("340282366920938463463374607431768211455", "X").unwrap(), u128::MAX);
        assert!(parse("340282366920938463463374607431768211456", "X").is_err());
        assert!(parse("-1", "X").is_err());
        assert!(parse("01", "X").is_err());
    }
}
