//! restXml bodies (S3).
//!
//! Errors come in two forms, and botocore's `RestXMLParser` tells them apart
//! by the root element:
//! - S3: `<Error><Code/><Message/>…<RequestId/><HostId/></Error>`. The root
//!   must be exactly `Error`, without a namespace, or the parser takes it for
//!   the other form and finds no code.
//! - Other restXml services (CloudFront, Route 53):
//!   `<ErrorResponse xmlns="…"><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.

use crate::xml;

pub const CONTENT_TYPE: &str = "application/xml";
pub const S3_NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// A success body: `root` (e.g. `ListAllMyBucketsResult`) in `xmlns`
/// around `inner`, which the caller has already escaped.
pub fn document(root: &str, xmlns: &str, inner: &str) -> String {
    format!("{DECLARATION}<{root} xmlns=\"{xmlns}\">{inner}</{root}>")
}

/// `<name>text</name>`, text escaped.
pub fn element(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", xml::escape(text))
}

/// A restXml error as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestXmlError {
    /// e.g. `NoSuchBucket`.
    pub code: &'static str,
    pub status: u16,
    pub message: String,
    /// Elements S3 adds after the message: `BucketName`, `Key`, `Resource`, …
    pub details: Vec<(&'static str, String)>,
}

impl RestXmlError {
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> RestXmlError {
        RestXmlError { code, status, message: message.into(), details: Vec::new() }
    }

    pub fn with_detail(mut self, name: &'static str, value: impl Into<String>) -> RestXmlError {
        self.details.push((name, value.into()));
        self
    }

    /// S3's form. `host_id` is the `x-amz-id-2` value, repeated in the body as AWS does.
    pub fn s3_body(&self, request_id: &str, host_id: &str) -> String {
        let fields =
            format!("{}{}{}", self.code_and_message(), element("RequestId", request_id), element("HostId", host_id));
        format!("{DECLARATION}<Error>{fields}</Error>")
    }

    /// The form of restXml services other than S3.
    pub fn error_response_body(&self, xmlns: &str, request_id: &str) -> String {
        let kind = if self.status < 500 { "Sender" } else { "Receiver" };
        format!(
            "{DECLARATION}<ErrorResponse xmlns=\"{xmlns}\"><Error>{}{}</Error>{}</ErrorResponse>",
            element("Type", kind),
            self.code_and_message(),
            element("RequestId", request_id)
        )
    }

    fn code_and_message(&self) -> String {
        let mut s = element("Code", self.code) + &element("Message", &self.message);
        for (name, value) in &self.details {
            s.push_str(&element(name, value));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_error_has_a_bare_error_root() {
        let e = RestXmlError::new("NoSuchKey", 404, "The specified key does not exist.").with_detail("Key", "a&b");
        assert_eq!(
            e.s3_body("rid", "hid"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>\
             <Message>The specified key does not exist.</Message><Key>a&amp;b</Key>\
             <RequestId>rid</RequestId><HostId>hid</HostId></Error>"
        );
    }

    #[test]
    fn error_response_form() {
        let client = RestXmlError::new("InvalidInput", 400, "bad <input>");
        assert_eq!(
            client.error_response_body("https://route53.amazonaws.com/doc/2013-04-01/", "rid"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Error><Type>Sender</Type>\
             <Code>InvalidInput</Code><Message>bad &lt;input&gt;</Message></Error>\
             <RequestId>rid</RequestId></ErrorResponse>"
        );
        let ours = RestXmlError::new("InternalError", 500, "x");
        assert!(ours.error_response_body("ns", "rid").contains("<Type>Receiver</Type>"));
    }

    #[test]
    fn success_document() {
        let inner = element("Name", "b<1>");
        assert_eq!(
            document("ListBucketResult", S3_NAMESPACE, &inner),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b&lt;1&gt;</Name></ListBucketResult>"
        );
    }
}
