//! Schedule expressions: `at(yyyy-mm-ddThh:mm:ss)`, `rate(value unit)` and
//! six-field `cron(...)`, read in the schedule's IANA time zone (UTC by
//! default). The cron parser is EventBridge's ([`crate::events::schedule`]);
//! here it gains a time zone.
//!
//! Daylight saving time, as AWS documents it for Scheduler: a cron time
//! that does not exist (spring forward) is skipped; one that exists twice
//! (fall back) fires once, at its first occurrence. `at()` names a wall
//! clock time too: in a gap it fires at the time the clock jumps to.

use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::Timestamp;

use super::error::{validation, SchedulerResult};
use crate::clock::Millis;
use crate::events::schedule::Cron;

#[derive(Debug, Clone)]
pub enum Kind {
    /// One time: a wall-clock time, as milliseconds counted as if it were UTC.
    At(Millis),
    Rate {
        every_ms: u64,
    },
    Cron(Cron),
}

#[derive(Debug, Clone)]
pub struct Expression {
    pub kind: Kind,
    pub tz: TimeZone,
}

pub(crate) fn invalid_expression(expr: &str) -> super::SchedulerError {
    validation(format!("Invalid Schedule Expression {expr}."))
}

impl Expression {
    pub fn parse(expr: &str, timezone: Option<&str>) -> SchedulerResult<Expression> {
        let kind = parse_kind(expr).ok_or_else(|| invalid_expression(expr))?;
        let tz = match timezone {
            None => TimeZone::UTC,
            Some(name) => {
                TimeZone::get(name).map_err(|_| validation(format!("Invalid Schedule Expression Timezone {name}.")))?
            }
        };
        Ok(Expression { kind, tz })
    }

    pub fn is_one_time(&self) -> bool {
        matches!(self.kind, Kind::At(_))
    }

    /// The first firing strictly after `after` (epoch ms). `anchor` is
    /// where rates count from.
    pub fn next_after(&self, after: Millis, anchor: Millis) -> Option<Millis> {
        match &self.kind {
            Kind::Rate { every_ms } => {
                if after < anchor {
                    return Some(anchor);
                }
                let k = (after - anchor) / every_ms + 1;
                anchor.checked_add(k.checked_mul(*every_ms)?)
            }
            Kind::At(wall) => {
                let at = self.to_instant(*wall, true)?;
                (at > after).then_some(at)
            }
            Kind::Cron(cron) => {
                let mut wall = self.wall(after)?;
                // A few years of firings skipped by gaps and folds at most.
                for _ in 0..10_000 {
                    let candidate = cron.next_after(wall)?;
                    if let Some(at) = self.to_instant(candidate, false) {
                        if at > after {
                            return Some(at);
                        }
                    }
                    wall = candidate;
                }
                None
            }
        }
    }

    /// The wall-clock time at `instant`, as milliseconds counted as if UTC.
    fn wall(&self, instant: Millis) -> Option<Millis> {
        let ts = Timestamp::from_millisecond(i64::try_from(instant).ok()?).ok()?;
        let civil = self.tz.to_datetime(ts);
        let as_utc = TimeZone::UTC.to_timestamp(civil).ok()?;
        u64::try_from(as_utc.as_millisecond()).ok()
    }

    /// The instant of a wall-clock time: a fold's first occurrence; a gap's
    /// end if `gap_forward`, else None (skipped).
    fn to_instant(&self, wall: Millis, gap_forward: bool) -> Option<Millis> {
        let civil: DateTime = TimeZone::UTC.to_datetime(Timestamp::from_millisecond(i64::try_from(wall).ok()?).ok()?);
        let ambiguous = self.tz.to_ambiguous_timestamp(civil);
        let ts = match ambiguous.offset() {
            AmbiguousOffset::Unambiguous { .. } => ambiguous.unambiguous().ok()?,
            AmbiguousOffset::Fold { .. } => ambiguous.earlier().ok()?,
            AmbiguousOffset::Gap { .. } if gap_forward => ambiguous.later().ok()?,
            AmbiguousOffset::Gap { .. } => return None,
        };
        u64::try_from(ts.as_millisecond()).ok()
    }
}

fn parse_kind(expr: &str) -> Option<Kind> {
    if let Some(body) = expr.strip_prefix("at(").and_then(|r| r.strip_suffix(')')) {
        return parse_at(body).map(Kind::At);
    }
    if let Some(body) = expr.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        return parse_rate(body);
    }
    if let Some(body) = expr.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
        return Cron::parse(body).ok().map(Kind::Cron);
    }
    None
}

/// `value unit`, one space between. Unlike EventBridge rules, Scheduler
/// takes the unit singular or plural whatever the value: AWS accepted
/// `rate(2 minute)` (recorded in LocalStack's scheduler snapshots).
fn parse_rate(body: &str) -> Option<Kind> {
    let (value, unit) = body.split_once(' ')?;
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = value.parse().ok().filter(|&n| n > 0)?;
    let unit_ms: u64 = match unit {
        "minute" | "minutes" => 60_000,
        "hour" | "hours" => 3_600_000,
        "day" | "days" => 86_400_000,
        _ => return None,
    };
    Some(Kind::Rate { every_ms: n.checked_mul(unit_ms)? })
}

/// `yyyy-mm-ddThh:mm:ss`, exactly (no zone, no fraction).
fn parse_at(body: &str) -> Option<Millis> {
    let b = body.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shaped = b.len() == 19
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shaped {
        return None;
    }
    let civil: DateTime = body.parse().ok()?;
    u64::try_from(TimeZone::UTC.to_timestamp(civil).ok()?.as_millisecond()).ok()
}
