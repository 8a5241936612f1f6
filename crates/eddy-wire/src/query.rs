//! awsQuery request decoding. SQS flattens lists and maps into numbered
//! keys (`AttributeName.1`, `Attribute.1.Name`/`.Value`,
//! `SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.StringValue`);
//! [`to_json`] rebuilds the JSON object an awsJson client would have sent.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("The request must contain the parameter Action.")]
    MissingAction,
    #[error("Parameter {0} is malformed.")]
    Malformed(String),
    #[error("The request carries more than {MAX_PAIRS} parameters.")]
    TooManyParameters,
}

/// Most name/value pairs one awsQuery request may carry. The largest legal
/// requests: SQS SendMessageBatch, 10 entries × (Id, MessageBody, DelaySeconds,
/// MessageGroupId, MessageDeduplicationId, 10 message attributes × 3 pairs
/// (`.Name`, `.Value.DataType`, `.Value.StringValue`), the AWSTraceHeader system
/// attribute × 3) = 380 pairs; SNS PublishBatch, 10 × (6 + 10 × 3) = 360; 50
/// tags × 2 = 100; AddPermission's account and action lists, bounded by the
/// policy size (8 KiB for SQS), a few hundred. Plus ~10 envelope pairs.
/// 10,000 is over twenty times that, and keeps a decoded request near 1 MiB of
/// bookkeeping, where 16 MiB of `a=&` once made 5.6 million pairs (330 MiB).
pub const MAX_PAIRS: usize = 10_000;

/// A decoded awsQuery request.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryRequest {
    pub action: String,
    pub version: Option<String>,
    /// The input members, shaped like the awsJson request body.
    pub input: Value,
}

/// Form parameters that carry authentication, not input members.
fn is_envelope(key: &str) -> bool {
    matches!(
        key,
        "Action"
            | "Version"
            | "AWSAccessKeyId"
            | "Signature"
            | "SignatureMethod"
            | "SignatureVersion"
            | "Timestamp"
            | "Expires"
    ) || key.starts_with("X-Amz-")
}

/// An action this endpoint does not serve: every awsQuery service's answer.
pub fn invalid_action(action: &str) -> crate::error::WireError {
    crate::error::WireError::new(
        "InvalidAction",
        "InvalidAction",
        400,
        format!("The action {action} is not valid for this endpoint."),
    )
}

/// Parses `application/x-www-form-urlencoded` pairs (body or query string),
/// keeping at most [`MAX_PAIRS`] + 1 of them: [`decode_sqs`] and
/// [`decode_generic`] refuse a request with more than [`MAX_PAIRS`]. Past the
/// cut only `Action` and `Version` are kept, so the refusal goes to the
/// service the request was meant for.
pub fn parse_form(bytes: &[u8]) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let (mut action, mut version) = (false, false);
    for (k, v) in form_urlencoded::parse(bytes) {
        let routing = (k == "Action" && !action) || (k == "Version" && !version);
        if pairs.len() <= MAX_PAIRS || routing {
            action |= k == "Action";
            version |= k == "Version";
            pairs.push((k.into_owned(), v.into_owned()));
        }
    }
    pairs
}

pub fn decode_sqs(pairs: &[(String, String)]) -> Result<QueryRequest, QueryError> {
    let (action, version, tree) = parse_tree(pairs)?;
    let input = convert_struct(&tree, &action).map_err(QueryError::Malformed)?;
    Ok(QueryRequest { action, version, input: Value::Object(input) })
}

/// The action, the version and the parameter tree of an awsQuery request.
fn parse_tree(pairs: &[(String, String)]) -> Result<(String, Option<String>, Node), QueryError> {
    if pairs.len() > MAX_PAIRS {
        return Err(QueryError::TooManyParameters);
    }
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let action = get("Action").filter(|a| !a.is_empty()).ok_or(QueryError::MissingAction)?;
    let mut tree = Node::default();
    for (k, v) in pairs.iter().filter(|(k, _)| !is_envelope(k)) {
        // The deepest real key has 7 segments; a bound keeps the recursive
        // decoding below from exhausting the stack on hostile input.
        if k.split('.').count() > MAX_KEY_DEPTH {
            return Err(QueryError::Malformed(k.chars().take(64).collect()));
        }
        tree.insert(k.split('.'), v.clone()).map_err(|_| QueryError::Malformed(k.clone()))?;
    }
    Ok((action, get("Version"), tree))
}

/// Decodes an awsQuery request that follows the generic conventions (SNS):
/// `Name.member.N` is a list, `Name.entry.N.key|Name` / `.value|Value` a map,
/// anything else a structure member.
pub fn decode_generic(pairs: &[(String, String)]) -> Result<QueryRequest, QueryError> {
    let (action, version, tree) = parse_tree(pairs)?;
    let input = generic_value(&tree).map_err(QueryError::Malformed)?;
    Ok(QueryRequest { action, version, input })
}

fn generic_value(node: &Node) -> Result<Value, String> {
    if node.children.is_empty() {
        return Ok(Value::String(node.value.clone().unwrap_or_default()));
    }
    if node.children.len() == 1 {
        if let Some(list) = node.children.get("member") {
            return list.members()?.into_iter().map(generic_value).collect::<Result<Vec<_>, _>>().map(Value::Array);
        }
        if let Some(map) = node.children.get("entry") {
            let mut m = Map::new();
            for e in map.members()? {
                let key = e.child(&["key", "Name", "Key", "name"]).and_then(|n| n.value.clone());
                let value = match e.child(&["value", "Value"]) {
                    Some(v) => generic_value(v)?,
                    None => Value::String(String::new()),
                };
                m.insert(key.ok_or("entry.N.key")?, value);
            }
            return Ok(Value::Object(m));
        }
    }
    let mut out = Map::new();
    for (k, child) in &node.children {
        out.insert(k.clone(), generic_value(child)?);
    }
    Ok(Value::Object(out))
}

/// Segments allowed in one parameter name
/// (`SendMessageBatchRequestEntry.N.MessageAttribute.N.Value.StringListValue.N` has 7).
const MAX_KEY_DEPTH: usize = 16;

/// A parameter tree: `a.b.c=v` becomes a → b → c = v.
#[derive(Debug, Default)]
struct Node {
    value: Option<String>,
    children: BTreeMap<String, Node>,
}

impl Node {
    fn insert<'a>(&mut self, mut path: impl Iterator<Item = &'a str>, value: String) -> Result<(), ()> {
        match path.next() {
            None => {
                self.value = Some(value);
                Ok(())
            }
            Some("") => Err(()),
            Some(seg) => self.children.entry(seg.to_string()).or_default().insert(path, value),
        }
    }

    /// Children keyed `1`, `2`, … in numeric order.
    fn members(&self) -> Result<Vec<&Node>, String> {
        let mut v = Vec::with_capacity(self.children.len());
        for (k, n) in &self.children {
            let i: u32 = k.parse().map_err(|_| k.clone())?;
            v.push((i, n));
        }
        v.sort_by_key(|(i, _)| *i);
        Ok(v.into_iter().map(|(_, n)| n).collect())
    }

    fn child(&self, names: &[&str]) -> Option<&Node> {
        names.iter().find_map(|n| self.children.get(*n))
    }
}

/// How a flattened query member maps onto the JSON input.
enum Kind {
    /// `X.N=v` → `"Json": [v, …]`
    List(&'static str),
    /// `X.N.Name|Key=k`, `X.N.Value=v` → `"Json": {k: v}`
    Map(&'static str),
    /// `X.N.Name=k`, `X.N.Value.*` → `"Json": {k: {…}}`
    StructMap(&'static str),
    /// `X.N.*` → `"Json": [{…}, …]`
    StructList(&'static str),
}

fn kind_of(key: &str, action: &str) -> Option<Kind> {
    Some(match key {
        "Attribute" | "Attributes" => Kind::Map("Attributes"),
        "Tag" | "Tags" if action == "CreateQueue" => Kind::Map("tags"),
        "Tag" | "Tags" => Kind::Map("Tags"),
        "MessageAttribute" | "MessageAttributes" => Kind::StructMap("MessageAttributes"),
        "MessageSystemAttribute" | "MessageSystemAttributes" => Kind::StructMap("MessageSystemAttributes"),
        "AttributeName" | "AttributeNames" => Kind::List("AttributeNames"),
        "MessageSystemAttributeName" | "MessageSystemAttributeNames" => Kind::List("MessageSystemAttributeNames"),
        "MessageAttributeName" | "MessageAttributeNames" => Kind::List("MessageAttributeNames"),
        "TagKey" | "TagKeys" => Kind::List("TagKeys"),
        "AWSAccountId" | "AWSAccountIds" => Kind::List("AWSAccountIds"),
        "ActionName" | "Actions" => Kind::List("Actions"),
        "StringListValue" | "StringListValues" => Kind::List("StringListValues"),
        "BinaryListValue" | "BinaryListValues" => Kind::List("BinaryListValues"),
        "SendMessageBatchRequestEntry"
        | "DeleteMessageBatchRequestEntry"
        | "ChangeMessageVisibilityBatchRequestEntry"
        | "Entries" => Kind::StructList("Entries"),
        _ => return None,
    })
}

/// Members whose model type is an integer.
fn is_integer(key: &str) -> bool {
    matches!(
        key,
        "DelaySeconds"
            | "MaxNumberOfMessages"
            | "VisibilityTimeout"
            | "WaitTimeSeconds"
            | "MaxResults"
            | "MaxNumberOfMessagesPerSecond"
    )
}

fn convert_struct(node: &Node, action: &str) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (key, child) in &node.children {
        let (json_key, value) = match kind_of(key, action) {
            Some(Kind::List(k)) => (k, Value::Array(child.members()?.iter().map(|n| leaf(n)).collect())),
            Some(Kind::Map(k)) => (k, convert_map(child, key)?),
            Some(Kind::StructMap(k)) => (k, convert_struct_map(child, key, action)?),
            Some(Kind::StructList(k)) => {
                let items = child.members()?.into_iter().map(|n| convert_struct(n, action).map(Value::Object));
                (k, Value::Array(items.collect::<Result<_, _>>()?))
            }
            None if !child.children.is_empty() => (key.as_str(), Value::Object(convert_struct(child, action)?)),
            None => (key.as_str(), scalar(key, child.value.clone().unwrap_or_default())),
        };
        merge(&mut out, json_key, value);
    }
    Ok(out)
}

/// `Attribute.1` and `Attributes.1` may both appear; their entries merge.
fn merge(out: &mut Map<String, Value>, key: &str, value: Value) {
    match (out.get_mut(key), value) {
        (Some(Value::Object(a)), Value::Object(b)) => a.extend(b),
        (Some(Value::Array(a)), Value::Array(b)) => a.extend(b),
        (_, v) => {
            out.insert(key.to_string(), v);
        }
    }
}

fn convert_map(node: &Node, key: &str) -> Result<Value, String> {
    let mut m = Map::new();
    for entry in node.members()? {
        let name = entry.child(&["Name", "Key", "name", "key"]).and_then(|n| n.value.clone());
        let value = entry.child(&["Value", "value"]).and_then(|n| n.value.clone()).unwrap_or_default();
        m.insert(name.ok_or_else(|| format!("{key}.N.Name"))?, Value::String(value));
    }
    Ok(Value::Object(m))
}

fn convert_struct_map(node: &Node, key: &str, action: &str) -> Result<Value, String> {
    let mut m = Map::new();
    for entry in node.members()? {
        let name =
            entry.child(&["Name", "name"]).and_then(|n| n.value.clone()).ok_or_else(|| format!("{key}.N.Name"))?;
        let value = match entry.child(&["Value", "value"]) {
            Some(v) => Value::Object(convert_struct(v, action)?),
            None => Value::Object(Map::new()),
        };
        m.insert(name, value);
    }
    Ok(Value::Object(m))
}

fn leaf(n: &Node) -> Value {
    Value::String(n.value.clone().unwrap_or_default())
}

fn scalar(key: &str, v: String) -> Value {
    if is_integer(key) {
        if let Ok(i) = v.trim().parse::<i64>() {
            return Value::from(i);
        }
    }
    Value::String(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode(s: &str) -> QueryRequest {
        decode_sqs(&parse_form(s.as_bytes())).unwrap()
    }

    #[test]
    fn create_queue_with_attributes_and_tags() {
        let r = decode("Action=CreateQueue&Version=2012-11-05&QueueName=q&Attribute.1.Name=DelaySeconds&Attribute.1.Value=5&Attribute.2.Name=VisibilityTimeout&Attribute.2.Value=9&Tag.1.Key=team&Tag.1.Value=a");
        assert_eq!(r.action, "CreateQueue");
        assert_eq!(
            r.input,
            json!({"QueueName": "q", "Attributes": {"DelaySeconds": "5", "VisibilityTimeout": "9"}, "tags": {"team": "a"}})
        );
    }

    #[test]
    fn batch_entries_with_message_attributes() {
        let r = decode(concat!(
            "Action=SendMessageBatch&QueueUrl=u",
            "&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=two&SendMessageBatchRequestEntry.2.DelaySeconds=3",
            "&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=one",
            "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=color",
            "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=String",
            "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=blue",
        ));
        assert_eq!(
            r.input,
            json!({"QueueUrl": "u", "Entries": [
                {"Id": "a", "MessageBody": "one", "MessageAttributes": {"color": {"DataType": "String", "StringValue": "blue"}}},
                {"Id": "b", "MessageBody": "two", "DelaySeconds": 3}
            ]})
        );
    }

    #[test]
    fn lists_and_integers() {
        let r = decode("Action=ReceiveMessage&QueueUrl=u&AttributeName.1=All&MessageAttributeName.1=a&MessageAttributeName.2=b&MaxNumberOfMessages=10&WaitTimeSeconds=x");
        assert_eq!(
            r.input,
            json!({"QueueUrl": "u", "AttributeNames": ["All"], "MessageAttributeNames": ["a", "b"], "MaxNumberOfMessages": 10, "WaitTimeSeconds": "x"})
        );
    }

    #[test]
    fn generic_lists_and_maps() {
        let r = decode_generic(&parse_form(
            concat!(
                "Action=Publish&TopicArn=t&Message=hi",
                "&MessageAttributes.entry.1.Name=color&MessageAttributes.entry.1.Value.DataType=String",
                "&MessageAttributes.entry.1.Value.StringValue=blue",
                "&Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=d",
                "&Tags.member.2.Key=b&Tags.member.2.Value=2&Tags.member.1.Key=a&Tags.member.1.Value=1",
                "&TagKeys.member.1=x"
            )
            .as_bytes(),
        ))
        .unwrap();
        assert_eq!(
            r.input,
            json!({"TopicArn": "t", "Message": "hi",
                "MessageAttributes": {"color": {"DataType": "String", "StringValue": "blue"}},
                "Attributes": {"DisplayName": "d"},
                "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
                "TagKeys": ["x"]})
        );
        assert!(decode_generic(&parse_form(b"Action=X&A.member.x=1")).is_err());
    }

    #[test]
    fn missing_action_and_bad_index() {
        assert_eq!(decode_sqs(&parse_form(b"QueueName=q")), Err(QueryError::MissingAction));
        assert!(decode_sqs(&parse_form(b"Action=TagQueue&Tag.x.Key=a")).is_err());
        assert!(decode_sqs(&parse_form(b"Action=TagQueue&Tag..Key=a")).is_err());
        let deep = format!("Action=SendMessage&{}=v", vec!["a"; 10_000].join("."));
        assert!(matches!(decode_sqs(&parse_form(deep.as_bytes())), Err(QueryError::Malformed(_))));
    }

    #[test]
    fn pair_count_is_bounded() {
        // Each pair is `a=&`; the Action at the end still names the service.
        let bomb = format!("{}Action=SendMessage&Version=2012-11-05", "a=&".repeat(1_000_000));
        let pairs = parse_form(bomb.as_bytes());
        assert_eq!(pairs.len(), MAX_PAIRS + 3);
        assert_eq!(pairs[MAX_PAIRS + 1].0, "Action");
        assert_eq!(decode_sqs(&pairs), Err(QueryError::TooManyParameters));
        assert_eq!(decode_generic(&pairs).unwrap_err(), QueryError::TooManyParameters);
        // An Action before the cut is the one kept; later ones are dropped.
        let first = format!("Action=A&{}Action=B", "a=&".repeat(MAX_PAIRS + 5));
        let pairs = parse_form(first.as_bytes());
        assert_eq!(pairs.iter().filter(|(k, _)| k == "Action").count(), 1);
        // Exactly MAX_PAIRS pairs are accepted.
        let fits = format!("Action=X{}", "&a.1=v".repeat(MAX_PAIRS - 1));
        assert!(decode_generic(&parse_form(fits.as_bytes())).is_ok());
    }

    #[test]
    fn largest_legal_batch_decodes() {
        let mut form = String::from("Action=SendMessageBatch&Version=2012-11-05&QueueUrl=u");
        for e in 1..=10 {
            let p = format!("SendMessageBatchRequestEntry.{e}");
            form += &format!("&{p}.Id=m{e}&{p}.MessageBody=b&{p}.DelaySeconds=1&{p}.MessageGroupId=g");
            form += &format!("&{p}.MessageDeduplicationId=d");
            for a in 1..=10 {
                form += &format!("&{p}.MessageAttribute.{a}.Name=n{a}&{p}.MessageAttribute.{a}.Value.DataType=String");
                form += &format!("&{p}.MessageAttribute.{a}.Value.StringValue=v");
            }
        }
        let r = decode(&form);
        assert_eq!(r.input["Entries"].as_array().unwrap().len(), 10);
        assert_eq!(r.input["Entries"][9]["MessageAttributes"].as_object().unwrap().len(), 10);
    }
}
