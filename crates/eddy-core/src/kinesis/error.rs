//! Kinesis errors, one variant per AWS error shape; the binary maps each to
//! its code and HTTP status.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KinesisError {
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceInUse(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    ExpiredIterator(String),
    #[error("{0}")]
    ExpiredNextToken(String),
    #[error("{0}")]
    ProvisionedThroughputExceeded(String),
    #[error("{0}")]
    Internal(String),
}

pub type KinesisResult<T> = Result<T, KinesisError>;

impl From<eddy_store::StoreError> for KinesisError {
    fn from(e: eddy_store::StoreError) -> Self {
        KinesisError::Internal(e.to_string())
    }
}

pub(crate) fn stream_not_found(name: &str, account: &str) -> KinesisError {
    KinesisError::ResourceNotFound(format!("Stream {name} under account {account} not found."))
}

pub(crate) fn shard_not_found(shard: &str, stream: &str, account: &str) -> KinesisError {
    KinesisError::ResourceNotFound(format!("Shard {shard} in stream {stream} under account {account} does not exist"))
}
