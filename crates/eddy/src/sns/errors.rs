//! SNS core errors to AWS's codes and statuses (botocore's SNS model), one
//! arm per variant.

use eddy_core::sns::SnsError;
use eddy_wire::error::WireError;
pub use eddy_wire::sns::invalid_parameter;

pub fn wire(e: &SnsError) -> WireError {
    use SnsError::*;
    let m = e.to_string();
    let (shape, code, status) = match e {
        NotFound(_) => ("NotFoundException", "NotFound", 404),
        InvalidParameter(_) => ("InvalidParameterException", "InvalidParameter", 400),
        InvalidParameterValue(_) => ("InvalidParameterValueException", "ParameterValueInvalid", 400),
        ResourceNotFound(_) => ("ResourceNotFoundException", "ResourceNotFound", 404),
        TagLimitExceeded(_) => ("TagLimitExceededException", "TagLimitExceeded", 400),
        FilterPolicyLimitExceeded(_) => ("FilterPolicyLimitExceededException", "FilterPolicyLimitExceeded", 403),
        AuthorizationError(_) => ("AuthorizationErrorException", "AuthorizationError", 403),
        EndpointDisabled(_) => ("EndpointDisabledException", "EndpointDisabled", 400),
        EmptyBatchRequest => ("EmptyBatchRequestException", "EmptyBatchRequest", 400),
        TooManyEntriesInBatchRequest => ("TooManyEntriesInBatchRequestException", "TooManyEntriesInBatchRequest", 400),
        BatchEntryIdsNotDistinct => ("BatchEntryIdsNotDistinctException", "BatchEntryIdsNotDistinct", 400),
        BatchRequestTooLong => ("BatchRequestTooLongException", "BatchRequestTooLong", 400),
        InvalidBatchEntryId(_) => ("InvalidBatchEntryIdException", "InvalidBatchEntryId", 400),
        Validation(_) => ("ValidationException", "ValidationError", 400),
        Internal(_) => ("InternalErrorException", "InternalError", 500),
    };
    WireError::new(shape, code, status, m)
}

pub use eddy_wire::query::invalid_action;
