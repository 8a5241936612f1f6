//! SNS over awsQuery: form → generic JSON input → [`ops::dispatch`] → XML.
//! Also eddy's own SNS endpoints: the signing certificate, the outbox of
//! recorded SMS/email/push messages, and delivery counters.

mod capped_connector;
mod errors;
pub mod http_client;
mod ops;

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use http_body_util::Full;

use eddy_core::sns::OUTBOX_MAX_PAGE;
use eddy_wire::error::WireError;
use eddy_wire::{query, xml};

use crate::request::RequestCtx;
use crate::server::{AppState, HttpResponse};

pub async fn handle_query(state: &AppState, ctx: &RequestCtx, pairs: &[(String, String)]) -> HttpResponse {
    let request = match query::decode_generic(pairs) {
        Ok(r) => r,
        Err(query::QueryError::MissingAction) => return xml_error(ctx, &errors::invalid_action("")),
        // "Parameter … is malformed." or too many parameters.
        Err(e) => return xml_error(ctx, &errors::invalid_parameter(e.to_string())),
    };
    match ops::dispatch(state, ctx, &request.action, &request.input).await {
        Ok(output) => {
            let body = xml::sns_response(&request.action, output.as_ref(), &ctx.request_id);
            respond(StatusCode::OK, "text/xml", ctx, body)
        }
        Err(e) => {
            if e.status >= 500 {
                tracing::error!(action = %request.action, error = %e.message, "SNS request failed");
            }
            xml_error(ctx, &e)
        }
    }
}

/// `/_eddy/sns/…`: what AWS serves elsewhere or not at all.
pub async fn handle_eddy(state: &AppState, ctx: &RequestCtx, method: &Method, uri: &http::Uri) -> HttpResponse {
    let sns = &state.sns;
    let path = uri.path();
    let path = if path == "/_eddy/doctor" { "doctor" } else { path.trim_start_matches("/_eddy/sns/") };
    match (method, path) {
        (&Method::GET, p) if p.ends_with(".pem") => {
            plain(StatusCode::OK, "application/x-pem-file", sns.signing_certificate())
        }
        (&Method::GET, "outbox") => outbox(sns, uri.query().unwrap_or_default()),
        (&Method::DELETE, "outbox") => match sns.clear_outbox().await {
            Ok(n) => json(StatusCode::OK, &serde_json::json!({"deleted": n})),
            Err(e) => plain(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", e.to_string()),
        },
        (&Method::GET, "stats") => json(StatusCode::OK, &sns.stats.snapshot()),
        (&Method::POST, "sms-opt-out") => sms_opt_out(sns, ctx, uri.query().unwrap_or_default()).await,
        (&Method::GET, "doctor") => {
            let mut findings = eddy_core::doctor::inspect(&state.sqs, sns);
            findings.extend(eddy_core::doctor::inspect_identity(&state.sqs, sns, &state.kinesis, &state.iam));
            findings.extend(eddy_core::doctor::inspect_events(&state.sqs, sns, &state.events));
            json(StatusCode::OK, &serde_json::to_value(findings).unwrap_or_default())
        }
        _ => plain(StatusCode::NOT_FOUND, "text/plain", "no such eddy SNS endpoint".into()),
    }
}

/// `POST /_eddy/sns/sms-opt-out?phoneNumber=+15555550100`: what a
/// recipient's STOP reply does on AWS, for the caller's account and region
/// (eddy sends no SMS, so no one can reply).
async fn sms_opt_out(sns: &eddy_core::sns::Sns, ctx: &RequestCtx, query: &str) -> HttpResponse {
    let phone = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "phoneNumber").map(|(_, v)| v.into_owned());
    let Some(phone) = phone else {
        return plain(StatusCode::BAD_REQUEST, "text/plain", "phoneNumber is required".into());
    };
    match sns.opt_out(&ctx.caller, &phone).await {
        Ok(()) => json(StatusCode::OK, &serde_json::json!({"phoneNumber": phone, "isOptedOut": true})),
        Err(e) => plain(StatusCode::BAD_REQUEST, "text/plain", e.to_string()),
    }
}

/// `GET /_eddy/sns/outbox[?limit=N][&nextToken=T]`: oldest first, pages of
/// at most 1,000 entries (the default); `nextToken` continues.
fn outbox(sns: &eddy_core::sns::Sns, query: &str) -> HttpResponse {
    let mut token = None;
    let mut limit = OUTBOX_MAX_PAGE;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "nextToken" => token = Some(v.into_owned()),
            "limit" => match v.parse::<usize>() {
                Ok(n) if (1..=OUTBOX_MAX_PAGE).contains(&n) => limit = n,
                _ => {
                    return plain(
                        StatusCode::BAD_REQUEST,
                        "text/plain",
                        format!("limit must be 1 to {OUTBOX_MAX_PAGE}"),
                    )
                }
            },
            _ => {}
        }
    }
    match sns.outbox(token.as_deref(), limit) {
        Ok(page) => json(StatusCode::OK, &serde_json::json!({"messages": page.entries, "nextToken": page.next_token})),
        Err(e @ eddy_core::sns::SnsError::InvalidParameter(_)) => {
            plain(StatusCode::BAD_REQUEST, "text/plain", e.to_string())
        }
        Err(e) => plain(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", e.to_string()),
    }
}

fn respond(status: StatusCode, content_type: &str, ctx: &RequestCtx, body: String) -> HttpResponse {
    crate::respond::full(status, content_type, ctx, body)
}

pub(crate) fn xml_error(ctx: &RequestCtx, e: &WireError) -> HttpResponse {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    respond(status, "text/xml", ctx, e.xml_body_without_detail(xml::SNS_NAMESPACE, &ctx.request_id))
}

fn plain(status: StatusCode, content_type: &str, body: String) -> HttpResponse {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("valid response")
}

fn json(status: StatusCode, v: &serde_json::Value) -> HttpResponse {
    plain(status, "application/json", v.to_string())
}
