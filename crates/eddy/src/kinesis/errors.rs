//! Kinesis errors: each core variant to its AWS shape and HTTP status.

use eddy_core::kinesis::KinesisError;

/// An error as Kinesis reports it: `{"__type": shape, "message": …}`.
#[derive(Debug, Clone)]
pub struct KinesisWireError {
    pub shape: &'static str,
    pub status: u16,
    pub message: String,
}

pub fn wire(e: &KinesisError) -> KinesisWireError {
    use KinesisError::*;
    let (shape, status) = match e {
        ResourceNotFound(_) => ("ResourceNotFoundException", 400),
        ResourceInUse(_) => ("ResourceInUseException", 400),
        InvalidArgument(_) => ("InvalidArgumentException", 400),
        Validation(_) => ("ValidationException", 400),
        LimitExceeded(_) => ("LimitExceededException", 400),
        ExpiredIterator(_) => ("ExpiredIteratorException", 400),
        ExpiredNextToken(_) => ("ExpiredNextTokenException", 400),
        ProvisionedThroughputExceeded(_) => ("ProvisionedThroughputExceededException", 400),
        Internal(m) => {
            tracing::error!(error = %m, "kinesis: internal error");
            ("InternalFailureException", 500)
        }
    };
    KinesisWireError { shape, status, message: e.to_string() }
}

pub fn serialization(message: impl Into<String>) -> KinesisWireError {
    KinesisWireError { shape: "SerializationException", status: 400, message: message.into() }
}

pub fn unknown_operation(op: &str) -> KinesisWireError {
    KinesisWireError { shape: "UnknownOperationException", status: 400, message: format!("Unknown operation {op}") }
}

impl From<KinesisError> for KinesisWireError {
    fn from(e: KinesisError) -> Self {
        wire(&e)
    }
}

/// A decode or check failure of the request (eddy-wire's typed inputs).
impl From<eddy_wire::error::WireError> for KinesisWireError {
    fn from(e: eddy_wire::error::WireError) -> Self {
        KinesisWireError { shape: e.shape, status: e.status, message: e.message }
    }
}
