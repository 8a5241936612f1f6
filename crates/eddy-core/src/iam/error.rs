//! What can go wrong in IAM and STS, independent of how the wire spells it.
//! The binary maps each variant to AWS's code and HTTP status (botocore's
//! IAM and STS models).

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum IamError {
    /// `NoSuchEntity` (404).
    #[error("{0}")]
    NoSuchEntity(String),
    /// `EntityAlreadyExists` (409).
    #[error("{0}")]
    EntityAlreadyExists(String),
    /// `DeleteConflict` (409): the entity still has something attached.
    #[error("{0}")]
    DeleteConflict(String),
    /// `LimitExceeded` (409): a quota such as 5 policy versions or 2 access keys.
    #[error("{0}")]
    LimitExceeded(String),
    /// `MalformedPolicyDocument` (400).
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// `ValidationError` (400): a member outside its model constraints.
    #[error("{0}")]
    Validation(String),
    /// `InvalidInput` (400).
    #[error("{0}")]
    InvalidInput(String),
    /// `AccessDenied` (403): STS refusing to issue credentials.
    #[error("{0}")]
    AccessDenied(String),
    /// `ServiceFailure` (500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<eddy_store::StoreError> for IamError {
    fn from(e: eddy_store::StoreError) -> IamError {
        IamError::Internal(e.to_string())
    }
}

pub type IamResult<T> = Result<T, IamError>;

/// A member that failed its model constraint, worded as AWS's
/// `1 validation error detected: …` (member named in lowerCamelCase).
pub fn constraint(member: &str, value: &str, constraint: &str) -> IamError {
    IamError::Validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    ))
}

pub(crate) fn no_such(what: impl std::fmt::Display) -> IamError {
    IamError::NoSuchEntity(what.to_string())
}
