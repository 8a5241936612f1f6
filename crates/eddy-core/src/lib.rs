//! eddy's services, free of HTTP and wire shapes. Today: SQS, SNS and
//! Kinesis Data Streams ([`kinesis`]: durable shard logs, resharding,
//! enhanced fan-out).
//!
//! Layout: [`clock`] (time as a dependency, so tests never sleep),
//! [`sqs`] (queues, messages, FIFO groups, redrive, move tasks), [`sns`]
//! (topics, subscriptions, the delivery path), and the mechanisms services
//! share: [`pattern`] (SNS filter policies and EventBridge event patterns),
//! [`policy`] (IAM resource-policy evaluation), [`signing`] (SNS message
//! signatures), the shared vocabulary ([`identity`], [`arn`], [`tags`],
//! [`page`] tokens) and [`doctor`] (the production traps of gotchas.md). State
//! changes go through `eddy-store` and are reported done only once durable.

pub mod arn;
pub mod authz;
pub mod clock;
pub mod doctor;
mod due;
pub mod events;
pub mod iam;
pub mod identity;
pub mod kinesis;
pub mod maps;
pub(crate) mod outbox;
pub mod page;
pub mod pattern;
pub mod pipes;
pub mod policy;
pub mod scheduler;
pub mod schemas;
pub mod signing;
pub mod sns;
pub mod sqs;
pub mod tags;
