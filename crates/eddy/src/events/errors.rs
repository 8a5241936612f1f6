//! EventBridge errors: each core variant to its AWS shape and HTTP status.

use eddy_core::events::EventsError;

/// An error as EventBridge reports it: `{"__type": shape, "message": …}`.
#[derive(Debug, Clone)]
pub struct EventsWireError {
    pub shape: &'static str,
    pub status: u16,
    pub message: String,
}

impl From<EventsError> for EventsWireError {
    fn from(e: EventsError) -> Self {
        use EventsError::*;
        let (shape, status) = match &e {
            NotFound(_) => ("ResourceNotFoundException", 400),
            AlreadyExists(_) => ("ResourceAlreadyExistsException", 400),
            Validation(_) => ("ValidationException", 400),
            InvalidEventPattern(_) => ("InvalidEventPatternException", 400),
            LimitExceeded(_) => ("LimitExceededException", 400),
            ManagedRule(_) => ("ManagedRuleException", 400),
            IllegalStatus(_) => ("IllegalStatusException", 400),
            Internal(m) => {
                tracing::error!(error = %m, "events: internal error");
                ("InternalException", 500)
            }
        };
        EventsWireError { shape, status, message: e.to_string() }
    }
}

/// A decode failure of the request (eddy-wire's typed inputs).
impl From<eddy_wire::error::WireError> for EventsWireError {
    fn from(e: eddy_wire::error::WireError) -> Self {
        EventsWireError { shape: e.shape, status: e.status, message: e.message }
    }
}

pub fn serialization(message: impl Into<String>) -> EventsWireError {
    EventsWireError { shape: "SerializationException", status: 400, message: message.into() }
}

pub fn unknown_operation(op: &str) -> EventsWireError {
    EventsWireError { shape: "UnknownOperationException", status: 400, message: format!("Unknown operation {op}") }
}

/// Operations of the API that eddy does not serve yet.
pub fn not_implemented(op: &str) -> EventsWireError {
    EventsWireError {
        shape: "UnknownOperationException",
        status: 400,
        message: format!("{op} is not supported by eddy yet"),
    }
}
