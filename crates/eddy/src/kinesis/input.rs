//! Reading request members out of the decoded JSON input, with AWS's
//! SerializationException for members of the wrong type.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

use eddy_core::kinesis::StreamRef;

use super::errors::{serialization, KinesisWireError};

pub type In<T> = Result<T, KinesisWireError>;

pub fn string<'a>(input: &'a Value, name: &str) -> In<Option<&'a str>> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(serialization(format!("Member {name} must be a string."))),
    }
}

/// An `integer` member. Every Kinesis number is a 32-bit `integer` in the
/// model; a value outside that range cannot be deserialised, as on AWS.
pub fn int(input: &Value, name: &str) -> In<Option<i64>> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(i) if i32::try_from(i).is_ok() => Ok(Some(i)),
            Some(_) => Err(serialization(format!("Member {name} is out of range for a 32-bit integer."))),
            None => Err(serialization(format!("Member {name} must be an integer."))),
        },
    }
}

pub fn boolean(input: &Value, name: &str) -> In<Option<bool>> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(serialization(format!("Member {name} must be a boolean."))),
    }
}

/// A timestamp member (epoch seconds, possibly fractional) in milliseconds.
pub fn timestamp_ms(input: &Value, name: &str) -> In<Option<u64>> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|s| *s >= 0.0)
            .map(|s| Some((s * 1000.0).round() as u64))
            .ok_or_else(|| serialization(format!("Member {name} must be a timestamp."))),
    }
}

pub fn blob(input: &Value, name: &str) -> In<Option<Vec<u8>>> {
    match string(input, name)? {
        None => Ok(None),
        Some(s) => {
            STANDARD.decode(s).map(Some).map_err(|_| serialization(format!("Member {name} is not valid base64.")))
        }
    }
}

pub fn strings(input: &Value, name: &str) -> In<Option<Vec<String>>> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(String::from).ok_or_else(|| serialization(format!("{name} must hold strings."))))
            .collect::<In<Vec<String>>>()
            .map(Some),
        Some(_) => Err(serialization(format!("Member {name} must be a list."))),
    }
}

pub fn tags(input: &Value, name: &str) -> In<Option<BTreeMap<String, String>>> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Null => Ok((k.clone(), String::new())),
                _ => Err(serialization(format!("{name} values must be strings."))),
            })
            .collect::<In<BTreeMap<_, _>>>()
            .map(Some),
        Some(_) => Err(serialization(format!("Member {name} must be a map."))),
    }
}

pub fn object<'a>(input: &'a Value, name: &str) -> In<Option<&'a Value>> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v)),
        Some(_) => Err(serialization(format!("Member {name} must be a structure."))),
    }
}

pub fn stream_ref(input: &Value) -> In<StreamRef> {
    Ok(StreamRef {
        name: string(input, "StreamName")?.map(String::from),
        arn: string(input, "StreamARN")?.map(String::from),
    })
}

/// Seconds since the epoch with millisecond precision, as awsJson sends timestamps.
pub fn epoch_seconds(ms: u64) -> Value {
    serde_json::Number::from_f64(ms as f64 / 1000.0).map(Value::Number).unwrap_or(Value::Null)
}
