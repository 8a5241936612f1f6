//! Enhanced fan-out consumers: registered per stream, named by an ARN
//! that carries their creation time, as AWS's do.

use std::collections::BTreeMap;

use super::error::{KinesisError, KinesisResult};
use super::records::ConsumerMeta;
use super::{stream_arn, Kinesis, StreamRef};
use crate::sqs::Caller;

/// AWS's limit of registered consumers per stream.
const MAX_CONSUMERS: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    pub name: String,
    pub arn: String,
    pub created_ms: u64,
    pub stream_arn: String,
}

fn consumer(stream_arn: &str, meta: &ConsumerMeta) -> Consumer {
    Consumer {
        name: meta.name.clone(),
        arn: format!("{stream_arn}/consumer/{}:{}", meta.name, meta.created_ms / 1000),
        created_ms: meta.created_ms,
        stream_arn: stream_arn.to_string(),
    }
}

/// `…:stream/{name}/consumer/{consumer}:{created}` → the stream and the consumer's name.
pub(crate) fn parse_consumer_arn(arn: &str) -> KinesisResult<(StreamRef, String)> {
    let invalid = || KinesisError::InvalidArgument(format!("Invalid ConsumerARN {arn}."));
    let (stream, rest) = arn.split_once("/consumer/").ok_or_else(invalid)?;
    let (name, created) = rest.rsplit_once(':').ok_or_else(invalid)?;
    if name.is_empty() || created.is_empty() || !created.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    super::parse_stream_arn(stream)?;
    Ok((StreamRef { name: None, arn: Some(stream.to_string()) }, name.to_string()))
}

/// How a request names a consumer: by ARN, or by stream ARN and name.
#[derive(Debug, Clone, Default)]
pub struct ConsumerRef {
    pub stream_arn: Option<String>,
    pub name: Option<String>,
    pub arn: Option<String>,
}

impl Kinesis {
    pub async fn register_consumer(
        &self,
        caller: &Caller,
        stream_arn: &str,
        name: &str,
        tags: BTreeMap<String, String>,
    ) -> KinesisResult<Consumer> {
        let stream = self.stream(caller, &StreamRef { name: None, arn: Some(stream_arn.to_string()) })?;
        let _changing = stream.changing.lock().await;
        let meta = {
            let mut m = stream.meta.read().clone();
            if m.consumers.iter().any(|c| c.name == name) {
                return Err(KinesisError::ResourceInUse(format!(
                    "Consumer {name} under stream {} already exists for account {}.",
                    m.name, m.account
                )));
            }
            if m.consumers.len() >= MAX_CONSUMERS {
                return Err(KinesisError::LimitExceeded(format!(
                    "Consumer limit of {MAX_CONSUMERS} reached for stream {} under account {}.",
                    m.name, m.account
                )));
            }
            m.consumers.push(ConsumerMeta { name: name.to_string(), created_ms: self.now_ms(), tags, policy: None });
            m
        };
        self.save(&meta).await?;
        *stream.meta.write() = meta.clone();
        let arn = stream_arn_of(&meta);
        let created = meta.consumers.last().expect("just added");
        tracing::info!(consumer = %name, stream = %meta.name, "kinesis: consumer registered");
        Ok(consumer(&arn, created))
    }

    pub async fn deregister_consumer(&self, caller: &Caller, which: &ConsumerRef) -> KinesisResult<()> {
        let (stream_ref, name) = resolve(which)?;
        let stream = self.stream(caller, &stream_ref)?;
        let _changing = stream.changing.lock().await;
        let mut meta = stream.meta.read().clone();
        let at = find(&meta.consumers, &name, which, &stream_arn_of(&meta))?;
        meta.consumers.remove(at);
        self.save(&meta).await?;
        // Swapped in once saved, as every metadata change (see reshard.rs).
        *stream.meta.write() = meta;
        Ok(())
    }

    pub fn describe_consumer(&self, caller: &Caller, which: &ConsumerRef) -> KinesisResult<Consumer> {
        let (stream_ref, name) = resolve(which)?;
        let stream = self.stream(caller, &stream_ref)?;
        let m = stream.meta.read();
        let arn = stream_arn_of(&m);
        let at = find(&m.consumers, &name, which, &arn)?;
        Ok(consumer(&arn, &m.consumers[at]))
    }

    /// Every consumer of a stream, in registration order.
    pub fn list_consumers(&self, caller: &Caller, stream_arn: &str) -> KinesisResult<Vec<Consumer>> {
        let stream = self.stream(caller, &StreamRef { name: None, arn: Some(stream_arn.to_string()) })?;
        let m = stream.meta.read();
        let arn = stream_arn_of(&m);
        Ok(m.consumers.iter().map(|c| consumer(&arn, c)).collect())
    }

    /// ListStreamConsumers: up to `max` consumers from `token` on, and the
    /// token of the next page. A token holds an offset into registration
    /// order; one past the end (the list shrank) is refused, never wrapped
    /// around.
    pub fn list_consumers_page(
        &self,
        caller: &Caller,
        stream_arn: &str,
        token: Option<&str>,
        max: usize,
    ) -> KinesisResult<(Vec<Consumer>, Option<String>)> {
        let mut all = self.list_consumers(caller, stream_arn)?;
        let listing = format!("consumers of {stream_arn}");
        let start = match token {
            Some(t) => self
                .open_token(&listing, t)?
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= all.len())
                .ok_or_else(|| super::manage::invalid_token(t))?,
            None => 0,
        };
        let end = start.saturating_add(max).min(all.len());
        let next = (end < all.len()).then(|| self.tokens.issue(&listing, &end.to_string(), self.now_ms()));
        all.truncate(end);
        Ok((all.split_off(start), next))
    }
}

fn stream_arn_of(m: &super::StreamMeta) -> String {
    stream_arn(&m.region, &m.account, &m.name)
}

fn resolve(which: &ConsumerRef) -> KinesisResult<(StreamRef, String)> {
    match (&which.arn, &which.stream_arn, &which.name) {
        (Some(arn), _, _) => parse_consumer_arn(arn),
        (None, Some(stream), Some(name)) => Ok((StreamRef { name: None, arn: Some(stream.clone()) }, name.clone())),
        _ => Err(KinesisError::InvalidArgument(
            "Either ConsumerARN or both ConsumerName and StreamARN must be provided.".into(),
        )),
    }
}

/// The consumer's position; with an ARN, its creation time must match too.
fn find(consumers: &[ConsumerMeta], name: &str, which: &ConsumerRef, stream_arn: &str) -> KinesisResult<usize> {
    consumers
        .iter()
        .position(|c| c.name == name && which.arn.as_ref().is_none_or(|a| *a == consumer(stream_arn, c).arn))
        .ok_or_else(|| {
            let shown = which.arn.clone().unwrap_or_else(|| format!("{stream_arn}/consumer/{name}"));
            KinesisError::ResourceNotFound(format!("Consumer {shown} not found."))
        })
}
