//! PutEvents and TestEventPattern: entries checked as AWS checks them
//! (per entry: a missing field or a detail that is not a JSON object fails
//! that entry alone), each accepted entry made into EventBridge's event
//! envelope and matched against the bus's enabled rules; one durable job
//! per matched target is written before the answer.

use serde_json::Value;

use super::error::validation;
use super::records::{self, BusRecord, JobRecord};
use super::{resolve_bus, Events, EventsResult, EventsStats};
use crate::clock::{iso8601_secs, Millis};
use crate::identity::Caller;

/// The most a PutEvents request's entries may add up to (AWS's sizing).
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;
pub const MAX_ENTRIES: usize = 10;

/// One PutEvents entry.
#[derive(Debug, Clone, Default)]
pub struct EventEntry {
    pub source: Option<String>,
    pub detail_type: Option<String>,
    pub detail: Option<String>,
    pub resources: Vec<String>,
    pub time_ms: Option<Millis>,
    pub bus: Option<String>,
    pub trace_header: Option<String>,
}

impl EventEntry {
    /// AWS's size of an entry: 14 bytes for a Time, plus the UTF-8 bytes of
    /// Source, DetailType, Detail and each resource.
    fn size(&self) -> usize {
        let text = |s: &Option<String>| s.as_deref().map_or(0, str::len);
        usize::from(self.time_ms.is_some()) * 14
            + text(&self.source)
            + text(&self.detail_type)
            + text(&self.detail)
            + self.resources.iter().map(String::len).sum::<usize>()
    }
}

/// One entry's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryResult {
    Accepted { event_id: String },
    Failed { code: String, message: String },
}

fn failed(code: &str, message: impl Into<String>) -> EntryResult {
    EntryResult::Failed { code: code.to_string(), message: message.into() }
}

impl Events {
    pub async fn put_events(&self, caller: &Caller, entries: Vec<EventEntry>) -> EventsResult<Vec<EntryResult>> {
        if entries.is_empty() || entries.len() > MAX_ENTRIES {
            return Err(validation(format!(
                "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length {}",
                if entries.is_empty() { "greater than or equal to 1" } else { "less than or equal to 10" }
            )));
        }
        if entries.iter().map(EventEntry::size).sum::<usize>() > MAX_REQUEST_BYTES {
            return Err(validation("Total size of the entries in the request is over the limit."));
        }
        let now = self.now_ms();
        let mut batch = self.sh.store.batch();
        let mut jobs = Vec::new();
        let mut results = Vec::with_capacity(entries.len());
        for entry in entries {
            let result = match self.accept(caller, &entry, now) {
                Ok((event, text, bus)) => {
                    let event_id = event["id"].as_str().unwrap_or_default().to_string();
                    EventsStats::bump(&self.stats.accepted);
                    if let Some(bus) = bus {
                        jobs.extend(self.route(&mut batch, &event, &text, &bus, entry.trace_header.clone(), now));
                    }
                    EntryResult::Accepted { event_id }
                }
                Err(failure) => failure,
            };
            results.push(result);
        }
        if !batch.is_empty() {
            self.commit(batch).await?;
            for (seq, job) in jobs {
                self.jobs.insert(seq, job);
            }
        }
        Ok(results)
    }

    /// An entry's event, its JSON text and its bus (None: the bus does not
    /// exist, which AWS does not report), or the entry's failure.
    fn accept(
        &self,
        caller: &Caller,
        entry: &EventEntry,
        now: Millis,
    ) -> Result<(Value, String, Option<std::sync::Arc<BusRecord>>), EntryResult> {
        let required = |value: &Option<String>, name: &str| match value.as_deref() {
            Some(v) if !v.is_empty() => Ok(v.to_string()),
            _ => Err(failed(
                "InvalidArgument",
                format!("Parameter {name} is not valid. Reason: {name} is a required argument."),
            )),
        };
        let source = required(&entry.source, "Source")?;
        let detail_type = required(&entry.detail_type, "DetailType")?;
        let detail_text = required(&entry.detail, "Detail")?;
        let detail = match serde_json::from_str::<Value>(&detail_text) {
            Ok(v) if v.is_object() => v,
            _ => return Err(failed("MalformedDetail", "Detail is malformed.")),
        };
        if source.starts_with("aws.") {
            return Err(failed("NotAuthorizedForSourceException", "Not authorized for the source."));
        }
        let (account, region, name) =
            resolve_bus(caller, entry.bus.as_deref()).map_err(|e| failed("InvalidArgument", e.to_string()))?;
        let bus = self.bus_record(&account, &region, &name);
        if let Some(bus) = &bus {
            if !self.may_put_events(bus, &caller.account) {
                return Err(failed(
                    "AccessDeniedException",
                    format!("The policy of event bus {name} does not allow account {} to put events.", caller.account),
                ));
            }
        } else {
            EventsStats::bump(&self.stats.to_missing_bus);
            tracing::warn!(bus = %name, account = %account,
                "PutEvents entry accepted for an event bus that does not exist: AWS answers success and delivers nothing");
        }
        let time = iso8601_secs(entry.time_ms.unwrap_or(now));
        let id = uuid::Uuid::new_v4().to_string();
        let text = envelope(&id, &detail_type, &source, &account, &time, &region, &entry.resources, &detail);
        let event = serde_json::from_str(&text).expect("the envelope is JSON");
        Ok((event, text, bus))
    }

    /// An event entering `bus`: archived by the bus's archives, shown to
    /// the bus observer (schema discovery), and a job written for each
    /// target of each enabled rule that matches it; returns the jobs
    /// (keyed) for the delivery loop.
    pub(crate) fn route(
        &self,
        batch: &mut eddy_store::WriteBatch,
        event: &Value,
        text: &str,
        bus: &BusRecord,
        trace_header: Option<String>,
        now: Millis,
    ) -> Vec<(u64, JobRecord)> {
        let bus_arn = super::bus_arn(&bus.region, &bus.account, &bus.name);
        self.archive_event(batch, event, text, &bus_arn, now);
        self.observer.notify(batch, &bus_arn, event);
        self.route_to(batch, event, text, bus, trace_header, now, None)
    }

    /// The jobs of `route`, for the rules in `only` if given (a replay's FilterArns).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn route_to(
        &self,
        batch: &mut eddy_store::WriteBatch,
        event: &Value,
        text: &str,
        bus: &BusRecord,
        trace_header: Option<String>,
        now: Millis,
        only: Option<&[String]>,
    ) -> Vec<(u64, JobRecord)> {
        let mut jobs = Vec::new();
        let index = self.rules.index(&records::rule_key(&bus.account, &bus.region, &bus.name, ""));
        for rule in index.candidates(event) {
            if !rule.matches(event) || only.is_some_and(|o| !o.contains(&rule.arn)) {
                continue;
            }
            for target in &rule.record.targets {
                let job = JobRecord {
                    event: text.to_string(),
                    rule_arn: rule.arn.clone(),
                    target: target.clone(),
                    attempts: 0,
                    accepted_ms: now,
                    due_ms: now,
                    trace_header: trace_header.clone(),
                };
                let seq = self.sh.next_seq();
                batch.put(&self.sh.jobs, records::job_key(seq).to_vec(), records::to_json(&job));
                EventsStats::bump(&self.stats.matched);
                jobs.push((seq, job));
            }
        }
        jobs
    }

    /// TestEventPattern: whether `pattern` matches `event`.
    pub fn test_event_pattern(&self, pattern: &str, event: &str) -> EventsResult<bool> {
        let pattern = super::rule::parse_pattern(pattern)?;
        let event: Value = serde_json::from_str(event).map_err(|_| validation("Parameter Event is not valid."))?;
        let has = |key: &str| event.get(key).is_some_and(Value::is_string);
        let valid = event.is_object()
            && ["id", "account", "source", "time", "region", "detail-type"].iter().all(|k| has(k))
            && event.get("resources").is_none_or(Value::is_array);
        if !valid {
            return Err(validation("Parameter Event is not valid."));
        }
        Ok(pattern.matches(&event))
    }
}

/// EventBridge's event, with its fields in AWS's order.
#[allow(clippy::too_many_arguments)]
pub(crate) fn envelope(
    id: &str,
    detail_type: &str,
    source: &str,
    account: &str,
    time: &str,
    region: &str,
    resources: &[String],
    detail: &Value,
) -> String {
    let s = |v: &str| Value::from(v).to_string();
    format!(
        r#"{{"version":"0","id":{},"detail-type":{},"source":{},"account":{},"time":{},"region":{},"resources":{},"detail":{}}}"#,
        s(id),
        s(detail_type),
        s(source),
        s(account),
        s(time),
        s(region),
        serde_json::to_string(resources).expect("strings serialise"),
        detail
    )
}
