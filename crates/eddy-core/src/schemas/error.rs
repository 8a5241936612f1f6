//! Schemas' errors: the model's exception shapes, each with its HTTP status.
//! Every shape carries `Code` and `Message` members.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemasError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Internal(String),
}

pub type SchemasResult<T> = Result<T, SchemasError>;

impl SchemasError {
    /// The error shape's name, as `X-Amzn-ErrorType` and the `Code` member carry it.
    pub fn code(&self) -> &'static str {
        match self {
            SchemasError::BadRequest(_) => "BadRequestException",
            SchemasError::NotFound(_) => "NotFoundException",
            SchemasError::Conflict(_) => "ConflictException",
            SchemasError::PreconditionFailed(_) => "PreconditionFailedException",
            SchemasError::Forbidden(_) => "ForbiddenException",
            SchemasError::Internal(_) => "InternalServerErrorException",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            SchemasError::BadRequest(_) => 400,
            SchemasError::NotFound(_) => 404,
            SchemasError::Conflict(_) => 409,
            SchemasError::PreconditionFailed(_) => 412,
            SchemasError::Forbidden(_) => 403,
            SchemasError::Internal(_) => 500,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            SchemasError::BadRequest(m)
            | SchemasError::NotFound(m)
            | SchemasError::Conflict(m)
            | SchemasError::PreconditionFailed(m)
            | SchemasError::Forbidden(m)
            | SchemasError::Internal(m) => m,
        }
    }
}

pub(crate) fn bad_request(message: impl Into<String>) -> SchemasError {
    SchemasError::BadRequest(message.into())
}

impl From<eddy_store::StoreError> for SchemasError {
    fn from(e: eddy_store::StoreError) -> SchemasError {
        SchemasError::Internal(format!("store: {e}"))
    }
}
