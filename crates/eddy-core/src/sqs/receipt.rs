//! Receipt handles: opaque to clients, they name one receive of one message.
//! Layout before base64url: `b'R' | queue id u64 | seq u64 | receive count u32`.
//! The receive count makes each receive's handle distinct, and lets a
//! ReceiveRequestAttemptId retry hand back exactly the same handles.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub queue: u64,
    pub seq: u64,
    pub receive_count: u32,
}

impl Receipt {
    pub fn encode(&self) -> String {
        let mut b = Vec::with_capacity(21);
        b.push(b'R');
        b.extend_from_slice(&self.queue.to_be_bytes());
        b.extend_from_slice(&self.seq.to_be_bytes());
        b.extend_from_slice(&self.receive_count.to_be_bytes());
        URL_SAFE_NO_PAD.encode(b)
    }

    pub fn decode(s: &str) -> Option<Receipt> {
        let b = URL_SAFE_NO_PAD.decode(s).ok()?;
        if b.len() != 21 || b[0] != b'R' {
            return None;
        }
        Some(Receipt {
            queue: u64::from_be_bytes(b[1..9].try_into().ok()?),
            seq: u64::from_be_bytes(b[9..17].try_into().ok()?),
            receive_count: u32::from_be_bytes(b[17..21].try_into().ok()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let r = Receipt { queue: 7, seq: 1 << 60, receive_count: 3 };
        assert_eq!(Receipt::decode(&r.encode()), Some(r));
        for bad in ["", "abc", "!!!!", &"A".repeat(28)] {
            assert_eq!(Receipt::decode(bad), None, "{bad}");
        }
    }
}
