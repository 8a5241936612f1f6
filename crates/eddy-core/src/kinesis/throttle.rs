//! AWS's per-shard limits for provisioned streams, applied only with
//! `--kinesis-enforce-limits`: 1 MiB/s or 1,000 records/s written, 2 MiB/s
//! or 5 GetRecords calls/s read, counted over the current second.

const WRITE_BYTES: u64 = 1024 * 1024;
const WRITE_RECORDS: u64 = 1000;
const READ_BYTES: u64 = 2 * 1024 * 1024;
const READ_CALLS: u64 = 5;

#[derive(Debug, Default)]
pub(crate) struct Throttle {
    second: u64,
    written_bytes: u64,
    written_records: u64,
    read_bytes: u64,
    read_calls: u64,
}

impl Throttle {
    fn roll(&mut self, now_ms: u64) {
        let second = now_ms / 1000;
        if second != self.second {
            *self = Throttle { second, ..Throttle::default() };
        }
    }

    /// Takes room for one record of `bytes`; false when the shard is full.
    pub fn admit_write(&mut self, now_ms: u64, bytes: u64) -> bool {
        self.roll(now_ms);
        if self.written_records + 1 > WRITE_RECORDS || self.written_bytes + bytes > WRITE_BYTES {
            return false;
        }
        self.written_records += 1;
        self.written_bytes += bytes;
        true
    }

    /// Takes one read call; false past 5 calls or 2 MiB in this second.
    pub fn admit_read(&mut self, now_ms: u64) -> bool {
        self.roll(now_ms);
        if self.read_calls + 1 > READ_CALLS || self.read_bytes >= READ_BYTES {
            return false;
        }
        self.read_calls += 1;
        true
    }

    pub fn record_read_bytes(&mut self, bytes: u64) {
        self.read_bytes += bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_reset_each_second() {
        let mut t = Throttle::default();
        assert!((0..1000).all(|_| t.admit_write(5_000, 10)));
        assert!(!t.admit_write(5_999, 10));
        assert!(t.admit_write(6_000, 10));
        assert!(!t.admit_write(6_001, 1024 * 1024));
        assert!((0..5).all(|_| t.admit_read(7_000)));
        assert!(!t.admit_read(7_500));
        assert!(t.admit_read(8_000));
    }
}
