//! STS over awsQuery: GetCallerIdentity, AssumeRole, GetSessionToken and
//! GetAccessKeyInfo. Decoding, errors and XML are IAM's ([`crate::iam`]),
//! in STS's namespace.

mod ops;

use eddy_wire::xml;

use crate::request::RequestCtx;
use crate::server::{AppState, HttpResponse};

pub async fn handle_query(state: &AppState, ctx: &RequestCtx, pairs: &[(String, String)]) -> HttpResponse {
    crate::iam::serve(ctx, xml::STS_NAMESPACE, pairs, |action, input| ops::dispatch(state, ctx, action, input)).await
}
