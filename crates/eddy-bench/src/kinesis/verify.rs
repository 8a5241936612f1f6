//! What the writers put and the readers check.
//!
//! Every write-phase record carries `(key index, per-key counter, worker)`
//! in a 16-byte big-endian header, padded to the record size with bytes
//! derived from the header, so a reader can tell exactly which record it
//! holds and whether it arrived intact. Counters of one key only grow, so
//! a reader checks that each key's counters strictly increase along its
//! shard: per-key order kept, nothing duplicated. Counts and counter sums
//! per key, compared with what the writers had acknowledged, catch missing
//! and extra records.

use std::fmt;

pub const HEADER_LEN: usize = 16;
/// Keep at most this many problem descriptions (the counts stay exact).
const MAX_NOTES: usize = 5;

/// The partition key of key index `k`: `k0042`.
pub fn key_name(k: u32) -> String {
    format!("k{k:04}")
}

fn parse_key_name(name: &str) -> Option<u32> {
    name.strip_prefix('k')?.parse().ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub key: u32,
    pub counter: u64,
    pub worker: u32,
}

fn pad_byte(h: &Header, i: usize) -> u8 {
    (h.key as u8 ^ h.counter as u8 ^ 0x5a).wrapping_add(i as u8)
}

/// Writes the record for `h` into `out` (`out.len()` is the record size,
/// at least [`HEADER_LEN`]).
pub fn encode(h: &Header, out: &mut [u8]) {
    out[0..4].copy_from_slice(&h.key.to_be_bytes());
    out[4..12].copy_from_slice(&h.counter.to_be_bytes());
    out[12..16].copy_from_slice(&h.worker.to_be_bytes());
    for (i, b) in out[HEADER_LEN..].iter_mut().enumerate() {
        *b = pad_byte(h, i);
    }
}

/// The header of a record of `size` bytes, or why it is not one.
pub fn decode(data: &[u8], size: usize) -> Result<Header, &'static str> {
    if data.len() != size {
        return Err("wrong length");
    }
    let h = Header {
        key: u32::from_be_bytes(data[0..4].try_into().expect("4 bytes")),
        counter: u64::from_be_bytes(data[4..12].try_into().expect("8 bytes")),
        worker: u32::from_be_bytes(data[12..16].try_into().expect("4 bytes")),
    };
    if data[HEADER_LEN..].iter().enumerate().any(|(i, b)| *b != pad_byte(&h, i)) {
        return Err("corrupt padding");
    }
    Ok(h)
}

/// Per key, what the writers had acknowledged.
#[derive(Debug, Clone, Copy, Default)]
pub struct Written {
    pub acked: u64,
    /// Sum of the acknowledged counters (wrapping): with the count, catches
    /// a record swapped for another.
    pub sum: u64,
    /// Records of requests that failed without an answer: maybe stored.
    pub unsure: u64,
}

impl Written {
    pub fn ack(&mut self, counter: u64) {
        self.acked += 1;
        self.sum = self.sum.wrapping_add(counter);
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    count: u64,
    sum: u64,
    last: Option<u64>,
}

/// What one shard reader saw, per key.
pub struct ShardCheck {
    record_size: usize,
    keys: Vec<Seen>,
    pub records: u64,
    problems: Problems,
}

#[derive(Default)]
struct Problems {
    count: u64,
    notes: Vec<String>,
}

impl Problems {
    fn add(&mut self, note: impl FnOnce() -> String) {
        self.count += 1;
        if self.notes.len() < MAX_NOTES {
            self.notes.push(note());
        }
    }
}

impl ShardCheck {
    pub fn new(keys: usize, record_size: usize) -> Self {
        Self { record_size, keys: vec![Seen::default(); keys], records: 0, problems: Problems::default() }
    }

    /// Checks one record read from the shard (data already base64-decoded).
    pub fn record(&mut self, partition_key: &str, data: &[u8]) {
        self.records += 1;
        let h = match decode(data, self.record_size) {
            Ok(h) => h,
            Err(why) => return self.problems.add(|| format!("record {} of key {partition_key}: {why}", self.records)),
        };
        if parse_key_name(partition_key) != Some(h.key) {
            return self.problems.add(|| format!("key {partition_key} holds a record of key {}", key_name(h.key)));
        }
        let Some(seen) = self.keys.get_mut(h.key as usize) else {
            return self.problems.add(|| format!("unknown key {partition_key}"));
        };
        if let Some(last) = seen.last.filter(|&last| h.counter <= last) {
            let what = if h.counter == last { "duplicate" } else { "out of order" };
            self.problems.add(|| format!("key {partition_key}: counter {} after {last} ({what})", h.counter));
        }
        seen.count += 1;
        seen.sum = seen.sum.wrapping_add(h.counter);
        seen.last = Some(h.counter);
    }
}

/// Everything read against everything acknowledged.
#[derive(Debug, Default)]
pub struct Verdict {
    pub read: u64,
    pub acked: u64,
    pub unsure: u64,
    /// Keys with fewer records than acknowledged, and records missing.
    pub missing: u64,
    /// Records beyond what was acknowledged (or could have been stored).
    pub extra: u64,
    /// Keys whose counters differ from the acknowledged ones.
    pub mismatched_keys: u64,
    /// Keys found in more than one shard.
    pub split_keys: u64,
    /// Order, duplicate and payload problems.
    pub problems: u64,
    pub notes: Vec<String>,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.missing + self.extra + self.mismatched_keys + self.split_keys + self.problems == 0 && self.read > 0
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ok() {
            write!(f, "verified: {} records, per-key order ok", self.read)?;
            if self.unsure > 0 {
                write!(f, " ({} of {} unanswered writes stored)", self.read - self.acked, self.unsure)?;
            }
            return Ok(());
        }
        write!(f, "FAILED: read {} of {} acknowledged", self.read, self.acked)?;
        let counts = [
            (self.missing, "missing"),
            (self.extra, "extra"),
            (self.mismatched_keys, "keys with other counters than acknowledged"),
            (self.split_keys, "keys in several shards"),
            (self.problems, "order/duplicate/payload problems"),
        ];
        for (n, what) in counts.iter().filter(|(n, _)| *n > 0) {
            write!(f, ", {n} {what}")?;
        }
        if !self.notes.is_empty() {
            write!(f, "; first: {}", self.notes.join("; "))?;
        }
        Ok(())
    }
}

/// Compares the shards' findings with the writers' acknowledgements.
pub fn verify(written: &[Written], shards: &[ShardCheck]) -> Verdict {
    let mut v = Verdict::default();
    for s in shards {
        v.read += s.records;
        v.problems += s.problems.count;
        v.notes.extend(s.problems.notes.iter().cloned());
    }
    for (k, w) in written.iter().enumerate() {
        v.acked += w.acked;
        v.unsure += w.unsure;
        let mut seen = Seen::default();
        let mut shards_with_key = 0;
        for s in shards.iter().filter_map(|s| s.keys.get(k)).filter(|s| s.count > 0) {
            shards_with_key += 1;
            seen.count += s.count;
            seen.sum = seen.sum.wrapping_add(s.sum);
        }
        if shards_with_key > 1 {
            v.split_keys += 1;
            v.notes.push(format!("key {} in {shards_with_key} shards", key_name(k as u32)));
        }
        if seen.count < w.acked {
            v.missing += w.acked - seen.count;
        } else if seen.count > w.acked + w.unsure {
            v.extra += seen.count - w.acked - w.unsure;
        } else if w.unsure == 0 && seen.sum != w.sum {
            v.mismatched_keys += 1;
        }
    }
    v.notes.truncate(MAX_NOTES);
    v
}

/// Push-phase records: a tag and the send time, in nanoseconds since the
/// bench's shared clock started.
pub const PUSH_TAG: &[u8; 4] = b"PUSH";

pub fn encode_push(sent_nanos: u64) -> [u8; 12] {
    let mut out = [0u8; 12];
    out[..4].copy_from_slice(PUSH_TAG);
    out[4..].copy_from_slice(&sent_nanos.to_be_bytes());
    out
}

pub fn decode_push(data: &[u8]) -> Option<u64> {
    let rest = data.strip_prefix(PUSH_TAG)?;
    Some(u64::from_be_bytes(rest.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(key: u32, counter: u64, size: usize) -> Vec<u8> {
        let mut out = vec![0; size];
        encode(&Header { key, counter, worker: 3 }, &mut out);
        out
    }

    #[test]
    fn payload_round_trip() {
        let data = rec(42, 1 << 40, 100);
        assert_eq!(decode(&data, 100), Ok(Header { key: 42, counter: 1 << 40, worker: 3 }));
        assert_eq!(decode(&data, 101), Err("wrong length"));
        let mut bad = data.clone();
        bad[77] ^= 1;
        assert_eq!(decode(&bad, 100), Err("corrupt padding"));
        assert_eq!(decode(&rec(1, 2, 16), 16).unwrap().counter, 2);
        assert_eq!(decode_push(&encode_push(123_456)), Some(123_456));
        assert_eq!(decode_push(&data), None);
    }

    fn written(counters: &[&[u64]]) -> Vec<Written> {
        counters
            .iter()
            .map(|cs| {
                let mut w = Written::default();
                cs.iter().for_each(|&c| w.ack(c));
                w
            })
            .collect()
    }

    #[test]
    fn exact_and_ordered_passes() {
        let w = written(&[&[0, 1, 2], &[0, 5]]);
        let mut s0 = ShardCheck::new(2, 32);
        let mut s1 = ShardCheck::new(2, 32);
        for c in [0, 1, 2] {
            s0.record("k0000", &rec(0, c, 32));
        }
        for c in [0, 5] {
            s1.record("k0001", &rec(1, c, 32));
        }
        let v = verify(&w, &[s0, s1]);
        assert!(v.ok(), "{v}");
        assert_eq!(v.to_string(), "verified: 5 records, per-key order ok");
    }

    #[test]
    fn catches_disorder_duplicates_loss_and_splits() {
        let w = written(&[&[0, 1, 2], &[0, 1]]);
        let mut s0 = ShardCheck::new(2, 32);
        for c in [0, 2, 1] {
            s0.record("k0000", &rec(0, c, 32));
        }
        s0.record("k0001", &rec(1, 0, 32));
        let mut s1 = ShardCheck::new(2, 32);
        s1.record("k0001", &rec(1, 1, 32));
        let v = verify(&w, &[s0, s1]);
        assert!(!v.ok());
        assert_eq!((v.problems, v.split_keys, v.missing), (1, 1, 0));
        assert!(v.to_string().contains("counter 1 after 2 (out of order)"), "{v}");

        let mut dup = ShardCheck::new(2, 32);
        for c in [0, 1, 1] {
            dup.record("k0000", &rec(0, c, 32));
        }
        let v = verify(&written(&[&[0, 1, 2], &[]]), &[dup]);
        assert_eq!((v.problems, v.missing, v.mismatched_keys), (1, 0, 1));

        let mut short = ShardCheck::new(2, 32);
        short.record("k0000", &rec(0, 0, 32));
        short.record("k0001", &rec(0, 1, 32));
        let v = verify(&written(&[&[0, 1], &[]]), &[short]);
        assert_eq!((v.missing, v.problems), (1, 1));
        assert!(v.to_string().contains("key k0001 holds a record of key k0000"), "{v}");
    }

    #[test]
    fn unanswered_writes_may_or_may_not_be_stored() {
        let mut w = written(&[&[0, 1]]);
        w[0].unsure = 2;
        let mut s = ShardCheck::new(1, 16);
        for c in [0, 1, 2] {
            s.record("k0000", &rec(0, c, 16));
        }
        assert!(verify(&w, &[s]).ok());
        let mut s = ShardCheck::new(1, 16);
        for c in 0..5 {
            s.record("k0000", &rec(0, c, 16));
        }
        assert_eq!(verify(&w, &[s]).extra, 1);
    }
}
