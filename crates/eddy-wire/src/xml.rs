//! awsQuery XML responses rendered from the JSON output shape, following
//! SQS's flattened conventions (`<Attribute><Name/><Value/></Attribute>`,
//! repeated `<QueueUrl>`, `<SendMessageBatchResultEntry>`…).

use serde_json::Value;

pub const SQS_NAMESPACE: &str = "http://queue.amazonaws.com/doc/2012-11-05/";

/// `<{action}Response>` with an `<{action}Result>` holding `output`
/// (omitted when the operation has no output), and the request id.
pub fn sqs_response(action: &str, output: Option<&Value>, request_id: &str) -> String {
    let mut s = String::with_capacity(512);
    s.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    s.push_str(&format!(r#"<{action}Response xmlns="{SQS_NAMESPACE}">"#));
    if let Some(out) = output {
        let mut inner = String::new();
        if let Value::Object(members) = out {
            for (k, v) in members {
                member(&mut inner, action, k, v);
            }
        }
        // AWS writes an empty result as `<ReceiveMessageResult/>` (recorded).
        if inner.is_empty() {
            s.push_str(&format!("<{action}Result/>"));
        } else {
            s.push_str(&format!("<{action}Result>{inner}</{action}Result>"));
        }
    }
    s.push_str(&format!("<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"));
    s
}

pub const SNS_NAMESPACE: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

/// An awsQuery response in the generic conventions (SNS): lists as
/// `<Key><member>…</member></Key>`, the `Attributes` map as
/// `<entry><key/><value/></entry>`. An empty object still yields the
/// `<{action}Result/>` element.
pub fn sns_response(action: &str, output: Option<&Value>, request_id: &str) -> String {
    query_response(SNS_NAMESPACE, action, output, request_id)
}

pub const IAM_NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
pub const STS_NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// An awsQuery response in the generic conventions (SNS, IAM, STS) in the
/// service's namespace `xmlns`.
pub fn query_response(xmlns: &str, action: &str, output: Option<&Value>, request_id: &str) -> String {
    let mut s = String::with_capacity(512);
    s.push_str(&format!(r#"<{action}Response xmlns="{xmlns}">"#));
    if let Some(out) = output {
        generic_element(&mut s, &format!("{action}Result"), out);
    }
    s.push_str(&format!("<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"));
    s
}

fn generic_element(s: &mut String, tag: &str, v: &Value) {
    s.push_str(&format!("<{tag}>"));
    match v {
        // Maps: `Attributes` everywhere, `attributes` in GetSMSAttributes.
        Value::Object(m) if tag == "Attributes" || tag == "attributes" => {
            for (k, v) in m {
                s.push_str("<entry><key>");
                escape_into(s, k);
                s.push_str("</key><value>");
                if let Value::String(t) = v {
                    escape_into(s, t);
                }
                s.push_str("</value></entry>");
            }
        }
        Value::Object(m) => {
            for (k, v) in m.iter().filter(|(_, v)| !v.is_null()) {
                generic_element(s, k, v);
            }
        }
        Value::Array(items) => {
            for item in items {
                generic_element(s, "member", item);
            }
        }
        Value::String(t) => escape_into(s, t),
        Value::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => s.push_str(&n.to_string()),
        Value::Null => {}
    }
    s.push_str(&format!("</{tag}>"));
}

fn member(s: &mut String, action: &str, key: &str, v: &Value) {
    match (key, v) {
        (_, Value::Null) => {}
        ("Attributes", Value::Object(m)) => pairs(s, "Attribute", "Name", m),
        ("Tags", Value::Object(m)) => pairs(s, "Tag", "Key", m),
        ("MessageAttributes", Value::Object(m)) => {
            for (name, value) in m {
                s.push_str("<MessageAttribute><Name>");
                escape_into(s, name);
                s.push_str("</Name>");
                element(s, action, "Value", value);
                s.push_str("</MessageAttribute>");
            }
        }
        (_, Value::Array(items)) => {
            let tag = list_member_name(action, key);
            for item in items {
                element(s, action, &tag, item);
            }
        }
        _ => element(s, action, key, v),
    }
}

fn element(s: &mut String, action: &str, tag: &str, v: &Value) {
    s.push('<');
    s.push_str(tag);
    s.push('>');
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                member(s, action, k, v);
            }
        }
        Value::String(t) => escape_into(s, t),
        Value::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => s.push_str(&n.to_string()),
        Value::Null | Value::Array(_) => {}
    }
    s.push_str("</");
    s.push_str(tag);
    s.push('>');
}

fn pairs(s: &mut String, tag: &str, key_tag: &str, m: &serde_json::Map<String, Value>) {
    for (k, v) in m {
        s.push_str(&format!("<{tag}><{key_tag}>"));
        escape_into(s, k);
        s.push_str(&format!("</{key_tag}><Value>"));
        if let Value::String(t) = v {
            escape_into(s, t);
        }
        s.push_str(&format!("</Value></{tag}>"));
    }
}

/// The element name of one item of a flattened list member.
fn list_member_name(action: &str, key: &str) -> String {
    match key {
        "QueueUrls" | "queueUrls" => "QueueUrl".into(),
        "Messages" => "Message".into(),
        "Successful" => format!("{action}ResultEntry"),
        "Failed" => "BatchResultErrorEntry".into(),
        "Results" => format!("{action}ResultEntry"),
        "StringListValues" => "StringListValue".into(),
        "BinaryListValues" => "BinaryListValue".into(),
        other => other.trim_end_matches('s').into(),
    }
}

/// Escapes text for XML. Carriage returns become `&#xD;`: a parser would
/// otherwise normalise them to `\n` and break the body's MD5.
pub fn escape_into(s: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&apos;"),
            '\r' => s.push_str("&#xD;"),
            c => s.push(c),
        }
    }
}

pub fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    escape_into(&mut s, text);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn receive_message_result() {
        let out = json!({"Messages": [{
            "MessageId": "m", "Body": "a\r\n<b>&", "Attributes": {"SentTimestamp": "1"},
            "MessageAttributes": {"color": {"DataType": "String", "StringValue": "blue"}}
        }]});
        let x = sqs_response("ReceiveMessage", Some(&out), "r");
        assert!(x.contains("<ReceiveMessageResult><Message>"));
        assert!(x.contains("<Body>a&#xD;\n&lt;b&gt;&amp;</Body>"));
        assert!(x.contains("<Attribute><Name>SentTimestamp</Name><Value>1</Value></Attribute>"));
        assert!(x.contains("<MessageAttribute><Name>color</Name><Value><DataType>String</DataType><StringValue>blue</StringValue></Value></MessageAttribute>"));
    }

    #[test]
    fn sns_generic_shapes() {
        let out = json!({"Topics": [{"TopicArn": "a"}], "NextToken": null});
        let x = sns_response("ListTopics", Some(&out), "r");
        assert_eq!(
            x,
            r#"<ListTopicsResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ListTopicsResult><Topics><member><TopicArn>a</TopicArn></member></Topics></ListTopicsResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListTopicsResponse>"#
        );
        let x = sns_response("GetTopicAttributes", Some(&json!({"Attributes": {"Owner": "1<"}})), "r");
        assert!(x.contains("<Attributes><entry><key>Owner</key><value>1&lt;</value></entry></Attributes>"));
        assert!(sns_response("TagResource", Some(&json!({})), "r").contains("<TagResourceResult></TagResourceResult>"));
    }

    #[test]
    fn batch_and_lists() {
        let out = json!({"Successful": [{"Id": "a"}], "Failed": [{"Id": "b", "SenderFault": true}]});
        let x = sqs_response("DeleteMessageBatch", Some(&out), "r");
        assert!(x.contains("<DeleteMessageBatchResultEntry><Id>a</Id></DeleteMessageBatchResultEntry>"));
        assert!(x.contains("<BatchResultErrorEntry><Id>b</Id><SenderFault>true</SenderFault></BatchResultErrorEntry>"));
        let x = sqs_response("ListQueues", Some(&json!({"QueueUrls": ["u1", "u2"]})), "r");
        assert!(x.contains("<QueueUrl>u1</QueueUrl><QueueUrl>u2</QueueUrl>"));
        let x = sqs_response("DeleteQueue", None, "r");
        assert!(!x.contains("Result>"));
    }
}
