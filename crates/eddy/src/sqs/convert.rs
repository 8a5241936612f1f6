//! Wire shapes ↔ core types, and queue URLs.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use eddy_core::sqs::{AttributeValue, Attributes, QueueName, Received, SendRequest, Sent, SqsError, SqsResult};
use eddy_wire::sqs::{self as shapes, MessageAttributeMap, MessageAttributeValue};

/// `{account}/{name}` are the last two path segments of any queue URL form
/// (ours, `sqs.{region}.amazonaws.com`, `queue.amazonaws.com`, …).
pub fn queue_name_from_url(url: &str, region: &str) -> SqsResult<QueueName> {
    let path = url.split("://").nth(1).map(|rest| rest.split_once('/').map_or("", |(_, p)| p)).unwrap_or(url);
    let path = path.split(['?', '#']).next().unwrap_or("");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [.., account, name] => {
            Ok(QueueName { account: account.to_string(), region: region.to_string(), name: name.to_string() })
        }
        _ => Err(SqsError::QueueDoesNotExist),
    }
}

pub fn queue_url(base_url: &str, account: &str, name: &str) -> String {
    format!("{base_url}/{account}/{name}")
}

pub fn attributes_in(map: MessageAttributeMap) -> SqsResult<Attributes> {
    map.into_iter()
        .map(|(name, v)| {
            let binary = match v.binary_value {
                Some(b) => Some(STANDARD.decode(b.trim()).map_err(|_| {
                    SqsError::InvalidParameterValue(format!(
                        "The binary value of message attribute '{name}' is not valid base64."
                    ))
                })?),
                None => None,
            };
            if !v.string_list_values.is_empty() || !v.binary_list_values.is_empty() {
                return Err(SqsError::InvalidParameterValue(format!(
                    "Message attribute '{name}': list values are not supported by SQS."
                )));
            }
            Ok((name, AttributeValue { data_type: v.data_type, string: v.string_value, binary }))
        })
        .collect()
}

pub fn attributes_out(attrs: Attributes) -> MessageAttributeMap {
    attrs
        .into_iter()
        .map(|(name, v)| {
            let value = MessageAttributeValue {
                string_value: v.string,
                binary_value: v.binary.map(|b| STANDARD.encode(b)),
                data_type: v.data_type,
                ..Default::default()
            };
            (name, value)
        })
        .collect()
}

pub fn send_request(m: shapes::MessageToSend) -> SqsResult<SendRequest> {
    Ok(SendRequest {
        body: m.message_body.ok_or_else(|| SqsError::MissingParameter("MessageBody".into()))?,
        delay_secs: m.delay_seconds,
        attributes: attributes_in(m.message_attributes)?,
        system_attributes: attributes_in(m.message_system_attributes)?,
        dedup_id: m.message_deduplication_id,
        group_id: m.message_group_id,
    })
}

pub fn sent_out(s: Sent) -> shapes::SendMessageOutput {
    shapes::SendMessageOutput {
        md5_of_message_body: s.md5_body,
        md5_of_message_attributes: s.md5_attributes,
        md5_of_message_system_attributes: s.md5_system_attributes,
        message_id: s.message_id,
        sequence_number: s.sequence_number,
    }
}

pub fn message_out(m: Received) -> shapes::Message {
    shapes::Message {
        message_id: m.message_id,
        receipt_handle: m.receipt_handle,
        md5_of_body: m.md5_body,
        body: m.body,
        attributes: m.system_attributes,
        md5_of_message_attributes: m.md5_attributes,
        message_attributes: attributes_out(m.attributes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_urls_from_any_host() {
        for url in [
            "http://localhost:4566/000000000000/q",
            "https://sqs.us-east-1.amazonaws.com/000000000000/q",
            "https://queue.amazonaws.com/000000000000/q",
            "http://127.0.0.1:4566/000000000000/q/",
        ] {
            let n = queue_name_from_url(url, "us-east-1").unwrap();
            assert_eq!((n.account.as_str(), n.name.as_str()), ("000000000000", "q"), "{url}");
        }
        assert!(queue_name_from_url("q", "us-east-1").is_err());
        assert!(queue_name_from_url("http://host/", "us-east-1").is_err());
    }
}
