//! IP addresses and CIDR blocks as event-ruler reads them. Ruler only
//! treats text as an address if it looks like one (a dotted quad, or hex
//! digits and colons) and then asks Java's `InetAddress`; the error texts
//! below are ruler's, recorded by AWS for SNS and EventBridge alike.

use std::net::Ipv6Addr;

/// An address as big-endian bytes: 4 for IPv4, 16 for IPv6.
pub(super) type IpBytes = Vec<u8>;

/// An inclusive address range of one family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct IpRange {
    lo: IpBytes,
    hi: IpBytes,
}

impl IpRange {
    pub(super) fn contains(&self, ip: &[u8]) -> bool {
        ip.len() == self.lo.len() && self.lo.as_slice() <= ip && ip <= self.hi.as_slice()
    }
}

/// Ruler's `Constants.IPv4_REGEX`: `[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+`.
fn looks_v4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Ruler's `Constants.IPv6_REGEX`: `[0-9a-fA-F:]*:[0-9a-fA-F:]*`.
fn looks_v6(s: &str) -> bool {
    s.contains(':') && s.bytes().all(|b| b == b':' || b.is_ascii_hexdigit())
}

/// Parses an address the way ruler's `CIDR.ipToBytes` does.
pub(super) fn parse(s: &str) -> Result<IpBytes, String> {
    if looks_v4(s) {
        return parse_v4(s).ok_or_else(|| format!("Invalid IP address: {s}"));
    }
    if looks_v6(s) {
        let addr: Ipv6Addr = s.parse().map_err(|_| format!("Invalid IP address: {s}"))?;
        // Java's InetAddress turns IPv4-mapped IPv6 literals into IPv4.
        return Ok(match addr.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => addr.octets().to_vec(),
        });
    }
    Err(format!("Nonstandard IP address: {s}"))
}

/// Java accepts each dotted part as a decimal number up to 255, leading
/// zeros included.
fn parse_v4(s: &str) -> Option<IpBytes> {
    let octet = |part: &str| match part.trim_start_matches('0') {
        "" => Some(0),
        digits => digits.parse::<u8>().ok(),
    };
    s.split('.').map(octet).collect()
}

/// Ruler's `CIDR.cidr`, with its error messages.
pub(super) fn cidr(text: &str) -> Result<IpRange, String> {
    // Java's String.split drops trailing empty parts.
    let mut parts: Vec<&str> = text.split('/').collect();
    while parts.last() == Some(&"") {
        parts.pop();
    }
    let [addr, mask] = parts[..] else { return Err("Malformed CIDR, one '/' required".to_string()) };
    let bits = java_parse_int(mask).ok_or("Malformed CIDR, mask bits must be an integer")?;
    if bits < 0 {
        return Err("Malformed CIDR, mask bits must not be negative".to_string());
    }
    let base = parse(addr)?;
    if base.len() == 4 && bits > 31 {
        return Err("IPv4 mask bits must be < 32".to_string());
    }
    if base.len() == 16 && bits > 127 {
        return Err("IPv6 mask bits must be < 128".to_string());
    }
    Ok(block(&base, bits as u32))
}

/// `Integer.parseInt`: optional sign, decimal digits, 32-bit range.
fn java_parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i32>().ok().map(i64::from)
}

fn block(base: &[u8], bits: u32) -> IpRange {
    let mut lo = base.to_vec();
    let mut hi = base.to_vec();
    for (i, (l, h)) in lo.iter_mut().zip(hi.iter_mut()).enumerate() {
        let fixed = bits.saturating_sub(i as u32 * 8).min(8);
        let mask = if fixed == 0 { 0 } else { 0xFFu8 << (8 - fixed) };
        *l &= mask;
        *h |= !mask;
    }
    IpRange { lo, hi }
}
