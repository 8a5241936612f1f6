//! Shard iterators: opaque tokens naming a stream, a shard, a position and
//! when they were issued. They expire 5 minutes after issue, as AWS's do.

use base64::engine::general_purpose::STANDARD;
use std::sync::atomic::{AtomicU32, Ordering};

use base64::Engine;
use md5::{Digest, Md5};

use super::error::{KinesisError, KinesisResult};
use super::sequence::SeqNo;

pub const LIFETIME_MS: u64 = 5 * 60 * 1000;
/// Version 2 adds a serial, so two iterators for the same position issued in
/// the same millisecond still differ, as AWS's always do (a LATEST iterator
/// and the NextShardIterator of an empty read of it, for one). Version 1
/// iterators, from before an upgrade, are still read.
const VERSION: u8 = 2;
const LEN_V1: usize = 1 + 8 + 4 + 16 + 8 + 4;
const LEN: usize = LEN_V1 + 4;

/// Numbers each iterator this process issues.
static SERIAL: AtomicU32 = AtomicU32::new(0);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IteratorType {
    AtSequenceNumber,
    AfterSequenceNumber,
    TrimHorizon,
    Latest,
    AtTimestamp,
}

impl IteratorType {
    pub fn parse(text: &str) -> Option<IteratorType> {
        Some(match text {
            "AT_SEQUENCE_NUMBER" => IteratorType::AtSequenceNumber,
            "AFTER_SEQUENCE_NUMBER" => IteratorType::AfterSequenceNumber,
            "TRIM_HORIZON" => IteratorType::TrimHorizon,
            "LATEST" => IteratorType::Latest,
            "AT_TIMESTAMP" => IteratorType::AtTimestamp,
            _ => return None,
        })
    }
}

/// A decoded iterator: read `shard` of stream `uid` from `from` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub uid: u64,
    pub shard: u32,
    /// The first sequence number the next read may return.
    pub from: SeqNo,
    pub issued_ms: u64,
}

impl Position {
    pub fn encode(&self) -> String {
        let mut b = Vec::with_capacity(LEN);
        b.push(VERSION);
        b.extend_from_slice(&self.uid.to_be_bytes());
        b.extend_from_slice(&self.shard.to_be_bytes());
        b.extend_from_slice(&self.from.to_be_bytes());
        b.extend_from_slice(&self.issued_ms.to_be_bytes());
        b.extend_from_slice(&SERIAL.fetch_add(1, Ordering::Relaxed).to_be_bytes());
        let check = checksum(&b);
        b.extend_from_slice(&check);
        STANDARD.encode(b)
    }

    pub fn decode(token: &str) -> KinesisResult<Position> {
        let invalid = || KinesisError::InvalidArgument("Invalid ShardIterator.".into());
        // AWS reads an iterator wrapped in one pair of double quotes (a
        // JSON-encoded string pasted into a request) as the iterator itself.
        let token = token.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(token);
        let b = STANDARD.decode(token).map_err(|_| invalid())?;
        let len = match b.first() {
            Some(1) => LEN_V1,
            Some(&VERSION) => LEN,
            _ => return Err(invalid()),
        };
        if b.len() != len || checksum(&b[..len - 4]) != b[len - 4..] {
            return Err(invalid());
        }
        Ok(Position {
            uid: u64::from_be_bytes(b[1..9].try_into().expect("8 bytes")),
            shard: u32::from_be_bytes(b[9..13].try_into().expect("4 bytes")),
            from: SeqNo::from_be_bytes(b[13..29].try_into().expect("16 bytes")),
            issued_ms: u64::from_be_bytes(b[29..37].try_into().expect("8 bytes")),
        })
    }

    /// ExpiredIteratorException past 5 minutes, in AWS's words.
    pub fn check_fresh(&self, now_ms: u64) -> KinesisResult<()> {
        if now_ms.saturating_sub(self.issued_ms) > LIFETIME_MS {
            return Err(KinesisError::ExpiredIterator(format!(
                "Iterator expired. The iterator was created at time {} while right now it is {} which is further in \
                 the future than the tolerated delay of {LIFETIME_MS} milliseconds.",
                crate::clock::iso8601_ms(self.issued_ms),
                crate::clock::iso8601_ms(now_ms)
            )));
        }
        Ok(())
    }
}

fn checksum(bytes: &[u8]) -> [u8; 4] {
    let digest = Md5::digest(bytes);
    [digest[0], digest[1], digest[2], digest[3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let p = Position { uid: 3, shard: 9, from: SeqNo::new(1000, 2, 9), issued_ms: 55 };
        let t = p.encode();
        assert_eq!(Position::decode(&t).unwrap(), p);
        let mut bytes = STANDARD.decode(&t).unwrap();
        bytes[5] ^= 1;
        assert!(Position::decode(&STANDARD.encode(bytes)).is_err());
        assert!(Position::decode("garbage").is_err());
        assert_eq!(Position::decode(&format!("\"{t}\"")).unwrap(), p);
        assert!(Position::decode(&format!("\"{t}")).is_err());
        assert!(Position::decode(&format!("\"\"{t}\"\"")).is_err());
    }

    #[test]
    fn same_position_twice_gives_two_iterators() {
        let p = Position { uid: 1, shard: 0, from: SeqNo(7), issued_ms: 9 };
        let (a, b) = (p.encode(), p.encode());
        assert_ne!(a, b);
        assert_eq!(Position::decode(&a).unwrap(), Position::decode(&b).unwrap());
    }

    #[test]
    fn version_1_iterators_still_decode() {
        let p = Position { uid: 3, shard: 9, from: SeqNo::new(1000, 2, 9), issued_ms: 55 };
        let mut b = vec![1];
        b.extend_from_slice(&p.uid.to_be_bytes());
        b.extend_from_slice(&p.shard.to_be_bytes());
        b.extend_from_slice(&p.from.to_be_bytes());
        b.extend_from_slice(&p.issued_ms.to_be_bytes());
        let check = checksum(&b);
        b.extend_from_slice(&check);
        assert_eq!(Position::decode(&STANDARD.encode(&b)).unwrap(), p);
        assert!(p.check_fresh(55 + LIFETIME_MS).is_ok());
        assert!(matches!(p.check_fresh(56 + LIFETIME_MS), Err(KinesisError::ExpiredIterator(_))));
    }
}
