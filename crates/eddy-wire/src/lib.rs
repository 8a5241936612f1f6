//! AWS wire protocols as pure codecs: no I/O, no runtime, no storage.
//!
//! - [`query`]: awsQuery form bodies (`Action=…&Attribute.1.Name=…`) turned
//!   into the same JSON shape awsJson clients send, so one set of shapes
//!   serves both protocols.
//! - [`xml`]: awsQuery XML responses rendered from those JSON shapes.
//! - [`error`]: error bodies and headers for awsJson and awsQuery.
//! - [`rest_json`]: restJson1 bodies and errors (MQ, MSK, Scheduler, Pipes, Schemas).
//! - [`rest_xml`]: restXml bodies and errors (S3).
//! - [`sqs`]: the SQS request and response shapes (API version 2012-11-05).
//! - [`sns`]: the SNS request shapes (API version 2010-03-31) and the checks
//!   AWS makes on them before it looks at a topic.
//! - [`iam`], [`sts`]: the IAM (2010-05-08) and STS (2011-06-15) request shapes.
//! - [`kinesis`]: the Kinesis request shapes (API version 2013-12-02), decoded
//!   from either encoding, and the checks AWS makes on them before it looks
//!   at a stream.
//! - [`events`]: the EventBridge request shapes (API version 2015-10-07).
//! - [`json`]: awsJson request bodies decoded under size and depth limits.
//! - [`cbor`]: Kinesis's CBOR protocol (`application/x-amz-cbor-1.1`) converted
//!   to and from the awsJson shapes.
//! - [`eventstream`]: AWS event-stream framing (`application/vnd.amazon.eventstream`),
//!   as used by Kinesis SubscribeToShard.

pub mod cbor;
pub mod error;
pub mod events;
pub mod eventstream;
pub mod iam;
pub mod json;
pub mod kinesis;
pub mod pipes;
pub mod query;
pub mod rest_json;
pub mod rest_xml;
pub mod scheduler;
pub mod schemas;
pub mod sigv4;
pub mod sns;
pub mod sqs;
pub mod sts;
pub mod xml;
