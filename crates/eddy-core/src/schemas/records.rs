//! What the store keeps for Schemas, each in a key family of the `schemas`
//! partition, as JSON: registries, schemas (with their versions), resource
//! policies, discoverers, what each discovered schema has been inferred
//! from so far, and events waiting to be discovered.

use serde::{Deserialize, Serialize};

use super::infer::Shape;
use crate::clock::Millis;
use crate::tags::Tags;

pub(crate) const PARTITION: &str = "schemas";
pub(crate) const REGISTRIES: u8 = b'R';
pub(crate) const SCHEMAS: u8 = b'S';
pub(crate) const POLICIES: u8 = b'P';
pub(crate) const DISCOVERERS: u8 = b'D';
pub(crate) const INFERRED: u8 = b'I';
pub(crate) const PENDING: u8 = b'Q';

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegistryRecord {
    pub account: String,
    pub region: String,
    pub name: String,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    pub created_ms: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRecord {
    /// "1", "2", …
    pub version: u64,
    /// OpenApi3 or JSONSchemaDraft4.
    pub schema_type: String,
    pub content: String,
    pub created_ms: Millis,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SchemaRecord {
    pub account: String,
    pub region: String,
    pub registry: String,
    pub name: String,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    pub modified_ms: Millis,
    /// The versions still kept, oldest first; never empty.
    pub versions: Vec<VersionRecord>,
    /// The highest version ever made: numbers are not reused after a delete.
    pub last_version: u64,
}

impl SchemaRecord {
    pub fn latest(&self) -> &VersionRecord {
        self.versions.last().expect("a schema has a version")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyRecord {
    pub policy: String,
    pub revision_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DiscovererRecord {
    pub account: String,
    pub region: String,
    pub id: String,
    pub source_arn: String,
    pub description: Option<String>,
    /// STARTED or STOPPED.
    pub state: String,
    pub cross_account: bool,
    #[serde(default)]
    pub tags: Tags,
}

/// What a discovered schema has been inferred from so far (its detail's
/// merged shape), so a new event only adds to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InferredRecord {
    pub source: String,
    pub detail_type: String,
    pub detail: Shape,
}

/// An event that entered a bus a discoverer watches, stored with the event
/// itself (in the same batch), discovered later.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingRecord {
    pub bus_arn: String,
    pub event: String,
}

pub(crate) fn key(parts: &[&str]) -> Vec<u8> {
    parts.join("\0").into_bytes()
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records serialise")
}
