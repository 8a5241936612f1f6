//! Kinesis request shapes (API 2013-12-02): one input per operation, named
//! and typed as in the AWS model, decoded once per request from the value
//! either encoding (awsJson 1.1 or CBOR) arrives as, then checked against
//! the model's constraints.
//!
//! Decoding has two steps, as on AWS: every member is deserialised first
//! (a member of the wrong type is a SerializationException, "Member X must
//! be a string."), then the operation's checks run in AWS's order (missing
//! required members and the model's constraints are ValidationExceptions,
//! several failures of one pass reported together). Members the operation
//! does not have are ignored.

mod checks;
mod inputs;
pub mod member;
mod validate;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::WireError;

pub use checks::{missing, validation_error, Checks};
pub use inputs::*;
pub use member::{Blob, TagMap, Timestamp};
pub use validate::Check;

/// A structure declared in [`inputs`]: its form as deserialised, before
/// the checks.
pub trait Input: Sized {
    type Raw;
}

/// Decodes and checks an operation's input. `input` is the request body
/// as a JSON object (an empty body is `{}`).
pub fn decode<T>(input: Value) -> Result<T, WireError>
where
    T: Input,
    T::Raw: DeserializeOwned + Check + member::Build<Out = T>,
{
    let raw = serde_json::from_value::<T::Raw>(input).map_err(|e| serialization(e.to_string()))?;
    raw.check()?;
    member::Build::build(raw)
}

pub fn serialization(message: impl Into<String>) -> WireError {
    WireError::new("SerializationException", "SerializationException", 400, message)
}

pub fn invalid_argument(message: impl Into<String>) -> WireError {
    WireError::new("InvalidArgumentException", "InvalidArgumentException", 400, message)
}

#[cfg(test)]
mod tests;
