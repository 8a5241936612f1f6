//! awsJson request bodies decoded into a `serde_json::Value` in one pass,
//! under limits on how many values and how deep a body may nest.
//!
//! Without them a 16 MiB body of `[0,0,0,…]` becomes eight million 32-byte
//! `Value`s (over 500 MiB with the vector's growth): the decoded size must stay
//! proportional to the body, so each service caps the element count at a
//! generous multiple of what its largest legal request carries.

use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// How much structure one request body may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Values of any kind (objects, arrays, scalars, object keys), counted together.
    pub max_values: usize,
    /// Nesting of objects and arrays (CBOR tags count too); the top-level object is 1.
    pub max_depth: usize,
}

/// SQS (API 2012-11-05). The largest legal request is SendMessageBatch: 10
/// entries × (entry object, Id, MessageBody, DelaySeconds, MessageGroupId,
/// MessageDeduplicationId, the MessageAttributes map and 10 attributes × (key,
/// value object, DataType, StringValue or BinaryValue) ≈ 50 values, plus the
/// AWSTraceHeader system attribute) ≈ 600 values. ReceiveMessage's name lists
/// and AddPermission's account and action lists are bounded by the 8 KiB
/// policy or the number of attributes. 10,000 leaves a wide margin. Deepest:
/// root → Entries → entry → MessageAttributes → value → StringListValues = 6.
pub const SQS: Limits = Limits { max_values: 10_000, max_depth: 16 };

/// Kinesis (API 2013-12-02). The largest legal request is PutRecords: 500
/// records × (record object, key and value for Data, PartitionKey,
/// ExplicitHashKey) ≈ 3,500 values; tag maps hold at most 200 entries.
/// Deepest: root → Records → record, or root → ShardFilter = 3.
pub const KINESIS: Limits = Limits { max_values: 10_000, max_depth: 16 };

/// EventBridge (API 2015-10-07). The largest legal requests are PutEvents
/// (10 entries × (entry, Source, DetailType, Detail, Time, EventBusName,
/// TraceHeader, Resources and its elements) ≈ 10 × 30) and PutTargets (10
/// targets, each with at most 100 InputPathsMap entries ≈ 2,100); details
/// and templates arrive as strings. Deepest: root → Targets → target →
/// EcsParameters → NetworkConfiguration → awsvpcConfiguration → Subnets = 7.
pub const EVENTS: Limits = Limits { max_values: 10_000, max_depth: 16 };

/// Why a body was refused. The messages are what the services send back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("Request body is not a valid JSON object.")]
    Malformed,
    #[error("Request body nests deeper than {0} levels.")]
    TooDeep(usize),
    #[error("Request body holds more than {0} values.")]
    TooManyValues(usize),
}

/// An awsJson request body → its JSON object. An empty or all-whitespace body
/// is `{}`; anything but an object is [`DecodeError::Malformed`].
pub fn decode_object(body: &[u8], limits: &Limits) -> Result<Value, DecodeError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    let budget = Budget::new(*limits);
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = Bounded(&budget).deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match (value, budget.exceeded.get()) {
        (_, Some(limit)) => Err(limit),
        (Ok(v @ Value::Object(_)), None) => Ok(v),
        _ => Err(DecodeError::Malformed),
    }
}

/// What a decode may still spend; shared by every level of one decode.
pub(crate) struct Budget {
    limits: Limits,
    values_left: Cell<usize>,
    depth: Cell<usize>,
    /// The limit that stopped the decode, so the caller can tell it from bad syntax.
    pub(crate) exceeded: Cell<Option<DecodeError>>,
}

impl Budget {
    pub(crate) fn new(limits: Limits) -> Budget {
        Budget { limits, values_left: Cell::new(limits.max_values), depth: Cell::new(0), exceeded: Cell::new(None) }
    }

    /// Counts one more value.
    pub(crate) fn charge(&self) -> Result<(), DecodeError> {
        match self.values_left.get().checked_sub(1) {
            Some(left) => {
                self.values_left.set(left);
                Ok(())
            }
            None => self.fail(DecodeError::TooManyValues(self.limits.max_values)),
        }
    }

    /// Enters one level of nesting; pair with [`Budget::leave`].
    pub(crate) fn enter(&self) -> Result<(), DecodeError> {
        if self.depth.get() >= self.limits.max_depth {
            return self.fail(DecodeError::TooDeep(self.limits.max_depth));
        }
        self.depth.set(self.depth.get() + 1);
        Ok(())
    }

    pub(crate) fn leave(&self) {
        self.depth.set(self.depth.get().saturating_sub(1));
    }

    /// Values a container may still hold, to size its allocation by.
    pub(crate) fn values_left(&self) -> usize {
        self.values_left.get()
    }

    fn fail(&self, e: DecodeError) -> Result<(), DecodeError> {
        self.exceeded.set(Some(e));
        Err(e)
    }
}

/// Builds a `Value` like serde_json's own visitor, charging the budget as it goes.
struct Bounded<'b>(&'b Budget);

impl Bounded<'_> {
    fn scalar<E: serde::de::Error>(&self, v: Value) -> Result<Value, E> {
        self.0.charge().map_err(E::custom)?;
        Ok(v)
    }
}

impl<'de> DeserializeSeed<'de> for Bounded<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Bounded<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Value, E> {
        self.scalar(Value::Bool(b))
    }

    fn visit_i64<E: serde::de::Error>(self, i: i64) -> Result<Value, E> {
        self.scalar(Value::from(i))
    }

    fn visit_u64<E: serde::de::Error>(self, u: u64) -> Result<Value, E> {
        self.scalar(Value::from(u))
    }

    fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<Value, E> {
        self.scalar(Number::from_f64(f).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Value, E> {
        self.scalar(Value::String(s.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Value, E> {
        self.scalar(Value::String(s))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        self.scalar(Value::Null)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Value, E> {
        self.scalar(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.0.charge().and_then(|()| self.0.enter()).map_err(A::Error::custom)?;
        // Grow with the elements actually read, never from a size hint.
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Bounded(self.0))? {
            items.push(item);
        }
        self.0.leave();
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.0.charge().and_then(|()| self.0.enter()).map_err(A::Error::custom)?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            self.0.charge().map_err(A::Error::custom)?;
            let value = map.next_value_seed(Bounded(self.0))?;
            out.insert(key, value);
        }
        self.0.leave();
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SMALL: Limits = Limits { max_values: 10, max_depth: 3 };

    #[test]
    fn decodes_like_serde_json() {
        let body = br#" {"QueueUrl": "u", "Entries": [{"Id": "a", "DelaySeconds": 3, "x": -1.5e3, "y": null,
            "z": true, "big": 18446744073709551615, "esc": "\u00e9\n"}]} "#;
        let expected: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(decode_object(body, &SQS).unwrap(), expected);
        assert_eq!(decode_object(b" \n", &SQS).unwrap(), json!({}));
        assert_eq!(decode_object(b"", &SQS).unwrap(), json!({}));
    }

    #[test]
    fn malformed_bodies() {
        for body in [&b"[]"[..], b"\"s\"", b"1", b"{", b"{} {}", b"{\"a\":}", b"nul", b"{\"a\":1,}"] {
            assert_eq!(decode_object(body, &SQS), Err(DecodeError::Malformed), "{body:?}");
        }
    }

    #[test]
    fn value_count_is_bounded() {
        // {"a":[…]}: the object, the key and the array are 3 values.
        let fits = format!("{{\"a\":[{}]}}", ["0"; 7].join(","));
        assert!(decode_object(fits.as_bytes(), &SMALL).is_ok());
        let over = format!("{{\"a\":[{}]}}", ["0"; 8].join(","));
        assert_eq!(decode_object(over.as_bytes(), &SMALL), Err(DecodeError::TooManyValues(10)));
        // Keys count too.
        let keys = (0..6).map(|i| format!("\"k{i}\":1")).collect::<Vec<_>>().join(",");
        assert_eq!(decode_object(format!("{{{keys}}}").as_bytes(), &SMALL), Err(DecodeError::TooManyValues(10)));
    }

    #[test]
    fn depth_is_bounded() {
        assert!(decode_object(br#"{"a":[[]]}"#, &SMALL).is_ok());
        assert_eq!(decode_object(br#"{"a":[[[]]]}"#, &SMALL), Err(DecodeError::TooDeep(3)));
        assert_eq!(decode_object(br#"{"a":{"b":{"c":{}}}}"#, &SMALL), Err(DecodeError::TooDeep(3)));
        // Far past serde_json's own recursion limit, and unterminated: still the depth error.
        let deep = format!("{{\"a\":{}", "[".repeat(100_000));
        assert_eq!(decode_object(deep.as_bytes(), &SQS), Err(DecodeError::TooDeep(16)));
    }

    #[test]
    fn bombs_stop_at_the_limit() {
        let zeros = format!("{{\"a\":[{}0]}}", "0,".repeat(1_000_000));
        assert_eq!(decode_object(zeros.as_bytes(), &SQS), Err(DecodeError::TooManyValues(10_000)));
        let empties = format!("{{\"a\":[{}[]]}}", "[],".repeat(1_000_000));
        assert_eq!(decode_object(empties.as_bytes(), &KINESIS), Err(DecodeError::TooManyValues(10_000)));
    }

    #[test]
    fn largest_legal_requests_fit() {
        let attrs: Map<String, Value> =
            (0..10).map(|i| (format!("attr{i}"), json!({"DataType": "String", "StringValue": "v"}))).collect();
        let entries: Vec<Value> = (0..10)
            .map(|i| {
                json!({"Id": i.to_string(), "MessageBody": "b", "DelaySeconds": 1, "MessageGroupId": "g",
                "MessageDeduplicationId": "d", "MessageAttributes": attrs,
                "MessageSystemAttributes": {"AWSTraceHeader": {"DataType": "String", "StringValue": "t"}}})
            })
            .collect();
        let batch = json!({"QueueUrl": "u", "Entries": entries}).to_string();
        assert!(decode_object(batch.as_bytes(), &SQS).is_ok());
        let records: Vec<Value> =
            (0..500).map(|_| json!({"Data": "AA==", "PartitionKey": "p", "ExplicitHashKey": "1"})).collect();
        let put = json!({"StreamName": "s", "StreamARN": "a", "Records": records}).to_string();
        assert!(decode_object(put.as_bytes(), &KINESIS).is_ok());
    }
}
