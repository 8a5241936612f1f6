//! Shared by the fuzz targets: the SQS actions and their input shapes, as
//! eddy's dispatch pairs them.

use eddy_wire::sqs::*;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Every SQS action (API 2012-11-05).
pub const ACTIONS: &[&str] = &[
    "CreateQueue",
    "GetQueueUrl",
    "ListQueues",
    "DeleteQueue",
    "PurgeQueue",
    "GetQueueAttributes",
    "SetQueueAttributes",
    "SendMessage",
    "SendMessageBatch",
    "ReceiveMessage",
    "DeleteMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "TagQueue",
    "UntagQueue",
    "ListQueueTags",
    "AddPermission",
    "RemovePermission",
    "ListDeadLetterSourceQueues",
    "StartMessageMoveTask",
    "CancelMessageMoveTask",
    "ListMessageMoveTasks",
];

fn shape<T: DeserializeOwned>(v: &Value) -> bool {
    serde_json::from_value::<T>(v.clone()).is_ok()
}

/// Decodes `input` into the input shape of `action` as eddy's dispatch does
/// (`serde_json::from_value`). `None` for an unknown action.
pub fn decode_input(action: &str, input: &Value) -> Option<bool> {
    Some(match action {
        "CreateQueue" => shape::<CreateQueueInput>(input),
        "GetQueueUrl" => shape::<GetQueueUrlInput>(input),
        "ListQueues" => shape::<ListQueuesInput>(input),
        "DeleteQueue" | "PurgeQueue" | "ListQueueTags" => shape::<QueueUrlInput>(input),
        "GetQueueAttributes" => shape::<GetQueueAttributesInput>(input),
        "SetQueueAttributes" => shape::<SetQueueAttributesInput>(input),
        "SendMessage" => shape::<SendMessageInput>(input),
        "SendMessageBatch" => shape::<SendMessageBatchInput>(input),
        "ReceiveMessage" => shape::<ReceiveMessageInput>(input),
        "DeleteMessage" => shape::<DeleteMessageInput>(input),
        "DeleteMessageBatch" => shape::<DeleteMessageBatchInput>(input),
        "ChangeMessageVisibility" => shape::<ChangeMessageVisibilityInput>(input),
        "ChangeMessageVisibilityBatch" => shape::<ChangeMessageVisibilityBatchInput>(input),
        "TagQueue" => shape::<TagQueueInput>(input),
        "UntagQueue" => shape::<UntagQueueInput>(input),
        "AddPermission" => shape::<AddPermissionInput>(input),
        "RemovePermission" => shape::<RemovePermissionInput>(input),
        "ListDeadLetterSourceQueues" => shape::<ListDeadLetterSourceQueuesInput>(input),
        "StartMessageMoveTask" => shape::<StartMessageMoveTaskInput>(input),
        "CancelMessageMoveTask" => shape::<CancelMessageMoveTaskInput>(input),
        "ListMessageMoveTasks" => shape::<ListMessageMoveTasksInput>(input),
        _ => return None,
    })
}

/// Decodes raw bytes straight into every input shape (`serde_json::from_slice`).
pub fn decode_all_shapes(bytes: &[u8]) {
    fn try_slice<T: DeserializeOwned>(bytes: &[u8]) {
        let _ = serde_json::from_slice::<T>(bytes);
    }
    try_slice::<CreateQueueInput>(bytes);
    try_slice::<GetQueueUrlInput>(bytes);
    try_slice::<ListQueuesInput>(bytes);
    try_slice::<QueueUrlInput>(bytes);
    try_slice::<GetQueueAttributesInput>(bytes);
    try_slice::<SetQueueAttributesInput>(bytes);
    try_slice::<SendMessageInput>(bytes);
    try_slice::<SendMessageBatchInput>(bytes);
    try_slice::<ReceiveMessageInput>(bytes);
    try_slice::<DeleteMessageInput>(bytes);
    try_slice::<DeleteMessageBatchInput>(bytes);
    try_slice::<ChangeMessageVisibilityInput>(bytes);
    try_slice::<ChangeMessageVisibilityBatchInput>(bytes);
    try_slice::<TagQueueInput>(bytes);
    try_slice::<UntagQueueInput>(bytes);
    try_slice::<AddPermissionInput>(bytes);
    try_slice::<RemovePermissionInput>(bytes);
    try_slice::<ListDeadLetterSourceQueuesInput>(bytes);
    try_slice::<StartMessageMoveTaskInput>(bytes);
    try_slice::<CancelMessageMoveTaskInput>(bytes);
    try_slice::<ListMessageMoveTasksInput>(bytes);
}

/// `xml::sqs_response`, checked for the envelope every response must have.
pub fn render(action: &str, output: Option<&Value>) -> String {
    let xml = eddy_wire::xml::sqs_response(action, output, "fuzz-request-id");
    assert!(xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?>"#));
    assert!(xml.ends_with(&format!("</{action}Response>")), "{xml}");
    xml
}
