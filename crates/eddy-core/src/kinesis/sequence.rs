//! Sequence numbers. A record's number is a hybrid logical clock reading
//! plus its shard: `ms << 64 | counter << 24 | shard`, so numbers rise
//! strictly within a shard (the counter breaks ties inside a millisecond
//! and carries on when the wall clock steps back), say when the record
//! arrived (AT_TIMESTAMP is a key lookup), and name the shard they belong
//! to (AWS refuses a number from another shard). On the wire the number is
//! `49` followed by 54 zero-padded digits: 56 digits like AWS's, so text
//! order is numeric order.

use super::error::{KinesisError, KinesisResult};

const SHARD_BITS: u32 = 24;
const COUNTER_BITS: u32 = 40;
const COUNTER_MAX: u64 = (1 << COUNTER_BITS) - 1;
const PREFIX: &str = "49";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SeqNo(pub u128);

impl SeqNo {
    pub fn new(ms: u64, counter: u64, shard: u32) -> SeqNo {
        SeqNo(
            (u128::from(ms) << 64)
                | (u128::from(counter.min(COUNTER_MAX)) << SHARD_BITS)
                | u128::from(shard & 0xFF_FFFF),
        )
    }

    /// The first number a reading at `ms` can give (any shard).
    pub fn at_ms(ms: u64) -> SeqNo {
        SeqNo(u128::from(ms) << 64)
    }

    /// The last number possible within `ms` on `shard`: a closed shard's end.
    pub fn end_of_ms(ms: u64, shard: u32) -> SeqNo {
        SeqNo::new(ms, COUNTER_MAX, shard)
    }

    pub fn ms(self) -> u64 {
        (self.0 >> 64) as u64
    }

    pub fn counter(self) -> u64 {
        ((self.0 >> SHARD_BITS) as u64) & COUNTER_MAX
    }

    pub fn shard(self) -> u32 {
        (self.0 & 0xFF_FFFF) as u32
    }

    pub fn next(self) -> SeqNo {
        SeqNo(self.0.saturating_add(1))
    }

    pub fn to_be_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }

    pub fn from_be_bytes(bytes: [u8; 16]) -> SeqNo {
        SeqNo(u128::from_be_bytes(bytes))
    }

    /// Parses a number a client sends back. Numbers eddy never issued (any
    /// other shape of digits) are refused as AWS refuses foreign numbers.
    pub fn parse(text: &str, parameter: &str) -> KinesisResult<SeqNo> {
        let invalid = || KinesisError::InvalidArgument(format!("{parameter} {text} is not a valid sequence number."));
        let digits = text.strip_prefix(PREFIX).filter(|d| d.len() == 54 && d.bytes().all(|b| b.is_ascii_digit()));
        let digits = digits.ok_or_else(invalid)?;
        digits.parse::<u128>().map(SeqNo).map_err(|_| invalid())
    }
}

impl std::fmt::Display for SeqNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{PREFIX}{:054}", self.0)
    }
}

/// A shard's clock: the last number it issued.
#[derive(Debug, Clone, Copy)]
pub struct ShardClock {
    pub shard: u32,
    pub last: SeqNo,
}

impl ShardClock {
    /// The next number at wall-clock `now_ms`: later than every number issued
    /// before, even when the clock steps back or a millisecond's counter is
    /// used up.
    pub fn tick(&mut self, now_ms: u64) -> SeqNo {
        let (ms, counter) = if now_ms > self.last.ms() {
            (now_ms, 0)
        } else if self.last.counter() < COUNTER_MAX {
            (self.last.ms(), self.last.counter() + 1)
        } else {
            (self.last.ms() + 1, 0)
        };
        self.last = SeqNo::new(ms, counter, self.shard);
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_is_56_digits_and_sorts_numerically() {
        let a = SeqNo::new(1_700_000_000_000, 0, 3);
        let b = SeqNo::new(1_700_000_000_000, 1, 0);
        let c = SeqNo::new(1_700_000_000_001, 0, 0);
        let texts: Vec<String> = [a, b, c].iter().map(|s| s.to_string()).collect();
        assert!(texts.iter().all(|t| t.len() == 56 && t.starts_with("49")));
        assert!(texts[0] < texts[1] && texts[1] < texts[2]);
        for (s, t) in [a, b, c].iter().zip(&texts) {
            assert_eq!(SeqNo::parse(t, "SequenceNumber").unwrap(), *s);
        }
        assert_eq!((a.ms(), a.counter(), a.shard()), (1_700_000_000_000, 0, 3));
    }

    #[test]
    fn foreign_numbers_are_refused() {
        for bad in ["", "0", "1234", "59000000000000000000000000000000000000000000000000000000", "49abc"] {
            assert!(SeqNo::parse(bad, "StartingSequenceNumber").is_err(), "{bad}");
        }
    }

    #[test]
    fn the_clock_never_goes_back() {
        let mut clock = ShardClock { shard: 7, last: SeqNo::new(1000, 0, 7) };
        let a = clock.tick(1000);
        let b = clock.tick(999);
        let c = clock.tick(1001);
        assert!(a < b && b < c);
        assert_eq!((a.ms(), a.counter()), (1000, 1));
        assert_eq!((c.ms(), c.counter(), c.shard()), (1001, 0, 7));
        let mut full = ShardClock { shard: 1, last: SeqNo::new(5, COUNTER_MAX, 1) };
        assert_eq!(full.tick(5).ms(), 6);
    }
}
