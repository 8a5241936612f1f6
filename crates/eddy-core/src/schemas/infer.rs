//! Schema inference, shared by discoverers and GetDiscoveredSchema: the
//! shape of events' details, merged across events (fields are added, never
//! removed), rendered as AWS's discovered-schema OpenAPI 3 document; and
//! the OpenAPI 3 → JSON Schema draft 4 conversion of ExportSchema.
//!
//! The rendering follows AWS's discovered schemas: an `AWSEvent` component
//! with the envelope's fields (its `detail` a `$ref` to a component named
//! after the detail type in PascalCase) carrying `x-amazon-events-source`
//! and `x-amazon-events-detail-type`, each nested object its own component
//! named after its field (array items: the field's name with `Item`).
//! Everything is ordered (BTreeMap/BTreeSet), so equal inputs give equal
//! documents and a discoverer's versions are deterministic.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Levels deeper than this are not inferred (AWS's discoverer stops at 255).
pub const MAX_DEPTH: usize = 255;

/// The envelope's required fields, in the order AWS's schemas list them.
const ENVELOPE_REQUIRED: [&str; 9] =
    ["detail-type", "resources", "detail", "id", "source", "time", "region", "version", "account"];

const REF_PREFIX: &str = "#/components/schemas/";

/// What the samples of one value had in common.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Shape {
    /// Only ever `null`: no type to infer.
    Null,
    String {
        /// Every sample was an RFC 3339 timestamp.
        date_time: bool,
    },
    Integer,
    Number,
    Boolean,
    Array {
        /// None while every sample was empty.
        items: Option<Box<Shape>>,
    },
    Object(ObjectShape),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectShape {
    pub properties: BTreeMap<String, Shape>,
    /// The fields every sample had.
    pub required: BTreeSet<String>,
}

/// The shape of one value.
pub fn infer(value: &Value) -> Shape {
    infer_at(value, 0)
}

fn infer_at(value: &Value, depth: usize) -> Shape {
    match value {
        Value::Null => Shape::Null,
        Value::Bool(_) => Shape::Boolean,
        Value::Number(n) if n.is_i64() || n.is_u64() => Shape::Integer,
        Value::Number(_) => Shape::Number,
        Value::String(s) => Shape::String { date_time: s.parse::<jiff::Timestamp>().is_ok() },
        Value::Array(items) => {
            Shape::Array { items: items.iter().map(|v| infer_at(v, depth + 1)).reduce(merge).map(Box::new) }
        }
        Value::Object(_) if depth >= MAX_DEPTH => Shape::Object(ObjectShape::default()),
        Value::Object(fields) => Shape::Object(ObjectShape {
            properties: fields.iter().map(|(k, v)| (k.clone(), infer_at(v, depth + 1))).collect(),
            required: fields.keys().cloned().collect(),
        }),
    }
}

/// Two samples' shapes as one: fields of either, required only if both
/// require them; integer and number widen to number; a null takes the
/// other's type; otherwise conflicting types keep the first seen.
pub fn merge(a: Shape, b: Shape) -> Shape {
    match (a, b) {
        (Shape::Null, other) | (other, Shape::Null) => other,
        (Shape::String { date_time: x }, Shape::String { date_time: y }) => Shape::String { date_time: x && y },
        (Shape::Integer | Shape::Number, Shape::Number) | (Shape::Number, Shape::Integer) => Shape::Number,
        (Shape::Array { items: x }, Shape::Array { items: y }) => Shape::Array {
            items: match (x, y) {
                (Some(x), Some(y)) => Some(Box::new(merge(*x, *y))),
                (x, y) => x.or(y),
            },
        },
        (Shape::Object(x), Shape::Object(y)) => Shape::Object(merge_objects(x, y)),
        (first, _) => first,
    }
}

fn merge_objects(mut x: ObjectShape, y: ObjectShape) -> ObjectShape {
    x.required = x.required.intersection(&y.required).cloned().collect();
    for (name, shape) in y.properties {
        let merged = match x.properties.remove(&name) {
            Some(existing) => merge(existing, shape),
            None => shape,
        };
        x.properties.insert(name, merged);
    }
    x
}

/// `Object Created` → `ObjectCreated`: words (runs of letters and digits)
/// each with a capital first letter, everything else dropped.
pub fn pascal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

/// The name a discoverer gives the schema of a source and detail type.
pub fn discovered_name(source: &str, detail_type: &str) -> String {
    format!("{source}@{}", pascal(detail_type))
}

/// The discovered-schema OpenAPI 3 document of events of `source` and
/// `detail_type` whose details had `detail`.
pub fn openapi(source: &str, detail_type: &str, detail: &Shape) -> Value {
    let title = match pascal(detail_type) {
        t if t.is_empty() => "Event".to_string(),
        t => t,
    };
    let mut components = Map::new();
    let detail_schema = render(&title, detail, &mut components);
    components.insert("AWSEvent".into(), envelope(source, detail_type, detail_schema));
    json!({
        "openapi": "3.0.0",
        "info": {"version": "1.0.0", "title": title},
        "paths": {},
        "components": {"schemas": components},
    })
}

fn envelope(source: &str, detail_type: &str, detail: Value) -> Value {
    let string = json!({"type": "string"});
    json!({
        "type": "object",
        "required": ENVELOPE_REQUIRED,
        "x-amazon-events-detail-type": detail_type,
        "x-amazon-events-source": source,
        "properties": {
            "detail": detail,
            "account": string,
            "detail-type": string,
            "id": string,
            "region": string,
            "resources": {"type": "array", "items": string},
            "source": string,
            "time": {"type": "string", "format": "date-time"},
            "version": string,
        },
    })
}

/// The schema of a value of `shape`; an object becomes the component
/// `name` (or `name_1`, … if another object took that name) and is referred to.
fn render(name: &str, shape: &Shape, components: &mut Map<String, Value>) -> Value {
    match shape {
        Shape::Null => json!({}),
        Shape::String { date_time: true } => json!({"type": "string", "format": "date-time"}),
        Shape::String { date_time: false } => json!({"type": "string"}),
        Shape::Integer => json!({"type": "integer"}),
        Shape::Number => json!({"type": "number", "format": "double"}),
        Shape::Boolean => json!({"type": "boolean"}),
        Shape::Array { items } => {
            let items = items.as_deref().map_or_else(|| json!({}), |s| render(&format!("{name}Item"), s, components));
            json!({"type": "array", "items": items})
        }
        Shape::Object(object) => {
            let mut properties = Map::new();
            for (field, shape) in &object.properties {
                let child = match pascal(field) {
                    p if p.is_empty() => format!("{name}Field"),
                    p => p,
                };
                properties.insert(field.clone(), render(&child, shape, components));
            }
            let mut schema = Map::new();
            schema.insert("type".into(), json!("object"));
            if !object.required.is_empty() {
                schema.insert("required".into(), json!(object.required));
            }
            if !properties.is_empty() {
                schema.insert("properties".into(), Value::Object(properties));
            }
            let schema = Value::Object(schema);
            let unique = unique_name(name, &schema, components);
            components.insert(unique.clone(), schema);
            json!({"$ref": format!("{REF_PREFIX}{unique}")})
        }
    }
}

fn unique_name(name: &str, schema: &Value, components: &Map<String, Value>) -> String {
    let taken = |n: &str| n == "AWSEvent" || components.get(n).is_some_and(|s| s != schema);
    if !taken(name) {
        return name.to_string();
    }
    (1..).map(|i| format!("{name}_{i}")).find(|n| !taken(n)).expect("some suffix is free")
}

/// Details of events of one source and detail type, merged; the events
/// must be EventBridge events (`source`, `detail-type`, an object `detail`).
pub fn infer_events(events: &[Value]) -> Result<(String, String, Shape), String> {
    let mut found: Option<(String, String, Shape)> = None;
    for event in events {
        let text = |k: &str| event.get(k).and_then(Value::as_str).map(str::to_string);
        let (Some(source), Some(detail_type), Some(detail)) =
            (text("source"), text("detail-type"), event.get("detail"))
        else {
            return Err("Each event must be an EventBridge event with source, detail-type and detail.".into());
        };
        let shape = infer(detail);
        found = Some(match found {
            None => (source, detail_type, shape),
            Some((s, d, existing)) => (s, d, merge(existing, shape)),
        });
    }
    found.ok_or_else(|| "Events must not be empty.".to_string())
}

/// An OpenAPI 3 document as JSON Schema draft 4, as ExportSchema gives it:
/// the `AWSEvent` component (else the first no other refers to) is the root, the other
/// components its `definitions`, references rewritten to them, and
/// OpenAPI's `nullable` spelt as a `null` type.
pub fn to_draft4(doc: &Value) -> Result<Value, String> {
    let components = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .filter(|c| !c.is_empty())
        .ok_or("The schema has no components.schemas to export.")?;
    let root_name = root_component(components);
    let Value::Object(mut root) = draft4_node(&components[&root_name], &root_name) else {
        return Err(format!("The component {root_name} is not a JSON object."));
    };
    let definitions: Map<String, Value> = components
        .iter()
        .filter(|(name, _)| **name != root_name)
        .map(|(name, schema)| (name.clone(), draft4_node(schema, &root_name)))
        .collect();
    root.insert("$schema".into(), json!("http://json-schema.org/draft-04/schema#"));
    let title = doc.pointer("/info/title").and_then(Value::as_str).unwrap_or(&root_name);
    root.insert("title".into(), json!(title));
    if !definitions.is_empty() {
        root.insert("definitions".into(), Value::Object(definitions));
    }
    Ok(Value::Object(root))
}

/// The component a document describes: `AWSEvent` in AWS's event schemas,
/// else the first that no other component refers to (the others are its parts).
fn root_component(components: &Map<String, Value>) -> String {
    if components.contains_key("AWSEvent") {
        return "AWSEvent".to_string();
    }
    let text = Value::Object(components.clone()).to_string();
    let referred = |name: &str| text.contains(&format!("\"{REF_PREFIX}{name}\""));
    components.keys().find(|name| !referred(name)).or_else(|| components.keys().next()).cloned().expect("not empty")
}

fn draft4_node(node: &Value, root_name: &str) -> Value {
    match node {
        Value::Array(items) => Value::Array(items.iter().map(|v| draft4_node(v, root_name)).collect()),
        Value::Object(fields) => {
            let mut out = Map::new();
            for (key, value) in fields {
                let rewritten = match (key.as_str(), value.as_str().and_then(|r| r.strip_prefix(REF_PREFIX))) {
                    ("$ref", Some(target)) if target == root_name => json!("#"),
                    ("$ref", Some(target)) => json!(format!("#/definitions/{target}")),
                    _ => draft4_node(value, root_name),
                };
                out.insert(key.clone(), rewritten);
            }
            if out.get("nullable") == Some(&Value::Bool(true)) {
                out.remove("nullable");
                if let Some(Value::String(t)) = out.get("type").cloned() {
                    out.insert("type".into(), json!([t, "null"]));
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}
