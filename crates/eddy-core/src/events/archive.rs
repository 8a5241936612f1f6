//! Archives and replays. An archive keeps the events its bus accepts (those
//! its pattern matches, or all), keyed by their `time`, for `RetentionDays`
//! (0: for ever; counted from that time). A replay sends an archive's events of a
//! time range back to the archive's bus, each with `replay-name` added and
//! its original `time`, to all of the bus's rules or to those in
//! `FilterArns`; replayed events are not archived again. A replay's
//! progress is checkpointed durably with the jobs it makes, so a restart
//! resumes it where it stopped.
//!
//! Not reproduced: AWS manages an archive through a rule it creates on the
//! bus (`Events-Archive-<name>`, visible in ListRules); eddy archives
//! without one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::bus::{check_pattern, invalid_token, page_limit};
use super::error::{not_found, validation};
use super::records;
use super::rule::parse_pattern;
use super::{bus_arn, resolve_bus, Events, EventsError, EventsResult};
use crate::clock::Millis;
use crate::identity::Caller;
use crate::page::{Page, PageRequest};
use crate::pattern::EventPattern;

pub(crate) const ARCHIVES: u8 = b'A';
pub(crate) const ARCHIVED: u8 = b'E';
pub(crate) const REPLAYS: u8 = b'P';
/// Events a replay sends per durable step.
const REPLAY_STEP: usize = 100;
const DAY_MS: u64 = 86_400_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArchiveRecord {
    pub account: String,
    pub region: String,
    pub name: String,
    /// The bus's ARN.
    pub source_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_pattern: Option<String>,
    #[serde(default)]
    pub retention_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
    pub created_ms: Millis,
}

/// An archive, its pattern compiled and its contents counted.
#[derive(Debug)]
pub struct Archive {
    pub record: ArchiveRecord,
    pub arn: String,
    pattern: Option<EventPattern>,
    pub event_count: AtomicU64,
    pub size_bytes: AtomicU64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplayRecord {
    pub account: String,
    pub region: String,
    pub name: String,
    pub archive_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub start_ms: Millis,
    pub end_ms: Millis,
    pub destination: String,
    #[serde(default)]
    pub filter_arns: Vec<String>,
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    pub replay_start_ms: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_end_ms: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_replayed_ms: Option<Millis>,
    /// The archive key of the last event replayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Vec<u8>>,
}

impl ReplayRecord {
    pub fn arn(&self) -> String {
        format!("arn:aws:events:{}:{}:replay/{}", self.region, self.account, self.name)
    }

    fn running(&self) -> bool {
        matches!(self.state.as_str(), "STARTING" | "RUNNING")
    }
}

/// CreateArchive / UpdateArchive input.
#[derive(Debug, Clone, Default)]
pub struct ArchiveInput {
    pub name: String,
    pub source_arn: Option<String>,
    pub description: Option<String>,
    pub event_pattern: Option<String>,
    pub retention_days: Option<i64>,
    pub kms_key: Option<String>,
}

/// StartReplay input.
#[derive(Debug, Clone, Default)]
pub struct ReplayInput {
    pub name: String,
    pub description: Option<String>,
    pub archive_arn: String,
    pub start_ms: Millis,
    pub end_ms: Millis,
    pub destination: String,
    pub filter_arns: Vec<String>,
}

pub fn archive_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:events:{region}:{account}:archive/{name}")
}

fn key(account: &str, region: &str, name: &str) -> Vec<u8> {
    records::bus_key(account, region, name)
}

/// Where an archive's events start in the `E` family.
fn archived_prefix(archive: &ArchiveRecord) -> Vec<u8> {
    let mut k = key(&archive.account, &archive.region, &archive.name);
    k.push(0);
    k
}

fn archived_key(archive: &ArchiveRecord, at: Millis, seq: u64) -> Vec<u8> {
    let mut k = archived_prefix(archive);
    k.extend_from_slice(&at.to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn check_archive_name(name: &str) -> EventsResult<()> {
    check_pattern(
        name,
        "archiveName",
        48,
        |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'),
        "[\\.\\-_A-Za-z0-9]+",
    )
}

fn retention(days: Option<i64>) -> EventsResult<u32> {
    match days {
        None => Ok(0),
        Some(d) if (0..=i64::from(u32::MAX)).contains(&d) => Ok(d as u32),
        Some(d) => Err(validation(format!(
            "1 validation error detected: Value '{d}' at 'retentionDays' failed to satisfy constraint: Member must have value greater than or equal to 0"
        ))),
    }
}

impl Archive {
    fn new(record: ArchiveRecord) -> EventsResult<Archive> {
        let pattern = record.event_pattern.as_deref().map(parse_pattern).transpose()?;
        let arn = archive_arn(&record.region, &record.account, &record.name);
        Ok(Archive { record, arn, pattern, event_count: AtomicU64::new(0), size_bytes: AtomicU64::new(0) })
    }

    fn takes(&self, event: &Value) -> bool {
        self.pattern.as_ref().is_none_or(|p| p.matches(event))
    }
}

impl Events {
    pub(crate) fn recover_archives(&self) -> EventsResult<()> {
        for kv in self.sh.archives.scan_prefix(b"") {
            let (k, v) = kv?;
            let archive = Archive::new(super::decode(&v, "archive")?)?;
            for item in self.sh.archived.scan_prefix(&archived_prefix(&archive.record)) {
                let (_, event) = item?;
                archive.event_count.fetch_add(1, Ordering::Relaxed);
                archive.size_bytes.fetch_add(event.len() as u64, Ordering::Relaxed);
            }
            self.archives.write().insert(k, Arc::new(archive));
        }
        for kv in self.sh.replays.scan_prefix(b"") {
            let (k, v) = kv?;
            self.replays.write().insert(k, super::decode(&v, "replay")?);
        }
        Ok(())
    }

    pub async fn create_archive(&self, caller: &Caller, input: ArchiveInput) -> EventsResult<Arc<Archive>> {
        check_archive_name(&input.name)?;
        let source = input.source_arn.clone().unwrap_or_default();
        let (account, region, bus) = resolve_bus(caller, Some(&source))?;
        let record = ArchiveRecord {
            account: caller.account.clone(),
            region: caller.region.clone(),
            name: input.name.clone(),
            source_arn: bus_arn(&region, &account, &bus),
            description: input.description.filter(|d| !d.is_empty()),
            event_pattern: input.event_pattern.filter(|p| !p.is_empty()),
            retention_days: retention(input.retention_days)?,
            kms_key: input.kms_key.filter(|k| !k.is_empty()),
            created_ms: self.now_ms(),
        };
        let archive = Arc::new(Archive::new(record)?);
        let k = key(&caller.account, &caller.region, &input.name);
        let ticket = {
            let _w = self.write.lock();
            if self.bus_record(&account, &region, &bus).is_none() {
                return Err(not_found(format!("Event bus {bus} does not exist.")));
            }
            if self.archives.read().contains_key(&k) {
                return Err(EventsError::AlreadyExists(format!("Archive {} already exists.", input.name)));
            }
            let mut batch = self.sh.store.batch();
            batch.put(&self.sh.archives, k.clone(), records::to_json(&archive.record));
            let ticket = batch.commit()?;
            self.archives.write().insert(k, archive.clone());
            ticket
        };
        self.sh.store.durable(ticket).await?;
        Ok(archive)
    }

    pub fn describe_archive(&self, caller: &Caller, name: &str) -> EventsResult<Arc<Archive>> {
        self.archives
            .read()
            .get(&key(&caller.account, &caller.region, name))
            .cloned()
            .ok_or_else(|| not_found(format!("Archive {name} does not exist.")))
    }

    pub fn list_archives(
        &self,
        caller: &Caller,
        prefix: Option<&str>,
        source_arn: Option<&str>,
        state: Option<&str>,
        token: Option<&str>,
        limit: Option<i64>,
    ) -> EventsResult<Page<Arc<Archive>>> {
        let limit = page_limit(limit)?;
        if let Some(source) = source_arn {
            let (account, region, bus) = resolve_bus(caller, Some(source))?;
            if self.bus_record(&account, &region, &bus).is_none() {
                return Err(not_found(format!("Event bus {bus} does not exist.")));
            }
        }
        let archives: Vec<Arc<Archive>> = self
            .archives
            .read()
            .values()
            .filter(|a| a.record.account == caller.account && a.record.region == caller.region)
            .filter(|a| prefix.is_none_or(|p| a.record.name.starts_with(p)))
            .filter(|a| source_arn.is_none_or(|s| a.record.source_arn == s))
            .filter(|_| state.is_none_or(|s| s == "ENABLED"))
            .cloned()
            .collect();
        let listing = format!("events:archives:{}:{}", caller.account, caller.region);
        let req = PageRequest::new(&listing, token, limit, self.now_ms());
        self.sh.tokens.page(archives, |a| a.record.name.as_str(), &req).map_err(|_| invalid_token())
    }

    pub async fn update_archive(&self, caller: &Caller, input: ArchiveInput) -> EventsResult<Arc<Archive>> {
        if input.description.is_none() && input.event_pattern.is_none() && input.retention_days.is_none() {
            return Err(validation("At least one of EventPattern, RetentionDays or Description must be provided."));
        }
        let k = key(&caller.account, &caller.region, &input.name);
        let ticket_and_archive = {
            let _w = self.write.lock();
            let current = self.describe_archive(caller, &input.name)?;
            let mut record = current.record.clone();
            if let Some(d) = input.description {
                record.description = Some(d).filter(|d| !d.is_empty());
            }
            if let Some(p) = input.event_pattern {
                record.event_pattern = Some(p).filter(|p| !p.is_empty());
            }
            if input.retention_days.is_some() {
                record.retention_days = retention(input.retention_days)?;
            }
            if let Some(kms) = input.kms_key {
                record.kms_key = Some(kms).filter(|k| !k.is_empty());
            }
            let archive = Archive::new(record)?;
            archive.event_count.store(current.event_count.load(Ordering::Relaxed), Ordering::Relaxed);
            archive.size_bytes.store(current.size_bytes.load(Ordering::Relaxed), Ordering::Relaxed);
            let archive = Arc::new(archive);
            let mut batch = self.sh.store.batch();
            batch.put(&self.sh.archives, k.clone(), records::to_json(&archive.record));
            let ticket = batch.commit()?;
            self.archives.write().insert(k, archive.clone());
            (ticket, archive)
        };
        self.sh.store.durable(ticket_and_archive.0).await?;
        Ok(ticket_and_archive.1)
    }

    /// DeleteArchive: the archive and the events it kept.
    pub async fn delete_archive(&self, caller: &Caller, name: &str) -> EventsResult<()> {
        let k = key(&caller.account, &caller.region, name);
        let ticket = {
            let _w = self.write.lock();
            let archive = self.describe_archive(caller, name)?;
            let mut batch = self.sh.store.batch();
            batch.delete(&self.sh.archives, k.clone());
            for item in self.sh.archived.scan_prefix(&archived_prefix(&archive.record)) {
                batch.delete(&self.sh.archived, item?.0);
            }
            let ticket = batch.commit()?;
            self.archives.write().remove(&k);
            ticket
        };
        self.sh.store.durable(ticket).await?;
        Ok(())
    }

    /// Adds `event` to every archive of `bus` that takes it, keyed by the
    /// event's `time` (replays select by it: "events that occurred between").
    pub(crate) fn archive_event(
        &self,
        batch: &mut eddy_store::WriteBatch,
        event: &Value,
        text: &str,
        bus_arn: &str,
        now: Millis,
    ) {
        let at = event["time"].as_str().and_then(parse_time).unwrap_or(now);
        for archive in self.archives.read().values().filter(|a| a.record.source_arn == bus_arn && a.takes(event)) {
            batch.put(
                &self.sh.archived,
                archived_key(&archive.record, at, self.sh.next_seq()),
                text.as_bytes().to_vec(),
            );
            archive.event_count.fetch_add(1, Ordering::Relaxed);
            archive.size_bytes.fetch_add(text.len() as u64, Ordering::Relaxed);
        }
    }

    /// Deletes archived events past their archive's retention.
    pub(crate) async fn sweep_archives(&self, now: Millis) {
        let archives: Vec<Arc<Archive>> =
            self.archives.read().values().filter(|a| a.record.retention_days > 0).cloned().collect();
        for archive in archives {
            let cutoff = now.saturating_sub(u64::from(archive.record.retention_days) * DAY_MS);
            let prefix = archived_prefix(&archive.record);
            let mut end = prefix.clone();
            end.extend_from_slice(&cutoff.to_be_bytes());
            let mut batch = self.sh.store.batch();
            let mut gone = 0u64;
            for item in self.sh.archived.scan_range(&prefix, &end).take(1000) {
                let Ok((k, v)) = item else { break };
                archive.size_bytes.fetch_sub(v.len() as u64, Ordering::Relaxed);
                batch.delete(&self.sh.archived, k);
                gone += 1;
            }
            if gone == 0 {
                continue;
            }
            archive.event_count.fetch_sub(gone, Ordering::Relaxed);
            if let Err(e) = self.commit(batch).await {
                tracing::warn!(archive = %archive.arn, error = %e, "EventBridge: could not delete expired archived events");
            } else {
                tracing::debug!(archive = %archive.arn, events = gone, "EventBridge: archived events past retention deleted");
            }
        }
    }

    pub async fn start_replay(self: &Arc<Self>, caller: &Caller, input: ReplayInput) -> EventsResult<ReplayRecord> {
        check_pattern(
            &input.name,
            "replayName",
            64,
            |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'),
            "[\\.\\-_A-Za-z0-9]+",
        )?;
        let archive_name = input.archive_arn.rsplit_once(":archive/").map(|(_, n)| n.to_string()).ok_or_else(|| {
            validation(format!(
                "Parameter EventSourceArn is not valid. Reason: {} is not a valid archive ARN.",
                input.archive_arn
            ))
        })?;
        let archive = self.describe_archive(caller, &archive_name).map_err(|_| {
            validation(format!("Parameter EventSourceArn is not valid. Reason: Archive {archive_name} does not exist."))
        })?;
        if input.start_ms >= input.end_ms {
            return Err(validation(
                "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.",
            ));
        }
        let now = self.now_ms();
        let (account, region, bus) = resolve_bus(caller, Some(&input.destination))?;
        if self.bus_record(&account, &region, &bus).is_none() {
            return Err(not_found(format!("Event bus {bus} does not exist.")));
        }
        if input.destination != archive.record.source_arn {
            return Err(validation(
                "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.",
            ));
        }
        let record = ReplayRecord {
            account: caller.account.clone(),
            region: caller.region.clone(),
            name: input.name.clone(),
            archive_arn: archive.arn.clone(),
            description: input.description.filter(|d| !d.is_empty()),
            start_ms: input.start_ms,
            end_ms: input.end_ms,
            destination: input.destination,
            filter_arns: input.filter_arns,
            state: "STARTING".into(),
            state_reason: None,
            replay_start_ms: now,
            replay_end_ms: None,
            last_replayed_ms: None,
            checkpoint: None,
        };
        let k = key(&caller.account, &caller.region, &input.name);
        let ticket = {
            let _w = self.write.lock();
            if self.replays.read().contains_key(&k) {
                return Err(EventsError::AlreadyExists(format!("Replay {} already exists.", input.name)));
            }
            let mut batch = self.sh.store.batch();
            batch.put(&self.sh.replays, k.clone(), records::to_json(&record));
            let ticket = batch.commit()?;
            self.replays.write().insert(k.clone(), record.clone());
            ticket
        };
        self.sh.store.durable(ticket).await?;
        tokio::spawn(self.clone().run_replay(k));
        Ok(record)
    }

    pub fn describe_replay(&self, caller: &Caller, name: &str) -> EventsResult<ReplayRecord> {
        self.replays
            .read()
            .get(&key(&caller.account, &caller.region, name))
            .cloned()
            .ok_or_else(|| not_found(format!("Replay {name} does not exist.")))
    }

    pub fn list_replays(
        &self,
        caller: &Caller,
        prefix: Option<&str>,
        state: Option<&str>,
        source_arn: Option<&str>,
        token: Option<&str>,
        limit: Option<i64>,
    ) -> EventsResult<Page<ReplayRecord>> {
        let limit = page_limit(limit)?;
        let replays: Vec<ReplayRecord> = self
            .replays
            .read()
            .values()
            .filter(|r| r.account == caller.account && r.region == caller.region)
            .filter(|r| prefix.is_none_or(|p| r.name.starts_with(p)))
            .filter(|r| state.is_none_or(|s| r.state == s))
            .filter(|r| source_arn.is_none_or(|s| r.archive_arn == s))
            .cloned()
            .collect();
        let listing = format!("events:replays:{}:{}", caller.account, caller.region);
        let req = PageRequest::new(&listing, token, limit, self.now_ms());
        self.sh.tokens.page(replays, |r| r.name.as_str(), &req).map_err(|_| invalid_token())
    }

    pub async fn cancel_replay(&self, caller: &Caller, name: &str) -> EventsResult<ReplayRecord> {
        let k = key(&caller.account, &caller.region, name);
        let current = self.describe_replay(caller, name)?;
        if !current.running() {
            return Err(EventsError::IllegalStatus(format!(
                "Replay {name} is not in a valid state for this operation."
            )));
        }
        let record = self.save_replay(&k, |r| r.state = "CANCELLING".into()).await?;
        Ok(record)
    }

    async fn save_replay(&self, k: &[u8], change: impl FnOnce(&mut ReplayRecord)) -> EventsResult<ReplayRecord> {
        let (ticket, record) = {
            let _w = self.write.lock();
            let mut record = self.replays.read().get(k).cloned().ok_or_else(|| not_found("Replay does not exist."))?;
            change(&mut record);
            let mut batch = self.sh.store.batch();
            batch.put(&self.sh.replays, k.to_vec(), records::to_json(&record));
            let ticket = batch.commit()?;
            self.replays.write().insert(k.to_vec(), record.clone());
            (ticket, record)
        };
        self.sh.store.durable(ticket).await?;
        Ok(record)
    }

    /// Replays left running by a stop.
    pub(crate) fn resume_replays(self: &Arc<Self>) {
        let running: Vec<Vec<u8>> = self
            .replays
            .read()
            .iter()
            .filter(|(_, r)| r.running() || r.state == "CANCELLING")
            .map(|(k, _)| k.clone())
            .collect();
        for k in running {
            tokio::spawn(self.clone().run_replay(k));
        }
    }

    async fn run_replay(self: Arc<Self>, k: Vec<u8>) {
        if let Err(e) = self.replay_steps(&k).await {
            tracing::error!(error = %e, "EventBridge replay failed");
            let reason = e.to_string();
            let _ = self
                .save_replay(&k, |r| {
                    r.state = "FAILED".into();
                    r.state_reason = Some(reason);
                    r.replay_end_ms = Some(self.now_ms());
                })
                .await;
        }
    }

    async fn replay_steps(&self, k: &[u8]) -> EventsResult<()> {
        loop {
            let Some(replay) = self.replays.read().get(k).cloned() else { return Ok(()) };
            if replay.state == "CANCELLING" {
                self.save_replay(k, |r| {
                    r.state = "CANCELLED".into();
                    r.replay_end_ms = Some(self.now_ms());
                })
                .await?;
                return Ok(());
            }
            if !replay.running() {
                return Ok(());
            }
            let archive_name = replay.archive_arn.rsplit_once(":archive/").map(|(_, n)| n).unwrap_or_default();
            let Some(archive) = self.archives.read().get(&key(&replay.account, &replay.region, archive_name)).cloned()
            else {
                return Err(EventsError::Internal(format!("archive {} no longer exists", replay.archive_arn)));
            };
            let (start, end) = self.replay_range(&archive.record, &replay);
            let mut batch = self.sh.store.batch();
            let mut jobs = Vec::new();
            let mut last = None;
            let (_, region, bus) = resolve_bus(
                &Caller { account: replay.account.clone(), region: replay.region.clone(), access_key: String::new() },
                Some(&replay.destination),
            )?;
            let Some(bus) = self.bus_record(&replay.account, &region, &bus) else {
                return Err(EventsError::Internal(format!("event bus {} no longer exists", replay.destination)));
            };
            for item in self.sh.archived.scan_range(&start, &end).take(REPLAY_STEP) {
                let (key, text) = item?;
                let text = String::from_utf8_lossy(&text);
                let replayed = with_replay_name(&text, &replay.name);
                let event: Value = serde_json::from_str(&replayed).unwrap_or_default();
                let filter = (!replay.filter_arns.is_empty()).then_some(replay.filter_arns.as_slice());
                jobs.extend(self.route_to(&mut batch, &event, &replayed, &bus, None, self.now_ms(), filter));
                last = Some(key);
            }
            let done = last.is_none();
            let now = self.now_ms();
            let mut record = replay.clone();
            record.state = "RUNNING".into();
            record.last_replayed_ms = Some(now);
            match &last {
                Some(key) => record.checkpoint = Some(key.clone()),
                None => {
                    record.state = "COMPLETED".into();
                    record.replay_end_ms = Some(now);
                }
            }
            {
                let _w = self.write.lock();
                // A CancelReplay in between wins.
                if self.replays.read().get(k).is_some_and(|r| r.state == "CANCELLING") {
                    continue;
                }
                batch.put(&self.sh.replays, k.to_vec(), records::to_json(&record));
                self.replays.write().insert(k.to_vec(), record.clone());
            }
            self.commit(batch).await?;
            for (seq, job) in jobs {
                self.jobs.insert(seq, job);
            }
            if done {
                tracing::info!(replay = %replay.name, "EventBridge replay completed");
                return Ok(());
            }
        }
    }

    /// The archive keys a replay still has to send: after its checkpoint, before its end.
    fn replay_range(&self, archive: &ArchiveRecord, replay: &ReplayRecord) -> (Vec<u8>, Vec<u8>) {
        let prefix = archived_prefix(archive);
        let start = match &replay.checkpoint {
            Some(k) => {
                let mut after = k.clone();
                after.push(0);
                after
            }
            None => {
                let mut s = prefix.clone();
                s.extend_from_slice(&replay.start_ms.to_be_bytes());
                s
            }
        };
        let mut end = prefix;
        end.extend_from_slice(&replay.end_ms.to_be_bytes());
        (start, end)
    }
}

/// An event's `time` (`2024-01-01T00:00:00Z`) in milliseconds.
fn parse_time(text: &str) -> Option<Millis> {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    u64::try_from(t.unix_timestamp()).ok().map(|s| s * 1000)
}

/// The event with `"replay-name"` added last, its other fields as they were.
fn with_replay_name(text: &str, name: &str) -> String {
    let body = text.trim_end().strip_suffix('}').unwrap_or(text);
    format!("{body},\"replay-name\":{}}}", Value::from(name))
}
