//! What authorization (`--enforce-iam`) reads of Kinesis: a stream's or
//! consumer's resource policy and tags by ARN, and the stream a shard
//! iterator reads (GetRecords names no stream).

use std::collections::BTreeMap;

use super::consumer::parse_consumer_arn;
use super::{parse_stream_arn, stream_arn, Kinesis};

/// A stream's or consumer's policy text and tags, for evaluation.
#[derive(Debug, Clone, Default)]
pub struct ResourceFacts {
    pub policy: Option<String>,
    pub tags: BTreeMap<String, String>,
}

impl Kinesis {
    /// The resource policy and tags of the stream or consumer `arn` names;
    /// None when it does not exist (the operation then answers that).
    pub fn resource_facts(&self, arn: &str) -> Option<ResourceFacts> {
        if arn.contains("/consumer/") {
            let (stream, name) = parse_consumer_arn(arn).ok()?;
            let key = parse_stream_arn(stream.arn.as_deref()?).ok()?;
            let s = self.streams.read().get(&key).cloned()?;
            let meta = s.meta.read();
            let c = meta.consumers.iter().find(|c| c.name == name)?;
            return Some(ResourceFacts { policy: c.policy.clone(), tags: c.tags.clone() });
        }
        let key = parse_stream_arn(arn).ok()?;
        let s = self.streams.read().get(&key).cloned()?;
        let meta = s.meta.read();
        Some(ResourceFacts { policy: meta.policy.clone(), tags: meta.tags.clone() })
    }

    /// Every stream's and consumer's resource policy, by ARN (for `eddy doctor`).
    pub fn resource_policies(&self) -> Vec<(String, String)> {
        let streams: Vec<_> = self.by_uid.read().values().cloned().collect();
        let mut out = Vec::new();
        for s in streams {
            let meta = s.meta.read();
            let arn = stream_arn(&meta.region, &meta.account, &meta.name);
            for c in &meta.consumers {
                if let Some(p) = &c.policy {
                    out.push((format!("{arn}/consumer/{}:{}", c.name, c.created_ms / 1000), p.clone()));
                }
            }
            if let Some(p) = &meta.policy {
                out.push((arn, p.clone()));
            }
        }
        out
    }

    /// The ARN of the stream a shard iterator reads, if it is one eddy issued.
    pub fn iterator_stream_arn(&self, iterator: &str) -> Option<String> {
        let position = super::iterator::Position::decode(iterator).ok()?;
        let stream = self.by_uid.read().get(&position.uid).cloned()?;
        let meta = stream.meta.read();
        Some(stream_arn(&meta.region, &meta.account, &meta.name))
    }
}
