//! What can go wrong in SQS, independent of how the wire spells it.
//! The binary maps each variant to AWS's error code and HTTP status.

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SqsError {
    #[error("The specified queue does not exist.")]
    QueueDoesNotExist,
    #[error("A queue already exists with the same name and a different value for attribute {0}")]
    QueueNameExists(String),
    #[error("You must wait 60 seconds after deleting a queue before you can create another with the same name.")]
    QueueDeletedRecently,
    #[error("Only one PurgeQueue operation on {0} is allowed every 60 seconds.")]
    PurgeQueueInProgress(String),
    #[error("Value {0} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.")]
    MessageNotInflight(String),
    #[error("The input receipt handle \"{0}\" is not a valid receipt handle.")]
    ReceiptHandleIsInvalid(String),
    #[error("Maximum number of entries per request are 10. You have sent {0}.")]
    TooManyEntriesInBatchRequest(usize),
    #[error("There should be at least one {0} in the request.")]
    EmptyBatchRequest(&'static str),
    #[error("Id {0} repeated.")]
    BatchEntryIdsNotDistinct(String),
    #[error("Batch requests cannot be longer than 1048576 bytes. You have sent {0} bytes.")]
    BatchRequestTooLong(usize),
    #[error("A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")]
    InvalidBatchEntryId(String),
    /// The whole message: "Unknown Attribute X." mostly (see [`unknown_attribute`]).
    #[error("{0}")]
    InvalidAttributeName(String),
    #[error("{0}")]
    InvalidAttributeValue(String),
    #[error("{0}")]
    InvalidMessageContents(String),
    #[error("{0}")]
    InvalidParameterValue(String),
    #[error("The request must contain the parameter {0}.")]
    MissingParameter(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    UnsupportedOperation(String),
    #[error("{0}")]
    OverLimit(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// AWS's InvalidAttributeName for a name it does not know.
pub fn unknown_attribute(name: &str) -> SqsError {
    SqsError::InvalidAttributeName(format!("Unknown Attribute {name}."))
}

impl From<eddy_store::StoreError> for SqsError {
    fn from(e: eddy_store::StoreError) -> SqsError {
        SqsError::Internal(e.to_string())
    }
}

pub type SqsResult<T> = Result<T, SqsError>;

pub(crate) fn invalid_param(msg: impl Into<String>) -> SqsError {
    SqsError::InvalidParameterValue(msg.into())
}
