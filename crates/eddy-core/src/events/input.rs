//! What a target receives: the whole event, a constant `Input`, the part an
//! `InputPath` selects, or an `InputTransformer`'s template filled from
//! `InputPathsMap` (AWS's "Transforming target input").
//!
//! Template rules, from AWS's user guide: a placeholder inside a JSON
//! string is replaced by the value's text (a string without its quotes);
//! outside a string by the value's JSON (a string with its quotes). A
//! template that is not JSON at all (no leading `{`, `[` or `"`) is text,
//! and every placeholder gets the value's text. A path the event does not
//! have gives an empty string: `""` outside a string, nothing inside one
//! (AWS-recorded). The
//! predefined `<aws.events.rule-arn>`, `<aws.events.rule-name>`,
//! `<aws.events.event.ingestion-time>`, `<aws.events.event>` (the event
//! without its detail) and `<aws.events.event.json>` (the whole event)
//! need no path.

use std::collections::BTreeMap;

use serde_json::Value;

/// How a target wants the event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Shape {
    #[default]
    Event,
    Constant(String),
    Path(String),
    Template {
        paths: BTreeMap<String, String>,
        template: String,
    },
}

/// Facts the predefined variables name.
pub struct Context<'a> {
    pub rule_arn: &'a str,
    pub rule_name: &'a str,
    pub ingestion_time: &'a str,
}

/// The target's body for `event` (whose JSON text is `event_text`).
pub fn render(shape: &Shape, event: &Value, event_text: &str, ctx: &Context<'_>) -> String {
    match shape {
        Shape::Event => event_text.to_string(),
        Shape::Constant(text) => text.clone(),
        Shape::Path(path) => select(event, path).map_or_else(|| "null".to_string(), Value::to_string),
        Shape::Template { paths, template } => fill(template, &|name| variable(name, paths, event, ctx)),
    }
}

/// A placeholder's value: None when the name is not a variable (the text
/// is then kept as written); Some(None) when its path finds nothing.
fn variable(name: &str, paths: &BTreeMap<String, String>, event: &Value, ctx: &Context<'_>) -> Option<Option<Value>> {
    let predefined = match name {
        "aws.events.rule-arn" => Some(Value::from(ctx.rule_arn)),
        "aws.events.rule-name" => Some(Value::from(ctx.rule_name)),
        "aws.events.event.ingestion-time" => Some(Value::from(ctx.ingestion_time)),
        "aws.events.event" => Some(envelope_only(event)),
        "aws.events.event.json" => Some(event.clone()),
        _ => None,
    };
    if predefined.is_some() {
        return Some(predefined);
    }
    paths.get(name).map(|path| select(event, path).cloned())
}

/// `<aws.events.event>`: the event without its detail, `detail-type`
/// spelled `detailType` (AWS-recorded).
fn envelope_only(event: &Value) -> Value {
    let mut out = serde_json::Map::new();
    if let Some(fields) = event.as_object() {
        for (k, v) in fields.iter().filter(|(k, _)| k.as_str() != "detail") {
            let key = if k == "detail-type" { "detailType" } else { k.as_str() };
            out.insert(key.to_string(), v.clone());
        }
    }
    Value::Object(out)
}

/// Fills `template`'s placeholders: `value_of` gives a name's value, None
/// when the name is no variable (the text is kept as written). Pipes'
/// input templates share it.
pub fn fill(template: &str, value_of: &dyn Fn(&str) -> Option<Option<Value>>) -> String {
    let text_mode = !template.trim_start().starts_with(['{', '[', '"']);
    let mut out = String::with_capacity(template.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            if let Some((name, after)) = rest[1..].split_once('>').filter(|(n, _)| !n.contains(['<', '"'])) {
                if let Some(value) = value_of(name) {
                    out.push_str(&substitute(value.as_ref(), in_string || text_mode, in_string));
                    rest = after;
                    continue;
                }
            }
        }
        if !text_mode {
            match c {
                '\\' if in_string => escaped = !escaped,
                '"' if !escaped => {
                    in_string = !in_string;
                    escaped = false
                }
                _ => escaped = false,
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A value as text (`as_text`) or as JSON; text inside a JSON string is
/// escaped so the result stays JSON.
fn substitute(value: Option<&Value>, as_text: bool, in_json_string: bool) -> String {
    let Some(value) = value else {
        return if as_text { String::new() } else { "\"\"".to_string() };
    };
    if !as_text {
        return value.to_string();
    }
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if in_json_string {
        let quoted = Value::String(text).to_string();
        quoted[1..quoted.len() - 1].to_string()
    } else {
        text
    }
}

/// The value a JSONPath (`$`, `$.a.b`, `$.a[0].b`, `$['a b']`) selects.
pub fn select<'v>(event: &'v Value, path: &str) -> Option<&'v Value> {
    let mut rest = path.strip_prefix('$')?;
    let mut at = event;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("['") {
            let (key, after) = r.split_once("']")?;
            at = at.get(key)?;
            rest = after;
        } else if let Some(r) = rest.strip_prefix('[') {
            let (index, after) = r.split_once(']')?;
            at = at.get(index.trim().parse::<usize>().ok()?)?;
            rest = after;
        } else if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            at = at.get(&r[..end])?;
            rest = &r[end..];
        } else {
            return None;
        }
    }
    Some(at)
}

/// The placeholders of a template: `<name>` where the name is made of
/// InputPathsMap key characters or is one of the predefined `aws.events.*`.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let Some(end) = rest.find(['>', '<']) else { break };
        let name = &rest[..end];
        let key_like =
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if rest[end..].starts_with('>') && key_like {
            out.push(name);
        }
        rest = &rest[end..];
    }
    out
}

/// Whether `name` is one of the predefined variables.
pub fn predefined(name: &str) -> bool {
    matches!(
        name,
        "aws.events.rule-arn"
            | "aws.events.rule-name"
            | "aws.events.event.ingestion-time"
            | "aws.events.event"
            | "aws.events.event.json"
    )
}

/// Whether `path` is a JSONPath this module can follow.
pub fn valid_path(path: &str) -> bool {
    well_formed(path)
}

fn well_formed(path: &str) -> bool {
    let Some(mut rest) = path.strip_prefix('$') else { return false };
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("['") {
            match r.split_once("']") {
                Some((_, after)) => rest = after,
                None => return false,
            }
        } else if let Some(r) = rest.strip_prefix('[') {
            match r.split_once(']') {
                Some((i, after)) if i.trim().parse::<usize>().is_ok() => rest = after,
                _ => return false,
            }
        } else if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return false;
            }
            rest = &r[end..];
        } else {
            return false;
        }
    }
    true
}
