//! SQS request and response shapes (API 2012-11-05), named as in the AWS
//! model. Inputs default every member so that a missing required member
//! becomes AWS's `MissingParameter`, not a decode error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Shape ids of SQS errors in awsJson `__type`.
pub const JSON_NAMESPACE: &str = "com.amazonaws.sqs";
pub const TARGET_PREFIX: &str = "AmazonSQS.";
pub const VERSION: &str = "2012-11-05";

pub type StringMap = BTreeMap<String, String>;

#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MessageAttributeValue {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    /// Base64 on both protocols.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binary_value: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub string_list_values: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub binary_list_values: Vec<String>,
    pub data_type: String,
}

pub type MessageAttributeMap = BTreeMap<String, MessageAttributeValue>;

macro_rules! input {
    ($name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Debug, Default, Clone, Deserialize)]
        #[serde(rename_all = "PascalCase", default)]
        pub struct $name { $(pub $field: $ty),* }
    };
}

input!(QueueUrlInput { queue_url: String });
input!(GetQueueUrlInput { queue_name: String, queue_owner_a_w_s_account_id: Option<String> });
input!(ListQueuesInput { queue_name_prefix: Option<String>, next_token: Option<String>, max_results: Option<i64> });
input!(ListDeadLetterSourceQueuesInput { queue_url: String, next_token: Option<String>, max_results: Option<i64> });
input!(GetQueueAttributesInput { queue_url: String, attribute_names: Vec<String> });
input!(SetQueueAttributesInput { queue_url: String, attributes: StringMap });
input!(TagQueueInput { queue_url: String, tags: StringMap });
input!(UntagQueueInput { queue_url: String, tag_keys: Vec<String> });
input!(RemovePermissionInput { queue_url: String, label: String });
input!(DeleteMessageInput { queue_url: String, receipt_handle: String });
input!(ChangeMessageVisibilityInput { queue_url: String, receipt_handle: String, visibility_timeout: Option<i64> });
input!(StartMessageMoveTaskInput { source_arn: String, destination_arn: Option<String>, max_number_of_messages_per_second: Option<i64> });
input!(CancelMessageMoveTaskInput { task_handle: String });
input!(ListMessageMoveTasksInput { source_arn: String, max_results: Option<i64> });

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct CreateQueueInput {
    #[serde(rename = "QueueName")]
    pub queue_name: String,
    #[serde(rename = "Attributes")]
    pub attributes: StringMap,
    /// Lower-case in the model.
    pub tags: StringMap,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct AddPermissionInput {
    #[serde(rename = "QueueUrl")]
    pub queue_url: String,
    #[serde(rename = "Label")]
    pub label: String,
    #[serde(rename = "AWSAccountIds")]
    pub aws_account_ids: Vec<String>,
    #[serde(rename = "Actions")]
    pub actions: Vec<String>,
}

/// The members SendMessage and each SendMessageBatch entry share.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MessageToSend {
    pub message_body: Option<String>,
    pub delay_seconds: Option<i64>,
    pub message_attributes: MessageAttributeMap,
    pub message_system_attributes: MessageAttributeMap,
    pub message_deduplication_id: Option<String>,
    pub message_group_id: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SendMessageInput {
    pub queue_url: String,
    #[serde(flatten)]
    pub message: MessageToSend,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SendMessageBatchEntry {
    pub id: String,
    #[serde(flatten)]
    pub message: MessageToSend,
}

input!(SendMessageBatchInput { queue_url: String, entries: Vec<SendMessageBatchEntry> });

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ReceiveMessageInput {
    pub queue_url: String,
    pub attribute_names: Vec<String>,
    pub message_system_attribute_names: Vec<String>,
    pub message_attribute_names: Vec<String>,
    pub max_number_of_messages: Option<i64>,
    pub visibility_timeout: Option<i64>,
    pub wait_time_seconds: Option<i64>,
    pub receive_request_attempt_id: Option<String>,
}

input!(DeleteMessageBatchEntry { id: String, receipt_handle: String });
input!(DeleteMessageBatchInput { queue_url: String, entries: Vec<DeleteMessageBatchEntry> });
input!(ChangeMessageVisibilityBatchEntry { id: String, receipt_handle: String, visibility_timeout: Option<i64> });
input!(ChangeMessageVisibilityBatchInput { queue_url: String, entries: Vec<ChangeMessageVisibilityBatchEntry> });

// ---- outputs ----

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueueUrlOutput {
    pub queue_url: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListQueuesOutput {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub queue_urls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListDeadLetterSourceQueuesOutput {
    #[serde(rename = "queueUrls")]
    pub queue_urls: Vec<String>,
    #[serde(rename = "NextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributesOutput {
    #[serde(skip_serializing_if = "StringMap::is_empty")]
    pub attributes: StringMap,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagsOutput {
    #[serde(skip_serializing_if = "StringMap::is_empty")]
    pub tags: StringMap,
}

#[derive(Debug, Clone, Serialize)]
pub struct SendMessageOutput {
    #[serde(rename = "MD5OfMessageBody")]
    pub md5_of_message_body: String,
    #[serde(rename = "MD5OfMessageAttributes", skip_serializing_if = "Option::is_none")]
    pub md5_of_message_attributes: Option<String>,
    #[serde(rename = "MD5OfMessageSystemAttributes", skip_serializing_if = "Option::is_none")]
    pub md5_of_message_system_attributes: Option<String>,
    #[serde(rename = "MessageId")]
    pub message_id: String,
    #[serde(rename = "SequenceNumber", skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SendMessageBatchResultEntry {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(flatten)]
    pub sent: SendMessageOutput,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchResultErrorEntry {
    pub id: String,
    pub sender_fault: bool,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchOutput<T> {
    pub successful: Vec<T>,
    /// Omitted when empty, as AWS's awsJson responses do (recorded).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<BatchResultErrorEntry>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdEntry {
    pub id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    #[serde(rename = "MessageId")]
    pub message_id: String,
    #[serde(rename = "ReceiptHandle")]
    pub receipt_handle: String,
    #[serde(rename = "MD5OfBody")]
    pub md5_of_body: String,
    #[serde(rename = "Body")]
    pub body: String,
    #[serde(rename = "Attributes", skip_serializing_if = "StringMap::is_empty")]
    pub attributes: StringMap,
    #[serde(rename = "MD5OfMessageAttributes", skip_serializing_if = "Option::is_none")]
    pub md5_of_message_attributes: Option<String>,
    #[serde(rename = "MessageAttributes", skip_serializing_if = "MessageAttributeMap::is_empty")]
    pub message_attributes: MessageAttributeMap,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReceiveMessageOutput {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartMessageMoveTaskOutput {
    pub task_handle: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancelMessageMoveTaskOutput {
    pub approximate_number_of_messages_moved: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MoveTaskEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_handle: Option<String>,
    pub status: String,
    pub source_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_number_of_messages_per_second: Option<u32>,
    pub approximate_number_of_messages_moved: u64,
    pub approximate_number_of_messages_to_move: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    pub started_timestamp: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListMessageMoveTasksOutput {
    pub results: Vec<MoveTaskEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inputs_decode_from_model_names() {
        let v = json!({"QueueUrl": "u", "Entries": [{"Id": "a", "MessageBody": "b", "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}}]});
        let i: SendMessageBatchInput = serde_json::from_value(v).unwrap();
        assert_eq!(i.entries[0].message.message_attributes["k"].string_value.as_deref(), Some("v"));
        assert_eq!(i.entries[0].message.message_body.as_deref(), Some("b"));
        let c: CreateQueueInput = serde_json::from_value(json!({"QueueName": "q", "tags": {"a": "b"}})).unwrap();
        assert_eq!(c.tags["a"], "b");
        let a: AddPermissionInput = serde_json::from_value(json!({"AWSAccountIds": ["1"], "Actions": ["*"]})).unwrap();
        assert_eq!(a.aws_account_ids, ["1"]);
    }

    #[test]
    fn outputs_use_model_names() {
        let o = SendMessageBatchResultEntry {
            id: "a".into(),
            sent: SendMessageOutput {
                md5_of_message_body: "x".into(),
                md5_of_message_attributes: None,
                md5_of_message_system_attributes: None,
                message_id: "m".into(),
                sequence_number: None,
            },
        };
        assert_eq!(serde_json::to_value(o).unwrap(), json!({"Id": "a", "MD5OfMessageBody": "x", "MessageId": "m"}));
    }
}
