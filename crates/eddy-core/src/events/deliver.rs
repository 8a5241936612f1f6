//! Carrying jobs to their targets. Every job is in the store before
//! PutEvents answers; here it is attempted, retried with the target's
//! RetryPolicy (exponential backoff with jitter, as AWS does), and, when
//! it fails for good, sent to the target's dead-letter queue with AWS's
//! attributes, or dropped with a log line saying why.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use super::input::{self, Context};
use super::records::{self, JobRecord};
use super::target::{self, rule_caller, rule_name, Failure, Target};
use super::{resolve_bus, Events, EventsResult};
use crate::clock::{iso8601_secs, Millis};
use crate::due::{backoff_ms, DueQueue};
use crate::sqs::{AttributeValue, Attributes, Queue, SendRequest};

/// The outbox's key family: invocations of targets eddy does not run.
pub(crate) const OUTBOX: u8 = b'O';
/// Deliveries attempted at once.
const PARALLEL: usize = 64;
/// Most jobs for one standard queue sent with one commit.
const QUEUE_BATCH: usize = 64;

/// Delivery counters, served at `/_eddy/events/stats`.
#[derive(Debug, Default)]
pub struct EventsStats {
    /// Entries PutEvents accepted.
    pub accepted: AtomicU64,
    /// Entries accepted for a bus that does not exist (AWS accepts them too; nothing matches).
    pub to_missing_bus: AtomicU64,
    /// Jobs written: (event, rule, target) triples.
    pub matched: AtomicU64,
    pub delivered: AtomicU64,
    pub retried: AtomicU64,
    pub dead_lettered: AtomicU64,
    /// Failed for good with no (usable) dead-letter queue.
    pub dropped: AtomicU64,
    /// Dropped because a queue's or topic's policy did not allow EventBridge (gotchas #3).
    pub dropped_by_policy: AtomicU64,
    /// Recorded in the outbox (targets eddy does not run).
    pub recorded: AtomicU64,
}

impl EventsStats {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Value {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        json!({
            "accepted": g(&self.accepted), "toMissingBus": g(&self.to_missing_bus), "matched": g(&self.matched),
            "delivered": g(&self.delivered), "retried": g(&self.retried), "deadLettered": g(&self.dead_lettered),
            "dropped": g(&self.dropped), "droppedByPolicy": g(&self.dropped_by_policy), "recorded": g(&self.recorded),
        })
    }
}

/// An invocation of a target eddy does not run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub target_arn: String,
    pub target_id: String,
    pub rule_arn: String,
    /// What the target would have received.
    pub input: String,
    pub time_ms: Millis,
}

/// What one delivery task does.
enum Work {
    One(u64, JobRecord),
    /// Jobs of one rule for one standard queue.
    ToQueue(Arc<Queue>, Vec<(u64, JobRecord)>),
}

/// An SQS refusal, as EventBridge reports it.
fn sqs_failure(e: crate::sqs::SqsError) -> Failure {
    Failure::permanent("SDK_CLIENT_ERROR", e.to_string())
}

/// Jobs waiting for their due time.
#[derive(Default)]
pub(crate) struct Jobs {
    queue: DueQueue<JobRecord>,
}

impl Jobs {
    pub fn insert(&self, seq: u64, job: JobRecord) {
        self.queue.insert(job.due_ms, seq, job);
    }

    pub fn pending(&self) -> usize {
        self.queue.pending()
    }
}

impl Events {
    /// Delivers due jobs until the task is aborted.
    pub async fn run_deliveries(self: Arc<Self>) {
        let slots = Arc::new(Semaphore::new(PARALLEL));
        self.resume_replays();
        let mut next_sweep = 0;
        loop {
            let now = self.now_ms();
            if now >= next_sweep {
                self.sweep_archives(now).await;
                next_sweep = now + 60_000;
            }
            let next_schedule = self.fire_schedules(now).await;
            for work in self.group(self.jobs.queue.take_due(now, PARALLEL * QUEUE_BATCH)) {
                let permit = slots.clone().acquire_owned().await.expect("never closed");
                let events = self.clone();
                tokio::spawn(async move {
                    match work {
                        Work::One(seq, job) => events.deliver(seq, job).await,
                        Work::ToQueue(queue, jobs) => events.deliver_to_queue(queue, jobs).await,
                    }
                    drop(permit);
                });
            }
            self.jobs.queue.nap(now, next_schedule, self.now_ms()).await;
        }
    }

    /// Makes the delivery loop look at the clock now (tests move it).
    pub fn jobs_wake(&self) {
        self.jobs.queue.wake();
    }

    pub fn pending_deliveries(&self) -> usize {
        self.jobs.pending()
    }

    /// Due jobs as units of work: those of one rule for one standard
    /// queue together (one commit for the lot, where one each would wait
    /// for a commit each), every other job on its own.
    fn group(&self, due: Vec<(u64, JobRecord)>) -> Vec<Work> {
        let mut work = Vec::new();
        let mut by_queue: HashMap<(String, String), usize> = HashMap::new();
        for (seq, job) in due {
            let arn = job.target["Arn"].as_str().unwrap_or_default();
            let queue = arn.starts_with("arn:aws:sqs:").then(|| self.sh.targets.sqs.lookup_arn(arn)).flatten();
            let Some(queue) = queue.filter(|q| !q.is_fifo()) else {
                work.push(Work::One(seq, job));
                continue;
            };
            let key = (job.rule_arn.clone(), arn.to_string());
            match by_queue.get(&key).copied() {
                Some(at) => match &mut work[at] {
                    Work::ToQueue(_, jobs) if jobs.len() < QUEUE_BATCH => jobs.push((seq, job)),
                    _ => {
                        by_queue.insert(key, work.len());
                        work.push(Work::ToQueue(queue, vec![(seq, job)]));
                    }
                },
                None => {
                    by_queue.insert(key, work.len());
                    work.push(Work::ToQueue(queue, vec![(seq, job)]));
                }
            }
        }
        work
    }

    async fn deliver(&self, seq: u64, mut job: JobRecord) {
        let target = Target::from_json(&job.target);
        job.attempts += 1;
        let result = self.attempt(&job, &target).await;
        self.settle(seq, job, &target, result).await;
    }

    /// Jobs of one rule for one standard queue: each is checked and
    /// rendered on its own, and those that pass are sent in one batch.
    async fn deliver_to_queue(&self, queue: Arc<Queue>, jobs: Vec<(u64, JobRecord)>) {
        let mut ready = Vec::new();
        for (seq, mut job) in jobs {
            let target = Target::from_json(&job.target);
            job.attempts += 1;
            match self.render(&job, &target).and_then(|(event, body)| self.queue_request(&job, &target, &event, body)) {
                Ok((_, req)) => ready.push((seq, job, target, req)),
                Err(failure) => self.settle(seq, job, &target, Err(failure)).await,
            }
        }
        let Some(first) = ready.first() else { return };
        let caller = rule_caller(&first.1.rule_arn);
        let mut entries = Vec::with_capacity(ready.len());
        let mut settling = Vec::with_capacity(ready.len());
        for (i, (seq, job, target, req)) in ready.into_iter().enumerate() {
            entries.push((i.to_string(), req));
            settling.push((seq, job, target));
        }
        let results: Vec<Result<(), Failure>> = match self.sh.targets.sqs.send_batch(&queue, &caller, entries).await {
            Ok(sent) => sent.into_iter().map(|(_, r)| r.map(|_| ()).map_err(sqs_failure)).collect(),
            Err(e) => settling.iter().map(|_| Err(sqs_failure(e.clone()))).collect(),
        };
        let mut delivered = Vec::new();
        for ((seq, job, target), result) in settling.into_iter().zip(results) {
            match result {
                Ok(()) => delivered.push(seq),
                Err(failure) => self.settle(seq, job, &target, Err(failure)).await,
            }
        }
        self.stats.delivered.fetch_add(delivered.len() as u64, Ordering::Relaxed);
        self.forget_all(&delivered);
    }

    /// After an attempt: done, retried later, or dead-lettered.
    async fn settle(&self, seq: u64, mut job: JobRecord, target: &Target, result: Result<(), Failure>) {
        let failure = match result {
            Ok(()) => {
                EventsStats::bump(&self.stats.delivered);
                return self.forget_all(&[seq]);
            }
            Err(f) => f,
        };
        let now = self.now_ms();
        let age_ms = now.saturating_sub(job.accepted_ms);
        let retries_done = job.attempts - 1;
        let exhausted = if !failure.retryable {
            None
        } else if retries_done >= target.max_retries {
            Some("MaximumRetryAttempts")
        } else if age_ms >= target.max_age_secs.saturating_mul(1000) {
            Some("MaximumEventAgeInSeconds")
        } else {
            job.due_ms = now + backoff_ms(job.attempts);
            EventsStats::bump(&self.stats.retried);
            tracing::info!(rule = %job.rule_arn, target = %target.arn, attempt = job.attempts, code = failure.code,
                reason = %failure.message, "EventBridge delivery failed; retrying");
            let mut batch = self.sh.store.batch();
            batch.put(&self.sh.jobs, records::job_key(seq).to_vec(), records::to_json(&job));
            if let Err(e) = self.commit(batch).await {
                tracing::error!(error = %e, "EventBridge: could not store a retry; it runs again after a restart");
            }
            self.jobs.insert(seq, job);
            return;
        };
        self.dead_letter(&job, target, &failure, exhausted).await;
        self.forget_all(&[seq]);
    }

    /// Deletes finished jobs (durably soon: a crash before that redelivers them, at least once).
    fn forget_all(&self, seqs: &[u64]) {
        if seqs.is_empty() {
            return;
        }
        let mut batch = self.sh.store.batch();
        for seq in seqs {
            batch.delete(&self.sh.jobs, records::job_key(*seq).to_vec());
        }
        if let Err(e) = batch
            .commit()
            .map_err(|e| e.to_string())
            .and_then(|t| self.sh.store.make_durable_soon(t).map_err(|e| e.to_string()))
        {
            tracing::warn!(error = %e, "EventBridge: could not delete a delivered job; it is delivered again after a restart");
        }
    }

    /// One attempt at one target.
    async fn attempt(&self, job: &JobRecord, target: &Target) -> Result<(), Failure> {
        let (event, body) = self.render(job, target)?;
        match target.service() {
            "sqs" => {
                let (queue, req) = self.queue_request(job, target, &event, body)?;
                let sent = self.sh.targets.sqs.send(&queue, &rule_caller(&job.rule_arn), req).await;
                sent.map(|_| ()).map_err(sqs_failure)
            }
            "sns" => self.to_topic(job, target, &event, body).await,
            "kinesis" => self.to_stream(job, target, &event, body).await,
            "events" if target.arn.contains(":event-bus/") => self.to_bus(job, target).await,
            "events" if target.arn.contains(":api-destination/") => self.to_destination(job, target, body).await,
            _ => self.to_outbox(job, target, body).await,
        }
    }

    /// The event as stored, and what the target receives (its Input,
    /// InputPath or InputTransformer applied).
    fn render(&self, job: &JobRecord, target: &Target) -> Result<(Value, String), Failure> {
        let event: Value = serde_json::from_str(&job.event)
            .map_err(|e| Failure::permanent("INVALID_JSON", format!("stored event is not JSON: {e}")))?;
        let ingestion = iso8601_secs(job.accepted_ms);
        let ctx = Context { rule_arn: &job.rule_arn, rule_name: rule_name(&job.rule_arn), ingestion_time: &ingestion };
        let body = input::render(&target.shape, &event, &job.event, &ctx);
        Ok((event, body))
    }

    /// The queue and the message for an SQS target, once its policy lets the rule in.
    fn queue_request(
        &self,
        job: &JobRecord,
        target: &Target,
        event: &Value,
        body: String,
    ) -> Result<(Arc<Queue>, SendRequest), Failure> {
        let sqs = &self.sh.targets.sqs;
        let Some(queue) = sqs.lookup_arn(&target.arn) else {
            return Err(Failure::permanent("NO_RESOURCE", format!("queue {} does not exist", target.arn)));
        };
        let policy = sqs.attribute(&queue, "Policy");
        target::check_policy(
            self.sh.config.enforcement,
            &self.policies,
            policy.as_deref(),
            "sqs:SendMessage",
            &queue.arn,
            job,
            "target",
        )?;
        let fifo = queue.is_fifo();
        let req = SendRequest {
            body,
            group_id: target.sqs_group.clone(),
            // FIFO queues deduplicate by the event's id.
            dedup_id: fifo.then(|| event["id"].as_str().unwrap_or_default().to_string()),
            trace_header: job.trace_header.clone(),
            ..SendRequest::default()
        };
        Ok((queue, req))
    }

    async fn to_topic(&self, job: &JobRecord, target: &Target, event: &Value, body: String) -> Result<(), Failure> {
        let sns = &self.sh.targets.sns;
        let Ok(topic) = sns.lookup_topic(&target.arn) else {
            return Err(Failure::permanent("NO_RESOURCE", format!("topic {} does not exist", target.arn)));
        };
        let policy = sns.topic_attributes(&target.arn).ok().and_then(|a| a.get("Policy").cloned());
        target::check_policy(
            self.sh.config.enforcement,
            &self.policies,
            policy.as_deref(),
            "sns:Publish",
            &topic.arn,
            job,
            "target",
        )?;
        let req = crate::sns::PublishRequest {
            topic_arn: Some(topic.arn.clone()),
            message: Some(body),
            group_id: topic.fifo.then(|| target.sqs_group.clone().unwrap_or_else(|| job.rule_arn.clone())),
            dedup_id: topic.fifo.then(|| event["id"].as_str().unwrap_or_default().to_string()),
            trace_header: job.trace_header.clone(),
            ..crate::sns::PublishRequest::default()
        };
        sns.publish(req).await.map(|_| ()).map_err(|e| Failure::permanent("SDK_CLIENT_ERROR", e.to_string()))
    }

    async fn to_stream(&self, job: &JobRecord, target: &Target, event: &Value, body: String) -> Result<(), Failure> {
        use crate::kinesis::{KinesisError, PutEntry, StreamRef};
        // AWS: without a PartitionKeyPath (or when it finds nothing) the event id is the key.
        let key = target
            .partition_key_path
            .as_deref()
            .and_then(|p| input::select(event, p))
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| event["id"].as_str().unwrap_or_default().to_string());
        let key: String = key.chars().take(256).collect();
        let entry = PutEntry { partition_key: key, explicit_hash_key: None, data: body.into_bytes() };
        let stream = StreamRef { name: None, arn: Some(target.arn.clone()) };
        match self.sh.targets.kinesis.put_record(&rule_caller(&job.rule_arn), &stream, entry, None).await {
            Ok(_) => Ok(()),
            Err(KinesisError::ResourceNotFound(m)) => Err(Failure::permanent("NO_RESOURCE", m)),
            Err(KinesisError::ProvisionedThroughputExceeded(m)) => Err(Failure::retryable("THROTTLING", m)),
            Err(KinesisError::Internal(m)) => Err(Failure::retryable("INTERNAL_ERROR", m)),
            Err(e) => Err(Failure::permanent("INVALID_PARAMETER", e.to_string())),
        }
    }

    /// Another bus: the event enters it as it is (its rules match it there).
    async fn to_bus(&self, job: &JobRecord, target: &Target) -> Result<(), Failure> {
        let caller = rule_caller(&job.rule_arn);
        let (account, region, name) = resolve_bus(&caller, Some(&target.arn))
            .map_err(|e| Failure::permanent("INVALID_PARAMETER", e.to_string()))?;
        let Some(bus) = self.bus_record(&account, &region, &name) else {
            return Err(Failure::permanent("NO_RESOURCE", format!("event bus {} does not exist", target.arn)));
        };
        if !self.may_put_events(&bus, &caller.account) {
            return Err(Failure {
                code: "NO_PERMISSIONS",
                message: format!(
                    "the policy of event bus {} does not let account {} put events",
                    target.arn, caller.account
                ),
                retryable: false,
                denied_by_policy: true,
            });
        }
        let event: Value = serde_json::from_str(&job.event).unwrap_or_default();
        let mut batch = self.sh.store.batch();
        let jobs = self.route(&mut batch, &event, &job.event, &bus, job.trace_header.clone(), self.now_ms());
        if batch.is_empty() {
            return Ok(());
        }
        self.commit(batch).await.map_err(|e| Failure::retryable("INTERNAL_ERROR", e.to_string()))?;
        for (seq, j) in jobs {
            self.jobs.insert(seq, j);
        }
        Ok(())
    }

    async fn to_outbox(&self, job: &JobRecord, target: &Target, body: String) -> Result<(), Failure> {
        let entry = OutboxEntry {
            target_arn: target.arn.clone(),
            target_id: target.id.clone(),
            rule_arn: job.rule_arn.clone(),
            input: body,
            time_ms: self.now_ms(),
        };
        let mut batch = self.sh.store.batch();
        self.sh.outbox.stage(&mut batch, self.sh.next_seq(), &entry);
        self.commit(batch).await.map_err(|e| Failure::retryable("INTERNAL_ERROR", e.to_string()))?;
        EventsStats::bump(&self.stats.recorded);
        tracing::info!(target = %target.arn, rule = %job.rule_arn,
            "EventBridge target recorded in the outbox (eddy does not run this service); see /_eddy/events/outbox");
        Ok(())
    }

    /// The outbox, oldest first, from `after` (a key from an earlier page).
    pub fn outbox(&self, after: Option<u64>, limit: usize) -> EventsResult<(Vec<OutboxEntry>, Option<u64>)> {
        self.sh.outbox.page(after, limit).map_err(super::EventsError::Internal)
    }

    /// A job that failed for good: to the target's dead-letter queue, if it
    /// has one whose policy lets EventBridge in; else dropped, and logged.
    async fn dead_letter(&self, job: &JobRecord, target: &Target, failure: &Failure, exhausted: Option<&str>) {
        let stats = &self.stats;
        let Some(dlq_arn) = &target.dead_letter_arn else {
            EventsStats::bump(if failure.denied_by_policy { &stats.dropped_by_policy } else { &stats.dropped });
            tracing::warn!(rule = %job.rule_arn, target = %target.arn, code = failure.code, reason = %failure.message,
                "EventBridge event dropped: delivery failed and the target has no DeadLetterConfig");
            return;
        };
        let sqs = &self.sh.targets.sqs;
        let Some(dlq) = sqs.lookup_arn(dlq_arn) else {
            EventsStats::bump(&stats.dropped);
            tracing::warn!(rule = %job.rule_arn, target = %target.arn, dlq = %dlq_arn, reason = %failure.message,
                "EventBridge event dropped: delivery failed and the dead-letter queue does not exist");
            return;
        };
        let policy = sqs.attribute(&dlq, "Policy");
        if let Err(denied) = target::check_policy(
            self.sh.config.enforcement,
            &self.policies,
            policy.as_deref(),
            "sqs:SendMessage",
            &dlq.arn,
            job,
            "dead-letter queue",
        ) {
            EventsStats::bump(&stats.dropped_by_policy);
            tracing::warn!(rule = %job.rule_arn, target = %target.arn, reason = %failure.message, why = %denied.message,
                "EventBridge event dropped: delivery failed, and the dead-letter queue's policy does not let EventBridge write to it");
            return;
        }
        let string = |s: &str| AttributeValue { data_type: "String".into(), string: Some(s.to_string()), binary: None };
        let mut attributes = Attributes::new();
        attributes.insert("RULE_ARN".into(), string(&job.rule_arn));
        attributes.insert("TARGET_ARN".into(), string(&target.arn));
        attributes.insert("ERROR_CODE".into(), string(failure.code));
        attributes.insert("ERROR_MESSAGE".into(), string(&failure.message.chars().take(1000).collect::<String>()));
        if let Some(condition) = exhausted {
            attributes.insert("EXHAUSTED_RETRY_CONDITION".into(), string(condition));
        }
        attributes.insert("RETRY_ATTEMPTS".into(), string(&job.attempts.saturating_sub(1).to_string()));
        let req = SendRequest {
            body: job.event.clone(),
            attributes,
            trace_header: job.trace_header.clone(),
            ..SendRequest::default()
        };
        match sqs.send(&dlq, &rule_caller(&job.rule_arn), req).await {
            Ok(_) => {
                EventsStats::bump(&stats.dead_lettered);
                tracing::info!(rule = %job.rule_arn, target = %target.arn, dlq = %dlq.arn, code = failure.code, reason = %failure.message,
                    "EventBridge delivery failed; event sent to the target's dead-letter queue");
            }
            Err(e) => {
                EventsStats::bump(&stats.dropped);
                tracing::warn!(rule = %job.rule_arn, dlq = %dlq.arn, error = %e,
                    "EventBridge event dropped: writing to the dead-letter queue failed");
            }
        }
    }
}
