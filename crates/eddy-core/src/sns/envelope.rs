//! The JSON documents SNS sends: the `Notification` envelope and the
//! `SubscriptionConfirmation`, signed as AWS signs them (field order and
//! the string to sign follow "Verifying the signatures of Amazon SNS messages").

use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value};

use super::records::Notice;
use crate::clock::iso8601_ms;
use crate::signing::{string_to_sign, SignatureVersion, SigningKey};
use crate::sqs::Attributes;

/// Where eddy serves what AWS serves from sns.{region}.amazonaws.com.
#[derive(Debug, Clone)]
pub struct Urls {
    /// e.g. `http://127.0.0.1:4566`
    pub base: String,
}

impl Urls {
    pub fn signing_cert(&self) -> String {
        format!("{}/_eddy/sns/SimpleNotificationService-eddy.pem", self.base)
    }

    /// The ARN goes in raw, as AWS writes it (recorded): ARNs and tokens
    /// hold only characters a query string carries as they are.
    pub fn unsubscribe(&self, subscription_arn: &str) -> String {
        format!("{}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}", self.base)
    }

    pub fn confirm(&self, topic_arn: &str, token: &str) -> String {
        format!("{}/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}", self.base)
    }
}

/// One notification in AWS's field order; absent fields are left out.
#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Envelope {
    #[serde(rename = "Type")]
    kind: String,
    message_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence_number: Option<String>,
    topic_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    message: String,
    #[serde(rename = "SubscribeURL", skip_serializing_if = "Option::is_none")]
    subscribe_url: Option<String>,
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
    #[serde(rename = "SigningCertURL", skip_serializing_if = "Option::is_none")]
    signing_cert_url: Option<String>,
    #[serde(rename = "UnsubscribeURL", skip_serializing_if = "Option::is_none")]
    unsubscribe_url: Option<String>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    message_attributes: Map<String, Value>,
}

impl Envelope {
    fn sign(&mut self, key: &SigningKey, version: &str, urls: &Urls) {
        let fields = match serde_json::to_value(&*self) {
            Ok(Value::Object(m)) => m,
            _ => return,
        };
        let v = if version == "2" { SignatureVersion::V2 } else { SignatureVersion::V1 };
        self.signature = Some(key.sign(v, &string_to_sign(&fields)));
        self.signature_version = Some(version.to_string());
        self.signing_cert_url = Some(urls.signing_cert());
    }
}

/// A notification's signature. The signed fields are the same for every
/// subscriber that gets the same message text (the per-subscription
/// UnsubscribeURL is not signed), and an RSA signature costs milliseconds,
/// so one is made per message and reused across the fan-out.
#[derive(Debug, Clone)]
pub struct Signed {
    version: &'static str,
    signature: String,
}

/// The text a `Notification`'s signature covers (cheap), so that the
/// signing itself (milliseconds of RSA) can run elsewhere.
pub fn notification_to_sign(notice: &Notice, message: &str, version: &str) -> (SignatureVersion, String) {
    let v = if version == "2" { SignatureVersion::V2 } else { SignatureVersion::V1 };
    let e = notification_fields(notice, message);
    let fields = match serde_json::to_value(&e) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    (v, string_to_sign(&fields))
}

/// Signs text from [`notification_to_sign`].
pub fn sign_text(key: &SigningKey, v: SignatureVersion, text: &str) -> Signed {
    Signed { version: v.as_str(), signature: key.sign(v, text) }
}

/// The `Notification` a non-raw subscriber receives, with its signature.
pub fn notification(notice: &Notice, message: &str, signed: &Signed, subscription_arn: &str, urls: &Urls) -> String {
    let e = Envelope {
        signature_version: Some(signed.version.to_string()),
        signature: Some(signed.signature.clone()),
        signing_cert_url: Some(urls.signing_cert()),
        unsubscribe_url: Some(urls.unsubscribe(subscription_arn)),
        ..notification_fields(notice, message)
    };
    serde_json::to_string(&e).expect("envelope serializes")
}

/// The `Notification` of a FIFO topic: AWS sends these unsigned (recorded).
pub fn unsigned_notification(notice: &Notice, message: &str, subscription_arn: &str, urls: &Urls) -> String {
    let e =
        Envelope { unsubscribe_url: Some(urls.unsubscribe(subscription_arn)), ..notification_fields(notice, message) };
    serde_json::to_string(&e).expect("envelope serializes")
}

fn notification_fields(notice: &Notice, message: &str) -> Envelope {
    Envelope {
        kind: "Notification".into(),
        message_id: notice.message_id.clone(),
        topic_arn: notice.topic_arn.clone(),
        subject: notice.subject.clone(),
        message: message.to_string(),
        sequence_number: notice.sequence_number.clone(),
        timestamp: iso8601_ms(notice.timestamp_ms),
        message_attributes: attributes_json(&notice.attributes),
        ..Envelope::default()
    }
}

/// The signed `SubscriptionConfirmation` sent to a new HTTP/S or email
/// subscriber, or the `UnsubscribeConfirmation` sent when it is removed.
pub fn confirmation(c: &ConfirmationMessage, key: &SigningKey, version: &str, urls: &Urls) -> String {
    let ConfirmationMessage { kind, message_id, topic_arn, token, now_ms } = c;
    let (type_name, message) = match kind {
        Confirmation::Subscribe => ("SubscriptionConfirmation", format!(
            "You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the subscription, visit the SubscribeURL included in this message."
        )),
        Confirmation::Unsubscribe(sub) => ("UnsubscribeConfirmation", format!(
            "You have chosen to deactivate subscription {sub}.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message."
        )),
    };
    let mut e = Envelope {
        kind: type_name.into(),
        message_id: message_id.to_string(),
        token: Some(token.to_string()),
        topic_arn: topic_arn.to_string(),
        message,
        subscribe_url: Some(urls.confirm(topic_arn, token)),
        timestamp: iso8601_ms(*now_ms),
        ..Envelope::default()
    };
    e.sign(key, version, urls);
    serde_json::to_string(&e).expect("envelope serializes")
}

/// What a confirmation message says, and to whom.
pub struct ConfirmationMessage<'a> {
    pub kind: Confirmation<'a>,
    pub message_id: &'a str,
    pub topic_arn: &'a str,
    pub token: &'a str,
    pub now_ms: u64,
}

pub enum Confirmation<'a> {
    Subscribe,
    /// Names the subscription being removed.
    Unsubscribe(&'a str),
}

/// `{"name": {"Type": "String", "Value": "…"}}`; binary values in base64.
pub fn attributes_json(attrs: &Attributes) -> Map<String, Value> {
    attrs
        .iter()
        .map(|(name, a)| {
            let value = match (&a.string, &a.binary) {
                (Some(s), _) => s.clone(),
                (None, Some(b)) => base64::engine::general_purpose::STANDARD.encode(b),
                (None, None) => String::new(),
            };
            (name.clone(), serde_json::json!({"Type": a.data_type, "Value": value}))
        })
        .collect()
}
