//! Stream management: create, delete, describe, list, and each setting
//! (retention, encryption, monitoring, mode, record size, tags, policies).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::error::{self, KinesisError, KinesisResult};
use super::hashkey;
use super::records::{self, AccountSettings, ShardMeta, StreamMeta};
use super::sequence::SeqNo;
use super::shard::ShardLog;
use super::{
    consumer, off_workers, parse_shard_id, parse_stream_arn, shard_id, stream_arn, Kinesis, StreamKey, StreamRef,
};
use crate::page::TokenError;
use crate::sqs::Caller;
use crate::tags::MAX_TAGS;

/// AWS's default shard quota per account and region.
pub const SHARD_LIMIT: usize = 500;
pub const ON_DEMAND_STREAM_LIMIT: usize = 50;
/// Shards an on-demand stream starts with.
const ON_DEMAND_SHARDS: u32 = 4;
const TOKEN_LIFETIME_MS: u64 = 300_000;
pub const ALL_METRICS: [&str; 7] = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
];

#[derive(Debug, Clone, Default)]
pub struct CreateStream {
    pub name: String,
    pub shard_count: Option<u32>,
    /// `None`: no StreamModeDetails given.
    pub on_demand: Option<bool>,
    pub tags: BTreeMap<String, String>,
    pub max_record_size_kib: Option<u32>,
    pub warm_throughput_mibps: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct StreamSummary {
    pub meta: StreamMeta,
    pub open_shards: usize,
}

#[derive(Debug, Clone)]
pub struct StreamPage {
    pub streams: Vec<StreamMeta>,
    pub has_more: bool,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Limits {
    pub shard_limit: usize,
    pub open_shards: usize,
    pub on_demand_streams: usize,
    pub on_demand_stream_limit: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardFilter {
    AfterShardId(String),
    AtTrimHorizon,
    FromTrimHorizon,
    AtLatest,
    AtTimestamp(u64),
    FromTimestamp(u64),
}

impl Kinesis {
    pub async fn create_stream(&self, caller: &Caller, req: CreateStream) -> KinesisResult<()> {
        let on_demand = req.on_demand.unwrap_or(req.shard_count.is_none());
        let shards = match (on_demand, req.shard_count) {
            (true, _) => ON_DEMAND_SHARDS,
            (false, Some(n)) => n,
            (false, None) => {
                return Err(KinesisError::InvalidArgument(
                    "ShardCount must be specified for PROVISIONED streams.".into(),
                ))
            }
        };
        let key = StreamKey { account: caller.account.clone(), region: caller.region.clone(), name: req.name.clone() };
        let in_use = || {
            KinesisError::ResourceInUse(format!("Stream {} under account {} already exists.", key.name, key.account))
        };
        if self.streams.read().contains_key(&key) {
            return Err(in_use());
        }
        let (open, _) = self.account_counts(caller);
        if open + shards as usize > SHARD_LIMIT {
            return Err(KinesisError::LimitExceeded(format!(
                "This request would exceed the shard limit for the account {} in {}. Current limit of shards is \
                 {SHARD_LIMIT}. Number of additional shards that would have resulted in exceeding the limit is {}.",
                key.account,
                key.region,
                open + shards as usize - SHARD_LIMIT
            )));
        }
        let now = self.now_ms();
        let uid = self.next_uid.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let shard_metas = hashkey::even_ranges(shards)
            .into_iter()
            .enumerate()
            .map(|(i, (start, end))| new_shard(i as u32, (start, end), now, None, None))
            .collect();
        let meta = StreamMeta {
            uid,
            name: req.name.clone(),
            account: key.account.clone(),
            region: key.region.clone(),
            created_ms: now,
            retention_hours: 24,
            on_demand,
            encryption_key: None,
            shard_level_metrics: Vec::new(),
            tags: req.tags,
            max_record_size_kib: req.max_record_size_kib.unwrap_or(1024),
            policy: None,
            consumers: Vec::new(),
            shards: shard_metas,
            next_shard: shards,
            warm_throughput_mibps: req.warm_throughput_mibps,
        };
        // The name is reserved until the stream is saved: two creates of
        // one name may race, and no one sees the stream before it is saved.
        let _reserved = Reservation::take(self, &key).ok_or_else(in_use)?;
        let built = {
            let (store, meta) = (self.store.clone(), meta.clone());
            off_workers(move || Kinesis::build_stream(&store, meta)).await
        };
        let saved = match built {
            Ok(stream) => self.save(&meta).await.map(|()| stream),
            Err(e) => Err(e),
        };
        let stream = match saved {
            Ok(stream) => stream,
            Err(e) => {
                self.drop_unsaved_logs(uid).await;
                return Err(e);
            }
        };
        self.register(stream);
        tracing::info!(stream = %meta.name, shards, on_demand, "kinesis: stream created");
        Ok(())
    }

    /// Drops the shard logs made for a stream whose creation failed (best
    /// effort: they are empty, and no stream will ever use their uid).
    async fn drop_unsaved_logs(&self, uid: u64) {
        let store = self.store.clone();
        let dropped = off_workers(move || {
            for name in store.partition_names(&records::log_prefix(uid)) {
                store.drop_partition(&name)?;
            }
            Ok(())
        })
        .await;
        if let Err(e) = dropped {
            tracing::warn!(uid, error = %e, "kinesis: dropping the logs of a stream that was not created failed");
        }
    }

    pub async fn delete_stream(
        &self,
        caller: &Caller,
        which: &StreamRef,
        enforce_consumer_deletion: bool,
    ) -> KinesisResult<()> {
        let stream = self.stream(caller, which)?;
        let _changing = stream.changing.lock().await;
        let (name, account, consumers) = {
            let m = stream.meta.read();
            (m.name.clone(), m.account.clone(), m.consumers.len())
        };
        if consumers > 0 && !enforce_consumer_deletion {
            return Err(KinesisError::ResourceInUse(format!(
                "Stream {name} under account {account} has registered consumers. Use EnforceConsumerDeletion to \
                 delete the stream and its consumers."
            )));
        }
        let key = stream.key();
        if !self.streams.read().get(&key).is_some_and(|s| Arc::ptr_eq(s, &stream)) {
            return Err(error::stream_not_found(&name, &account));
        }
        // Saved first: if the save fails, the stream is still there, in
        // memory as in the store. Meanwhile a create of its name is refused
        // (it exists) and a second delete waits on `changing`.
        let mut batch = self.store.batch();
        batch.delete(&self.streams_family, stream.uid.to_be_bytes());
        batch.put(&self.purges, stream.uid.to_be_bytes(), Vec::new());
        self.commit(batch).await?;
        self.streams.write().remove(&key);
        self.by_uid.write().remove(&stream.uid);
        tracing::info!(stream = %name, "kinesis: stream deleted; its records are purged in the background");
        Ok(())
    }

    pub fn describe(&self, caller: &Caller, which: &StreamRef) -> KinesisResult<StreamSummary> {
        let stream = self.stream(caller, which)?;
        let meta = stream.meta.read().clone();
        let open_shards = meta.shards.iter().filter(|s| s.is_open()).count();
        Ok(StreamSummary { meta, open_shards })
    }

    /// DescribeStream's shards, in index order: up to `limit` after
    /// `exclusive_start` ("if you specify a value greater than 100, at most
    /// 100 shards are returned"), and whether more follow.
    pub fn describe_shards(
        &self,
        caller: &Caller,
        which: &StreamRef,
        exclusive_start: Option<&str>,
        limit: Option<usize>,
    ) -> KinesisResult<(StreamSummary, Vec<ShardMeta>, bool)> {
        let summary = self.describe(caller, which)?;
        let limit = limit.unwrap_or(100).min(100);
        let mut after: Vec<ShardMeta> = summary
            .meta
            .shards
            .iter()
            .filter(|sh| exclusive_start.is_none_or(|a| shard_id(sh.index).as_str() > a))
            .cloned()
            .collect();
        let more = after.len() > limit;
        after.truncate(limit);
        Ok((summary, after, more))
    }

    /// ListStreams: names in order, 100 at most per page.
    pub fn list_streams(
        &self,
        caller: &Caller,
        limit: Option<usize>,
        exclusive_start: Option<&str>,
        next_token: Option<&str>,
    ) -> KinesisResult<StreamPage> {
        let after = match next_token {
            // The token carries the last name listed; an empty one would restart the listing.
            Some(t) => {
                let last = self.open_token(&streams_listing(caller), t)?;
                if last.is_empty() {
                    return Err(invalid_token(t));
                }
                Some(last)
            }
            None => exclusive_start.map(String::from),
        };
        let limit = limit.unwrap_or(100).min(100);
        let mut all: Vec<StreamMeta> = self
            .streams
            .read()
            .iter()
            .filter(|(k, _)| k.account == caller.account && k.region == caller.region)
            .filter(|(k, _)| after.as_ref().is_none_or(|a| k.name > *a))
            .map(|(_, s)| s.meta.read().clone())
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        let has_more = all.len() > limit;
        all.truncate(limit);
        let next_token = has_more.then(|| {
            let last = all.last().map(|m| m.name.as_str()).unwrap_or("");
            self.tokens.issue(&streams_listing(caller), last, self.now_ms())
        });
        Ok(StreamPage { streams: all, has_more, next_token })
    }

    /// ListShards: the shards a filter selects, in id order, paginated.
    #[allow(clippy::too_many_arguments)]
    pub fn list_shards(
        &self,
        caller: &Caller,
        which: &StreamRef,
        next_token: Option<&str>,
        exclusive_start: Option<&str>,
        max_results: Option<usize>,
        filter: Option<ShardFilter>,
    ) -> KinesisResult<(Vec<ShardMeta>, Option<String>)> {
        if next_token.is_some() && exclusive_start.is_some() {
            return Err(KinesisError::InvalidArgument(
                "NextToken and ExclusiveStartShardId cannot be provided together.".into(),
            ));
        }
        let (which, after) = match next_token {
            Some(token) => {
                if which.name.is_some() || which.arn.is_some() {
                    return Err(KinesisError::InvalidArgument(
                        "NextToken and StreamName cannot be provided together.".into(),
                    ));
                }
                let rest = self.open_token(SHARDS_LISTING, token)?;
                let (arn, last) = rest.rsplit_once('|').ok_or_else(|| invalid_token(token))?;
                // Garbage after the bar would otherwise restart the listing.
                let last = last.parse::<u32>().map_err(|_| invalid_token(token))?;
                (StreamRef { name: None, arn: Some(arn.to_string()) }, Some(last))
            }
            None => (which.clone(), exclusive_start.and_then(parse_shard_id)),
        };
        let stream = self.stream(caller, &which)?;
        let meta = stream.meta.read();
        let now = self.now_ms();
        let horizon = now.saturating_sub(u64::from(meta.retention_hours) * 3_600_000).max(meta.created_ms);
        let selected: Vec<&ShardMeta> = meta
            .shards
            .iter()
            .filter(|s| after.is_none_or(|a| s.index > a))
            .filter(|s| match &filter {
                None | Some(ShardFilter::FromTrimHorizon) => true,
                Some(ShardFilter::AfterShardId(id)) => parse_shard_id(id).is_none_or(|a| s.index > a),
                Some(ShardFilter::AtLatest) => s.is_open(),
                Some(ShardFilter::AtTrimHorizon) => open_at(s, horizon),
                Some(ShardFilter::AtTimestamp(ts)) => open_at(s, (*ts).max(meta.created_ms)),
                Some(ShardFilter::FromTimestamp(ts)) => closed_ms(s).is_none_or(|c| c >= *ts),
            })
            .collect();
        let max = max_results.unwrap_or(1000).min(10_000);
        let has_more = selected.len() > max;
        let page: Vec<ShardMeta> = selected.into_iter().take(max).cloned().collect();
        let token = has_more.then(|| {
            let last = page.last().map(|s| s.index).unwrap_or(0);
            let arn = stream_arn(&meta.region, &meta.account, &meta.name);
            self.tokens.issue(SHARDS_LISTING, &format!("{arn}|{last}"), now)
        });
        Ok((page, token))
    }

    pub async fn change_retention(
        &self,
        caller: &Caller,
        which: &StreamRef,
        hours: i64,
        increase: bool,
    ) -> KinesisResult<()> {
        if hours < 24 {
            return Err(KinesisError::InvalidArgument(format!(
                "Minimum allowed retention period is 24 hours. Requested retention period ({hours} hours) is too short."
            )));
        }
        if hours > 8760 {
            return Err(KinesisError::InvalidArgument(format!(
                "Maximum allowed retention period is 8760 hours. Requested retention period ({hours} hours) is too long."
            )));
        }
        self.update(caller, which, |m| {
            let current = i64::from(m.retention_hours);
            if increase && hours < current {
                return Err(KinesisError::InvalidArgument(format!(
                    "Requested retention period ({hours} hours) for stream {} can not be shorter than existing \
                     retention period ({current} hours). Use DecreaseRetentionPeriod API.",
                    m.name
                )));
            }
            if !increase && hours > current {
                return Err(KinesisError::InvalidArgument(format!(
                    "Requested retention period ({hours} hours) for stream {} can not be longer than existing \
                     retention period ({current} hours). Use IncreaseRetentionPeriod API.",
                    m.name
                )));
            }
            m.retention_hours = hours as u32;
            Ok(())
        })
        .await
        .map(|_| ())
    }

    pub async fn set_encryption(
        &self,
        caller: &Caller,
        which: &StreamRef,
        key_id: Option<String>,
    ) -> KinesisResult<()> {
        self.update(caller, which, |m| {
            m.encryption_key = key_id;
            Ok(())
        })
        .await
        .map(|_| ())
    }

    /// Enable/DisableEnhancedMonitoring: the new metadata and the metrics before.
    pub async fn set_monitoring(
        &self,
        caller: &Caller,
        which: &StreamRef,
        metrics: &[String],
        enable: bool,
    ) -> KinesisResult<(StreamMeta, Vec<String>)> {
        let expanded: Vec<String> = if metrics.iter().any(|m| m == "ALL") {
            ALL_METRICS.iter().map(|m| m.to_string()).collect()
        } else {
            metrics.to_vec()
        };
        let mut before = Vec::new();
        let meta = self
            .update(caller, which, |m| {
                before = m.shard_level_metrics.clone();
                let set = &mut m.shard_level_metrics;
                if enable {
                    for e in &expanded {
                        if !set.contains(e) {
                            set.push(e.clone());
                        }
                    }
                } else {
                    set.retain(|s| !expanded.contains(s));
                }
                set.sort_by_key(|s| ALL_METRICS.iter().position(|a| a == s));
                Ok(())
            })
            .await?;
        Ok((meta, before))
    }

    pub async fn set_mode(&self, caller: &Caller, which: &StreamRef, on_demand: bool) -> KinesisResult<()> {
        self.update(caller, which, |m| {
            m.on_demand = on_demand;
            Ok(())
        })
        .await
        .map(|_| ())
    }

    pub async fn set_max_record_size(&self, caller: &Caller, which: &StreamRef, kib: u32) -> KinesisResult<()> {
        self.update(caller, which, |m| {
            m.max_record_size_kib = kib;
            Ok(())
        })
        .await
        .map(|_| ())
    }

    pub async fn add_tags(
        &self,
        caller: &Caller,
        which: &StreamRef,
        tags: BTreeMap<String, String>,
    ) -> KinesisResult<()> {
        self.update(caller, which, |m| {
            let mut merged = m.tags.clone();
            merged.extend(tags);
            if merged.len() > MAX_TAGS {
                return Err(KinesisError::InvalidArgument(format!(
                    "Failed to add tags to stream {} under account {} because a given stream cannot have more than \
                     {MAX_TAGS} tags.",
                    m.name, m.account
                )));
            }
            m.tags = merged;
            Ok(())
        })
        .await
        .map(|_| ())
    }

    pub async fn remove_tags(&self, caller: &Caller, which: &StreamRef, keys: &[String]) -> KinesisResult<()> {
        self.update(caller, which, |m| {
            m.tags.retain(|k, _| !keys.contains(k));
            Ok(())
        })
        .await
        .map(|_| ())
    }

    /// ListTagsForStream: tags in key order after `exclusive_start`, and
    /// whether more follow.
    pub fn list_tags(
        &self,
        caller: &Caller,
        which: &StreamRef,
        exclusive_start: Option<&str>,
        limit: Option<usize>,
    ) -> KinesisResult<(Vec<(String, String)>, bool)> {
        let stream = self.stream(caller, which)?;
        let m = stream.meta.read();
        let mut tags: Vec<(String, String)> = m
            .tags
            .iter()
            .filter(|(k, _)| exclusive_start.is_none_or(|s| k.as_str() > s))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let limit = limit.unwrap_or(50);
        let more = tags.len() > limit;
        tags.truncate(limit);
        Ok((tags, more))
    }

    /// TagResource and friends name a stream or a consumer by ARN.
    pub async fn tag_resource(&self, caller: &Caller, arn: &str, tags: BTreeMap<String, String>) -> KinesisResult<()> {
        match resource(arn)? {
            Resource::Stream(which) => self.add_tags(caller, &which, tags).await,
            Resource::Consumer(which, name) => {
                self.update_consumer(caller, &which, &name, |c| {
                    c.tags.extend(tags);
                    Ok(())
                })
                .await
            }
        }
    }

    pub async fn untag_resource(&self, caller: &Caller, arn: &str, keys: &[String]) -> KinesisResult<()> {
        match resource(arn)? {
            Resource::Stream(which) => self.remove_tags(caller, &which, keys).await,
            Resource::Consumer(which, name) => {
                self.update_consumer(caller, &which, &name, |c| {
                    c.tags.retain(|k, _| !keys.contains(k));
                    Ok(())
                })
                .await
            }
        }
    }

    pub fn resource_tags(&self, caller: &Caller, arn: &str) -> KinesisResult<Vec<(String, String)>> {
        let tags = match resource(arn)? {
            Resource::Stream(which) => self.stream(caller, &which)?.meta.read().tags.clone(),
            Resource::Consumer(which, name) => {
                let stream = self.stream(caller, &which)?;
                let m = stream.meta.read();
                m.consumers
                    .iter()
                    .find(|c| c.name == name)
                    .map(|c| c.tags.clone())
                    .ok_or_else(|| consumer_not_found(arn))?
            }
        };
        Ok(tags.into_iter().collect())
    }

    /// Put/DeleteResourcePolicy on a stream or consumer ARN: each holds its
    /// own policy. The policy is stored and returned; eddy does not evaluate
    /// it for API calls.
    pub async fn set_policy(&self, caller: &Caller, arn: &str, policy: Option<String>) -> KinesisResult<()> {
        if let Some(p) = &policy {
            crate::policy::PolicyDocument::parse(p)
                .map_err(|e| KinesisError::InvalidArgument(format!("Invalid policy document: {e}")))?;
        }
        let replace = |held: &mut Option<String>| {
            if policy.is_none() && held.is_none() {
                return Err(KinesisError::ResourceNotFound(format!(
                    "No resource policy found for resource ARN {arn}."
                )));
            }
            *held = policy.clone();
            Ok(())
        };
        match resource(arn)? {
            Resource::Stream(which) => self.update(caller, &which, |m| replace(&mut m.policy)).await.map(|_| ()),
            Resource::Consumer(which, name) => {
                self.update_consumer(caller, &which, &name, |c| replace(&mut c.policy)).await
            }
        }
    }

    /// GetResourcePolicy: a stream or consumer without one answers `{}`, as
    /// AWS does, rather than an error.
    pub fn policy(&self, caller: &Caller, arn: &str) -> KinesisResult<String> {
        let held = match resource(arn)? {
            Resource::Stream(which) => self.stream(caller, &which)?.meta.read().policy.clone(),
            Resource::Consumer(which, name) => {
                let stream = self.stream(caller, &which)?;
                let m = stream.meta.read();
                m.consumers.iter().find(|c| c.name == name).ok_or_else(|| consumer_not_found(arn))?.policy.clone()
            }
        };
        Ok(held.unwrap_or_else(|| "{}".to_string()))
    }

    pub fn limits(&self, caller: &Caller) -> Limits {
        let (open_shards, on_demand_streams) = self.account_counts(caller);
        Limits {
            shard_limit: SHARD_LIMIT,
            open_shards,
            on_demand_streams,
            on_demand_stream_limit: ON_DEMAND_STREAM_LIMIT,
        }
    }

    pub fn account_settings(&self, caller: &Caller) -> KinesisResult<AccountSettings> {
        Ok(match self.accounts.get(caller.account.as_bytes())? {
            Some(v) => serde_json::from_slice(&v).unwrap_or_default(),
            None => AccountSettings::default(),
        })
    }

    pub async fn update_account_settings(&self, caller: &Caller, enabled: bool) -> KinesisResult<AccountSettings> {
        let mut settings = self.account_settings(caller)?;
        let now = self.now_ms();
        if enabled && !settings.commitment_enabled {
            settings = AccountSettings { commitment_enabled: true, started_ms: Some(now), ended_ms: None };
        } else if !enabled && settings.commitment_enabled {
            settings.commitment_enabled = false;
            settings.ended_ms = Some(now);
        }
        let mut batch = self.store.batch();
        batch.put(&self.accounts, caller.account.as_bytes(), serde_json::to_vec(&settings).expect("serialisable"));
        self.commit(batch).await?;
        Ok(settings)
    }

    /// Open shards and on-demand streams in the caller's account and region.
    fn account_counts(&self, caller: &Caller) -> (usize, usize) {
        let streams = self.streams.read();
        let mine = streams.iter().filter(|(k, _)| k.account == caller.account && k.region == caller.region);
        let (mut open, mut on_demand) = (0, 0);
        for (_, s) in mine {
            let m = s.meta.read();
            open += m.shards.iter().filter(|s| s.is_open()).count();
            on_demand += usize::from(m.on_demand);
        }
        (open, on_demand)
    }

    /// Applies `change` to a copy of a stream's metadata, saves it, and only
    /// then swaps it in: nothing changes when `change` or the save fails,
    /// and no reader sees metadata a crash could take back.
    pub(crate) async fn update(
        &self,
        caller: &Caller,
        which: &StreamRef,
        change: impl FnOnce(&mut StreamMeta) -> KinesisResult<()>,
    ) -> KinesisResult<StreamMeta> {
        let stream = self.stream(caller, which)?;
        let _changing = stream.changing.lock().await;
        let mut meta = stream.meta.read().clone();
        change(&mut meta)?;
        self.save(&meta).await?;
        *stream.meta.write() = meta.clone();
        Ok(meta)
    }

    async fn update_consumer(
        &self,
        caller: &Caller,
        which: &StreamRef,
        name: &str,
        change: impl FnOnce(&mut super::records::ConsumerMeta) -> KinesisResult<()>,
    ) -> KinesisResult<()> {
        self.update(caller, which, |m| {
            let c = m.consumers.iter_mut().find(|c| c.name == name).ok_or_else(|| consumer_not_found(name))?;
            change(c)
        })
        .await
        .map(|_| ())
    }
}

/// A stream name taken by a create until its stream is saved and
/// registered, or the create fails; released when dropped, so also when the
/// create's request goes away mid-way.
struct Reservation<'a> {
    kinesis: &'a Kinesis,
    key: StreamKey,
}

impl<'a> Reservation<'a> {
    /// `None` when the name is taken: by a stream, or by another create.
    fn take(kinesis: &'a Kinesis, key: &StreamKey) -> Option<Reservation<'a>> {
        // Lock order: `streams` before `creating`.
        let streams = kinesis.streams.read();
        let mut creating = kinesis.creating.lock();
        if streams.contains_key(key) || !creating.insert(key.clone()) {
            return None;
        }
        Some(Reservation { kinesis, key: key.clone() })
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.kinesis.creating.lock().remove(&self.key);
    }
}

pub(crate) fn new_shard(
    index: u32,
    (start, end): (u128, u128),
    now: u64,
    parent: Option<u32>,
    adjacent: Option<u32>,
) -> ShardMeta {
    ShardMeta {
        index,
        parent,
        adjacent_parent: adjacent,
        start_hash: start.to_string(),
        end_hash: end.to_string(),
        starting_seq: SeqNo::new(now, 0, index).0.to_string(),
        ending_seq: None,
        created_ms: now,
    }
}

pub(crate) fn new_log(partition: eddy_store::Partition, meta: &ShardMeta) -> Arc<ShardLog> {
    Arc::new(ShardLog::new(partition, meta.index, SeqNo(meta.starting_seq_value())))
}

fn closed_ms(s: &ShardMeta) -> Option<u64> {
    s.ending_seq_value().map(|e| SeqNo(e).ms())
}

/// Was the shard open at `ts`?
fn open_at(s: &ShardMeta, ts: u64) -> bool {
    s.created_ms <= ts && closed_ms(s).is_none_or(|c| c >= ts)
}

fn consumer_not_found(which: &str) -> KinesisError {
    KinesisError::ResourceNotFound(format!("Consumer {which} not found."))
}

enum Resource {
    Stream(StreamRef),
    Consumer(StreamRef, String),
}

fn resource(arn: &str) -> KinesisResult<Resource> {
    if arn.contains("/consumer/") {
        let (stream, name) = consumer::parse_consumer_arn(arn)?;
        return Ok(Resource::Consumer(stream, name));
    }
    parse_stream_arn(arn)?;
    Ok(Resource::Stream(StreamRef { name: None, arn: Some(arn.to_string()) }))
}

/// ListShards tokens carry their stream's ARN: a NextToken is given
/// without the stream's name.
const SHARDS_LISTING: &str = "shards";

fn streams_listing(caller: &Caller) -> String {
    format!("streams {}/{}", caller.account, caller.region)
}

impl Kinesis {
    /// A NextToken's payload, if eddy issued it for this listing within the
    /// last five minutes (Kinesis tokens expire, unlike SQS's and SNS's).
    pub(crate) fn open_token(&self, listing: &str, token: &str) -> KinesisResult<String> {
        self.tokens.read(listing, token, self.now_ms(), Some(TOKEN_LIFETIME_MS)).map_err(|e| match e {
            TokenError::Invalid => invalid_token(token),
            TokenError::Expired => KinesisError::ExpiredNextToken(format!("The timestamp of {token} is expired.")),
        })
    }
}

pub(crate) fn invalid_token(token: &str) -> KinesisError {
    KinesisError::InvalidArgument(format!("Invalid NextToken {token}."))
}
