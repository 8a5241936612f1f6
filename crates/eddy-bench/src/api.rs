//! The SQS operations the bench uses, with request and response shapes from
//! the AWS SQS API reference (awsJson1_0: PascalCase members).

use std::collections::HashMap;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use super::http::Conn;

const CREATE_QUEUE: &str = "AmazonSQS.CreateQueue";
const DELETE_QUEUE: &str = "AmazonSQS.DeleteQueue";
const SEND_MESSAGE: &str = "AmazonSQS.SendMessage";
const SEND_MESSAGE_BATCH: &str = "AmazonSQS.SendMessageBatch";
const RECEIVE_MESSAGE: &str = "AmazonSQS.ReceiveMessage";
const DELETE_MESSAGE: &str = "AmazonSQS.DeleteMessage";
const DELETE_MESSAGE_BATCH: &str = "AmazonSQS.DeleteMessageBatch";

/// Visibility timeout of bench queues: far longer than any gap between a
/// receive and its delete, so a redelivery can only mean a server bug and is
/// reported as a duplicate.
const VISIBILITY_TIMEOUT_SECS: &str = "300";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct QueueUrlReq<'a> {
    queue_url: &'a str,
}

pub async fn create_queue(conn: &Conn, name: &str) -> Result<String> {
    create_queue_with(conn, name, HashMap::from([("VisibilityTimeout", VISIBILITY_TIMEOUT_SECS)])).await
}

pub async fn create_queue_with(conn: &Conn, name: &str, attributes: HashMap<&str, &str>) -> Result<String> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Req<'a> {
        queue_name: &'a str,
        attributes: HashMap<&'a str, &'a str>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Resp {
        queue_url: String,
    }
    let req = Req { queue_name: name, attributes };
    let resp: Resp = conn.json(CREATE_QUEUE, &req).await?;
    Ok(resp.queue_url)
}

/// Sets one queue attribute (the bench sets SNS's access Policy).
pub async fn set_queue_attribute(conn: &Conn, queue_url: &str, name: &str, value: &str) -> Result<()> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Req<'a> {
        queue_url: &'a str,
        attributes: HashMap<&'a str, &'a str>,
    }
    let req = serde_json::to_vec(&Req { queue_url, attributes: HashMap::from([(name, value)]) })?;
    conn.call("AmazonSQS.SetQueueAttributes", req).await?;
    Ok(())
}

/// One queue attribute, e.g. `QueueArn` or `ApproximateNumberOfMessages`.
pub async fn queue_attribute(conn: &Conn, queue_url: &str, name: &str) -> Result<String> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Req<'a> {
        queue_url: &'a str,
        attribute_names: [&'a str; 1],
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Resp {
        #[serde(default)]
        attributes: HashMap<String, String>,
    }
    let resp: Resp = conn.json("AmazonSQS.GetQueueAttributes", &Req { queue_url, attribute_names: [name] }).await?;
    resp.attributes.get(name).cloned().ok_or_else(|| anyhow::anyhow!("GetQueueAttributes: no {name} in the answer"))
}

pub async fn delete_queue(conn: &Conn, queue_url: &str) -> Result<()> {
    let req = serde_json::to_vec(&QueueUrlReq { queue_url })?;
    conn.call(DELETE_QUEUE, req).await?;
    Ok(())
}

pub async fn send_message(conn: &Conn, queue_url: &str, body: &str) -> Result<()> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Req<'a> {
        queue_url: &'a str,
        message_body: &'a str,
    }
    let req = serde_json::to_vec(&Req { queue_url, message_body: body })?;
    conn.call(SEND_MESSAGE, req).await?;
    Ok(())
}

/// Sends up to 10 bodies; returns the indexes of the entries that failed.
pub async fn send_batch(conn: &Conn, queue_url: &str, bodies: &[String]) -> Result<Vec<usize>> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Entry<'a> {
        id: String,
        message_body: &'a str,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Req<'a> {
        queue_url: &'a str,
        entries: Vec<Entry<'a>>,
    }
    let entries = bodies.iter().enumerate().map(|(i, body)| Entry { id: i.to_string(), message_body: body }).collect();
    let resp: BatchResp = conn.json(SEND_MESSAGE_BATCH, &Req { queue_url, entries }).await?;
    resp.failed_indexes(bodies.len())
}

/// A received message.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Message {
    pub receipt_handle: String,
    pub body: String,
    #[serde(rename = "MD5OfBody", default)]
    pub md5_of_body: String,
}

/// `ReceiveMessage`; `visibility` overrides the queue's timeout when set.
pub async fn receive(
    conn: &Conn,
    queue_url: &str,
    max: u32,
    wait_secs: u32,
    visibility: Option<u32>,
) -> Result<Vec<Message>> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Req<'a> {
        queue_url: &'a str,
        max_number_of_messages: u32,
        wait_time_seconds: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        visibility_timeout: Option<u32>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Resp {
        // Absent (not empty) when nothing was received.
        #[serde(default)]
        messages: Vec<Message>,
    }
    let req =
        Req { queue_url, max_number_of_messages: max, wait_time_seconds: wait_secs, visibility_timeout: visibility };
    let resp: Resp = conn.json(RECEIVE_MESSAGE, &req).await?;
    Ok(resp.messages)
}

pub async fn delete_message(conn: &Conn, queue_url: &str, receipt_handle: &str) -> Result<()> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Req<'a> {
        queue_url: &'a str,
        receipt_handle: &'a str,
    }
    let req = serde_json::to_vec(&Req { queue_url, receipt_handle })?;
    conn.call(DELETE_MESSAGE, req).await?;
    Ok(())
}

/// Deletes up to 10 messages; returns how many the server confirmed.
pub async fn delete_batch(conn: &Conn, queue_url: &str, messages: &[Message]) -> Result<usize> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Entry<'a> {
        id: String,
        receipt_handle: &'a str,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Req<'a> {
        queue_url: &'a str,
        entries: Vec<Entry<'a>>,
    }
    if messages.is_empty() {
        return Ok(0);
    }
    let entries = messages
        .iter()
        .enumerate()
        .map(|(i, m)| Entry { id: i.to_string(), receipt_handle: &m.receipt_handle })
        .collect();
    let resp: BatchResp = conn.json(DELETE_MESSAGE_BATCH, &Req { queue_url, entries }).await?;
    let failed = resp.failed_indexes(messages.len())?;
    Ok(messages.len() - failed.len())
}

/// The `Successful` / `Failed` halves of a batch response. Entry ids are the
/// decimal index of the request entry, so they map straight back.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchResp {
    #[serde(default)]
    successful: Vec<BatchEntry>,
    #[serde(default)]
    failed: Vec<BatchEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchEntry {
    id: String,
}

impl BatchResp {
    fn failed_indexes(&self, sent: usize) -> Result<Vec<usize>> {
        if self.successful.len() + self.failed.len() != sent {
            bail!(
                "batch of {sent} answered with {} successful + {} failed entries",
                self.successful.len(),
                self.failed.len()
            );
        }
        Ok(self.failed.iter().filter_map(|e| e.id.parse().ok()).collect())
    }
}
