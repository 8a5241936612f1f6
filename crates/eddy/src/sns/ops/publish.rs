//! Publish and PublishBatch: the typed message members, checked, become the
//! core's [`PublishRequest`].

use serde_json::{json, Value};

use eddy_core::sns::{PublishRequest, Published, SnsError};
use eddy_core::sqs::{AttributeValue, Attributes};
use eddy_wire::error::WireError;
use eddy_wire::sns::{self as s, required};

use super::{core, wire, Handler, Output};

impl Handler<'_> {
    pub(super) async fn publish(&self, i: s::PublishInput) -> Output {
        let topic_arn = i.topic_arn.map(|arn| self.topic_arn(Some(arn), "TopicArn")).transpose()?;
        let mut req = publish_request(i.message, "messageAttributes")?;
        req.message = Some(required(req.message, "Message")?);
        let req = PublishRequest {
            topic_arn,
            target_arn: i.target_arn,
            phone_number: i.phone_number,
            trace_header: self.ctx.trace_header.clone(),
            ..req
        };
        let p = core(self.sns().publish(req).await)?;
        Ok(Some(json!({"MessageId": p.message_id, "SequenceNumber": p.sequence_number})))
    }

    pub(super) async fn publish_batch(&self, i: s::PublishBatchInput) -> Output {
        let topic = self.topic_arn(i.topic_arn, "TopicArn")?;
        let mut entries = Vec::new();
        for (n, e) in i.publish_batch_request_entries.into_iter().enumerate() {
            let path = format!("publishBatchRequestEntries.{}.member.messageAttributes", n + 1);
            let req =
                PublishRequest { trace_header: self.ctx.trace_header.clone(), ..publish_request(e.message, &path)? };
            entries.push((e.id.unwrap_or_default(), req));
        }
        let results = core(self.sns().publish_batch(&topic, entries).await)?;
        Ok(Some(batch_output(results)))
    }
}

/// The members Publish and a PublishBatch entry share; `attributes_path`
/// names the entry's MessageAttributes in validation messages.
fn publish_request(m: s::PublishMessage, attributes_path: &str) -> Result<PublishRequest, WireError> {
    let mut attributes = Attributes::new();
    for (name, a) in m.message_attributes {
        let a = a.check(&name, attributes_path)?;
        attributes
            .insert(name, AttributeValue { data_type: a.data_type, string: a.string_value, binary: a.binary_value });
    }
    Ok(PublishRequest {
        message: m.message,
        subject: m.subject,
        message_structure: m.message_structure,
        attributes,
        dedup_id: m.message_deduplication_id,
        group_id: m.message_group_id,
        ..PublishRequest::default()
    })
}

fn batch_output(results: Vec<(String, Result<Published, SnsError>)>) -> Value {
    let (mut ok, mut failed) = (Vec::new(), Vec::new());
    for (id, r) in results {
        match r {
            Ok(p) => ok.push(json!({"Id": id, "MessageId": p.message_id, "SequenceNumber": p.sequence_number})),
            Err(e) => {
                let w = wire(&e);
                failed.push(json!({"Id": id, "Code": w.code, "Message": w.message, "SenderFault": w.sender}));
            }
        }
    }
    json!({"Successful": ok, "Failed": failed})
}
