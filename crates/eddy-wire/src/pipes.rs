//! EventBridge Pipes request bodies (restJson1, API 2015-10-07), as serde
//! types. Path and query members are the handler's; a body member of the
//! wrong JSON type is a ValidationException, AWS's value checks are the
//! service's. Parameter objects stay JSON: the service checks and stores them.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

pub use crate::scheduler::decode;

/// CreatePipe and UpdatePipe (the name is in the path; UpdatePipe has no
/// Source or Tags).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PipeBody {
    pub description: Option<String>,
    pub desired_state: Option<String>,
    pub source: Option<String>,
    pub source_parameters: Option<Map<String, Value>>,
    pub enrichment: Option<String>,
    pub enrichment_parameters: Option<Map<String, Value>>,
    pub target: Option<String>,
    pub target_parameters: Option<Map<String, Value>>,
    pub role_arn: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
    pub log_configuration: Option<Value>,
    pub kms_key_identifier: Option<String>,
}

/// TagResource: the member is `tags`, a map.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TagResourceBody {
    pub tags: Option<BTreeMap<String, String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_decode_in_the_models_member_names() {
        let b: PipeBody = decode(br#"{"Source":"arn:aws:sqs:us-east-1:000000000000:q","Tags":{"a":"1"},"SourceParameters":{"SqsQueueParameters":{"BatchSize":5}}}"#).unwrap();
        assert_eq!(b.source.as_deref(), Some("arn:aws:sqs:us-east-1:000000000000:q"));
        assert_eq!(b.tags.unwrap()["a"], "1");
        assert_eq!(b.source_parameters.unwrap()["SqsQueueParameters"]["BatchSize"], 5);
        let t: TagResourceBody = decode(br#"{"tags":{"k":"v"}}"#).unwrap();
        assert_eq!(t.tags.unwrap()["k"], "v");
        assert!(decode::<PipeBody>(br#"{"Source":5}"#).is_err());
    }
}
