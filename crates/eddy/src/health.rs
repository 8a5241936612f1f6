//! Health endpoints: eddy's own and LocalStack's shape, so tools that wait
//! on `/_localstack/health` work unchanged.

use bytes::Bytes;
use http::Response;
use http_body_util::Full;
use serde_json::json;

use crate::server::{AppState, HttpResponse};

pub fn respond(state: &AppState, localstack: bool) -> HttpResponse {
    let services = json!({"sqs": "running"});
    let body = if localstack {
        json!({"services": services, "edition": "community", "version": env!("CARGO_PKG_VERSION")})
    } else {
        json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "services": services,
            "queues": state.sqs.queue_count(),
        })
    };
    Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("valid response")
}
