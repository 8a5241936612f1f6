//! Scheduled rules: `rate(value unit)` and six-field `cron(...)` schedule
//! expressions (UTC; EventBridge Scheduler reuses the cron parser for its
//! time-zoned expressions), and their firing on the Clock. A scheduled rule sends
//! its targets AWS's "Scheduled Event" (source `aws.events`, the rule's ARN
//! in `resources`, an empty detail). Missed firings are not made up: after
//! a stop the rule fires once, then keeps its schedule.

use std::sync::Arc;

use time::{Date, OffsetDateTime, Weekday};

use super::error::validation;
use super::put::envelope;
use super::records::{self, JobRecord};
use super::{Events, EventsResult, EventsStats};
use crate::clock::{iso8601_secs, Millis};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Schedule {
    Rate { every_ms: u64 },
    Cron(Cron),
}

fn invalid() -> super::EventsError {
    validation("Parameter ScheduleExpression is not valid.")
}

impl Schedule {
    pub fn parse(expr: &str) -> EventsResult<Schedule> {
        if let Some(body) = expr.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
            return parse_rate(body);
        }
        if let Some(body) = expr.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
            return Cron::parse(body).map(Schedule::Cron);
        }
        Err(invalid())
    }

    /// The first firing after `after`; `anchor` is when the rule was made (rates count from it).
    pub fn next_after(&self, after: Millis, anchor: Millis) -> Option<Millis> {
        match self {
            Schedule::Rate { every_ms } => {
                let k = after.saturating_sub(anchor) / every_ms + 1;
                Some(anchor + k * every_ms)
            }
            Schedule::Cron(c) => c.next_after(after),
        }
    }
}

fn parse_rate(body: &str) -> EventsResult<Schedule> {
    let (value, unit) = body.trim().split_once(' ').ok_or_else(invalid)?;
    let n: u64 = value.parse().map_err(|_| invalid())?;
    let unit_ms = match (n, unit.trim()) {
        (1, "minute") => 60_000,
        (1, "hour") => 3_600_000,
        (1, "day") => 86_400_000,
        (2.., "minutes") => 60_000,
        (2.., "hours") => 3_600_000,
        (2.., "days") => 86_400_000,
        _ => return Err(invalid()),
    };
    Ok(Schedule::Rate { every_ms: n * unit_ms })
}

/// A six-field AWS cron: minutes hours day-of-month month day-of-week year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cron {
    minutes: Vec<u8>,
    hours: Vec<u8>,
    days: DayRule,
    months: Vec<u8>,
    years: Option<Vec<u16>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DayRule {
    /// Day-of-month values (`?` in day-of-week).
    MonthDays(Vec<u8>),
    LastDayOfMonth,
    /// `15W`: the weekday nearest the 15th, within the month.
    NearestWeekday(u8),
    /// Day-of-week values, 1 = Sunday (`?` in day-of-month).
    WeekDays(Vec<u8>),
    /// `6L`: the last Friday of the month.
    LastWeekday(u8),
    /// `3#2`: the second Tuesday.
    NthWeekday(u8, u8),
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Cron {
    pub(crate) fn parse(body: &str) -> EventsResult<Cron> {
        let f: Vec<&str> = body.split_whitespace().collect();
        let [min, hour, dom, month, dow, year] = f[..] else { return Err(invalid()) };
        let days = match (dom, dow) {
            ("?", "?") => return Err(invalid()),
            ("?", dow) => week_rule(dow)?,
            (dom, "?") => month_rule(dom)?,
            // AWS: one of day-of-month and day-of-week must be `?`.
            _ => return Err(invalid()),
        };
        Ok(Cron {
            minutes: field(min, 0, 59, &[])?,
            hours: field(hour, 0, 23, &[])?,
            days,
            months: field(month, 1, 12, &MONTHS)?,
            years: match year {
                "*" => None,
                y => Some(field_u16(y, 1970, 2199)?),
            },
        })
    }

    /// The first minute after `after` the expression matches. Also used on
    /// wall-clock times (a time zone's civil time counted as if it were UTC)
    /// by EventBridge Scheduler.
    pub(crate) fn next_after(&self, after: Millis) -> Option<Millis> {
        let start = OffsetDateTime::from_unix_timestamp(i64::try_from(after / 1000).ok()? / 60 * 60 + 60).ok()?;
        let mut date = start.date();
        let mut first_day = true;
        // Five years of days is past every expression that can fire at all.
        for _ in 0..(5 * 366) {
            if self.date_matches(date) {
                let from = if first_day { (start.hour(), start.minute()) } else { (0, 0) };
                if let Some((h, m)) = self.first_time_from(from) {
                    let t = date.with_hms(h, m, 0).ok()?.assume_utc();
                    return u64::try_from(t.unix_timestamp()).ok().map(|s| s * 1000);
                }
            }
            date = date.next_day()?;
            first_day = false;
        }
        None
    }

    fn first_time_from(&self, (hour, minute): (u8, u8)) -> Option<(u8, u8)> {
        for &h in self.hours.iter().filter(|&&h| h >= hour) {
            let low = if h == hour { minute } else { 0 };
            if let Some(&m) = self.minutes.iter().find(|&&m| m >= low) {
                return Some((h, m));
            }
        }
        None
    }

    fn date_matches(&self, d: Date) -> bool {
        if !self.months.contains(&(d.month() as u8)) {
            return false;
        }
        if self.years.as_ref().is_some_and(|ys| !ys.contains(&(d.year() as u16))) {
            return false;
        }
        let last = last_day(d);
        let weekday = d.weekday().number_from_sunday();
        match &self.days {
            DayRule::MonthDays(days) => days.contains(&d.day()),
            DayRule::LastDayOfMonth => d.day() == last,
            DayRule::NearestWeekday(n) => d.day() == nearest_weekday(d, *n, last),
            DayRule::WeekDays(days) => days.contains(&weekday),
            DayRule::LastWeekday(w) => weekday == *w && d.day() + 7 > last,
            DayRule::NthWeekday(w, n) => weekday == *w && (d.day() - 1) / 7 + 1 == *n,
        }
    }
}

fn last_day(d: Date) -> u8 {
    d.month().length(d.year())
}

fn nearest_weekday(d: Date, n: u8, last: u8) -> u8 {
    let n = n.min(last);
    let Ok(target) = Date::from_calendar_date(d.year(), d.month(), n) else { return 0 };
    match target.weekday() {
        Weekday::Saturday if n == 1 => 3,
        Weekday::Saturday => n - 1,
        Weekday::Sunday if n == last => n - 2,
        Weekday::Sunday => n + 1,
        _ => n,
    }
}

fn month_rule(dom: &str) -> EventsResult<DayRule> {
    if dom == "L" {
        return Ok(DayRule::LastDayOfMonth);
    }
    if let Some(n) = dom.strip_suffix('W') {
        let n: u8 = n.parse().map_err(|_| invalid())?;
        return if (1..=31).contains(&n) { Ok(DayRule::NearestWeekday(n)) } else { Err(invalid()) };
    }
    field(dom, 1, 31, &[]).map(DayRule::MonthDays)
}

fn week_rule(dow: &str) -> EventsResult<DayRule> {
    let day = |s: &str| -> EventsResult<u8> { single(s, 1, 7, &DAYS) };
    if let Some(w) = dow.strip_suffix('L') {
        return Ok(DayRule::LastWeekday(if w.is_empty() { 7 } else { day(w)? }));
    }
    if let Some((w, n)) = dow.split_once('#') {
        let n: u8 = n.parse().map_err(|_| invalid())?;
        return if (1..=5).contains(&n) { Ok(DayRule::NthWeekday(day(w)?, n)) } else { Err(invalid()) };
    }
    field(dow, 1, 7, &DAYS).map(DayRule::WeekDays)
}

/// One value: a number in `low..=high` or a name (names[i] is low + i).
fn single(s: &str, low: u8, high: u8, names: &[&str]) -> EventsResult<u8> {
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
        return Ok(low + i as u8);
    }
    let n: u8 = s.parse().map_err(|_| invalid())?;
    if (low..=high).contains(&n) {
        Ok(n)
    } else {
        Err(invalid())
    }
}

/// `*`, `a`, `a-b`, `a/step`, `*/step`, `a-b/step`, and lists of them; sorted values.
fn field(s: &str, low: u8, high: u8, names: &[&str]) -> EventsResult<Vec<u8>> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, st)) => (r, st.parse::<u8>().ok().filter(|&n| n > 0).ok_or_else(invalid)?),
            None => (part, 1),
        };
        let (a, b) = match range {
            "*" => (low, high),
            r => match r.split_once('-') {
                Some((a, b)) => (single(a, low, high, names)?, single(b, low, high, names)?),
                None if step > 1 => (single(r, low, high, names)?, high),
                None => {
                    let v = single(r, low, high, names)?;
                    (v, v)
                }
            },
        };
        if a > b {
            return Err(invalid());
        }
        out.extend((a..=b).step_by(usize::from(step)));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

fn field_u16(s: &str, low: u16, high: u16) -> EventsResult<Vec<u16>> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, st)) => (r, st.parse::<u16>().ok().filter(|&n| n > 0).ok_or_else(invalid)?),
            None => (part, 1),
        };
        let num = |x: &str| x.parse::<u16>().ok().filter(|n| (low..=high).contains(n)).ok_or_else(invalid);
        let (a, b) = match range.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None if step > 1 => (num(range)?, high),
            None => (num(range)?, num(range)?),
        };
        out.extend((a..=b).step_by(usize::from(step)));
    }
    Ok(out)
}

impl Events {
    /// Fires every enabled scheduled rule that is due; returns when the next one is.
    pub(crate) async fn fire_schedules(&self, now: Millis) -> Millis {
        if let Some(next) = self.rules.next_schedule().filter(|next| *next > now) {
            return next;
        }
        let mut next = Millis::MAX;
        let (generation, due) = {
            let rules = self.rules.read();
            let due: Vec<_> = rules.values().filter(|r| r.schedule.is_some() && r.enabled()).cloned().collect();
            (self.rules.generation(), due)
        };
        for rule in due {
            let schedule = rule.schedule.as_ref().expect("filtered");
            let since = rule.record.last_fired_ms.unwrap_or(rule.record.created_ms);
            let Some(at) = schedule.next_after(since, rule.record.created_ms) else { continue };
            if at > now {
                next = next.min(at);
                continue;
            }
            if let Err(e) = self.fire(&rule, at, now).await {
                tracing::error!(rule = %rule.arn, error = %e, "EventBridge: a scheduled rule could not fire");
            }
            if let Some(n) = schedule.next_after(now, rule.record.created_ms) {
                next = next.min(n);
            }
        }
        // Firing rewrites a rule, which moves the generation on: the next
        // turn looks again, and remembers from then.
        self.rules.set_next_schedule(generation, next);
        next
    }

    async fn fire(&self, rule: &Arc<super::Rule>, at: Millis, now: Millis) -> EventsResult<()> {
        let r = &rule.record;
        let id = uuid::Uuid::new_v4().to_string();
        let text = envelope(
            &id,
            "Scheduled Event",
            "aws.events",
            &r.account,
            &iso8601_secs(at),
            &r.region,
            std::slice::from_ref(&rule.arn),
            &serde_json::json!({}),
        );
        let key = records::rule_key(&r.account, &r.region, &r.bus, &r.name);
        let (ticket, jobs) = {
            let _w = self.write.lock();
            let Some(current) = self.rules.read().get(&key).cloned() else { return Ok(()) };
            let mut record = current.record.clone();
            record.last_fired_ms = Some(now);
            let mut batch = self.sh.store.batch();
            batch.put(&self.sh.rules, key.clone(), records::to_json(&record));
            let mut jobs = Vec::new();
            for target in &record.targets {
                let job = JobRecord {
                    event: text.clone(),
                    rule_arn: rule.arn.clone(),
                    target: target.clone(),
                    attempts: 0,
                    accepted_ms: now,
                    due_ms: now,
                    trace_header: None,
                };
                let seq = self.sh.next_seq();
                batch.put(&self.sh.jobs, records::job_key(seq).to_vec(), records::to_json(&job));
                EventsStats::bump(&self.stats.matched);
                jobs.push((seq, job));
            }
            let ticket = batch.commit()?;
            let updated = super::Rule {
                record,
                arn: current.arn.clone(),
                pattern: current.pattern.clone(),
                schedule: current.schedule.clone(),
            };
            self.rules.write().insert(key, Arc::new(updated));
            (ticket, jobs)
        };
        self.sh.store.durable(ticket).await?;
        tracing::debug!(rule = %rule.arn, targets = jobs.len(), "EventBridge scheduled rule fired");
        for (seq, job) in jobs {
            self.jobs.insert(seq, job);
        }
        Ok(())
    }
}
