//! IAM and STS core errors to AWS's codes and statuses (botocore's IAM and
//! STS models), one arm per variant.

use eddy_core::iam::IamError;
use eddy_wire::error::WireError;

pub fn wire(e: &IamError) -> WireError {
    use IamError::*;
    let m = e.to_string();
    let (shape, code, status) = match e {
        NoSuchEntity(_) => ("NoSuchEntityException", "NoSuchEntity", 404),
        EntityAlreadyExists(_) => ("EntityAlreadyExistsException", "EntityAlreadyExists", 409),
        DeleteConflict(_) => ("DeleteConflictException", "DeleteConflict", 409),
        LimitExceeded(_) => ("LimitExceededException", "LimitExceeded", 409),
        MalformedPolicyDocument(_) => ("MalformedPolicyDocumentException", "MalformedPolicyDocument", 400),
        Validation(_) => ("ValidationException", "ValidationError", 400),
        InvalidInput(_) => ("InvalidInputException", "InvalidInput", 400),
        AccessDenied(_) => ("AccessDeniedException", "AccessDenied", 403),
        Internal(_) => ("ServiceFailureException", "ServiceFailure", 500),
    };
    WireError::new(shape, code, status, m)
}

pub use eddy_wire::query::invalid_action;
