//! End-to-end: the AWS SDK for Rust (SQS over awsJson 1.0, SNS over awsQuery,
//! Kinesis and EventBridge over awsJson 1.1, EventBridge Scheduler, Pipes
//! and the schema registry over restJson1, IAM and STS over awsQuery)
//! against a spawned eddy.
//!
//! Each test starts its own eddy (`$EDDY_BIN`, or `cargo build -p eddy`
//! once per run) on a free port with a temporary data dir. Expectations come
//! from the services' API references and developer guides, not from eddy's output.

mod common;

mod batch;
mod errors;
mod events;
mod fifo;
mod iam_sts;
mod kinesis;
mod messages;
mod pipes_schemas;
mod queues;
mod redrive;
mod sns;
mod tags;
mod visibility;
