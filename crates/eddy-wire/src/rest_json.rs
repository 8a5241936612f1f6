//! restJson1 bodies (Amazon MQ, MSK, EventBridge Scheduler, Pipes, Schemas).
//!
//! Success: a JSON object of the output members the model places in the
//! body (members bound to headers, the status or the path are the handler's).
//! Errors: the HTTP status of the error shape, its name in `X-Amzn-ErrorType`
//! and its members in the body. Clients read the code from that header
//! first: botocore's `RestJSONParser` takes `x-amzn-errortype`, else a body
//! `code`/`Code`, else `__type`, keeping what lies before `:` and after `#`;
//! the JS, Go and Java SDKs look in the same places. AWS's own restJson1
//! services put no code in the body, so neither does eddy.

use serde_json::{Map, Value};

pub const CONTENT_TYPE: &str = "application/json";

/// The body of a successful response; an operation without output sends `{}`.
pub fn body(output: Option<&Value>) -> Vec<u8> {
    match output {
        Some(v) => serde_json::to_vec(v).expect("JSON values serialise"),
        None => b"{}".to_vec(),
    }
}

/// A restJson1 error as the client sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct RestJsonError {
    /// Error shape name, e.g. `NotFoundException`; sent as `X-Amzn-ErrorType`.
    pub code: &'static str,
    pub status: u16,
    pub message: String,
    /// The message member's JSON name: `message` in MQ, MSK and Pipes,
    /// `Message` in Scheduler and Schemas. SDKs fill the modeled member
    /// only from its exact name, though their generic message reads either.
    pub message_key: &'static str,
    /// The shape's other body members (MQ's `errorAttribute`, Pipes'
    /// `fieldList`, …).
    pub members: Map<String, Value>,
}

impl RestJsonError {
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> RestJsonError {
        RestJsonError { code, status, message: message.into(), message_key: "message", members: Map::new() }
    }

    pub fn with_message_key(self, message_key: &'static str) -> RestJsonError {
        RestJsonError { message_key, ..self }
    }

    pub fn with_member(mut self, name: &str, value: Value) -> RestJsonError {
        self.members.insert(name.to_string(), value);
        self
    }

    /// The `X-Amzn-ErrorType` header value.
    pub fn error_type(&self) -> &'static str {
        self.code
    }

    pub fn body(&self) -> Vec<u8> {
        let mut members = self.members.clone();
        members.insert(self.message_key.to_string(), Value::String(self.message.clone()));
        serde_json::to_vec(&Value::Object(members)).expect("JSON values serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).unwrap()
    }

    #[test]
    fn success_bodies() {
        assert_eq!(body(None), b"{}");
        assert_eq!(parsed(&body(Some(&json!({"brokerId": "b-1"})))), json!({"brokerId": "b-1"}));
    }

    #[test]
    fn error_carries_code_in_header_only() {
        let e = RestJsonError::new("NotFoundException", 404, "Broker b-1 not <found>");
        assert_eq!(e.error_type(), "NotFoundException");
        assert_eq!(parsed(&e.body()), json!({"message": "Broker b-1 not <found>"}));
    }

    #[test]
    fn error_members_and_message_key() {
        let mq = RestJsonError::new("BadRequestException", 400, "bad").with_member("errorAttribute", json!("name"));
        assert_eq!(parsed(&mq.body()), json!({"message": "bad", "errorAttribute": "name"}));
        let scheduler = RestJsonError::new("ValidationException", 400, "bad").with_message_key("Message");
        assert_eq!(parsed(&scheduler.body()), json!({"Message": "bad"}));
    }

    #[test]
    fn message_member_wins_over_a_same_named_member() {
        let e = RestJsonError::new("ConflictException", 409, "real").with_member("message", json!("stale"));
        assert_eq!(parsed(&e.body()), json!({"message": "real"}));
    }
}
