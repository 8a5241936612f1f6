//! EventBridge Scheduler request bodies (restJson1, API 2021-06-30), as
//! serde types. Path and query members are the handler's; a body member
//! of the wrong JSON type is a ValidationException, AWS's value checks are
//! the service's. Targets and flexible time windows stay JSON values: the
//! service checks and stores them.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

/// A body decoded into the operation's shape; an empty body is `{}`.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let body = if body.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { body };
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// CreateSchedule and UpdateSchedule (the name is in the path). Timestamps
/// are epoch seconds, as restJson1 sends them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleBody {
    pub group_name: Option<String>,
    pub schedule_expression: Option<String>,
    pub start_date: Option<f64>,
    pub end_date: Option<f64>,
    pub description: Option<String>,
    pub schedule_expression_timezone: Option<String>,
    pub state: Option<String>,
    pub kms_key_arn: Option<String>,
    pub target: Option<Value>,
    pub flexible_time_window: Option<Value>,
    pub client_token: Option<String>,
    pub action_after_completion: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateScheduleGroupBody {
    pub tags: Option<Vec<Tag>>,
    pub client_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceBody {
    pub tags: Option<Vec<Tag>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_decode_with_epoch_second_dates() {
        let b: ScheduleBody =
            decode(br#"{"ScheduleExpression": "rate(1 hour)", "StartDate": 1700000000.5, "Target": {"Arn": "a"}}"#)
                .unwrap();
        assert_eq!(b.start_date, Some(1_700_000_000.5));
        assert_eq!(b.target.unwrap()["Arn"], "a");
        let empty: CreateScheduleGroupBody = decode(b"").unwrap();
        assert!(empty.tags.is_none());
        assert!(decode::<ScheduleBody>(br#"{"State": 3}"#).is_err());
    }
}
