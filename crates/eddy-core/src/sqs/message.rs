//! Messages as SQS defines them: bodies, user and system attributes, the
//! validation rules AWS applies on send, and the MD5 digests SDKs check.

use std::collections::BTreeMap;

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use super::error::{invalid_param, SqsError, SqsResult};

/// Largest message AWS accepts (body plus attributes), and the default
/// `MaximumMessageSize`.
pub const MAX_MESSAGE_BYTES: usize = 1_048_576;
pub const MAX_ATTRIBUTES: usize = 10;

/// A user or system message attribute value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeValue {
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_b64")]
    pub binary: Option<Vec<u8>>,
}

pub type Attributes = BTreeMap<String, AttributeValue>;

/// Characters AWS allows in bodies and string attributes:
/// `#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF`.
pub fn valid_text(s: &str) -> bool {
    s.chars().all(|c| {
        matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
    })
}

pub fn validate_body(body: &str) -> SqsResult<()> {
    if body.is_empty() {
        return Err(SqsError::MissingParameter("MessageBody".into()));
    }
    if !valid_text(body) {
        return Err(SqsError::InvalidMessageContents(
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
                .into(),
        ));
    }
    Ok(())
}

/// Rules for user message attribute names: ≤256 letters, digits (any
/// script's: AWS accepts `attr.1øßä`) and `_.-`, no `AWS.`/`Amazon.`
/// prefix, no leading, trailing or doubled periods.
pub fn validate_attribute_name(name: &str) -> SqsResult<()> {
    let lower = name.to_ascii_lowercase();
    let ok = !name.is_empty()
        && name.chars().count() <= 256
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !lower.starts_with("aws.")
        && !lower.starts_with("amazon.");
    if ok {
        Ok(())
    } else {
        Err(invalid_param(format!("Message (user) attribute name '{name}' is invalid.")))
    }
}

pub fn validate_attributes(attrs: &Attributes) -> SqsResult<()> {
    if attrs.len() > MAX_ATTRIBUTES {
        return Err(invalid_param(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{MAX_ATTRIBUTES}].",
            attrs.len()
        )));
    }
    for (name, value) in attrs {
        validate_attribute_name(name)?;
        validate_attribute_value(name, value, "user")?;
    }
    Ok(())
}

fn validate_attribute_value(name: &str, v: &AttributeValue, kind: &str) -> SqsResult<()> {
    let base = v.data_type.split('.').next().unwrap_or("");
    if v.data_type.len() > 256 || !matches!(base, "String" | "Number" | "Binary") {
        return Err(invalid_param(format!(
            "The type of message ({kind}) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
        )));
    }
    let missing = || {
        invalid_param(format!("Message ({kind}) attribute '{name}' must contain a non-empty value of type '{base}'."))
    };
    match base {
        "Binary" => match &v.binary {
            Some(b) if !b.is_empty() => Ok(()),
            _ => Err(missing()),
        },
        _ => {
            let s = v.string.as_deref().filter(|s| !s.is_empty()).ok_or_else(missing)?;
            if !valid_text(s) {
                return Err(invalid_param(format!("Message ({kind}) attribute '{name}' contains invalid characters.")));
            }
            if base == "Number" && !valid_number(s) {
                return Err(invalid_param(format!(
                    "Can't cast the value of message ({kind}) attribute '{name}' to a number."
                )));
            }
            Ok(())
        }
    }
}

fn valid_number(s: &str) -> bool {
    s.parse::<f64>().map(|f| f.is_finite()).unwrap_or(false) && s.len() <= 40
}

/// Only `AWSTraceHeader` (a String) may be sent as a system attribute.
pub fn validate_system_attributes(attrs: &Attributes) -> SqsResult<()> {
    for (name, v) in attrs {
        if name != "AWSTraceHeader" {
            return Err(invalid_param(format!("Message system attribute name '{name}' is invalid.")));
        }
        if v.data_type != "String" {
            return Err(invalid_param(format!("Message system attribute '{name}' must be of type 'String'.")));
        }
        validate_attribute_value(name, v, "system")?;
    }
    Ok(())
}

/// Bytes a message counts against `MaximumMessageSize`: the body plus each
/// attribute's name, data type and value.
pub fn message_size(body: &str, attrs: &Attributes) -> usize {
    body.len() + attrs.iter().map(|(n, v)| n.len() + attribute_value_len(v)).sum::<usize>()
}

fn attribute_value_len(v: &AttributeValue) -> usize {
    v.data_type.len() + v.string.as_ref().map_or(0, |s| s.len()) + v.binary.as_ref().map_or(0, |b| b.len())
}

pub fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

/// AWS's digest of message attributes: names sorted; for each, length-prefixed
/// name and data type, a transport byte (1 string, 2 binary), then the
/// length-prefixed value. `None` for an empty map (the field is omitted).
pub fn md5_of_attributes(attrs: &Attributes) -> Option<String> {
    if attrs.is_empty() {
        return None;
    }
    let mut buf = Vec::new();
    // BTreeMap iterates in bytewise order of the (ASCII) names.
    for (name, v) in attrs {
        push_prefixed(&mut buf, name.as_bytes());
        push_prefixed(&mut buf, v.data_type.as_bytes());
        match (&v.binary, &v.string) {
            (Some(b), _) if v.data_type.starts_with("Binary") => {
                buf.push(2);
                push_prefixed(&mut buf, b);
            }
            (_, s) => {
                buf.push(1);
                push_prefixed(&mut buf, s.as_deref().unwrap_or("").as_bytes());
            }
        }
    }
    Some(md5_hex(&buf))
}

fn push_prefixed(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    buf.extend_from_slice(bytes);
}

/// Which user attributes a receive asked for: `All`, `*` or `.*` (AWS
/// answers all three with every attribute), `prefix.*` or names.
pub fn select_attributes(attrs: &Attributes, wanted: &[String]) -> Attributes {
    attrs
        .iter()
        .filter(|(name, _)| {
            wanted.iter().any(|w| {
                matches!(w.as_str(), "All" | "*" | ".*")
                    || w == *name
                    || w.strip_suffix(".*").is_some_and(|p| name.starts_with(p) && name.len() > p.len())
            })
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

mod opt_b64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        s.map(|s| base64::engine::general_purpose::STANDARD.decode(s).map_err(serde::de::Error::custom)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: &str, v: &str) -> AttributeValue {
        AttributeValue { data_type: t.into(), string: Some(v.into()), binary: None }
    }

    #[test]
    fn body_md5_matches_aws_example() {
        assert_eq!(md5_hex(b"hello world"), "5eb63bbbe01eeed093cb22bb8f5acdc3");
    }

    #[test]
    fn attribute_md5_vectors() {
        let mut a = Attributes::new();
        a.insert("color".into(), s("String", "blue"));
        assert_eq!(md5_of_attributes(&a).unwrap(), "da1b33cc3cbfe8b1630921e78e6b9880");
        a.insert("size".into(), s("Number", "42"));
        a.insert(
            "blob".into(),
            AttributeValue { data_type: "Binary".into(), string: None, binary: Some(vec![0, 1, 2, 0xff]) },
        );
        assert_eq!(md5_of_attributes(&a).unwrap(), "4716c7b2ebaf37c6f5e5d45b321088ca");
        assert_eq!(md5_of_attributes(&Attributes::new()), None);
    }

    #[test]
    fn body_characters() {
        assert!(validate_body("tab\tnewline\ncr\r é 😀").is_ok());
        assert!(matches!(validate_body("nul\u{0}"), Err(SqsError::InvalidMessageContents(_))));
        assert!(matches!(validate_body("\u{FFFE}"), Err(SqsError::InvalidMessageContents(_))));
        assert!(matches!(validate_body(""), Err(SqsError::MissingParameter(_))));
    }

    #[test]
    fn attribute_names() {
        for ok in ["a", "a.b", "A-b_c.9", "attr.1øßä", &"ü".repeat(256)] {
            assert!(validate_attribute_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".a", "a.", "a..b", "AWS.x", "amazon.y", "sp ace", "a§b", "a!b", "a?b", &"x".repeat(257)] {
            assert!(validate_attribute_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn attribute_values() {
        let mut a = Attributes::new();
        a.insert("n".into(), s("Number", "abc"));
        assert!(validate_attributes(&a).is_err());
        a.insert("n".into(), s("Number.int", "-1.5e3"));
        assert!(validate_attributes(&a).is_ok());
        a.insert("t".into(), s("Strung", "x"));
        assert!(validate_attributes(&a).is_err());
    }

    #[test]
    fn selecting_attributes() {
        let mut a = Attributes::new();
        for n in ["alpha", "alpine", "beta"] {
            a.insert(n.into(), s("String", "v"));
        }
        let pick = |w: &[&str]| {
            select_attributes(&a, &w.iter().map(|s| s.to_string()).collect::<Vec<_>>()).into_keys().collect::<Vec<_>>()
        };
        assert_eq!(pick(&["All"]).len(), 3);
        assert_eq!(pick(&["*"]).len(), 3);
        assert_eq!(pick(&[".*"]).len(), 3);
        assert_eq!(pick(&["al.*"]), vec!["alpha", "alpine"]);
        assert_eq!(pick(&["beta", "nope"]), vec!["beta"]);
        assert!(pick(&[]).is_empty());
    }
}
