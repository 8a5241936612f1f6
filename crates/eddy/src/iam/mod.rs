//! IAM and STS over awsQuery: form → generic JSON input → typed input →
//! one core call → XML in the service's namespace. STS lives in
//! [`crate::sts`] and shares the errors and the caller rules here.

pub mod errors;
mod ops;
mod shapes;

use http::StatusCode;

use eddy_wire::error::WireError;
use eddy_wire::{query, xml};

use crate::request::RequestCtx;
use crate::server::{AppState, HttpResponse};

pub async fn handle_query(state: &AppState, ctx: &RequestCtx, pairs: &[(String, String)]) -> HttpResponse {
    serve(ctx, xml::IAM_NAMESPACE, pairs, |action, input| ops::dispatch(state, ctx, action, input)).await
}

/// Decodes an awsQuery request of a service in namespace `xmlns`, runs it
/// and writes its XML response or error.
pub async fn serve<F, Fut>(ctx: &RequestCtx, xmlns: &str, pairs: &[(String, String)], run: F) -> HttpResponse
where
    F: FnOnce(String, serde_json::Value) -> Fut,
    Fut: std::future::Future<Output = Result<Option<serde_json::Value>, WireError>>,
{
    let request = match query::decode_generic(pairs) {
        Ok(r) => r,
        Err(query::QueryError::MissingAction) => return xml_error(ctx, xmlns, &errors::invalid_action("")),
        Err(e) => return xml_error(ctx, xmlns, &eddy_wire::iam::validation(e.to_string())),
    };
    let action = request.action.clone();
    match run(request.action, request.input).await {
        Ok(output) => {
            let body = xml::query_response(xmlns, &action, output.as_ref(), &ctx.request_id);
            crate::respond::full(StatusCode::OK, "text/xml", ctx, body)
        }
        Err(e) => {
            if e.status >= 500 {
                tracing::error!(action = %action, error = %e.message, "IAM/STS request failed");
            }
            xml_error(ctx, xmlns, &e)
        }
    }
}

pub fn xml_error(ctx: &RequestCtx, xmlns: &str, e: &WireError) -> HttpResponse {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    crate::respond::full(status, "text/xml", ctx, e.xml_body_without_detail(xmlns, &ctx.request_id))
}
