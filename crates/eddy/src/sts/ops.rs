//! One function per STS operation: typed input → one core call → output.

use serde_json::{json, Value};

use eddy_core::clock::iso8601_ms;
use eddy_core::iam::{AssumeRole, SessionRecord};
use eddy_wire::error::WireError;
use eddy_wire::sns::{decode, required};
use eddy_wire::sts as s;

use crate::iam::errors::{invalid_action, wire};
use crate::request::RequestCtx;
use crate::server::AppState;

type Output = Result<Option<Value>, WireError>;

pub async fn dispatch(state: &AppState, ctx: &RequestCtx, action: String, input: Value) -> Output {
    if crate::authz::enforced(state) {
        crate::authz::iam::authorize_sts(state, ctx, &action, &input)?;
    }
    match action.as_str() {
        "GetCallerIdentity" => get_caller_identity(ctx),
        "AssumeRole" => assume_role(state, ctx, decode(&input)?).await,
        "GetSessionToken" => get_session_token(state, ctx, decode(&input)?).await,
        "GetAccessKeyInfo" => get_access_key_info(state, decode(&input)?),
        other => Err(invalid_action(other)),
    }
}

/// Who the request's credentials stand for (see `request.rs`).
fn get_caller_identity(ctx: &RequestCtx) -> Output {
    let id = &ctx.identity;
    Ok(Some(json!({"UserId": id.user_id, "Account": id.account, "Arn": id.arn})))
}

fn credentials(s: &SessionRecord) -> Value {
    json!({
        "AccessKeyId": s.id, "SecretAccessKey": s.secret, "SessionToken": s.token,
        "Expiration": iso8601_ms(s.expires_ms),
    })
}

async fn assume_role(state: &AppState, ctx: &RequestCtx, i: s::AssumeRoleRequest) -> Output {
    let req = AssumeRole {
        role_arn: required(i.role_arn, "RoleArn")?,
        session_name: required(i.role_session_name, "RoleSessionName")?,
        duration_secs: i.duration_seconds,
        policy: i.policy,
        policy_arns: i.policy_arns.into_iter().filter_map(|p| p.arn).collect(),
        region: ctx.caller.region.clone(),
    };
    let issued = state.iam.assume_role(&ctx.identity, req).await.map_err(|e| wire(&e))?;
    let session = &issued.session;
    let mut out = json!({
        "Credentials": credentials(session),
        "AssumedRoleUser": {"AssumedRoleId": session.user_id, "Arn": session.arn},
    });
    if let Some(size) = issued.packed_policy_size {
        out["PackedPolicySize"] = json!(size);
    }
    if let Some(source) = i.source_identity {
        out["SourceIdentity"] = json!(source);
    }
    Ok(Some(out))
}

async fn get_session_token(state: &AppState, ctx: &RequestCtx, i: s::GetSessionTokenRequest) -> Output {
    let session = state.iam.get_session_token(&ctx.identity, i.duration_seconds).await.map_err(|e| wire(&e))?;
    Ok(Some(json!({"Credentials": credentials(&session)})))
}

/// The account of any key: eddy's own keys by record, any other by the
/// rule requests follow (a 12-digit key is that account, else the default).
fn get_access_key_info(state: &AppState, i: s::GetAccessKeyInfoRequest) -> Output {
    let key = required(i.access_key_id, "AccessKeyId")?;
    let account =
        state.iam.key_account(&key).unwrap_or_else(|| crate::request::account_of_unknown_key(&key, &state.config));
    Ok(Some(json!({"Account": account})))
}
