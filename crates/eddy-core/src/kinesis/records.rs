//! What Kinesis keeps in the store, and how.
//!
//! Each shard's log is its own partition, `kinesis-{stream uid}-{shard}`,
//! holding *chunks*: the records one request appended to the shard, in
//! order, keyed by the chunk's first sequence number. Keys only grow, so
//! reading from a position is one seek to the chunk that covers it and a
//! forward scan, and a shard past retention is dropped whole.
//!
//! The `kinesis` partition holds the rest, in families:
//! - `S` + stream uid → the stream's metadata as JSON (shards, consumers,
//!   tags, settings): rewritten whole on each management change.
//! - `X` + stream uid → a deleted stream whose shard logs are being dropped.
//! - `A` + account → account settings.

use serde::{Deserialize, Serialize};

use super::sequence::SeqNo;

pub const STREAMS: u8 = b'S';
pub const PURGES: u8 = b'X';
pub const ACCOUNTS: u8 = b'A';

/// A chunk's first byte: its format, and whether its records were written
/// while server-side encryption was on (they stay `KMS` after it is off).
const CHUNK_PLAIN: u8 = 1;
const CHUNK_ENCRYPTED: u8 = 2;

/// One record as stored and as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub seq: SeqNo,
    pub partition_key: String,
    pub data: Vec<u8>,
    /// Written while the stream was encrypted (EncryptionType KMS).
    pub encrypted: bool,
}

impl Record {
    /// Arrival time: the clock reading inside the sequence number.
    pub fn arrival_ms(&self) -> u64 {
        self.seq.ms()
    }
}

/// The partition holding one shard's log.
pub fn log_name(uid: u64, shard: u32) -> String {
    format!("{}{shard}", log_prefix(uid))
}

/// The prefix of every shard log of a stream.
pub fn log_prefix(uid: u64) -> String {
    format!("kinesis-{uid}-")
}

pub fn chunk_key(seq: SeqNo) -> [u8; 16] {
    seq.to_be_bytes()
}

/// Encodes records (already in sequence order) as one chunk:
/// `version | count u32 | last seq | (seq | key len u16 | key | data len u32 | data)*`.
pub fn encode_chunk(records: &[(SeqNo, &str, &[u8])], encrypted: bool) -> Vec<u8> {
    let size: usize = records.iter().map(|(_, k, d)| 22 + k.len() + d.len()).sum();
    let mut out = Vec::with_capacity(21 + size);
    out.push(if encrypted { CHUNK_ENCRYPTED } else { CHUNK_PLAIN });
    out.extend_from_slice(&(records.len() as u32).to_be_bytes());
    out.extend_from_slice(&records.last().map(|r| r.0).unwrap_or_default().to_be_bytes());
    for (seq, key, data) in records {
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&(key.len() as u16).to_be_bytes());
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(data);
    }
    out
}

/// The last sequence number in a chunk, without decoding its records.
pub fn chunk_last(chunk: &[u8]) -> Option<SeqNo> {
    Some(SeqNo::from_be_bytes(chunk.get(5..21)?.try_into().ok()?))
}

/// Decodes a chunk's records, calling `visit` for each until it returns false.
/// `None` when the chunk is corrupt.
pub fn decode_chunk(chunk: &[u8], mut visit: impl FnMut(Record) -> bool) -> Option<()> {
    let encrypted = match *chunk.first()? {
        CHUNK_PLAIN => false,
        CHUNK_ENCRYPTED => true,
        _ => return None,
    };
    let count = u32::from_be_bytes(chunk.get(1..5)?.try_into().ok()?);
    let mut at = 21;
    for _ in 0..count {
        let seq = SeqNo::from_be_bytes(chunk.get(at..at + 16)?.try_into().ok()?);
        let key_len = u16::from_be_bytes(chunk.get(at + 16..at + 18)?.try_into().ok()?) as usize;
        at += 18;
        let partition_key = String::from_utf8(chunk.get(at..at + key_len)?.to_vec()).ok()?;
        at += key_len;
        let data_len = u32::from_be_bytes(chunk.get(at..at + 4)?.try_into().ok()?) as usize;
        at += 4;
        let data = chunk.get(at..at + data_len)?.to_vec();
        at += data_len;
        if !visit(Record { seq, partition_key, data, encrypted }) {
            break;
        }
    }
    Some(())
}

/// A stream's persistent description.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamMeta {
    pub uid: u64,
    pub name: String,
    pub account: String,
    pub region: String,
    pub created_ms: u64,
    pub retention_hours: u32,
    pub on_demand: bool,
    /// `Some(key id)` while server-side encryption is on.
    pub encryption_key: Option<String>,
    pub shard_level_metrics: Vec<String>,
    pub tags: std::collections::BTreeMap<String, String>,
    pub max_record_size_kib: u32,
    pub policy: Option<String>,
    pub consumers: Vec<ConsumerMeta>,
    pub shards: Vec<ShardMeta>,
    /// The index the next new shard gets (`shardId-000000000007` → 7).
    pub next_shard: u32,
    #[serde(default)]
    pub warm_throughput_mibps: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardMeta {
    pub index: u32,
    pub parent: Option<u32>,
    pub adjacent_parent: Option<u32>,
    /// Hash keys as decimal text: JSON has no 128-bit integers.
    pub start_hash: String,
    pub end_hash: String,
    pub starting_seq: String,
    /// Set when the shard is closed by a split, merge or scaling.
    pub ending_seq: Option<String>,
    pub created_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsumerMeta {
    pub name: String,
    pub created_ms: u64,
    #[serde(default)]
    pub tags: std::collections::BTreeMap<String, String>,
    /// Its own resource policy, apart from the stream's.
    #[serde(default)]
    pub policy: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AccountSettings {
    pub commitment_enabled: bool,
    pub started_ms: Option<u64>,
    pub ended_ms: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_round_trip() {
        let a = SeqNo::new(10, 0, 1);
        let b = SeqNo::new(10, 1, 1);
        let chunk = encode_chunk(&[(a, "k1", b"hello"), (b, "k2", b"")], true);
        assert_eq!(chunk_last(&chunk), Some(b));
        let mut out = Vec::new();
        decode_chunk(&chunk, |r| {
            out.push(r);
            true
        })
        .unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!((out[0].seq, out[0].partition_key.as_str(), out[0].data.as_slice()), (a, "k1", &b"hello"[..]));
        assert_eq!(out[1].data, b"");
        assert!(out[0].encrypted);
        assert!(decode_chunk(&chunk[..chunk.len() - 1], |_| true).is_none());
    }
}
