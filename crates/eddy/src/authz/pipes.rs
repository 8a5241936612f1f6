//! EventBridge Pipes under `--enforce-iam`: pipe actions are on the pipe's
//! ARN, tagging on `resourceArn`, ListPipes on `*`; CreatePipe and
//! UpdatePipe also need `iam:PassRole` on the pipe's role, and the role
//! must exist and trust `pipes.amazonaws.com` for this pipe (its trust
//! policy evaluated with `aws:SourceArn` = the pipe's ARN, as AWS does
//! when the pipe assumes it). Without the flag nothing is checked.

use eddy_core::pipes::{pipe_arn, validation_error, PipesError, PIPES_PRINCIPAL};
use eddy_core::policy::{PolicyCache, ServiceDelivery};
use eddy_wire::pipes::PipeBody;

use super::{check, Call};
use crate::pipes::{Op, Request};
use crate::request::RequestCtx;
use crate::server::AppState;

/// Ok, or the `AccessDeniedException` (403) or, for a role the pipe cannot
/// assume, the `ValidationException` AWS answers.
pub fn authorize(state: &AppState, ctx: &RequestCtx, op: Op, req: &Request<'_>) -> Result<(), PipesError> {
    if !super::enforced(state) {
        return Ok(());
    }
    let caller = &ctx.caller;
    let name = req.params.get("Name").unwrap_or_default();
    let arn = pipe_arn(&caller.region, &caller.account, name);
    let resource = match op {
        Op::ListPipes => "*".to_string(),
        Op::TagResource | Op::UntagResource | Op::ListTagsForResource => {
            req.params.get("resourceArn").unwrap_or("*").to_string()
        }
        _ => arn.clone(),
    };
    let deny = PipesError::AccessDenied;
    check(state, ctx, &Call::new(format!("pipes:{op:?}"), resource, &caller.account), str::to_string).map_err(deny)?;
    if !matches!(op, Op::CreatePipe | Op::UpdatePipe) {
        return Ok(());
    }
    let body: Option<PipeBody> = eddy_wire::pipes::decode(req.body).ok();
    let Some(role) = body.and_then(|b| b.role_arn) else { return Ok(()) };
    let owner = role.split(':').nth(4).unwrap_or(&caller.account).to_string();
    check(state, ctx, &Call::new("iam:PassRole".into(), role.clone(), &owner), str::to_string).map_err(deny)?;
    check_trust(state, &role, &arn, &caller.account)
}

/// The role exists and its trust policy lets Pipes assume it for `pipe`.
fn check_trust(state: &AppState, role: &str, pipe: &str, account: &str) -> Result<(), PipesError> {
    static CACHE: std::sync::OnceLock<PolicyCache> = std::sync::OnceLock::new();
    let Some(trust) = state.iam.trust_policy(role) else {
        return Err(validation_error(format!("The role {role} does not exist.")));
    };
    let assume = ServiceDelivery {
        service: PIPES_PRINCIPAL,
        action: "sts:AssumeRole",
        resource: role,
        source_arn: pipe,
        source_account: account,
    };
    match assume.check(Some(&trust), CACHE.get_or_init(PolicyCache::default)) {
        Ok(()) => Ok(()),
        Err(refusal) => {
            tracing::info!(role, pipe, why = %refusal.why, needed = %refusal.needed,
                "Pipes cannot assume the pipe's role: its trust policy does not allow pipes.amazonaws.com");
            Err(validation_error(format!(
                "Pipes does not have permission to assume the role {role}: its trust policy must allow {PIPES_PRINCIPAL} to sts:AssumeRole ({})",
                refusal.why
            )))
        }
    }
}
