//! Typed readings of condition values: numbers, dates, IP ranges, binary.
//! Each returns `None` for text it cannot read, and the operator then does
//! not match: a malformed value never panics and never grants.

use std::net::IpAddr;

use base64::Engine;

/// An integer or decimal, as the `Numeric…` operators take.
pub(super) fn number(s: &str) -> Option<f64> {
    let t = s.trim();
    // `f64::from_str` also reads "inf" and "NaN"; IAM numbers are digits.
    let digits = t.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
    if t.is_empty() || !digits {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Milliseconds since the epoch for epoch seconds (`1700000000`) or a W3C
/// ISO 8601 form: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, and with `Thh:mm`,
/// `Thh:mm:ss` or `Thh:mm:ss.s…` plus `Z` or `±hh:mm` (no zone reads as UTC).
/// An all-digit value is epoch seconds, even four digits.
pub(super) fn date_ms(s: &str) -> Option<i64> {
    let t = s.trim();
    let unsigned = t.strip_prefix('-').unwrap_or(t);
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<i64>().ok()?.checked_mul(1000);
    }
    iso8601_ms(t)
}

fn iso8601_ms(t: &str) -> Option<i64> {
    let (date, time) = match t.split_once(['T', 't']) {
        Some((d, rest)) => (d, Some(rest)),
        None => (t, None),
    };
    let days = civil_days(date)?;
    let ms_in_day = match time {
        Some(time) => time_of_day_ms(time)?,
        None => 0,
    };
    days.checked_mul(86_400_000)?.checked_add(ms_in_day)
}

/// `YYYY[-MM[-DD]]` to days since 1970-01-01.
fn civil_days(date: &str) -> Option<i64> {
    let mut parts = date.split('-');
    let year = fixed_digits(parts.next()?, 4)?;
    let month = parts.next().map_or(Some(1), |m| fixed_digits(m, 2))?;
    let day = parts.next().map_or(Some(1), |d| fixed_digits(d, 2))?;
    if parts.next().is_some() {
        return None;
    }
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    // Refuses a day the month does not have (2023-02-29).
    let date = time::Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp().div_euclid(86_400))
}

/// `hh:mm[:ss[.fff…]]` then `Z`, `±hh:mm` or nothing; milliseconds from the
/// day's UTC midnight (negative or past a day when the offset says so).
fn time_of_day_ms(time: &str) -> Option<i64> {
    let (clock, offset_min) = split_zone(time)?;
    let (hms, frac) = match clock.split_once('.') {
        Some((hms, frac)) if !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()) => (hms, frac),
        Some(_) => return None,
        None => (clock, ""),
    };
    let mut parts = hms.split(':');
    let h = fixed_digits(parts.next()?, 2)?;
    let m = fixed_digits(parts.next()?, 2)?;
    let s = parts.next().map_or(Some(0), |s| fixed_digits(s, 2))?;
    if parts.next().is_some() || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let millis: i64 = format!("{frac:0<3}").get(..3)?.parse().ok()?;
    Some(((h * 60 + m - offset_min) * 60 + s) * 1000 + millis)
}

/// Splits the zone designator off, giving its offset in minutes east of UTC.
fn split_zone(time: &str) -> Option<(&str, i64)> {
    if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    let Some(at) = time.rfind(['+', '-']) else { return Some((time, 0)) };
    let (clock, zone) = time.split_at(at);
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let (zh, zm) = zone.get(1..)?.split_once(':').unwrap_or((zone.get(1..3)?, zone.get(3..)?));
    let (zh, zm) = (fixed_digits(zh, 2)?, fixed_digits(zm, 2)?);
    (zh <= 23 && zm <= 59).then_some((clock, sign * (zh * 60 + zm)))
}

fn fixed_digits(s: &str, n: usize) -> Option<i64> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// An address range: family, first address as a number, prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cidr {
    v6: bool,
    base: u128,
    prefix: u32,
}

/// `203.0.113.0/24`, `2001:DB8::/64`, or a bare address (`/32`, `/128`).
pub(super) fn cidr(s: &str) -> Option<Cidr> {
    let (addr, prefix) = match s.trim().split_once('/') {
        Some((a, p)) => (a, Some(p.parse::<u32>().ok()?)),
        None => (s.trim(), None),
    };
    let (v6, bits, width) = match addr.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) => (false, u32::from(a) as u128, 32),
        IpAddr::V6(a) => (true, u128::from(a), 128),
    };
    let prefix = prefix.unwrap_or(width);
    (prefix <= width).then_some(Cidr { v6, base: bits, prefix })
}

impl Cidr {
    /// Whether `ip` (an address; a prefix on it is ignored) lies in this range.
    pub(super) fn contains(&self, ip: &str) -> bool {
        let Some(ip) = cidr(ip) else { return false };
        let width = if self.v6 { 128 } else { 32 };
        let shift = width - self.prefix;
        let same = |a: u128, b: u128| shift >= 128 || (a >> shift) == (b >> shift);
        ip.v6 == self.v6 && same(ip.base, self.base)
    }
}

/// `BinaryEquals`: the policy holds base64; the request value is compared
/// byte for byte (read as base64 too when it is, else as its own bytes).
pub(super) fn binary_equals(policy_b64: &str, request: &str) -> bool {
    let engine = base64::engine::general_purpose::STANDARD;
    let Ok(wanted) = engine.decode(policy_b64.trim()) else { return false };
    match engine.decode(request.trim()) {
        Ok(got) => got == wanted,
        Err(_) => request.as_bytes() == wanted.as_slice(),
    }
}
