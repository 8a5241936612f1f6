//! Error responses. awsJson: `{"__type", "message"}` plus `x-amzn-query-error`
//! (SQS is awsQueryCompatible, so SDKs read the query code from it).
//! awsQuery: `<ErrorResponse><Error><Type/><Code/><Message/>`.

use serde_json::json;

use crate::xml;

/// An error as both protocols spell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    /// Model shape name, e.g. `QueueDoesNotExist` (JSON `__type`).
    pub shape: &'static str,
    /// The awsQuery code, e.g. `AWS.SimpleQueueService.NonExistentQueue`.
    pub code: &'static str,
    pub status: u16,
    /// Client's fault (`Sender`) or ours (`Receiver`).
    pub sender: bool,
    pub message: String,
}

impl WireError {
    pub fn new(shape: &'static str, code: &'static str, status: u16, message: impl Into<String>) -> WireError {
        WireError { shape, code, status, sender: status < 500, message: message.into() }
    }

    fn fault(&self) -> &'static str {
        if self.sender {
            "Sender"
        } else {
            "Receiver"
        }
    }

    /// Body of an awsJson 1.0 error for a service whose shape ids live in `namespace`.
    pub fn json_body(&self, namespace: &str) -> String {
        json!({"__type": format!("{namespace}#{}", self.shape), "message": self.message}).to_string()
    }

    /// Value of the `x-amzn-query-error` header.
    pub fn query_error_header(&self) -> String {
        format!("{};{}", self.code, self.fault())
    }

    /// awsQuery error body as SQS writes it: an empty `<Detail/>` after the message.
    pub fn xml_body(&self, xmlns: &str, request_id: &str) -> String {
        self.xml(xmlns, request_id, "<Detail/>")
    }

    /// awsQuery error body as SNS writes it: AWS's SNS errors carry only
    /// Type, Code and Message (recorded), no `<Detail/>`.
    pub fn xml_body_without_detail(&self, xmlns: &str, request_id: &str) -> String {
        self.xml(xmlns, request_id, "")
    }

    fn xml(&self, xmlns: &str, request_id: &str, detail: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><ErrorResponse xmlns="{xmlns}"><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message>{detail}</Error><RequestId>{request_id}</RequestId></ErrorResponse>"#,
            self.fault(),
            self.code,
            xml::escape(&self.message)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes() {
        let e = WireError::new("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", 400, "gone <x>");
        assert_eq!(e.query_error_header(), "AWS.SimpleQueueService.NonExistentQueue;Sender");
        let j: serde_json::Value = serde_json::from_str(&e.json_body("com.amazonaws.sqs")).unwrap();
        assert_eq!(j["__type"], "com.amazonaws.sqs#QueueDoesNotExist");
        let x = e.xml_body(xml::SQS_NAMESPACE, "rid");
        assert!(x.contains(
            "<Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code><Message>gone &lt;x&gt;</Message><Detail/></Error>"
        ));
        let sns = e.xml_body_without_detail(xml::SNS_NAMESPACE, "rid");
        assert!(sns.contains("<Message>gone &lt;x&gt;</Message></Error><RequestId>rid</RequestId>"));
        assert_eq!(
            WireError::new("InternalError", "InternalError", 500, "x").query_error_header(),
            "InternalError;Receiver"
        );
    }
}
