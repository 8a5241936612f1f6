//! Health endpoints: eddy's own and LocalStack's shape, so tools that wait
//! on `/_localstack/health` work unchanged.
//!
//! eddy is healthy when its store takes writes. A store refusing writes
//! (disk nearly full: recovers by itself once space is freed) or failed (a
//! journal write or fsync failed: only a restart is safe) makes both
//! endpoints answer 503 with the reason, so an orchestrator's health check
//! restarts or alerts instead of routing traffic to an eddy that cannot
//! acknowledge anything.

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use serde_json::{json, Value};

use eddy_store::StoreHealth;

use crate::server::{AppState, HttpResponse};

pub fn respond(state: &AppState, localstack: bool) -> HttpResponse {
    let store = state.store.health();
    let (status, running, store_json) = match &store {
        StoreHealth::Ok => ("ok", "running", json!({"status": "ok"})),
        StoreHealth::Refusing(reason) => {
            ("unavailable", "error", json!({"status": "refusing writes", "reason": reason}))
        }
        StoreHealth::Failed(reason) => {
            ("failed", "error", json!({"status": "failed", "reason": reason, "action": "restart eddy"}))
        }
    };
    let services = json!({"sqs": running, "sns": running, "kinesis": running, "iam": running, "sts": running});
    let body = if localstack {
        json!({"services": services, "edition": "community", "version": env!("CARGO_PKG_VERSION")})
    } else {
        json!({
            "status": status,
            "version": env!("CARGO_PKG_VERSION"),
            "services": services,
            "store": store_json,
            "queues": state.sqs.queue_count(),
            "topics": state.sns.topic_count(),
            "streams": state.kinesis.stream_count(),
            "connections": {"open": state.connections.open(), "max": state.connections.max()},
            "request_body_memory": {"used": state.bodies.used(), "limit": state.bodies.limit()},
        })
    };
    let code = if store.is_ok() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    json_response(code, &body)
}

fn json_response(status: StatusCode, body: &Value) -> HttpResponse {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("valid response")
}
