//! EventBridge Schemas request bodies (restJson1, API 2019-12-02), as serde
//! types. Path and query members are the handler's; a body member of the
//! wrong JSON type is a BadRequestException, AWS's value checks are the
//! service's. Tags are a map under the lower-case `tags`, as the model
//! names that member.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;

/// A body decoded into the operation's shape; an empty body is `{}`.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    crate::scheduler::decode(body)
}

pub type Tags = BTreeMap<String, String>;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RegistryBody {
    pub description: Option<String>,
    #[serde(rename = "tags")]
    pub tags: Option<Tags>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SchemaBody {
    pub content: Option<String>,
    pub description: Option<String>,
    #[serde(rename = "Type")]
    pub schema_type: Option<String>,
    pub client_token_id: Option<String>,
    #[serde(rename = "tags")]
    pub tags: Option<Tags>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DiscovererBody {
    pub description: Option<String>,
    pub source_arn: Option<String>,
    pub cross_account: Option<bool>,
    #[serde(rename = "tags")]
    pub tags: Option<Tags>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DiscoverBody {
    pub events: Option<Vec<String>>,
    #[serde(rename = "Type")]
    pub schema_type: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyBody {
    pub policy: Option<String>,
    pub revision_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TagsBody {
    pub tags: Option<Tags>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_decode_with_lower_case_tags() {
        let b: SchemaBody = decode(br#"{"Content":"{}","Type":"OpenApi3","tags":{"k":"v"}}"#).unwrap();
        assert_eq!(b.schema_type.as_deref(), Some("OpenApi3"));
        assert_eq!(b.tags.unwrap()["k"], "v");
        let empty: DiscovererBody = decode(b"").unwrap();
        assert!(empty.source_arn.is_none());
        assert!(decode::<DiscoverBody>(br#"{"Events":"x"}"#).is_err());
    }
}
