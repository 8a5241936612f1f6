//! Path templates as the Smithy `@http` trait writes them for the REST
//! protocols: `/v1/brokers/{broker-id}`, `/{Bucket}/{Key+}`,
//! `/{Bucket}?list-type=2`.
//!
//! - a literal segment matches itself, compared still percent-encoded;
//! - `{name}` matches one non-empty segment;
//! - `{name+}` (last only) matches the non-empty rest of the path, slashes and all;
//! - `?key` or `?key=value` after the path requires that query parameter.
//!
//! Parameter values are percent-decoded. `+` stays `+`: only form bodies and
//! query strings spell a space that way, and S3 keys may contain `+`.

/// The named parameters of a matched path, percent-decoded, in template order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PathParams {
    values: Vec<(&'static str, String)>,
    malformed: Option<&'static str>,
}

impl PathParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// The first parameter that is not UTF-8 once decoded (its value is
    /// kept lossily). Such a path still routes, so that its handler answers
    /// a 400 in its own protocol rather than the front a 404.
    pub fn malformed(&self) -> Option<&'static str> {
        self.malformed
    }

    fn push(&mut self, name: &'static str, raw: &str) {
        let bytes = percent_decode(raw);
        let value = String::from_utf8(bytes).unwrap_or_else(|e| {
            self.malformed = self.malformed.or(Some(name));
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        });
        self.values.push((name, value));
    }
}

/// `path` (as received, percent-encoded) and `query` against `template`.
pub fn matches(template: &'static str, path: &str, query: Option<&str>) -> Option<PathParams> {
    let (template_path, required_query) = template.split_once('?').unwrap_or((template, ""));
    if !has_query(query.unwrap_or(""), required_query) {
        return None;
    }
    let mut params = PathParams::default();
    // The path not yet matched; None once every segment is used.
    let mut rest = Some(path.strip_prefix('/')?);
    for piece in template_path.strip_prefix('/')?.split('/') {
        let remaining = rest?;
        match label(piece) {
            Some((name, true)) => {
                if remaining.is_empty() {
                    return None;
                }
                params.push(name, remaining);
                rest = None;
            }
            Some((name, false)) => {
                let (segment, tail) = split_segment(remaining);
                if segment.is_empty() {
                    return None;
                }
                params.push(name, segment);
                rest = tail;
            }
            None => {
                let (segment, tail) = split_segment(remaining);
                if segment != piece {
                    return None;
                }
                rest = tail;
            }
        }
    }
    rest.is_none().then_some(params)
}

/// `{name}` → (name, false), `{name+}` → (name, true), a literal → None.
fn label(piece: &'static str) -> Option<(&'static str, bool)> {
    let name = piece.strip_prefix('{')?.strip_suffix('}')?;
    Some(name.strip_suffix('+').map_or((name, false), |greedy| (greedy, true)))
}

/// The first segment, and what follows its slash (None when it was the last).
fn split_segment(path: &str) -> (&str, Option<&str>) {
    match path.split_once('/') {
        Some((segment, tail)) => (segment, Some(tail)),
        None => (path, None),
    }
}

/// Whether every `key` or `key=value` of `required` (`&`-separated) is in `query`.
fn has_query(query: &str, required: &str) -> bool {
    let present: Vec<_> = form_urlencoded::parse(query.as_bytes()).collect();
    required.split('&').filter(|r| !r.is_empty()).all(|r| {
        let (key, value) = r.split_once('=').map_or((r, None), |(k, v)| (k, Some(v)));
        present.iter().any(|(k, v)| k == key && value.is_none_or(|want| v == want))
    })
}

/// `%XX` → the byte; anything else, a malformed escape included, as is.
fn percent_decode(raw: &str) -> Vec<u8> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).filter(|h| bytes[i] == b'%' && h.iter().all(u8::is_ascii_hexdigit));
        match hex {
            Some(h) => {
                out.push((hex_value(h[0]) << 4) | hex_value(h[1]));
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

/// A template this matcher reads as intended: starts with `/`, labels named,
/// a greedy label only at the end.
#[cfg(test)]
pub fn is_well_formed(template: &'static str) -> bool {
    let path = template.split_once('?').map_or(template, |(p, _)| p);
    let Some(pieces) = path.strip_prefix('/').map(|p| p.split('/').collect::<Vec<_>>()) else {
        return false;
    };
    pieces.iter().enumerate().all(|(i, piece)| match label(piece) {
        Some((name, greedy)) => !name.is_empty() && (!greedy || i == pieces.len() - 1),
        None => !piece.contains(['{', '}']),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(template: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
        matches(template, path, None).map(|p| p.values)
    }

    fn one(name: &'static str, value: &str) -> Option<Vec<(&'static str, String)>> {
        Some(vec![(name, value.to_string())])
    }

    #[test]
    fn literals() {
        assert_eq!(params("/_eddy/health", "/_eddy/health"), Some(vec![]));
        assert_eq!(params("/", "/"), Some(vec![]));
        assert_eq!(params("/", "/x"), None);
        assert_eq!(params("/_eddy/health", "/_eddy/health/"), None);
        assert_eq!(params("/_eddy/sns/", "/_eddy/sns/"), Some(vec![]));
        assert_eq!(params("/_eddy/sns/", "/_eddy/sns"), None);
        // Compared as received: an escaped letter is not the letter.
        assert_eq!(params("/_eddy/health", "/_eddy/%68ealth"), None);
        // Not an origin-form path (`OPTIONS *`).
        assert_eq!(params("/health", "*"), None);
    }

    #[test]
    fn single_segment_label() {
        assert_eq!(params("/v1/brokers/{broker-id}", "/v1/brokers/b-1"), one("broker-id", "b-1"));
        assert_eq!(params("/v1/brokers/{broker-id}", "/v1/brokers/"), None);
        assert_eq!(params("/v1/brokers/{broker-id}", "/v1/brokers"), None);
        assert_eq!(params("/v1/brokers/{broker-id}", "/v1/brokers/b-1/users"), None);
        assert_eq!(params("/v1/brokers/{broker-id}", "/v1/brokers/a%2Fb"), one("broker-id", "a/b"));
        let two = params("/v1/brokers/{broker-id}/users/{username}", "/v1/brokers/b/users/u%20v");
        assert_eq!(two, Some(vec![("broker-id", "b".into()), ("username", "u v".into())]));
    }

    #[test]
    fn greedy_label() {
        let t = "/{Bucket}/{Key+}";
        assert_eq!(params(t, "/b/k"), Some(vec![("Bucket", "b".into()), ("Key", "k".into())]));
        assert_eq!(params(t, "/b/a/b//c/"), Some(vec![("Bucket", "b".into()), ("Key", "a/b//c/".into())]));
        assert_eq!(params(t, "/b/"), None);
        assert_eq!(params(t, "/b"), None);
        assert_eq!(params(t, "//k"), None);
        assert_eq!(params("/_eddy/sns/{path+}", "/_eddy/sns/cert.pem"), one("path", "cert.pem"));
    }

    #[test]
    fn decoding() {
        let t = "/{Bucket}/{Key+}";
        let key = |path| matches(t, path, None).unwrap().get("Key").map(String::from);
        assert_eq!(key("/b/a+b%2Bc"), Some("a+b+c".into()));
        assert_eq!(key("/b/%C3%A9t%c3%a9"), Some("été".into()));
        // Malformed escapes are kept as written.
        assert_eq!(key("/b/100%"), Some("100%".into()));
        assert_eq!(key("/b/%zz%2"), Some("%zz%2".into()));
        assert_eq!(key("/b/%+1"), Some("%+1".into()));
        assert_eq!(key("/b/é"), Some("é".into()));
    }

    #[test]
    fn not_utf8_still_routes() {
        let p = matches("/{Bucket}/{Key+}", "/b/%FF", None).unwrap();
        assert_eq!(p.malformed(), Some("Key"));
        assert_eq!(p.get("Bucket"), Some("b"));
        assert_eq!(matches("/{Bucket}/{Key+}", "/b/k", None).unwrap().malformed(), None);
    }

    #[test]
    fn required_query() {
        let t = "/{Bucket}?list-type=2";
        assert_eq!(matches(t, "/b", Some("list-type=2&prefix=a")).unwrap().get("Bucket"), Some("b"));
        assert!(matches(t, "/b", Some("list-type=1")).is_none());
        assert!(matches(t, "/b", None).is_none());
        assert!(matches("/{Bucket}/{Key+}?uploads", "/b/k", Some("uploads")).is_some());
        assert!(matches("/{Bucket}/{Key+}?uploads", "/b/k", Some("uploads=")).is_some());
        assert!(matches("/{Bucket}/{Key+}?uploads", "/b/k", Some("uploadId=1")).is_none());
    }

    #[test]
    fn well_formed_templates() {
        for t in ["/", "/v1/brokers/{broker-id}", "/{Bucket}/{Key+}", "/{Bucket}?list-type=2", "/_eddy/sns/"] {
            assert!(is_well_formed(t), "{t}");
        }
        for t in ["", "v1/brokers", "/{Key+}/{Bucket}", "/{}", "/a{b}", "/{b"] {
            assert!(!is_well_formed(t), "{t}");
        }
    }
}
