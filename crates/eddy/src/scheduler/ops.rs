//! Each Scheduler operation: its typed input from the path, query and
//! body, the core call, and its output members.

use serde_json::{json, Map, Value};

use eddy_core::clock::Millis;
use eddy_core::scheduler::{
    Group, ListSchedules, ScheduleInput, ScheduleRecord, ScheduleSummary, SchedulerError, SchedulerResult,
};
use eddy_core::tags::Tags;
use eddy_wire::scheduler::{self as wire, ScheduleBody, Tag};

use super::{Op, Request};
use crate::request::RequestCtx;
use crate::server::AppState;

type Output = SchedulerResult<Option<Value>>;

pub async fn dispatch(state: &AppState, ctx: &RequestCtx, op: Op, req: &Request<'_>) -> Output {
    let s = &state.scheduler;
    let caller = &ctx.caller;
    match op {
        Op::CreateSchedule => {
            let arn = s.create_schedule(caller, schedule_input(req)?).await?;
            Ok(Some(json!({"ScheduleArn": arn})))
        }
        Op::UpdateSchedule => {
            let arn = s.update_schedule(caller, schedule_input(req)?).await?;
            Ok(Some(json!({"ScheduleArn": arn})))
        }
        Op::GetSchedule => {
            let record = s.get_schedule(caller, req.query("groupName"), path(req, "Name")?)?;
            Ok(Some(schedule_output(&record)))
        }
        Op::DeleteSchedule => {
            s.delete_schedule(caller, req.query("groupName"), path(req, "Name")?).await?;
            Ok(None)
        }
        Op::ListSchedules => {
            let limit = max_results(req)?;
            let q = ListSchedules {
                group: req.query("ScheduleGroup"),
                name_prefix: req.query("NamePrefix"),
                state: req.query("State"),
                token: req.query("NextToken"),
                limit,
            };
            let page = s.list_schedules(caller, &q)?;
            let items: Vec<Value> = page.items.iter().map(summary_output).collect();
            Ok(Some(with_token(json!({"Schedules": items}), page.next_token)))
        }
        Op::CreateScheduleGroup => {
            let body: wire::CreateScheduleGroupBody = decode(req)?;
            let arn = s.create_group(caller, path(req, "Name")?, tag_map(body.tags)).await?;
            Ok(Some(json!({"ScheduleGroupArn": arn})))
        }
        Op::GetScheduleGroup => Ok(Some(group_output(&s.get_group(caller, path(req, "Name")?)?))),
        Op::DeleteScheduleGroup => {
            s.delete_group(caller, path(req, "Name")?).await?;
            Ok(None)
        }
        Op::ListScheduleGroups => {
            let limit = max_results(req)?;
            let page = s.list_groups(caller, req.query("NamePrefix"), req.query("NextToken"), limit)?;
            let items: Vec<Value> = page.items.iter().map(group_output).collect();
            Ok(Some(with_token(json!({"ScheduleGroups": items}), page.next_token)))
        }
        Op::ListTagsForResource => {
            let tags = s.list_tags(path(req, "ResourceArn")?)?;
            Ok(Some(json!({"Tags": tag_list(&tags)})))
        }
        Op::TagResource => {
            let body: wire::TagResourceBody = decode(req)?;
            let tags = body.tags.ok_or_else(|| null_member("tags"))?;
            s.tag_resource(path(req, "ResourceArn")?, tag_map(Some(tags))).await?;
            Ok(None)
        }
        Op::UntagResource => {
            let keys = req.query_all("TagKeys");
            if req.query("TagKeys").is_none() {
                return Err(null_member("tagKeys"));
            }
            s.untag_resource(path(req, "ResourceArn")?, &keys).await?;
            Ok(None)
        }
    }
}

fn path<'a>(req: &'a Request<'_>, name: &str) -> SchedulerResult<&'a str> {
    req.params.get(name).ok_or_else(|| null_member(name))
}

fn null_member(member: &str) -> SchedulerError {
    SchedulerError::Validation(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
}

fn decode<T: serde::de::DeserializeOwned>(req: &Request<'_>) -> SchedulerResult<T> {
    wire::decode(req.body).map_err(|e| SchedulerError::Validation(format!("The request body is not valid: {e}")))
}

fn max_results(req: &Request<'_>) -> SchedulerResult<usize> {
    match req.query("MaxResults") {
        None => Ok(100),
        Some(text) => match text.parse::<i64>() {
            Ok(n @ 1..=100) => Ok(n as usize),
            _ => Err(SchedulerError::Validation(format!(
                "1 validation error detected: Value '{text}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100"
            ))),
        },
    }
}

/// Epoch seconds (restJson1's timestamps) to milliseconds.
fn millis(secs: Option<f64>, member: &str) -> SchedulerResult<Option<Millis>> {
    match secs {
        None => Ok(None),
        Some(s) if (0.0..253_402_300_800.0).contains(&s) => Ok(Some((s * 1000.0).round() as Millis)),
        Some(s) => Err(SchedulerError::Validation(format!("Value {s} at '{member}' is not a valid timestamp."))),
    }
}

fn schedule_input(req: &Request<'_>) -> SchedulerResult<ScheduleInput> {
    let body: ScheduleBody = decode(req)?;
    Ok(ScheduleInput {
        name: path(req, "Name")?.to_string(),
        group: body.group_name,
        expression: body.schedule_expression.ok_or_else(|| null_member("scheduleExpression"))?,
        timezone: body.schedule_expression_timezone,
        start_ms: millis(body.start_date, "startDate")?,
        end_ms: millis(body.end_date, "endDate")?,
        description: body.description,
        state: body.state,
        kms_key_arn: body.kms_key_arn,
        target: body.target.ok_or_else(|| null_member("target"))?,
        flexible_time_window: body.flexible_time_window.ok_or_else(|| null_member("flexibleTimeWindow"))?,
        action_after_completion: body.action_after_completion,
    })
}

fn secs(ms: Millis) -> Value {
    json!(ms as f64 / 1000.0)
}

fn schedule_output(r: &ScheduleRecord) -> Value {
    let mut out = Map::new();
    let arn = eddy_core::scheduler::schedule_arn(&r.region, &r.account, &r.group, &r.name);
    out.insert("Arn".into(), json!(arn));
    out.insert("GroupName".into(), json!(r.group));
    out.insert("Name".into(), json!(r.name));
    out.insert("ScheduleExpression".into(), json!(r.expression));
    out.insert("ScheduleExpressionTimezone".into(), json!(r.timezone.as_deref().unwrap_or("UTC")));
    if let Some(ms) = r.start_ms {
        out.insert("StartDate".into(), secs(ms));
    }
    if let Some(ms) = r.end_ms {
        out.insert("EndDate".into(), secs(ms));
    }
    if let Some(d) = &r.description {
        out.insert("Description".into(), json!(d));
    }
    out.insert("State".into(), json!(r.state));
    out.insert("CreationDate".into(), secs(r.created_ms));
    out.insert("LastModificationDate".into(), secs(r.modified_ms));
    if let Some(k) = &r.kms_key_arn {
        out.insert("KmsKeyArn".into(), json!(k));
    }
    out.insert("Target".into(), serde_json::to_value(&r.target).unwrap_or_default());
    out.insert("FlexibleTimeWindow".into(), serde_json::to_value(&r.flexible_time_window).unwrap_or_default());
    out.insert("ActionAfterCompletion".into(), json!(r.action_after_completion));
    Value::Object(out)
}

fn summary_output(s: &ScheduleSummary) -> Value {
    json!({
        "Arn": s.arn, "Name": s.name, "GroupName": s.group, "State": s.state,
        "CreationDate": secs(s.created_ms), "LastModificationDate": secs(s.modified_ms),
        "Target": {"Arn": s.target_arn},
    })
}

fn group_output(g: &Group) -> Value {
    json!({
        "Arn": g.arn, "Name": g.name, "State": "ACTIVE",
        "CreationDate": secs(g.created_ms), "LastModificationDate": secs(g.modified_ms),
    })
}

fn with_token(mut out: Value, token: Option<String>) -> Value {
    if let Some(t) = token {
        out["NextToken"] = json!(t);
    }
    out
}

fn tag_map(tags: Option<Vec<Tag>>) -> Tags {
    tags.unwrap_or_default().into_iter().map(|t| (t.key, t.value)).collect()
}

fn tag_list(tags: &Tags) -> Vec<Value> {
    tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect()
}
