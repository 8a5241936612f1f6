//! EventBridge Scheduler under `--enforce-iam`: schedule actions are on the
//! schedule's ARN (`schedule/{group}/{name}`), group actions and tagging on
//! the group's ARN, listings on `*`; CreateSchedule and UpdateSchedule also
//! need `iam:PassRole` on the target's role, as AWS requires. Without the
//! flag nothing is checked (Scheduler resources have no resource policies).

use eddy_core::scheduler::{group_arn, schedule_arn, SchedulerError, DEFAULT_GROUP};
use eddy_wire::scheduler::ScheduleBody;

use super::{check, Call};
use crate::request::RequestCtx;
use crate::scheduler::{Op, Request};
use crate::server::AppState;

/// Ok, or the `AccessDeniedException` AWS answers (403).
pub fn authorize(state: &AppState, ctx: &RequestCtx, op: Op, req: &Request<'_>) -> Result<(), SchedulerError> {
    if !super::enforced(state) {
        return Ok(());
    }
    for call in calls(ctx, op, req) {
        check(state, ctx, &call, str::to_string).map_err(SchedulerError::AccessDenied)?;
    }
    Ok(())
}

fn calls(ctx: &RequestCtx, op: Op, req: &Request<'_>) -> Vec<Call> {
    let caller = &ctx.caller;
    let action = format!("scheduler:{op:?}");
    let name = req.params.get("Name").unwrap_or_default();
    let body: Option<ScheduleBody> = match op {
        Op::CreateSchedule | Op::UpdateSchedule => eddy_wire::scheduler::decode(req.body).ok(),
        _ => None,
    };
    let group = body
        .as_ref()
        .and_then(|b| b.group_name.clone())
        .or_else(|| req.query("groupName").map(String::from))
        .unwrap_or_else(|| DEFAULT_GROUP.to_string());
    let resource = match op {
        Op::CreateSchedule | Op::UpdateSchedule | Op::GetSchedule | Op::DeleteSchedule => {
            schedule_arn(&caller.region, &caller.account, &group, name)
        }
        Op::CreateScheduleGroup | Op::GetScheduleGroup | Op::DeleteScheduleGroup => {
            group_arn(&caller.region, &caller.account, name)
        }
        Op::TagResource | Op::UntagResource | Op::ListTagsForResource => {
            req.params.get("ResourceArn").unwrap_or("*").to_string()
        }
        Op::ListSchedules | Op::ListScheduleGroups => "*".to_string(),
    };
    let mut calls = vec![Call::new(action, resource, &caller.account)];
    let role = body.as_ref().and_then(|b| b.target.as_ref()).and_then(|t| t["RoleArn"].as_str());
    if let Some(role) = role {
        let owner = role.split(':').nth(4).unwrap_or(&caller.account);
        calls.push(Call::new("iam:PassRole".into(), role.to_string(), owner));
    }
    calls
}
