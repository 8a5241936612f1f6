//! SNS request shapes (API 2010-03-31), one input per operation, named as in
//! the AWS model, and the checks AWS makes on them before it looks at any
//! topic: required members, tags, message attributes.
//!
//! SNS speaks awsQuery only; [`crate::query::decode_generic`] turns the form
//! into a JSON value. Every member is read leniently by [`Member`]: one of
//! the wrong kind (`TopicArn.member.1=x`, a list sent as a scalar) counts as
//! absent, a map value that is not a string as "", a list item that is not a
//! string is skipped, a list item that is not a structure is an empty one.
//! Members the model requires are `Option`s here: [`required`] turns their
//! absence into AWS's validation error, where the operation checks them.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::error::WireError;

pub type StringMap = BTreeMap<String, String>;
pub type MessageAttributeMap = BTreeMap<String, MessageAttributeValue>;

/// Decodes an operation's input. An input that is not a structure (an
/// action sent without members decodes as "") has no members.
pub fn decode<T: DeserializeOwned + Default>(input: &Value) -> Result<T, WireError> {
    if !input.is_object() {
        return Ok(T::default());
    }
    T::deserialize(input).map_err(|e| invalid_parameter(format!("Invalid request: {e}")))
}

// ---- validation ----

/// A required member is absent: the query protocol's generic validation error.
pub fn missing(member: &str) -> WireError {
    WireError::new(
        "ValidationException",
        "ValidationError",
        400,
        format!("1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"),
    )
}

/// `InvalidParameter`, SNS's catch-all validation error.
pub fn invalid_parameter(message: impl Into<String>) -> WireError {
    WireError::new("InvalidParameterException", "InvalidParameter", 400, message)
}

/// A member the model requires (`name` as the model spells it): absent, it
/// is a null at its lowerCamelCase name. A required map sent empty is absent
/// too: awsQuery sends an empty map as no member at all.
pub fn required<T>(member: Option<T>, name: &str) -> Result<T, WireError> {
    member.ok_or_else(|| missing(&lower_first(name)))
}

/// A `Tags` list as a map: each tag needs its key and value, and no key
/// may repeat.
pub fn tag_map(tags: Vec<Tag>) -> Result<StringMap, WireError> {
    let mut out = StringMap::new();
    for t in tags {
        let key = t.key.ok_or_else(|| missing("tags.member.key"))?;
        let value = t.value.ok_or_else(|| missing("tags.member.value"))?;
        if out.insert(key, value).is_some() {
            return Err(invalid_parameter("Invalid parameter: Duplicated keys are not allowed."));
        }
    }
    Ok(out)
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_lowercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

// ---- lenient members ----

/// How a member is read from whatever value arrived in its place.
pub trait Member: Sized {
    fn read(v: Value) -> Self;
}

pub(crate) fn member<'de, D: Deserializer<'de>, T: Member>(d: D) -> Result<T, D::Error> {
    Value::deserialize(d).map(T::read)
}

/// A structure member: one that is not a structure has no members.
fn structure<T: DeserializeOwned + Default>(v: Value) -> T {
    match v {
        Value::Object(_) => serde_json::from_value(v).unwrap_or_default(),
        _ => T::default(),
    }
}

pub(crate) fn structures<T: DeserializeOwned + Default>(v: Value) -> Vec<T> {
    match v {
        Value::Array(items) => items.into_iter().map(structure).collect(),
        _ => Vec::new(),
    }
}

impl Member for Option<String> {
    fn read(v: Value) -> Self {
        match v {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

/// A boolean member (or a string one used as such): only "true", in any case.
impl Member for bool {
    fn read(v: Value) -> Self {
        matches!(v, Value::String(s) if s.eq_ignore_ascii_case("true"))
    }
}

impl Member for Vec<String> {
    fn read(v: Value) -> Self {
        match v {
            Value::Array(items) => items.into_iter().filter_map(Option::<String>::read).collect(),
            _ => Vec::new(),
        }
    }
}

/// `None` when absent, so that a required map can say so.
impl Member for Option<StringMap> {
    fn read(v: Value) -> Self {
        match v {
            Value::Object(m) => {
                Some(m.into_iter().map(|(k, v)| (k, Option::<String>::read(v).unwrap_or_default())).collect())
            }
            _ => None,
        }
    }
}

impl Member for MessageAttributeMap {
    fn read(v: Value) -> Self {
        match v {
            Value::Object(m) => m.into_iter().map(|(k, v)| (k, structure(v))).collect(),
            _ => MessageAttributeMap::new(),
        }
    }
}

impl Member for Vec<Tag> {
    fn read(v: Value) -> Self {
        structures(v)
    }
}

impl Member for Vec<PublishBatchRequestEntry> {
    fn read(v: Value) -> Self {
        structures(v)
    }
}

// ---- shapes ----

/// A structure whose members are all read by [`Member`]; model names are
/// PascalCase unless renamed.
macro_rules! shape {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Default, Clone, PartialEq, Deserialize)]
        #[serde(rename_all = "PascalCase", default)]
        pub struct $name {
            $($(#[$fm])* #[serde(deserialize_with = "member")] pub $field: $ty),*
        }
    };
}
/// IAM and STS shapes are read the same way.
pub(crate) use shape;

shape!(Tag { key: Option<String>, value: Option<String> });

shape!(MessageAttributeValue { data_type: Option<String>, string_value: Option<String>, binary_value: Option<String> });

/// A message attribute that passed AWS's checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedAttribute {
    pub data_type: String,
    pub string_value: Option<String>,
    pub binary_value: Option<Vec<u8>>,
}

impl MessageAttributeValue {
    /// The attribute `name` of the MessageAttributes at `path` (for the
    /// message): DataType is required (a null, recorded), BinaryValue must
    /// be base64 (surrounding whitespace ignored).
    pub fn check(self, name: &str, path: &str) -> Result<CheckedAttribute, WireError> {
        let data_type = self.data_type.ok_or_else(|| missing(&format!("{path}.{name}.member.dataType")))?;
        let binary_value = match self.binary_value {
            Some(b) => Some(STANDARD.decode(b.trim()).map_err(|_| {
                invalid_parameter(format!("The message attribute '{name}' has an invalid base64 binary value."))
            })?),
            None => None,
        };
        Ok(CheckedAttribute { data_type, string_value: self.string_value, binary_value })
    }
}

// Topics.
shape!(CreateTopicInput {
    name: Option<String>,
    attributes: Option<StringMap>,
    tags: Vec<Tag>,
    data_protection_policy: Option<String>,
});
shape!(DeleteTopicInput { topic_arn: Option<String> });
shape!(ListTopicsInput { next_token: Option<String> });
shape!(GetTopicAttributesInput { topic_arn: Option<String> });
shape!(SetTopicAttributesInput {
    topic_arn: Option<String>,
    attribute_name: Option<String>,
    attribute_value: Option<String>,
});
shape!(AddPermissionInput {
    topic_arn: Option<String>,
    label: Option<String>,
    #[serde(rename = "AWSAccountId")]
    aws_account_id: Vec<String>,
    action_name: Vec<String>,
});
shape!(RemovePermissionInput { topic_arn: Option<String>, label: Option<String> });
shape!(GetDataProtectionPolicyInput { resource_arn: Option<String> });
shape!(PutDataProtectionPolicyInput { resource_arn: Option<String>, data_protection_policy: Option<String> });

// Tags.
shape!(TagResourceRequest { resource_arn: Option<String>, tags: Vec<Tag> });
shape!(UntagResourceRequest { resource_arn: Option<String>, tag_keys: Vec<String> });
shape!(ListTagsForResourceRequest { resource_arn: Option<String> });

// Subscriptions.
shape!(SubscribeInput {
    topic_arn: Option<String>,
    protocol: Option<String>,
    endpoint: Option<String>,
    attributes: Option<StringMap>,
    return_subscription_arn: bool,
});
shape!(ConfirmSubscriptionInput {
    topic_arn: Option<String>,
    token: Option<String>,
    /// A string in the model; "true" (any case) is true.
    authenticate_on_unsubscribe: bool,
});
shape!(UnsubscribeInput { subscription_arn: Option<String> });
shape!(ListSubscriptionsInput { next_token: Option<String> });
shape!(ListSubscriptionsByTopicInput { topic_arn: Option<String>, next_token: Option<String> });
shape!(GetSubscriptionAttributesInput { subscription_arn: Option<String> });
shape!(SetSubscriptionAttributesInput {
    subscription_arn: Option<String>,
    attribute_name: Option<String>,
    attribute_value: Option<String>,
});

// Publishing.

/// The members Publish and each PublishBatch entry share.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PublishMessage {
    #[serde(deserialize_with = "member")]
    pub message: Option<String>,
    #[serde(deserialize_with = "member")]
    pub subject: Option<String>,
    #[serde(deserialize_with = "member")]
    pub message_structure: Option<String>,
    #[serde(deserialize_with = "member")]
    pub message_attributes: MessageAttributeMap,
    #[serde(deserialize_with = "member")]
    pub message_deduplication_id: Option<String>,
    #[serde(deserialize_with = "member")]
    pub message_group_id: Option<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PublishInput {
    #[serde(deserialize_with = "member")]
    pub topic_arn: Option<String>,
    #[serde(deserialize_with = "member")]
    pub target_arn: Option<String>,
    #[serde(deserialize_with = "member")]
    pub phone_number: Option<String>,
    #[serde(flatten)]
    pub message: PublishMessage,
}

#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PublishBatchRequestEntry {
    #[serde(deserialize_with = "member")]
    pub id: Option<String>,
    #[serde(flatten)]
    pub message: PublishMessage,
}

shape!(PublishBatchInput { topic_arn: Option<String>, publish_batch_request_entries: Vec<PublishBatchRequestEntry> });

// SMS.
shape!(GetSMSAttributesInput {
    #[serde(rename = "attributes")]
    attributes: Vec<String>,
});
shape!(SetSMSAttributesInput {
    #[serde(rename = "attributes")]
    attributes: Option<StringMap>,
});
shape!(CheckIfPhoneNumberIsOptedOutInput {
    #[serde(rename = "phoneNumber")]
    phone_number: Option<String>,
});
shape!(ListPhoneNumbersOptedOutInput {
    #[serde(rename = "nextToken")]
    next_token: Option<String>,
});
shape!(OptInPhoneNumberInput {
    #[serde(rename = "phoneNumber")]
    phone_number: Option<String>,
});

// Mobile push.
shape!(CreatePlatformApplicationInput {
    name: Option<String>,
    platform: Option<String>,
    attributes: Option<StringMap>,
});
shape!(GetPlatformApplicationAttributesInput { platform_application_arn: Option<String> });
shape!(SetPlatformApplicationAttributesInput {
    platform_application_arn: Option<String>,
    attributes: Option<StringMap>,
});
shape!(DeletePlatformApplicationInput { platform_application_arn: Option<String> });
shape!(ListPlatformApplicationsInput { next_token: Option<String> });
shape!(CreatePlatformEndpointInput {
    platform_application_arn: Option<String>,
    token: Option<String>,
    custom_user_data: Option<String>,
    attributes: Option<StringMap>,
});
shape!(GetEndpointAttributesInput { endpoint_arn: Option<String> });
shape!(SetEndpointAttributesInput { endpoint_arn: Option<String>, attributes: Option<StringMap> });
shape!(DeleteEndpointInput { endpoint_arn: Option<String> });
shape!(ListEndpointsByPlatformApplicationInput { platform_application_arn: Option<String>, next_token: Option<String> });

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{decode_generic, parse_form};
    use serde_json::json;

    fn form<T: DeserializeOwned + Default>(s: &str) -> T {
        decode(&decode_generic(&parse_form(s.as_bytes())).unwrap().input).unwrap()
    }

    #[test]
    fn members_decode_from_the_form() {
        let i: CreateTopicInput = form(concat!(
            "Action=CreateTopic&Name=t&Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=d",
            "&Tags.member.1.Key=a&Tags.member.1.Value=1"
        ));
        assert_eq!(i.name.as_deref(), Some("t"));
        assert_eq!(i.attributes, Some(StringMap::from([("DisplayName".into(), "d".into())])));
        assert_eq!(tag_map(i.tags).unwrap(), StringMap::from([("a".into(), "1".into())]));
        let a: AddPermissionInput = form("Action=AddPermission&AWSAccountId.member.1=1&ActionName.member.1=Publish");
        assert_eq!((a.aws_account_id, a.action_name), (vec!["1".to_string()], vec!["Publish".to_string()]));
        let s: SetSMSAttributesInput =
            form("Action=SetSMSAttributes&attributes.entry.1.key=k&attributes.entry.1.value=v");
        assert_eq!(s.attributes.unwrap()["k"], "v");
        let p: PublishBatchInput = form(concat!(
            "Action=PublishBatch&TopicArn=t&PublishBatchRequestEntries.member.1.Id=a",
            "&PublishBatchRequestEntries.member.1.Message=m",
            "&PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Name=c",
            "&PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.DataType=String",
        ));
        let e = &p.publish_batch_request_entries[0];
        assert_eq!((e.id.as_deref(), e.message.message.as_deref()), (Some("a"), Some("m")));
        assert_eq!(e.message.message_attributes["c"].data_type.as_deref(), Some("String"));
    }

    #[test]
    fn members_of_the_wrong_kind_are_absent() {
        let v = json!({"TopicArn": {"x": "1"}, "Protocol": ["p"], "Attributes": {"a": {"b": "c"}}, "ReturnSubscriptionArn": "TRUE"});
        let i: SubscribeInput = decode(&v).unwrap();
        assert_eq!((i.topic_arn, i.protocol), (None, None));
        assert_eq!(i.attributes.unwrap()["a"], "");
        assert!(i.return_subscription_arn);
        let i: SetEndpointAttributesInput = decode(&json!({"Attributes": "x"})).unwrap();
        assert_eq!(i.attributes, None);
        let i: UntagResourceRequest = decode(&json!({"TagKeys": ["a", {"b": "c"}, "d"]})).unwrap();
        assert_eq!(i.tag_keys, ["a", "d"]);
        let i: TagResourceRequest = decode(&json!({"Tags": ["x"]})).unwrap();
        assert_eq!(tag_map(i.tags).unwrap_err(), missing("tags.member.key"));
        let i: ListTopicsInput = decode(&json!("")).unwrap();
        assert_eq!(i.next_token, None);
        let i: PublishInput = decode(&json!({"MessageAttributes": {"a": "x"}, "Message": "m"})).unwrap();
        assert_eq!(i.message.message.as_deref(), Some("m"));
        let err = i.message.message_attributes["a"].clone().check("a", "messageAttributes").unwrap_err();
        assert!(err.message.contains("'messageAttributes.a.member.dataType'"));
    }

    #[test]
    fn validation_messages() {
        assert!(required::<String>(None, "PlatformApplicationArn")
            .unwrap_err()
            .message
            .contains("Value null at 'platformApplicationArn'"));
        assert_eq!(required(Some(StringMap::new()), "Attributes").unwrap(), StringMap::new());
        let dup = vec![
            Tag { key: Some("a".into()), value: Some("1".into()) },
            Tag { key: Some("a".into()), value: Some("2".into()) },
        ];
        assert_eq!(tag_map(dup).unwrap_err().message, "Invalid parameter: Duplicated keys are not allowed.");
        let no_value = vec![Tag { key: Some("a".into()), value: None }];
        assert_eq!(tag_map(no_value).unwrap_err(), missing("tags.member.value"));
        let bad = MessageAttributeValue {
            data_type: Some("Binary".into()),
            binary_value: Some("%%".into()),
            ..Default::default()
        };
        assert_eq!(
            bad.check("b", "p").unwrap_err().message,
            "The message attribute 'b' has an invalid base64 binary value."
        );
        let ok = MessageAttributeValue {
            data_type: Some("Binary".into()),
            binary_value: Some(" aGk= ".into()),
            ..Default::default()
        };
        assert_eq!(ok.check("b", "p").unwrap().binary_value.as_deref(), Some(&b"hi"[..]));
    }
}
