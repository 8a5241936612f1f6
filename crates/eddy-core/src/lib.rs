//! eddy's services, free of HTTP and wire shapes. Today: SQS.
//!
//! Layout: [`clock`] (time as a dependency, so tests never sleep) and
//! [`sqs`] (queues, messages, FIFO groups, redrive, move tasks). State
//! changes go through `eddy-store` and are reported done only once durable.

pub mod clock;
pub mod sqs;
