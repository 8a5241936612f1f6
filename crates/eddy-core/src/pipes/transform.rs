//! Filtering and input templates.
//!
//! Each filter of FilterCriteria is an event pattern (the shared matcher);
//! an event passes when any filter matches its [`view`](super::source::view).
//! An InputTemplate is Pipes' own syntax: placeholders are JSON paths into
//! the event (`<$.body.orderId>`) or the reserved `<aws.pipes.*>`
//! variables; inside a JSON string a value goes in as text, outside one as
//! JSON (the rules EventBridge's InputTransformer follows too, whose
//! filling code this reuses).

use serde_json::Value;

use crate::pattern::EventPattern;

/// A pipe's compiled FilterCriteria.
#[derive(Debug, Default)]
pub struct Filters(Vec<EventPattern>);

impl Filters {
    /// The patterns of `SourceParameters.FilterCriteria`; one that does
    /// not parse (checked when the pipe was written) is left out.
    pub fn from_parameters(source_parameters: &serde_json::Map<String, Value>) -> Filters {
        let patterns = source_parameters
            .get("FilterCriteria")
            .and_then(|f| f.get("Filters"))
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|f| f.get("Pattern").and_then(Value::as_str))
                    .filter_map(|p| EventPattern::parse(p).ok())
                    .collect()
            })
            .unwrap_or_default();
        Filters(patterns)
    }

    /// Whether the event goes on: no filters pass everything.
    pub fn pass(&self, view: &Value) -> bool {
        self.0.is_empty() || self.0.iter().any(|p| p.matches(view))
    }
}

/// Facts the reserved variables name.
pub struct PipeContext<'a> {
    pub pipe_arn: &'a str,
    pub pipe_name: &'a str,
    pub source_arn: &'a str,
    pub enrichment_arn: &'a str,
    pub target_arn: &'a str,
    pub ingestion_time: &'a str,
}

/// The template filled from `view` (the event with its body parsed).
pub fn render(template: &str, view: &Value, ctx: &PipeContext<'_>) -> String {
    crate::events::fill_template(template, &|name| variable(name, view, ctx))
}

/// A placeholder's value: None when the name is no variable (the text is
/// kept as written), Some(None) when its path finds nothing.
fn variable(name: &str, view: &Value, ctx: &PipeContext<'_>) -> Option<Option<Value>> {
    if name.starts_with('$') {
        return Some(crate::events::select_path(view, name).cloned());
    }
    let value = match name {
        "aws.pipes.pipe-arn" => ctx.pipe_arn,
        "aws.pipes.pipe-name" => ctx.pipe_name,
        "aws.pipes.source-arn" => ctx.source_arn,
        "aws.pipes.enrichment-arn" => ctx.enrichment_arn,
        "aws.pipes.target-arn" => ctx.target_arn,
        "aws.pipes.event.ingestion-time" => ctx.ingestion_time,
        "aws.pipes.event" | "aws.pipes.event.json" => return Some(Some(view.clone())),
        _ => return None,
    };
    Some(Some(Value::from(value)))
}

/// A target parameter that may be a dynamic path (`$.body.group`): its
/// value in the event as text, else the parameter as written.
pub fn dynamic(param: &str, view: &Value) -> Option<String> {
    if !param.starts_with("$.") {
        return Some(param.to_string());
    }
    crate::events::select_path(view, param).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
}
