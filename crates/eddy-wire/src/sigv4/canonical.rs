//! The canonical request, exactly as SigV4 defines it:
//! `METHOD\nURI\nQUERY\nHEADERS\n\nSIGNED-HEADERS\nPAYLOAD-HASH`.

use super::parse::{Location, Signed};
use super::Request;

/// Bytes kept as they are in a canonical URI component: RFC 3986's unreserved set.
fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Percent-encodes every byte but the unreserved ones (and `/` if `keep_slash`),
/// upper-case hex, as SigV4 requires.
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if unreserved(b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The canonical URI. Every service but S3 normalizes the path as sent
/// (dot segments and empty segments removed) and encodes it once more, so a
/// `%` on the wire becomes `%25`: what botocore and the Rust SDK sign.
/// S3 signs the path as sent, decoded and encoded once, not normalized.
pub fn uri(path: &str, s3: bool) -> String {
    if s3 {
        return if path.is_empty() { "/".into() } else { uri_encode(&percent_decode(path), true) };
    }
    if is_canonical_path(path) {
        return path.to_string();
    }
    uri_encode(&normalize(path), true)
}

/// A path that normalizing and encoding would leave as it is (`/`, or
/// `/account/queue`): the common case, answered without building anything.
fn is_canonical_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.contains("//")
        && path.bytes().all(|b| unreserved(b) || b == b'/')
        && path.split('/').all(|segment| segment != "." && segment != "..")
}

/// RFC 3986 dot-segment removal, consecutive slashes collapsed, as the SDKs do.
fn normalize(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let trailing = if path.ends_with('/') && !out.is_empty() { "/" } else { "" };
    format!("/{}{trailing}", out.join("/"))
}

/// The canonical query: each name and value decoded then encoded strictly,
/// sorted by name then value; a presigned request's own signature left out.
pub fn query(raw: &str, location: Location) -> String {
    let mut pairs: Vec<(String, String)> = raw
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .filter(|(name, _)| !(matches!(location, Location::Query { .. }) && *name == "X-Amz-Signature"))
        .map(|(name, value)| (uri_encode(&percent_decode(name), false), uri_encode(&percent_decode(value), false)))
        .collect();
    pairs.sort();
    let pairs: Vec<String> = pairs.into_iter().map(|(n, v)| format!("{n}={v}")).collect();
    pairs.join("&")
}

/// `%XX` decoded; `+` stays `+` (SigV4 encodes spaces as `%20`). Invalid
/// escapes are kept as written.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends a header's canonical value: every occurrence trimmed, inner
/// runs of whitespace collapsed to one space, joined with `,`.
fn push_header_value(out: &mut String, req: &Request, name: &str) {
    for (i, value) in req.header_values(name).enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, word) in value.split_ascii_whitespace().enumerate() {
            if j > 0 {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
}

/// The signed headers, sorted and de-duplicated as the canonical form lists them.
pub fn signed_headers(signed: &Signed) -> Vec<&str> {
    let mut names: Vec<&str> = signed.signed_headers.iter().map(String::as_str).filter(|n| !n.is_empty()).collect();
    names.sort_unstable();
    names.dedup();
    names
}

pub fn request(req: &Request, signed: &Signed, payload_hash: &str, s3: bool) -> String {
    let names = signed_headers(signed);
    let mut out = String::with_capacity(256 + req.path.len() + req.query.len());
    out.push_str(req.method);
    out.push('\n');
    out.push_str(&uri(req.path, s3));
    out.push('\n');
    if !req.query.is_empty() {
        out.push_str(&query(req.query, signed.location));
    }
    out.push('\n');
    for name in &names {
        out.push_str(name);
        out.push(':');
        push_header_value(&mut out, req, name);
        out.push('\n');
    }
    out.push('\n');
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
    out.push_str(payload_hash);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalize_and_encode_twice() {
        assert_eq!(uri("", false), "/");
        assert_eq!(uri("//example//", false), "/example/");
        assert_eq!(uri("/example1/example2/../..", false), "/");
        assert_eq!(uri("/./example", false), "/example");
        assert_eq!(uri("/000000000000/my-queue.fifo", false), "/000000000000/my-queue.fifo");
        assert_eq!(uri("/a%3Db/ሴ", false), "/a%253Db/%E1%88%B4");
        assert_eq!(uri("//example//", true), "//example//");
        assert_eq!(uri("/a/", false), "/a/");
        assert_eq!(uri("/a//", false), "/a/");
        assert_eq!(uri("/a/.", false), "/a");
        assert_eq!(uri("a/b", false), "/a/b");
    }

    #[test]
    fn query_sorted_and_strictly_encoded() {
        assert_eq!(query("Param2=value2&Param1=value1", Location::Header), "Param1=value1&Param2=value2");
        assert_eq!(query("Param1=value2&Param1=Value1", Location::Header), "Param1=Value1&Param1=value2");
        assert_eq!(query("Action=X&a%20b=c d&e", Location::Header), "Action=X&a%20b=c%20d&e=");
        assert_eq!(query("k=%7e%2a", Location::Header), "k=~%2A");
        let presigned = Location::Query { expires: Some(60) };
        assert_eq!(query("X-Amz-Signature=abc&X-Amz-Date=1", presigned), "X-Amz-Date=1");
        assert_eq!(query("", Location::Header), "");
    }

    #[test]
    fn decoding_keeps_plus_and_bad_escapes() {
        assert_eq!(percent_decode("a+b%20c%zz%4"), "a+b c%zz%4");
    }
}
