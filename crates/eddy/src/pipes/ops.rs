//! Each Pipes operation: its typed input from the path, query and body,
//! the core call, and its output members.

use std::sync::Arc;

use serde_json::{json, Value};

use eddy_core::clock::Millis;
use eddy_core::pipes::{validation_error, ListPipes, PipeInput, PipeRecord, PipesError, PipesResult};
use eddy_wire::pipes::{self as wire, PipeBody};

use super::{Op, Request};
use crate::request::RequestCtx;
use crate::server::AppState;

type Output = PipesResult<Option<Value>>;

pub async fn dispatch(state: &AppState, ctx: &RequestCtx, op: Op, req: &Request<'_>) -> Output {
    let p = &state.pipes;
    let caller = &ctx.caller;
    match op {
        Op::CreatePipe => {
            let r = p.create_pipe(caller, pipe_input(req)?).await?;
            Ok(Some(state_output(&r)))
        }
        Op::UpdatePipe => {
            let mut input = pipe_input(req)?;
            input.source = None;
            input.tags = None;
            let r = p.update_pipe(caller, input).await?;
            Ok(Some(state_output(&r)))
        }
        Op::DescribePipe => {
            let r = p.describe_pipe(caller, path(req, "Name")?)?;
            Ok(Some(describe_output(&r)))
        }
        Op::DeletePipe => {
            let r = p.delete_pipe(caller, path(req, "Name")?).await?;
            let mut out = state_output(&r);
            out["DesiredState"] = json!("DELETED");
            Ok(Some(out))
        }
        Op::StartPipe => {
            let r = p.start_pipe(caller, path(req, "Name")?).await?;
            Ok(Some(state_output(&r)))
        }
        Op::StopPipe => {
            let r = p.stop_pipe(caller, path(req, "Name")?).await?;
            Ok(Some(state_output(&r)))
        }
        Op::ListPipes => {
            let q = ListPipes {
                name_prefix: req.query("NamePrefix"),
                desired_state: req.query("DesiredState"),
                current_state: req.query("CurrentState"),
                source_prefix: req.query("SourcePrefix"),
                target_prefix: req.query("TargetPrefix"),
                token: req.query("NextToken"),
                limit: limit(req)?,
            };
            let page = p.list_pipes(caller, &q)?;
            let items: Vec<Value> = page.items.iter().map(summary_output).collect();
            let mut out = json!({"Pipes": items});
            if let Some(t) = page.next_token {
                out["NextToken"] = json!(t);
            }
            Ok(Some(out))
        }
        Op::ListTagsForResource => {
            let tags = p.list_tags(path(req, "resourceArn")?)?;
            Ok(Some(json!({"tags": tags})))
        }
        Op::TagResource => {
            let body: wire::TagResourceBody = decode(req)?;
            let tags = body.tags.ok_or_else(|| null_member("tags"))?;
            p.tag_resource(path(req, "resourceArn")?, &tags).await?;
            Ok(None)
        }
        Op::UntagResource => {
            if req.query("tagKeys").is_none() {
                return Err(null_member("tagKeys"));
            }
            p.untag_resource(path(req, "resourceArn")?, &req.query_all("tagKeys")).await?;
            Ok(None)
        }
    }
}

fn path<'a>(req: &'a Request<'_>, name: &str) -> PipesResult<&'a str> {
    req.params.get(name).ok_or_else(|| null_member(name))
}

fn null_member(member: &str) -> PipesError {
    eddy_core::pipes::null_member_error(member)
}

fn decode<T: serde::de::DeserializeOwned>(req: &Request<'_>) -> PipesResult<T> {
    wire::decode(req.body).map_err(|e| validation_error(format!("The request body is not valid: {e}")))
}

fn limit(req: &Request<'_>) -> PipesResult<usize> {
    match req.query("Limit") {
        None => Ok(100),
        Some(text) => match text.parse::<i64>() {
            Ok(n @ 1..=100) => Ok(n as usize),
            _ => Err(eddy_core::pipes::constraint_error("Limit", text, "Member must have value between 1 and 100")),
        },
    }
}

fn pipe_input(req: &Request<'_>) -> PipesResult<PipeInput> {
    let b: PipeBody = decode(req)?;
    Ok(PipeInput {
        name: path(req, "Name")?.to_string(),
        description: b.description,
        desired_state: b.desired_state,
        source: b.source,
        source_parameters: b.source_parameters,
        enrichment: b.enrichment,
        enrichment_parameters: b.enrichment_parameters,
        target: b.target,
        target_parameters: b.target_parameters,
        role_arn: b.role_arn,
        tags: b.tags,
        log_configuration: b.log_configuration,
        kms_key_identifier: b.kms_key_identifier,
    })
}

fn secs(ms: Millis) -> Value {
    json!(ms as f64 / 1000.0)
}

/// CreatePipe's, UpdatePipe's, StartPipe's, StopPipe's and DeletePipe's output.
fn state_output(r: &PipeRecord) -> Value {
    json!({
        "Arn": r.arn(), "Name": r.name, "DesiredState": r.desired_state, "CurrentState": r.current_state,
        "CreationTime": secs(r.created_ms), "LastModifiedTime": secs(r.modified_ms),
    })
}

fn summary_output(r: &Arc<PipeRecord>) -> Value {
    let mut out = state_output(r);
    out["Source"] = json!(r.source);
    out["Target"] = json!(r.target);
    if let Some(e) = &r.enrichment {
        out["Enrichment"] = json!(e);
    }
    if let Some(reason) = &r.state_reason {
        out["StateReason"] = json!(reason);
    }
    out
}

fn describe_output(r: &PipeRecord) -> Value {
    let mut out = state_output(r);
    let o = out.as_object_mut().expect("an object");
    let mut put = |k: &str, v: Value| {
        o.insert(k.to_string(), v);
    };
    put("Source", json!(r.source));
    put("SourceParameters", Value::Object(r.source_parameters.clone()));
    put("Target", json!(r.target));
    put("TargetParameters", Value::Object(r.target_parameters.clone()));
    put("RoleArn", json!(r.role_arn));
    put("Tags", json!(r.tags));
    if let Some(d) = &r.description {
        put("Description", json!(d));
    }
    if let Some(reason) = &r.state_reason {
        put("StateReason", json!(reason));
    }
    if let Some(e) = &r.enrichment {
        put("Enrichment", json!(e));
        put("EnrichmentParameters", Value::Object(r.enrichment_parameters.clone()));
    } else if !r.enrichment_parameters.is_empty() {
        put("EnrichmentParameters", Value::Object(r.enrichment_parameters.clone()));
    }
    if let Some(l) = &r.log_configuration {
        put("LogConfiguration", l.clone());
    }
    if let Some(k) = &r.kms_key_identifier {
        put("KmsKeyIdentifier", json!(k));
    }
    out
}
