//! Firing schedules and invoking their targets.
//!
//! The loop looks at every enabled schedule: one that is due gets a firing
//! record (its target, the due time plus a random point of its flexible
//! window) written durably together with its new "last fired" time, or,
//! for a finished schedule whose ActionAfterCompletion is DELETE, with its
//! deletion. Firings are then attempted when due, retried with backoff per
//! the RetryPolicy, and sent to the dead-letter queue, with AWS's message
//! attributes, when they fail for good.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use tokio::sync::Semaphore;

use super::records::{self, FiringRecord, OutboxEntry};
use super::schedule::Entry;
use super::{Scheduler, SchedulerResult};
use crate::clock::{iso8601_secs, Millis};
use crate::due::{backoff_ms, DueQueue};
use crate::identity::Caller;
use crate::sqs::{AttributeValue, Attributes, SendRequest};

/// Invocations attempted at once.
const PARALLEL: usize = 64;

/// Counters, served at `/_eddy/scheduler/stats`.
#[derive(Debug, Default)]
pub struct SchedulerStats {
    pub fired: AtomicU64,
    pub delivered: AtomicU64,
    pub retried: AtomicU64,
    pub dead_lettered: AtomicU64,
    /// Failed for good with no (usable) dead-letter queue.
    pub dropped: AtomicU64,
    /// Recorded in the outbox (targets eddy does not run).
    pub recorded: AtomicU64,
    /// Schedules deleted after completion (ActionAfterCompletion DELETE).
    pub completed_deleted: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl SchedulerStats {
    pub fn snapshot(&self) -> Value {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        json!({
            "fired": g(&self.fired), "delivered": g(&self.delivered), "retried": g(&self.retried),
            "deadLettered": g(&self.dead_lettered), "dropped": g(&self.dropped), "recorded": g(&self.recorded),
            "deletedAfterCompletion": g(&self.completed_deleted),
        })
    }
}

/// Firings waiting for their due time.
#[derive(Default)]
pub(crate) struct Firings {
    pub(super) queue: DueQueue<FiringRecord>,
}

impl Firings {
    pub fn insert(&self, seq: u64, firing: FiringRecord) {
        self.queue.insert(firing.due_ms, seq, firing);
    }

    pub fn wake(&self) {
        self.queue.wake();
    }

    pub fn pending(&self) -> usize {
        self.queue.pending()
    }
}

/// Why an attempt failed.
#[derive(Debug)]
struct Failure {
    code: String,
    message: String,
    retryable: bool,
}

impl Failure {
    fn permanent(code: &str, message: impl Into<String>) -> Failure {
        Failure { code: code.into(), message: message.into(), retryable: false }
    }

    fn retryable(code: &str, message: impl Into<String>) -> Failure {
        Failure { code: code.into(), message: message.into(), retryable: true }
    }
}

/// An error's variant name (`QueueDoesNotExist`, `InvalidParameterValue`), as its code.
fn variant_name(e: &impl std::fmt::Debug) -> String {
    format!("{e:?}").chars().take_while(|c| c.is_alphanumeric()).collect()
}

/// The Input with Scheduler's context attributes filled in.
fn render_input(input: &str, firing: &FiringRecord) -> String {
    input
        .replace("<aws.scheduler.schedule-arn>", &firing.schedule_arn)
        .replace("<aws.scheduler.scheduled-time>", &iso8601_secs(firing.scheduled_ms))
        .replace("<aws.scheduler.execution-id>", &firing.invocation_id)
        .replace("<aws.scheduler.attempt-number>", &firing.attempts.to_string())
}

impl Scheduler {
    /// Fires due schedules and invokes due targets until the task is aborted.
    pub async fn run(self: Arc<Self>) {
        let slots = Arc::new(Semaphore::new(PARALLEL));
        loop {
            let now = self.now_ms();
            let next_schedule = self.fire_due(now).await;
            for (seq, firing) in self.firings.queue.take_due(now, PARALLEL) {
                let permit = slots.clone().acquire_owned().await.expect("never closed");
                let scheduler = self.clone();
                tokio::spawn(async move {
                    scheduler.invoke(seq, firing).await;
                    drop(permit);
                });
            }
            self.firings.queue.nap(now, next_schedule, self.now_ms()).await;
        }
    }

    /// Makes the loop look at the clock now (tests move it).
    pub fn wake(&self) {
        self.firings.wake();
    }

    pub fn pending_invocations(&self) -> usize {
        self.firings.pending()
    }

    /// Fires every schedule that is due at `now`; returns when the next one is.
    pub(crate) async fn fire_due(&self, now: Millis) -> Millis {
        let mut next = Millis::MAX;
        let entries: Vec<(Vec<u8>, Arc<Entry>)> =
            self.schedules.read().iter().map(|(k, e)| (k.clone(), e.clone())).collect();
        for (key, entry) in entries {
            let Some(at) = entry.next_due() else { continue };
            if at > now {
                next = next.min(at);
                continue;
            }
            match self.fire(key, &entry, at, now).await {
                Ok(Some(n)) => next = next.min(n),
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(schedule = %entry.arn(), error = %e, "Scheduler: a schedule could not fire")
                }
            }
        }
        next
    }

    /// Stores the firing of `entry` due at `at` with the schedule's new
    /// state; returns the schedule's next due time.
    async fn fire(&self, key: Vec<u8>, entry: &Arc<Entry>, at: Millis, now: Millis) -> SchedulerResult<Option<Millis>> {
        let r = &entry.record;
        let window = &r.flexible_time_window;
        let offset = match (window.mode.as_str(), window.maximum_window_in_minutes) {
            ("FLEXIBLE", Some(m)) if m > 0 => rand::Rng::gen_range(&mut rand::thread_rng(), 0..u64::from(m) * 60_000),
            _ => 0,
        };
        let firing = FiringRecord {
            schedule_arn: entry.arn(),
            account: r.account.clone(),
            region: r.region.clone(),
            target: r.target.clone(),
            scheduled_ms: at,
            due_ms: (at + offset).max(now),
            attempts: 0,
            invocation_id: uuid::Uuid::new_v4().to_string(),
        };
        let mut updated = r.clone();
        // A missed backlog (eddy was stopped) fires once, then the schedule keeps its times.
        updated.last_fired_ms = Some(now.max(at));
        let updated = Entry::new(updated)?;
        let next = updated.next_due();
        let delete = next.is_none() && r.action_after_completion == "DELETE";
        let seq = self.next_seq();
        let mut batch = self.store.batch();
        {
            let _w = self.write.lock();
            let mut schedules = self.schedules.write();
            // Changed or deleted meanwhile: the new definition decides.
            if !schedules.get(&key).is_some_and(|current| Arc::ptr_eq(current, entry)) {
                return Ok(None);
            }
            if delete {
                schedules.remove(&key);
                batch.delete(&self.schedules_part, key);
            } else {
                batch.put(&self.schedules_part, key.clone(), records::to_json(&updated.record));
                schedules.insert(key, Arc::new(updated));
            }
        }
        batch.put(&self.firings_part, records::seq_key(seq).to_vec(), records::to_json(&firing));
        self.commit(batch).await?;
        bump(&self.stats.fired);
        if delete {
            bump(&self.stats.completed_deleted);
            tracing::info!(schedule = %firing.schedule_arn, "Scheduler: schedule completed and deleted (ActionAfterCompletion DELETE)");
        }
        self.firings.insert(seq, firing);
        Ok(next)
    }

    pub(super) async fn invoke(&self, seq: u64, mut firing: FiringRecord) {
        firing.attempts += 1;
        let failure = match self.attempt(&firing).await {
            Ok(()) => {
                bump(&self.stats.delivered);
                return self.forget(seq);
            }
            Err(f) => f,
        };
        let now = self.now_ms();
        let policy = &firing.target.retry_policy;
        let retries_done = firing.attempts - 1;
        let exhausted = if !failure.retryable {
            None
        } else if retries_done >= policy.maximum_retry_attempts {
            Some("MaximumRetryAttempts")
        } else if now.saturating_sub(firing.scheduled_ms) >= u64::from(policy.maximum_event_age_in_seconds) * 1000 {
            Some("MaximumEventAgeInSeconds")
        } else {
            firing.due_ms = now + backoff_ms(firing.attempts);
            bump(&self.stats.retried);
            tracing::info!(schedule = %firing.schedule_arn, target = %firing.target.arn, attempt = firing.attempts,
                code = %failure.code, reason = %failure.message, "Scheduler invocation failed; retrying");
            let mut batch = self.store.batch();
            batch.put(&self.firings_part, records::seq_key(seq).to_vec(), records::to_json(&firing));
            if let Err(e) = self.commit(batch).await {
                tracing::error!(error = %e, "Scheduler: could not store a retry; it runs again after a restart");
            }
            self.firings.insert(seq, firing);
            return;
        };
        self.dead_letter(&firing, &failure, exhausted).await;
        self.forget(seq);
    }

    /// Deletes a finished firing (durably soon: a crash before that invokes it again, at least once).
    fn forget(&self, seq: u64) {
        let mut batch = self.store.batch();
        batch.delete(&self.firings_part, records::seq_key(seq).to_vec());
        if let Err(e) = batch
            .commit()
            .map_err(|e| e.to_string())
            .and_then(|t| self.store.make_durable_soon(t).map_err(|e| e.to_string()))
        {
            tracing::warn!(error = %e, "Scheduler: could not delete a finished invocation; it runs again after a restart");
        }
    }

    fn caller(firing: &FiringRecord) -> Caller {
        Caller { account: firing.account.clone(), region: firing.region.clone(), access_key: "scheduler".into() }
    }

    async fn attempt(&self, firing: &FiringRecord) -> Result<(), Failure> {
        let target = &firing.target;
        let body = target.input.as_deref().map(|i| render_input(i, firing));
        match target.arn.split(':').nth(2).unwrap_or_default() {
            "sqs" => self.to_queue(firing, body).await,
            "sns" => self.to_topic(firing, body).await,
            "kinesis" => self.to_stream(firing, body).await,
            "events" if target.arn.contains(":event-bus/") => self.to_bus(firing, body).await,
            _ => self.to_outbox(firing, body).await,
        }
    }

    async fn to_queue(&self, firing: &FiringRecord, body: Option<String>) -> Result<(), Failure> {
        let sqs = &self.targets.sqs;
        let Some(queue) = sqs.lookup_arn(&firing.target.arn) else {
            return Err(Failure::permanent(
                "AWS.SimpleQueueService.NonExistentQueue",
                "The specified queue does not exist for this wsdl version.",
            ));
        };
        let fifo = queue.is_fifo();
        let req = SendRequest {
            body: body.unwrap_or_default(),
            group_id: firing.target.sqs_parameters.as_ref().and_then(|p| p.message_group_id.clone()),
            dedup_id: fifo.then(|| firing.invocation_id.clone()),
            ..SendRequest::default()
        };
        sqs.send(&queue, &Self::caller(firing), req)
            .await
            .map(|_| ())
            .map_err(|e| Failure::permanent(&variant_name(&e), e.to_string()))
    }

    async fn to_topic(&self, firing: &FiringRecord, body: Option<String>) -> Result<(), Failure> {
        let sns = &self.targets.sns;
        let Ok(topic) = sns.lookup_topic(&firing.target.arn) else {
            return Err(Failure::permanent("NotFound", "Topic does not exist"));
        };
        let req = crate::sns::PublishRequest {
            topic_arn: Some(topic.arn.clone()),
            message: body,
            group_id: topic.fifo.then(|| {
                firing.target.sqs_parameters.as_ref().and_then(|p| p.message_group_id.clone()).unwrap_or_default()
            }),
            dedup_id: topic.fifo.then(|| firing.invocation_id.clone()),
            ..crate::sns::PublishRequest::default()
        };
        sns.publish(req).await.map(|_| ()).map_err(|e| Failure::permanent("InvalidParameter", e.to_string()))
    }

    async fn to_stream(&self, firing: &FiringRecord, body: Option<String>) -> Result<(), Failure> {
        use crate::kinesis::{KinesisError, PutEntry, StreamRef};
        let Some(params) = &firing.target.kinesis_parameters else {
            return Err(Failure::permanent("ValidationException", "KinesisParameters.PartitionKey is required"));
        };
        let entry = PutEntry {
            partition_key: params.partition_key.clone(),
            explicit_hash_key: None,
            data: body.unwrap_or_default().into_bytes(),
        };
        let stream = StreamRef { name: None, arn: Some(firing.target.arn.clone()) };
        match self.targets.kinesis.put_record(&Self::caller(firing), &stream, entry, None).await {
            Ok(_) => Ok(()),
            Err(KinesisError::ResourceNotFound(m)) => Err(Failure::permanent("ResourceNotFoundException", m)),
            Err(KinesisError::ProvisionedThroughputExceeded(m)) => {
                Err(Failure::retryable("ProvisionedThroughputExceededException", m))
            }
            Err(KinesisError::Internal(m)) => Err(Failure::retryable("InternalFailure", m)),
            Err(e) => Err(Failure::permanent("InvalidArgumentException", e.to_string())),
        }
    }

    /// PutEvents on the target bus: the Input as the detail, the schedule as the resource.
    async fn to_bus(&self, firing: &FiringRecord, body: Option<String>) -> Result<(), Failure> {
        use crate::events::{EntryResult, EventEntry};
        let Some(params) = &firing.target.event_bridge_parameters else {
            return Err(Failure::permanent(
                "ValidationException",
                "EventBridgeParameters (DetailType, Source) are required for an event bus target",
            ));
        };
        let entry = EventEntry {
            source: Some(params.source.clone()),
            detail_type: Some(params.detail_type.clone()),
            detail: Some(body.unwrap_or_else(|| "{}".into())),
            resources: vec![firing.schedule_arn.clone()],
            time_ms: None,
            bus: Some(firing.target.arn.clone()),
            trace_header: None,
        };
        match self.targets.events.put_events(&Self::caller(firing), vec![entry]).await {
            Ok(results) => match results.into_iter().next() {
                Some(EntryResult::Failed { code, message }) => Err(Failure::permanent(&code, message)),
                _ => Ok(()),
            },
            Err(e) => Err(Failure::retryable("InternalException", e.to_string())),
        }
    }

    async fn to_outbox(&self, firing: &FiringRecord, body: Option<String>) -> Result<(), Failure> {
        let entry = OutboxEntry {
            target_arn: firing.target.arn.clone(),
            schedule_arn: firing.schedule_arn.clone(),
            role_arn: firing.target.role_arn.clone(),
            input: body,
            target: serde_json::to_value(&firing.target).unwrap_or_default(),
            time_ms: self.now_ms(),
        };
        let mut batch = self.store.batch();
        self.outbox.stage(&mut batch, self.next_seq(), &entry);
        self.commit(batch).await.map_err(|e| Failure::retryable("InternalServerException", e.to_string()))?;
        bump(&self.stats.recorded);
        tracing::info!(target = %firing.target.arn, schedule = %firing.schedule_arn,
            "Scheduler target recorded in the outbox (eddy does not run this service); see /_eddy/scheduler/outbox");
        Ok(())
    }

    /// The outbox, oldest first, from `after` (a key from an earlier page).
    pub fn outbox(&self, after: Option<u64>, limit: usize) -> SchedulerResult<(Vec<OutboxEntry>, Option<u64>)> {
        self.outbox.page(after, limit).map_err(super::SchedulerError::Internal)
    }

    /// A firing that failed for good: to the dead-letter queue, else dropped and logged.
    async fn dead_letter(&self, firing: &FiringRecord, failure: &Failure, exhausted: Option<&str>) {
        let target = &firing.target;
        let Some(dlq_arn) = target.dead_letter_arn() else {
            bump(&self.stats.dropped);
            tracing::warn!(schedule = %firing.schedule_arn, target = %target.arn, code = %failure.code,
                reason = %failure.message, "Scheduler invocation dropped: it failed and the target has no DeadLetterConfig");
            return;
        };
        let sqs = &self.targets.sqs;
        let Some(dlq) = sqs.lookup_arn(dlq_arn) else {
            bump(&self.stats.dropped);
            tracing::warn!(schedule = %firing.schedule_arn, dlq = %dlq_arn, reason = %failure.message,
                "Scheduler invocation dropped: it failed and the dead-letter queue does not exist");
            return;
        };
        let string = |s: &str| AttributeValue { data_type: "String".into(), string: Some(s.to_string()), binary: None };
        let mut attributes = Attributes::new();
        attributes.insert("ERROR_CODE".into(), string(&failure.code));
        attributes.insert("ERROR_MESSAGE".into(), string(&failure.message.chars().take(1000).collect::<String>()));
        if let Some(condition) = exhausted {
            attributes.insert("EXHAUSTED_RETRY_CONDITION".into(), string(condition));
        }
        attributes.insert("INVOCATION_ID".into(), string(&firing.invocation_id));
        attributes.insert("RETRY_ATTEMPTS".into(), string(&firing.attempts.saturating_sub(1).to_string()));
        attributes.insert("SCHEDULE_ARN".into(), string(&firing.schedule_arn));
        attributes.insert("TARGET_ARN".into(), string(&target.arn));
        let body = target.input.as_deref().map(|i| render_input(i, firing)).unwrap_or_else(|| "{}".into());
        let req = SendRequest { body, attributes, ..SendRequest::default() };
        match sqs.send(&dlq, &Self::caller(firing), req).await {
            Ok(_) => {
                bump(&self.stats.dead_lettered);
                tracing::info!(schedule = %firing.schedule_arn, target = %target.arn, dlq = %dlq.arn, code = %failure.code,
                    reason = %failure.message, "Scheduler invocation failed; input sent to the dead-letter queue");
            }
            Err(e) => {
                bump(&self.stats.dropped);
                tracing::warn!(schedule = %firing.schedule_arn, dlq = %dlq.arn, error = %e,
                    "Scheduler invocation dropped: writing to the dead-letter queue failed");
            }
        }
    }
}
