//! The persisted key families of SQS. All live in the `sqs` partition, each
//! under a stable type byte; changing a byte or a layout means a migration.
//!
//! | type byte | key after the type byte        | value                          |
//! |-----------|--------------------------------|--------------------------------|
//! | `Q`       | queue id (u64 BE)              | [`QueueRecord`] as JSON        |
//! | `M`       | queue id, seq (u64 BE each)    | [`MessageRecord`] as JSON      |
//! | `S`       | queue id, seq (u64 BE each)    | [`MessageState`] binary, below |
//! | `D`       | queue id (u64 BE), dedup key   | [`DedupRecord`] as JSON        |
//! | `T`       | task handle (UTF-8)            | [`MoveTaskRecord`] as JSON     |

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::message::Attributes;
use crate::clock::Millis;

pub const PARTITION: &str = "sqs";
pub const QUEUES: u8 = b'Q';
pub const MESSAGES: u8 = b'M';
pub const MSG_STATE: u8 = b'S';
pub const DEDUP: u8 = b'D';
pub const TASKS: u8 = b'T';

/// A queue's identity and configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueueRecord {
    pub id: u64,
    pub account: String,
    pub region: String,
    pub name: String,
    /// Settable attributes, exactly as GetQueueAttributes returns them.
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub created_ms: Millis,
    pub modified_ms: Millis,
    /// PurgeQueue: this queue's messages with a smaller sequence number are
    /// purged, even if a crash left some of their records behind. Messages
    /// sent after the purge call have larger ones.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub purged_below: u64,
    /// DeleteQueue: when the queue was deleted. The record stays, as a
    /// tombstone, until its messages are gone from the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_ms: Option<Millis>,
    /// FIFO: whether deduplication is per message group, as set at creation.
    /// Recorded from AWS: changing DeduplicationScope later changes the
    /// attribute shown, not how messages are deduplicated. (Absent in
    /// records written before eddy kept it: the attribute decides.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_per_group: Option<bool>,
}

impl QueueRecord {
    /// The queue's behaviour, from its attributes and what creation fixed.
    pub fn config(&self) -> super::attributes::QueueConfig {
        let mut config = super::attributes::QueueConfig::from_attributes(&self.attributes);
        if let Some(per_group) = self.dedup_per_group {
            config.dedup_per_group = per_group;
        }
        config
    }
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// The immutable part of a message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageRecord {
    pub message_id: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Attributes::is_empty")]
    pub attributes: Attributes,
    #[serde(default, skip_serializing_if = "Attributes::is_empty")]
    pub system_attributes: Attributes,
    pub sender_id: String,
    pub sent_ms: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dlq_source_arn: Option<String>,
}

/// The mutable part of a message, rewritten on every receive or visibility
/// change. Layout (big-endian): `visible_at u64 | receive_count u32 |
/// first_receive u64 | expires_at u64 | group_len u16 | group bytes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageState {
    pub visible_at: Millis,
    pub receive_count: u32,
    pub first_receive: Millis,
    pub expires_at: Millis,
    pub group: Option<String>,
}

impl MessageState {
    pub fn encode(&self) -> Vec<u8> {
        let group = self.group.as_deref().unwrap_or("").as_bytes();
        let mut v = Vec::with_capacity(30 + group.len());
        v.extend_from_slice(&self.visible_at.to_be_bytes());
        v.extend_from_slice(&self.receive_count.to_be_bytes());
        v.extend_from_slice(&self.first_receive.to_be_bytes());
        v.extend_from_slice(&self.expires_at.to_be_bytes());
        v.extend_from_slice(&(group.len() as u16).to_be_bytes());
        v.extend_from_slice(group);
        v
    }

    pub fn decode(b: &[u8]) -> Option<MessageState> {
        if b.len() < 30 {
            return None;
        }
        let u64_at = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().unwrap());
        let glen = u16::from_be_bytes([b[28], b[29]]) as usize;
        let group = b.get(30..30 + glen)?;
        Some(MessageState {
            visible_at: u64_at(0),
            receive_count: u32::from_be_bytes(b[8..12].try_into().unwrap()),
            first_receive: u64_at(12),
            expires_at: u64_at(20),
            group: (glen > 0).then(|| String::from_utf8_lossy(group).into_owned()),
        })
    }
}

/// A FIFO deduplication entry: a send with the same key inside the window
/// returns this message id instead of enqueuing again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DedupRecord {
    pub expires_ms: Millis,
    pub message_id: String,
    pub sequence_number: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MoveTaskRecord {
    pub handle: String,
    pub source_arn: String,
    pub destination_arn: Option<String>,
    pub max_per_second: Option<u32>,
    pub status: String,
    pub moved: u64,
    pub to_move: u64,
    pub started_ms: Millis,
    pub failure_reason: Option<String>,
}

pub fn queue_key(id: u64) -> Vec<u8> {
    id.to_be_bytes().to_vec()
}

pub fn message_key(queue: u64, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(16);
    k.extend_from_slice(&queue.to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

pub fn split_message_key(k: &[u8]) -> Option<(u64, u64)> {
    if k.len() != 16 {
        return None;
    }
    Some((u64::from_be_bytes(k[..8].try_into().ok()?), u64::from_be_bytes(k[8..].try_into().ok()?)))
}

pub fn dedup_key(queue: u64, dedup: &str) -> Vec<u8> {
    let mut k = queue.to_be_bytes().to_vec();
    k.extend_from_slice(dedup.as_bytes());
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_state_round_trips() {
        for group in [None, Some("g-1".to_string()), Some("ü".repeat(40))] {
            let s = MessageState {
                visible_at: 1_700_000_000_123,
                receive_count: 7,
                first_receive: 42,
                expires_at: u64::MAX,
                group,
            };
            assert_eq!(MessageState::decode(&s.encode()), Some(s));
        }
        assert_eq!(MessageState::decode(&[1, 2, 3]), None);
    }

    #[test]
    fn message_keys_sort_by_queue_then_seq() {
        assert!(message_key(1, u64::MAX) < message_key(2, 0));
        assert!(message_key(1, 9) < message_key(1, 10));
        assert_eq!(split_message_key(&message_key(3, 4)), Some((3, 4)));
    }
}
