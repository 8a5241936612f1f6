//! Kinesis's CBOR protocol (`application/x-amz-cbor-1.1`), the default of the
//! AWS Java SDKs, converted to and from the JSON shapes awsJson 1.1 clients
//! send, so one set of handlers serves both.
//!
//! The two differ only where JSON has no native type: blobs travel as CBOR byte
//! strings instead of base64 text, and timestamps as tag 1 around integer epoch
//! *milliseconds* instead of epoch seconds. RFC 8949 says tag 1 holds seconds,
//! but AWS Kinesis and the Java SDKs use milliseconds (aws-sdk-java-v2 #4661,
//! #979; LocalStack patches cbor2 the same way and checks it against AWS).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{Map, Number, Value as Json};

use crate::json::{Budget, DecodeError, Limits};

#[derive(Debug, thiserror::Error)]
pub enum CborError {
    #[error("malformed CBOR request: {0}")]
    Malformed(String),
    /// Well-formed so far, but past what any legal request carries.
    #[error(transparent)]
    TooLarge(#[from] DecodeError),
}

/// Which members of a shape are blobs and which are timestamps. Field names are
/// matched at any depth (Kinesis never reuses these names for other types).
pub struct CborShapes {
    pub blobs: &'static [&'static str],
    pub timestamps: &'static [&'static str],
    /// How many values and how much nesting a request may carry.
    pub limits: Limits,
}

/// Kinesis's shape knowledge (botocore kinesis 2013-12-02).
pub const KINESIS: CborShapes = CborShapes {
    blobs: &["Data"],
    timestamps: &[
        "Timestamp",
        "StreamCreationTimestamp",
        "ApproximateArrivalTimestamp",
        "ConsumerCreationTimestamp",
        "StartedAt",
        "EndedAt",
        "EarliestAllowedEndAt",
    ],
    limits: crate::json::KINESIS,
};

/// What the member holding a value was declared as; lists pass it to their
/// elements, structures reset it for their own members.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Plain,
    Blob,
    Timestamp,
}

impl CborShapes {
    fn kind(&self, member: &str) -> Kind {
        if self.blobs.contains(&member) {
            Kind::Blob
        } else if self.timestamps.contains(&member) {
            Kind::Timestamp
        } else {
            Kind::Plain
        }
    }
}

/// Request body → the JSON value an awsJson client would have sent. Blobs
/// become base64 text; timestamps become epoch seconds. An empty body is `{}`.
///
/// Decodes straight into JSON, under `shapes.limits`: building a generic CBOR
/// tree first cost 1.5 GiB for a 16 MiB array of one-byte items.
pub fn decode_request(body: &[u8], shapes: &CborShapes) -> Result<Json, CborError> {
    if body.is_empty() {
        return Ok(Json::Object(Map::new()));
    }
    if body[0] >> 5 != MAP >> 5 {
        return Err(CborError::Malformed("top level must be a map".into()));
    }
    let budget = Budget::new(shapes.limits);
    let mut reader = Reader { rest: body, shapes, budget: &budget };
    let value = reader.item(Kind::Plain)?;
    if !reader.rest.is_empty() {
        return Err(CborError::Malformed(format!("{} trailing bytes after the body", reader.rest.len())));
    }
    Ok(value)
}

/// The argument of a head: a number, or "indefinite length" (additional info 31).
#[derive(Clone, Copy, PartialEq)]
enum Arg {
    Value(u64),
    Indefinite,
}

/// A cursor over the body, decoding RFC 8949 items without copying the tree.
struct Reader<'a> {
    rest: &'a [u8],
    shapes: &'a CborShapes,
    budget: &'a Budget,
}

fn malformed(what: &str) -> CborError {
    CborError::Malformed(what.to_string())
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: u64) -> Result<&'a [u8], CborError> {
        let n = usize::try_from(n)
            .ok()
            .filter(|n| *n <= self.rest.len())
            .ok_or_else(|| malformed("unexpected end of input"))?;
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, CborError> {
        Ok(self.take(1)?[0])
    }

    fn uint(&mut self, width: u64) -> Result<u64, CborError> {
        Ok(self.take(width)?.iter().fold(0u64, |n, b| n << 8 | u64::from(*b)))
    }

    /// One head: its major type (0–7) and argument. Major 7 keeps its raw
    /// additional info in the argument (floats are decoded by the caller).
    fn head(&mut self) -> Result<(u8, u8, Arg), CborError> {
        let initial = self.byte()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        let arg = match info {
            0..=23 => Arg::Value(u64::from(info)),
            24..=27 => Arg::Value(self.uint(1 << (info - 24))?),
            31 if major >= 2 => Arg::Indefinite,
            _ => return Err(malformed("reserved additional information")),
        };
        Ok((major, info, arg))
    }

    fn charge(&self) -> Result<(), CborError> {
        self.budget.charge().map_err(CborError::TooLarge)
    }

    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, CborError>) -> Result<T, CborError> {
        self.budget.enter().map_err(CborError::TooLarge)?;
        let out = f(self);
        self.budget.leave();
        out
    }

    fn item(&mut self, kind: Kind) -> Result<Json, CborError> {
        self.charge()?;
        let (major, info, arg) = self.head()?;
        match (major, arg) {
            (0, Arg::Value(n)) => Ok(integer(i128::from(n), kind)),
            (1, Arg::Value(n)) => Ok(integer(-1 - i128::from(n), kind)),
            (2, arg) => Ok(Json::String(STANDARD.encode(self.string(2, arg)?))),
            (3, arg) => Ok(Json::String(utf8(self.string(3, arg)?)?)),
            (4, arg) => self.nested(|r| r.array(arg, kind)),
            (5, arg) => self.nested(|r| r.map(arg)),
            // Tag 1 (epoch time) marks a timestamp whatever the member; other
            // tags carry nothing Kinesis needs.
            (6, Arg::Value(EPOCH_DATE_TIME)) => self.nested(|r| r.item(Kind::Timestamp)),
            (6, Arg::Value(_)) => self.nested(|r| r.item(kind)),
            (7, _) => self.simple(info, arg, kind),
            _ => Err(malformed("indefinite length on an integer or tag")),
        }
    }

    /// A byte or text string; an indefinite one is the concatenation of its
    /// definite chunks of the same major type.
    fn string(&mut self, major: u8, arg: Arg) -> Result<Vec<u8>, CborError> {
        let Arg::Value(n) = arg else {
            let mut out = Vec::new();
            loop {
                match self.head()? {
                    (7, 31, _) => return Ok(out),
                    (m, _, Arg::Value(n)) if m == major => {
                        let chunk = self.take(n)?;
                        if major == 3 {
                            std::str::from_utf8(chunk).map_err(|_| malformed("text chunk is not UTF-8"))?;
                        }
                        out.extend_from_slice(chunk);
                    }
                    _ => return Err(malformed("bad chunk in an indefinite-length string")),
                }
            }
        };
        Ok(self.take(n)?.to_vec())
    }

    fn array(&mut self, arg: Arg, kind: Kind) -> Result<Json, CborError> {
        let mut items = Vec::new();
        match arg {
            Arg::Value(n) => {
                // Every item takes at least one byte: never reserve past the body or the budget.
                items.reserve(capacity(n, self.rest.len(), self.budget.values_left()));
                for _ in 0..n {
                    items.push(self.item(kind)?);
                }
            }
            Arg::Indefinite => {
                while !self.at_break()? {
                    items.push(self.item(kind)?);
                }
            }
        }
        Ok(Json::Array(items))
    }

    fn map(&mut self, arg: Arg) -> Result<Json, CborError> {
        let mut map = Map::new();
        let mut entry = |r: &mut Self| -> Result<(), CborError> {
            r.charge()?;
            let key = match r.head()? {
                (3, _, arg) => utf8(r.string(3, arg)?)?,
                _ => return Err(malformed("map keys must be text")),
            };
            let value = r.item(r.shapes.kind(&key))?;
            map.insert(key, value);
            Ok(())
        };
        match arg {
            Arg::Value(n) => {
                for _ in 0..n {
                    entry(self)?;
                }
            }
            Arg::Indefinite => {
                while !self.at_break()? {
                    entry(self)?;
                }
            }
        }
        Ok(Json::Object(map))
    }

    /// Consumes a break (0xff) if one is next.
    fn at_break(&mut self) -> Result<bool, CborError> {
        match self.rest.first() {
            Some(0xff) => {
                self.rest = &self.rest[1..];
                Ok(true)
            }
            Some(_) => Ok(false),
            None => Err(malformed("unexpected end of input")),
        }
    }

    /// Major type 7: booleans, null, undefined and floats.
    fn simple(&mut self, info: u8, arg: Arg, kind: Kind) -> Result<Json, CborError> {
        let f = match (info, arg) {
            (20, _) => return Ok(Json::Bool(false)),
            (21, _) => return Ok(Json::Bool(true)),
            // Null and undefined both arrive as Null.
            (22 | 23, _) => return Ok(Json::Null),
            (25, Arg::Value(bits)) => f16(bits as u16),
            (26, Arg::Value(bits)) => f64::from(f32::from_bits(bits as u32)),
            (27, Arg::Value(bits)) => f64::from_bits(bits),
            (31, _) => return Err(malformed("unexpected break")),
            _ => return Err(CborError::Malformed(format!("unsupported CBOR simple value {info}"))),
        };
        Ok(if kind == Kind::Timestamp { epoch_seconds(f) } else { float(f) })
    }
}

/// Room to reserve for a definite-length array.
fn capacity(claimed: u64, bytes_left: usize, values_left: usize) -> usize {
    usize::try_from(claimed).unwrap_or(usize::MAX).min(bytes_left).min(values_left)
}

fn utf8(bytes: Vec<u8>) -> Result<String, CborError> {
    String::from_utf8(bytes).map_err(|_| malformed("text string is not UTF-8"))
}

fn integer(i: i128, kind: Kind) -> Json {
    if kind == Kind::Timestamp {
        return epoch_seconds(i as f64);
    }
    if let Ok(u) = u64::try_from(i) {
        Json::from(u)
    } else if let Ok(s) = i64::try_from(i) {
        Json::from(s)
    } else {
        float(i as f64)
    }
}

/// IEEE 754 half precision → f64 (RFC 8949 appendix D).
fn f16(half: u16) -> f64 {
    let exp = i32::from((half >> 10) & 0x1f);
    let mant = f64::from(half & 0x3ff);
    let magnitude = match exp {
        0 => mant * 2f64.powi(-24),
        31 if mant == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (mant + 1024.0) * 2f64.powi(exp - 25),
    };
    if half & 0x8000 != 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// Values at or above this are milliseconds: 1e11 ms is 1973, 1e11 s is the
/// year 5138. The Java SDKs write `tag 1` + epoch MILLIS (against RFC 8949,
/// which says seconds) and plain timestamps as millis; an RFC-following client
/// sends seconds. Magnitude tells them apart for every plausible Kinesis date.
const MILLIS_THRESHOLD: f64 = 1e11;

/// A timestamp number (seconds or milliseconds) → epoch seconds, as an integer
/// when whole, like the JSON clients send.
fn epoch_seconds(n: f64) -> Json {
    let secs = if n.abs() >= MILLIS_THRESHOLD { n / 1000.0 } else { n };
    if secs.fract() == 0.0 && secs.abs() < 9e15 {
        Json::from(secs as i64)
    } else {
        float(secs)
    }
}

/// JSON has no NaN or infinity; they become null.
fn float(f: f64) -> Json {
    Number::from_f64(f).map_or(Json::Null, Json::Number)
}

/// Response JSON → CBOR bytes: blob members become byte strings, timestamp
/// members tag 1 around integer epoch milliseconds, as AWS sends them (the
/// Java SDK reads that form; a float, or a bare integer, is not what AWS sends).
pub fn encode_response(value: &Json, shapes: &CborShapes) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    encode(value, Kind::Plain, shapes, &mut out);
    out
}

/// The CBOR error body AWS returns: `{"__type": …, "message": …}`.
pub fn encode_error(type_name: &str, message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + type_name.len() + message.len());
    head(&mut out, MAP, 2);
    text(&mut out, "__type");
    text(&mut out, type_name);
    text(&mut out, "message");
    text(&mut out, message);
    out
}

// CBOR major types (RFC 8949 §3.1), pre-shifted into the initial byte's high bits.
const UINT: u8 = 0 << 5;
const NINT: u8 = 1 << 5;
const BYTES: u8 = 2 << 5;
const TEXT: u8 = 3 << 5;
const ARRAY: u8 = 4 << 5;
const MAP: u8 = 5 << 5;
const TAG: u8 = 6 << 5;

/// RFC 8949 tag 1, epoch-based date/time.
const EPOCH_DATE_TIME: u64 = 1;

/// Writes heads by hand rather than building a `ciborium::Value` first: a
/// GetRecords response can hold 10,000 records, and copying them twice buys nothing.
fn encode(value: &Json, kind: Kind, shapes: &CborShapes, out: &mut Vec<u8>) {
    match value {
        Json::Null => out.push(0xf6),
        Json::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        Json::String(s) if kind == Kind::Blob => match STANDARD.decode(s) {
            Ok(bytes) => byte_string(out, &bytes),
            Err(_) => byte_string(out, s.as_bytes()),
        },
        Json::String(s) => text(out, s),
        Json::Number(n) if kind == Kind::Timestamp => {
            let millis = match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => i.saturating_mul(1000),
                (None, Some(u)) => u.saturating_mul(1000).min(i64::MAX as u64) as i64,
                // `as` saturates out-of-range floats.
                _ => (n.as_f64().unwrap_or(0.0) * 1000.0).round() as i64,
            };
            head(out, TAG, EPOCH_DATE_TIME);
            int(out, millis);
        }
        Json::Number(n) => {
            if let Some(u) = n.as_u64() {
                head(out, UINT, u);
            } else if let Some(i) = n.as_i64() {
                int(out, i);
            } else {
                out.push(0xfb); // major 7, double-precision float
                out.extend_from_slice(&n.as_f64().unwrap_or(0.0).to_be_bytes());
            }
        }
        Json::Array(items) => {
            head(out, ARRAY, items.len() as u64);
            for item in items {
                encode(item, kind, shapes, out);
            }
        }
        Json::Object(map) => {
            head(out, MAP, map.len() as u64);
            for (key, value) in map {
                text(out, key);
                encode(value, shapes.kind(key), shapes, out);
            }
        }
    }
}

/// The shortest head for `major` with argument `n` (RFC 8949 §4.2.1).
fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    if n < 24 {
        out.push(major | n as u8);
    } else if n <= u8::MAX as u64 {
        out.extend_from_slice(&[major | 24, n as u8]);
    } else if n <= u16::MAX as u64 {
        out.push(major | 25);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n <= u32::MAX as u64 {
        out.push(major | 26);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(major | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn int(out: &mut Vec<u8>, i: i64) {
    if i >= 0 {
        head(out, UINT, i as u64);
    } else {
        // Major type 1 carries -1 - n, which is the bitwise complement.
        head(out, NINT, !(i as u64));
    }
}

fn text(out: &mut Vec<u8>, s: &str) {
    head(out, TEXT, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn byte_string(out: &mut Vec<u8>, bytes: &[u8]) {
    head(out, BYTES, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ciborium::Value as Cbor;
    use serde_json::json;

    fn cbor(value: &Cbor) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::into_writer(value, &mut out).unwrap();
        out
    }

    fn text_key(k: &str) -> Cbor {
        Cbor::Text(k.into())
    }

    fn decode(body: &[u8]) -> Json {
        decode_request(body, &KINESIS).unwrap()
    }

    #[test]
    fn put_record_from_a_java_sdk_shaped_body() {
        let body = cbor(&Cbor::Map(vec![
            (text_key("StreamName"), Cbor::Text("s".into())),
            (text_key("Data"), Cbor::Bytes(b"hello".to_vec())),
            (text_key("PartitionKey"), Cbor::Text("pk".into())),
            (text_key("Limit"), Cbor::Integer(10_000.into())),
            (text_key("Negative"), Cbor::Integer((-5).into())),
            (text_key("Ratio"), Cbor::Float(0.5)),
            (text_key("Flag"), Cbor::Bool(true)),
            (text_key("Nothing"), Cbor::Null),
        ]));
        assert_eq!(
            decode(&body),
            json!({"StreamName": "s", "Data": "aGVsbG8=", "PartitionKey": "pk", "Limit": 10000,
                   "Negative": -5, "Ratio": 0.5, "Flag": true, "Nothing": null})
        );
    }

    #[test]
    fn empty_body_is_an_empty_object() {
        assert_eq!(decode(b""), json!({}));
    }

    #[test]
    fn indefinite_length_items_decode() {
        // {_ "Records": [_ {_ "Data": (_ h'0102', h'03'), "PartitionKey": (_ "p", "k")}]}
        let mut body = vec![0xbf, 0x67];
        body.extend_from_slice(b"Records");
        body.extend_from_slice(&[0x9f, 0xbf, 0x64]);
        body.extend_from_slice(b"Data");
        body.extend_from_slice(&[0x5f, 0x42, 0x01, 0x02, 0x41, 0x03, 0xff, 0x6c]);
        body.extend_from_slice(b"PartitionKey");
        body.extend_from_slice(&[0x7f, 0x61, b'p', 0x61, b'k', 0xff]);
        body.extend_from_slice(&[0xff, 0xff, 0xff]);
        assert_eq!(decode(&body), json!({"Records": [{"Data": "AQID", "PartitionKey": "pk"}]}));
    }

    #[test]
    fn rfc8949_appendix_a_scalars() {
        // Each wrapped as {"v": item}: f16 1.5 (f9 3e00), f32 100000.0 (fa 47c35000),
        // -1000 (39 03e7), 2^64-1 (1b ff…ff), undefined (f7).
        let cases: [(&[u8], Json); 5] = [
            (&[0xf9, 0x3e, 0x00], json!(1.5)),
            (&[0xfa, 0x47, 0xc3, 0x50, 0x00], json!(100000.0)),
            (&[0x39, 0x03, 0xe7], json!(-1000)),
            (&[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], json!(u64::MAX)),
            (&[0xf7], Json::Null),
        ];
        for (item, expected) in cases {
            let mut body = vec![0xa1, 0x61, b'v'];
            body.extend_from_slice(item);
            assert_eq!(decode(&body), json!({"v": expected}), "{item:02x?}");
        }
    }

    #[test]
    fn timestamps_decode_to_epoch_seconds() {
        let ts = |v: Cbor| decode(&cbor(&Cbor::Map(vec![(text_key("Timestamp"), v)])))["Timestamp"].clone();
        // RFC 8949 tag 1, seconds: 1(1363896240) and 1(1363896240.5) from appendix A.
        assert_eq!(ts(Cbor::Tag(1, Box::new(Cbor::Integer(1_363_896_240.into())))), json!(1_363_896_240));
        assert_eq!(ts(Cbor::Tag(1, Box::new(Cbor::Float(1_363_896_240.5)))), json!(1_363_896_240.5));
        // What the Java SDKs really send: tag 1 around epoch millis.
        assert_eq!(ts(Cbor::Tag(1, Box::new(Cbor::Integer(1_700_000_000_123i64.into())))), json!(1_700_000_000.123));
        // Plain integer millis (UNIX_TIMESTAMP_MILLIS) and plain float seconds.
        assert_eq!(ts(Cbor::Integer(1_700_000_000_250i64.into())), json!(1_700_000_000.25));
        assert_eq!(ts(Cbor::Integer(1_700_000_000_000i64.into())), json!(1_700_000_000));
        assert_eq!(ts(Cbor::Float(1_700_000_000.5)), json!(1_700_000_000.5));
        // Nested members are found too (ListShards ShardFilter.Timestamp).
        let nested = cbor(&Cbor::Map(vec![(
            text_key("ShardFilter"),
            Cbor::Map(vec![(text_key("Timestamp"), Cbor::Integer(1_700_000_000_000i64.into()))]),
        )]));
        assert_eq!(decode(&nested), json!({"ShardFilter": {"Timestamp": 1_700_000_000}}));
    }

    #[test]
    fn get_records_response_encodes_blobs_and_millis() {
        let response = json!({
            "Records": [{"Data": "aGVsbG8=", "PartitionKey": "pk", "SequenceNumber": "4960",
                         "ApproximateArrivalTimestamp": 1_700_000_000.123_4}],
            "NextShardIterator": "it", "MillisBehindLatest": 0,
        });
        let bytes = encode_response(&response, &KINESIS);
        let parsed: Cbor = ciborium::from_reader(&bytes[..]).unwrap();
        let records = parsed.as_map().unwrap().iter().find(|(k, _)| k.as_text() == Some("Records")).unwrap();
        let record = records.1.as_array().unwrap()[0].as_map().unwrap();
        let field = |name: &str| record.iter().find(|(k, _)| k.as_text() == Some(name)).unwrap().1.clone();
        assert_eq!(field("Data"), Cbor::Bytes(b"hello".to_vec()));
        assert_eq!(
            field("ApproximateArrivalTimestamp"),
            Cbor::Tag(1, Box::new(Cbor::Integer(1_700_000_000_123i64.into())))
        );
        // The Data byte string has major type 2: 0x45 = (2 << 5) | 5 bytes.
        assert!(bytes.windows(6).any(|w| w == b"\x45hello"));
        // Tag 1 (0xc1) then an 8-byte unsigned integer (0x1b), never a float (0xfb).
        assert!(bytes.windows(29).any(|w| w == b"ApproximateArrivalTimestamp\xc1\x1b"));
        // And back: the request side turns it into the same JSON (timestamp to ms precision).
        let mut back = decode(&bytes);
        back["Records"][0]["ApproximateArrivalTimestamp"] = json!(1_700_000_000.123_4);
        assert_eq!(back, response);
    }

    #[test]
    fn every_timestamp_member_is_tagged_millis_at_any_depth() {
        let response = json!({"StreamDescriptionSummary": {"StreamCreationTimestamp": 1_700_000_000},
            "Consumers": [{"ConsumerCreationTimestamp": 1.5}]});
        let parsed: Cbor = ciborium::from_reader(&encode_response(&response, &KINESIS)[..]).unwrap();
        let get =
            |v: &Cbor, key: &str| v.as_map().unwrap().iter().find(|(k, _)| k.as_text() == Some(key)).unwrap().1.clone();
        let expected = |ms: i64| Cbor::Tag(1, Box::new(Cbor::Integer(ms.into())));
        let summary = get(&parsed, "StreamDescriptionSummary");
        assert_eq!(get(&summary, "StreamCreationTimestamp"), expected(1_700_000_000_000));
        let consumer = get(&parsed, "Consumers").as_array().unwrap()[0].clone();
        assert_eq!(get(&consumer, "ConsumerCreationTimestamp"), expected(1_500));
    }

    #[test]
    fn tag_1_marks_a_timestamp_on_any_member() {
        // A member this table does not list still reads as a timestamp when tagged.
        let body = cbor(&Cbor::Map(vec![(
            text_key("SomeFutureTime"),
            Cbor::Tag(1, Box::new(Cbor::Integer(1_700_000_000_500i64.into()))),
        )]));
        assert_eq!(decode(&body), json!({"SomeFutureTime": 1_700_000_000.5}));
    }

    #[test]
    fn non_base64_blob_is_sent_as_its_bytes() {
        let bytes = encode_response(&json!({"Data": "not base64!"}), &KINESIS);
        let parsed: Cbor = ciborium::from_reader(&bytes[..]).unwrap();
        assert_eq!(parsed, Cbor::Map(vec![(text_key("Data"), Cbor::Bytes(b"not base64!".to_vec()))]));
    }

    #[test]
    fn numbers_round_trip_at_every_head_width() {
        let value = json!({"n": [0, 23, 24, 255, 256, 65535, 65536, 4294967295u64, 4294967296u64, u64::MAX,
                                 -1, -24, -25, -256, -257, i64::MIN, 1.5, -0.25],
                           "s": "x".repeat(300), "b": false, "z": null, "o": {}});
        let bytes = encode_response(&value, &KINESIS);
        assert_eq!(decode(&bytes), value);
        // And ciborium agrees on every item.
        let reference = cbor(&ciborium::Value::serialized(&value).unwrap());
        assert_eq!(
            ciborium::from_reader::<Cbor, _>(&bytes[..]).unwrap(),
            ciborium::from_reader(&reference[..]).unwrap()
        );
    }

    #[test]
    fn error_body() {
        let bytes = encode_error("ResourceNotFoundException", "Stream s not found");
        assert_eq!(decode(&bytes), json!({"__type": "ResourceNotFoundException", "message": "Stream s not found"}));
        assert_eq!(bytes[0], 0xa2);
    }

    #[test]
    fn malformed_bodies_are_errors() {
        let good = encode_response(&json!({"StreamName": "s", "Data": "aGVsbG8="}), &KINESIS);
        for cut in 1..good.len() {
            assert!(decode_request(&good[..cut], &KINESIS).is_err(), "cut at {cut}");
        }
        let mut trailing = good.clone();
        trailing.push(0x00);
        assert!(decode_request(&trailing, &KINESIS).is_err());
        // Top level must be a map: [1, 2, 3] and "a".
        assert!(decode_request(&[0x83, 0x01, 0x02, 0x03], &KINESIS).is_err());
        assert!(decode_request(&[0x61, b'a'], &KINESIS).is_err());
        // {1: 2}: keys must be text.
        assert!(decode_request(&[0xa1, 0x01, 0x02], &KINESIS).is_err());
        // A byte string claiming 2^63 bytes must not allocate or panic.
        assert!(decode_request(&[0xa1, 0x61, b'v', 0x5b, 0x80, 0, 0, 0, 0, 0, 0, 0], &KINESIS).is_err());
        // Deep nesting is refused rather than overflowing the stack.
        let deep: Vec<u8> = [0xa1, 0x61, b'v'].into_iter().chain(std::iter::repeat_n(0x81, 100_000)).collect();
        assert!(decode_request(&deep, &KINESIS).is_err());
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..2000 {
            let mut bytes: Vec<u8> = (0..len % 64)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            // Start most inputs with a map head so the fuzz gets past the top-level check.
            if let Some(first) = bytes.first_mut().filter(|_| len % 4 != 0) {
                *first = 0xa0 | (*first & 0x1f);
            }
            let _ = decode_request(&bytes, &KINESIS);
        }
    }

    fn wrapped(item: &[u8]) -> Vec<u8> {
        let mut body = vec![0xa1, 0x61, b'v'];
        body.extend_from_slice(item);
        body
    }

    #[test]
    fn element_count_is_bounded() {
        // {"v": [0, 0, …]} with a definite length of a million, then indefinite.
        let mut definite = vec![0x9a, 0x00, 0x0f, 0x42, 0x40];
        definite.extend(std::iter::repeat_n(0x00, 1_000_000));
        let limit = |body: &[u8]| matches!(decode_request(body, &KINESIS), Err(CborError::TooLarge(_)));
        assert!(limit(&wrapped(&definite)));
        let mut indefinite = vec![0x9f];
        indefinite.extend(std::iter::repeat_n(0x00, 1_000_000));
        indefinite.push(0xff);
        assert!(limit(&wrapped(&indefinite)));
        // A map of a million empty-text keys.
        let mut keys = vec![0xbf];
        keys.extend(std::iter::repeat_n([0x60, 0x00], 1_000_000).flatten());
        keys.push(0xff);
        assert!(limit(&keys));
        // A claimed 2^64-1 items in a short body fails without reserving them.
        let huge = wrapped(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]);
        assert!(matches!(decode_request(&huge, &KINESIS), Err(CborError::Malformed(_))));
    }

    #[test]
    fn depth_is_bounded() {
        // The top-level map is level 1: 15 arrays fit, 16 do not; tags count as levels.
        let nested = |n: usize, head: u8| wrapped(&[vec![head; n], vec![0x80]].concat());
        assert!(decode_request(&nested(14, 0x81), &KINESIS).is_ok());
        assert!(matches!(
            decode_request(&nested(15, 0x81), &KINESIS),
            Err(CborError::TooLarge(DecodeError::TooDeep(16)))
        ));
        assert!(matches!(decode_request(&nested(100_000, 0xc1), &KINESIS), Err(CborError::TooLarge(_))));
    }

    #[test]
    fn largest_legal_put_records_decodes() {
        let record = Cbor::Map(vec![
            (text_key("Data"), Cbor::Bytes(vec![7; 16])),
            (text_key("PartitionKey"), Cbor::Text("pk".into())),
            (text_key("ExplicitHashKey"), Cbor::Text("1".into())),
        ]);
        let body = cbor(&Cbor::Map(vec![
            (text_key("StreamName"), Cbor::Text("s".into())),
            (text_key("StreamARN"), Cbor::Text("arn".into())),
            (text_key("Records"), Cbor::Array(vec![record; 500])),
        ]));
        let decoded = decode(&body);
        assert_eq!(decoded["Records"].as_array().unwrap().len(), 500);
        assert_eq!(decoded["Records"][499]["Data"], json!("BwcHBwcHBwcHBwcHBwcHBw=="));
    }

    #[test]
    fn half_floats() {
        // RFC 8949 appendix A: 0.0, -0.0, 1.0, 65504.0, 5.960464477539063e-8, 0.00006103515625, -4.0.
        let cases: [(u16, f64); 7] = [
            (0x0000, 0.0),
            (0x8000, -0.0),
            (0x3c00, 1.0),
            (0x7bff, 65504.0),
            (0x0001, 5.960464477539063e-8),
            (0x0400, 0.00006103515625),
            (0xc400, -4.0),
        ];
        for (bits, expected) in cases {
            assert_eq!(f16(bits), expected, "{bits:04x}");
        }
        assert_eq!(f16(0x7c00), f64::INFINITY);
        assert!(f16(0x7e00).is_nan());
    }
}
