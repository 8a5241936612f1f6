//! Core errors to AWS's codes and statuses, one arm per variant.

use eddy_core::sqs::SqsError;
use eddy_wire::error::WireError;

pub fn wire(e: &SqsError) -> WireError {
    use SqsError::*;
    let m = e.to_string();
    let (shape, code, status) = match e {
        QueueDoesNotExist => ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", 400),
        QueueNameExists(_) => ("QueueNameExists", "QueueAlreadyExists", 400),
        QueueDeletedRecently => ("QueueDeletedRecently", "AWS.SimpleQueueService.QueueDeletedRecently", 400),
        PurgeQueueInProgress(_) => ("PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress", 403),
        MessageNotInflight(_) => ("MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", 400),
        ReceiptHandleIsInvalid(_) => ("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", 404),
        TooManyEntriesInBatchRequest(_) => {
            ("TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400)
        }
        EmptyBatchRequest(_) => ("EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", 400),
        BatchEntryIdsNotDistinct(_) => {
            ("BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400)
        }
        BatchRequestTooLong(_) => ("BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong", 400),
        InvalidBatchEntryId(_) => ("InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId", 400),
        InvalidAttributeName(_) => ("InvalidAttributeName", "InvalidAttributeName", 400),
        InvalidAttributeValue(_) => ("InvalidAttributeValue", "InvalidAttributeValue", 400),
        InvalidMessageContents(_) => ("InvalidMessageContents", "InvalidMessageContents", 400),
        InvalidParameterValue(_) => ("InvalidParameterValueException", "InvalidParameterValue", 400),
        MissingParameter(_) => ("MissingRequiredParameterException", "MissingParameter", 400),
        ResourceNotFound(_) => ("ResourceNotFoundException", "ResourceNotFoundException", 404),
        UnsupportedOperation(_) => ("UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", 400),
        OverLimit(_) => ("OverLimit", "OverLimit", 403),
        Internal(_) => {
            tracing::error!(error = %m, "internal error");
            ("InternalError", "InternalError", 500)
        }
    };
    WireError::new(shape, code, status, m)
}

pub fn serialization(message: impl Into<String>) -> WireError {
    WireError::new("SerializationException", "SerializationException", 400, message)
}

pub fn invalid_parameter(message: impl Into<String>) -> WireError {
    WireError::new("InvalidParameterValueException", "InvalidParameterValue", 400, message)
}

pub fn missing_action() -> WireError {
    WireError::new("MissingAction", "MissingAction", 400, "The request must contain the parameter Action.")
}

pub fn unknown_operation(name: &str) -> WireError {
    WireError::new(
        "UnknownOperationException",
        "InvalidAction",
        400,
        format!("The action {name} is not valid for this endpoint."),
    )
}

pub use eddy_wire::query::invalid_action;
