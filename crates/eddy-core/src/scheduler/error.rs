//! Scheduler's errors: the model's exception shapes, each with its HTTP status.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchedulerError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    QuotaExceeded(String),
    #[error("{0}")]
    Internal(String),
    /// Refused by IAM (`--enforce-iam`); not in the model's error list, but
    /// what AWS answers every API call the caller may not make.
    #[error("{0}")]
    AccessDenied(String),
}

pub type SchedulerResult<T> = Result<T, SchedulerError>;

impl SchedulerError {
    /// The error shape's name, as `X-Amzn-ErrorType` carries it.
    pub fn code(&self) -> &'static str {
        match self {
            SchedulerError::Validation(_) => "ValidationException",
            SchedulerError::NotFound(_) => "ResourceNotFoundException",
            SchedulerError::Conflict(_) => "ConflictException",
            SchedulerError::QuotaExceeded(_) => "ServiceQuotaExceededException",
            SchedulerError::Internal(_) => "InternalServerException",
            SchedulerError::AccessDenied(_) => "AccessDeniedException",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            SchedulerError::Validation(_) => 400,
            SchedulerError::NotFound(_) => 404,
            SchedulerError::Conflict(_) => 409,
            SchedulerError::QuotaExceeded(_) => 402,
            SchedulerError::Internal(_) => 500,
            SchedulerError::AccessDenied(_) => 403,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            SchedulerError::Validation(m)
            | SchedulerError::NotFound(m)
            | SchedulerError::Conflict(m)
            | SchedulerError::QuotaExceeded(m)
            | SchedulerError::Internal(m)
            | SchedulerError::AccessDenied(m) => m,
        }
    }
}

pub(crate) fn validation(message: impl Into<String>) -> SchedulerError {
    SchedulerError::Validation(message.into())
}

impl From<eddy_store::StoreError> for SchedulerError {
    fn from(e: eddy_store::StoreError) -> SchedulerError {
        SchedulerError::Internal(format!("store: {e}"))
    }
}
