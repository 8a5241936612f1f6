//! EventBridge Schemas under `--enforce-iam`: registry actions on the
//! registry's ARN, schema actions on the schema's, discoverer actions on
//! the discoverer's, tagging on the named ARN, listings and
//! GetDiscoveredSchema on `*`, as the Service Authorization Reference
//! lists them. Without the flag nothing is checked (registry resource
//! policies are kept, not evaluated).

use eddy_core::schemas::{discoverer_arn, registry_arn, schema_arn, SchemasError};

use super::{check, Call};
use crate::request::RequestCtx;
use crate::schemas::{Op, Request};
use crate::server::AppState;

/// Ok, or the ForbiddenException AWS answers (403).
pub fn authorize(state: &AppState, ctx: &RequestCtx, op: Op, req: &Request<'_>) -> Result<(), SchemasError> {
    if !super::enforced(state) {
        return Ok(());
    }
    let call = Call::new(format!("schemas:{op:?}"), resource(ctx, op, req), &ctx.caller.account);
    check(state, ctx, &call, str::to_string).map_err(SchemasError::Forbidden)
}

fn resource(ctx: &RequestCtx, op: Op, req: &Request<'_>) -> String {
    let (region, account) = (&ctx.caller.region, &ctx.caller.account);
    let param = |name: &str| req.params.get(name).unwrap_or_default().to_string();
    match op {
        Op::ListRegistries | Op::ListDiscoverers | Op::GetDiscoveredSchema => "*".into(),
        Op::CreateDiscoverer => discoverer_arn(region, account, "*"),
        Op::DescribeDiscoverer
        | Op::UpdateDiscoverer
        | Op::DeleteDiscoverer
        | Op::StartDiscoverer
        | Op::StopDiscoverer => discoverer_arn(region, account, &param("DiscovererId")),
        Op::TagResource | Op::UntagResource | Op::ListTagsForResource => param("ResourceArn"),
        Op::PutResourcePolicy | Op::GetResourcePolicy | Op::DeleteResourcePolicy => match req.query("registryName") {
            Some(name) => registry_arn(region, account, name),
            None => "*".into(),
        },
        Op::CreateRegistry
        | Op::DescribeRegistry
        | Op::UpdateRegistry
        | Op::DeleteRegistry
        | Op::ListSchemas
        | Op::SearchSchemas => registry_arn(region, account, &param("RegistryName")),
        _ => schema_arn(region, account, &param("RegistryName"), &param("SchemaName")),
    }
}
