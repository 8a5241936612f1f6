//! Pipes' errors: the model's exception shapes, each with its HTTP status.
//! A ValidationException carries the model's `fieldList` (each member at
//! fault and why); a ConflictException names the resource it is about.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PipesError {
    #[error("{message}")]
    Validation { message: String, fields: Vec<(String, String)> },
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Conflict { message: String, resource_id: String, resource_type: String },
    #[error("{0}")]
    Internal(String),
    /// Refused by IAM (`--enforce-iam`): what AWS answers every API call
    /// the caller may not make, though the model does not list it.
    #[error("{0}")]
    AccessDenied(String),
}

pub type PipesResult<T> = Result<T, PipesError>;

impl PipesError {
    /// The error shape's name, as `X-Amzn-ErrorType` carries it.
    pub fn code(&self) -> &'static str {
        match self {
            PipesError::Validation { .. } => "ValidationException",
            PipesError::NotFound(_) => "NotFoundException",
            PipesError::Conflict { .. } => "ConflictException",
            PipesError::Internal(_) => "InternalException",
            PipesError::AccessDenied(_) => "AccessDeniedException",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            PipesError::Validation { .. } => 400,
            PipesError::NotFound(_) => 404,
            PipesError::Conflict { .. } => 409,
            PipesError::Internal(_) => 500,
            PipesError::AccessDenied(_) => 403,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            PipesError::Validation { message, .. } | PipesError::Conflict { message, .. } => message,
            PipesError::NotFound(m) | PipesError::Internal(m) | PipesError::AccessDenied(m) => m,
        }
    }
}

/// A ValidationException without a member to name (AWS's free-text checks).
pub fn validation(message: impl Into<String>) -> PipesError {
    PipesError::Validation { message: message.into(), fields: Vec::new() }
}

/// A constraint of the model broken by one member, worded as AWS words it:
/// "1 validation error detected: Value 'x' at 'name' failed to satisfy
/// constraint: Member must …", with the member in `fieldList`.
pub fn constraint(member: &str, value: &str, rule: &str) -> PipesError {
    let message =
        format!("1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}");
    PipesError::Validation { message, fields: vec![(member.to_string(), rule.to_string())] }
}

/// A required member left out.
pub fn null_member(member: &str) -> PipesError {
    let rule = "Member must not be null";
    let message = format!("1 validation error detected: Value null at '{member}' failed to satisfy constraint: {rule}");
    PipesError::Validation { message, fields: vec![(member.to_string(), rule.to_string())] }
}

pub fn pipe_not_found(name: &str) -> PipesError {
    PipesError::NotFound(format!("Pipe {name} does not exist."))
}

pub fn conflict(name: &str, message: impl Into<String>) -> PipesError {
    PipesError::Conflict { message: message.into(), resource_id: name.to_string(), resource_type: "pipe".into() }
}

impl From<eddy_store::StoreError> for PipesError {
    fn from(e: eddy_store::StoreError) -> PipesError {
        PipesError::Internal(format!("store: {e}"))
    }
}
