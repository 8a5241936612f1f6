//! Wire shapes ↔ core types, and queue URLs.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use eddy_core::sqs::{AttributeValue, Attributes, Caller, QueueName, Received, SendRequest, Sent, SqsError, SqsResult};
use eddy_wire::sqs::{self as shapes, MessageAttributeMap, MessageAttributeValue};

/// Reads a queue's identity from any form of `QueueUrl`:
/// - ours, `{base}/queue/{region}/{account}/{name}`: the URL names the region,
///   as AWS's URLs do, so same-named queues in two regions have two URLs;
/// - any other host's (`sqs.{region}.amazonaws.com/{account}/{name}`, a URL a
///   client built from the endpoint as `{endpoint}/{account}/{name}`, …): the
///   last two path segments, in the caller's region;
/// - a bare queue name, which AWS accepts too: the caller's own queue.
pub fn queue_name_from_url(url: &str, caller: &Caller) -> SqsResult<QueueName> {
    let named = |account: &str, region: &str, name: &str| QueueName {
        account: account.to_string(),
        region: region.to_string(),
        name: name.to_string(),
    };
    if !url.contains('/') {
        return match url {
            "" => Err(SqsError::QueueDoesNotExist),
            name => Ok(named(&caller.account, &caller.region, name)),
        };
    }
    let path = url.split("://").nth(1).map(|rest| rest.split_once('/').map_or("", |(_, p)| p)).unwrap_or(url);
    let path = path.split(['?', '#']).next().unwrap_or("");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [.., "queue", region, account, name] => Ok(named(account, region, name)),
        [.., account, name] => Ok(named(account, &caller.region, name)),
        _ => Err(SqsError::QueueDoesNotExist),
    }
}

pub fn queue_url(base_url: &str, q: &QueueName) -> String {
    format!("{base_url}/queue/{}/{}/{}", q.region, q.account, q.name)
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
        trace_header: None,
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
        let caller = Caller { account: "000000000000".into(), region: "eu-west-1".into(), access_key: "test".into() };
        let read = |url: &str| queue_name_from_url(url, &caller).map(|n| (n.account, n.region, n.name));
        let ours = ("000000000000".to_string(), "eu-west-1".to_string(), "q".to_string());
        for url in [
            "http://localhost:4566/000000000000/q",
            "https://sqs.us-east-1.amazonaws.com/000000000000/q",
            "https://queue.amazonaws.com/000000000000/q",
            "http://127.0.0.1:4566/000000000000/q/",
            "q",
        ] {
            assert_eq!(read(url).unwrap(), ours, "{url}");
        }
        let west = ("111122223333".to_string(), "us-west-2".to_string(), "q".to_string());
        assert_eq!(read("http://127.0.0.1:4566/queue/us-west-2/111122223333/q").unwrap(), west);
        assert!(read("").is_err());
        assert!(read("http://host/").is_err());
    }

    #[test]
    fn our_urls_read_back() {
        let caller = Caller { account: "1".into(), region: "us-east-1".into(), access_key: "k".into() };
        let q = QueueName { account: "111122223333".into(), region: "ap-south-1".into(), name: "jobs.fifo".into() };
        let url = queue_url("http://h:1", &q);
        assert_eq!(url, "http://h:1/queue/ap-south-1/111122223333/jobs.fifo");
        assert_eq!(queue_name_from_url(&url, &caller).unwrap(), q);
    }
}
