//! EventBridge's errors, as its API reference names them; the binary maps
//! each to its `__type` and HTTP status.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventsError {
    /// `ResourceNotFoundException`: a bus, rule or statement that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// `ResourceAlreadyExistsException`.
    #[error("{0}")]
    AlreadyExists(String),
    /// `ValidationException`: AWS's catch-all for bad input.
    #[error("{0}")]
    Validation(String),
    /// `InvalidEventPatternException`: the pattern's text, as ruler words it.
    #[error("{0}")]
    InvalidEventPattern(String),
    /// `LimitExceededException`: targets per rule, rules per bus.
    #[error("{0}")]
    LimitExceeded(String),
    /// `ManagedRuleException`: a rule another service manages.
    #[error("{0}")]
    ManagedRule(String),
    /// `IllegalStatusException`: e.g. cancelling a replay that has ended.
    #[error("{0}")]
    IllegalStatus(String),
    /// `InternalException` (500): the store failed.
    #[error("{0}")]
    Internal(String),
}

pub type EventsResult<T> = Result<T, EventsError>;

impl From<eddy_store::StoreError> for EventsError {
    fn from(e: eddy_store::StoreError) -> Self {
        EventsError::Internal(format!("store: {e}"))
    }
}

pub(crate) fn validation(message: impl Into<String>) -> EventsError {
    EventsError::Validation(message.into())
}

pub(crate) fn not_found(message: impl Into<String>) -> EventsError {
    EventsError::NotFound(message.into())
}
