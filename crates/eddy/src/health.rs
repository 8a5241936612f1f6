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

use crate::cluster::Front;
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
    let services = services(running);
    let mut body = if localstack {
        localstack_shape(services)
    } else {
        json!({
            "status": status,
            "version": env!("CARGO_PKG_VERSION"),
            "services": services,
            "store": with_engine(store_json, state.store.info()),
            "queues": state.sqs.queue_count(),
            "topics": state.sns.topic_count(),
            "streams": state.kinesis.stream_count(),
            "connections": {"open": state.connections.open(), "max": state.connections.max()},
            "request_body_memory": {"used": state.bodies.used(), "limit": state.bodies.limit()},
        })
    };
    // Every node on PostgreSQL is a cluster node, alone or not.
    if state.config.postgres_store().is_some() && !localstack {
        body["cluster"] = json!({"role": "leader", "advertise": state.config.advertise_url()});
    }
    let code = if store.is_ok() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    json_response(code, &body)
}

/// A cluster standby's health: it serves by relaying while a leader is
/// known and answers from here (200), and answers 503 while none is (one is
/// being elected) or the one named cannot be reached (a wrong
/// `--advertise-url`: every relayed request would fail).
pub fn standby(front: &Front, leader: Option<&str>, leader_answers: bool, localstack: bool) -> HttpResponse {
    let serving = leader.is_some() && leader_answers;
    let services = services(if serving { "running" } else { "error" });
    let body = if localstack {
        localstack_shape(services)
    } else {
        json!({
            "status": if serving { "ok" } else { "unavailable" },
            "version": env!("CARGO_PKG_VERSION"),
            "services": services,
            "store": {"engine": "postgres", "schema": front.config.store_schema},
            "cluster": {"role": "standby", "leader": leader, "leader_answers": leader_answers,
                "advertise": front.config.advertise_url()},
            "connections": {"open": front.connections.open(), "max": front.connections.max()},
        })
    };
    let code = if serving { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    json_response(code, &body)
}

/// Every service's state, as both health endpoints report it.
fn services(running: &str) -> Value {
    json!({
        "sqs": running, "sns": running, "kinesis": running, "events": running, "scheduler": running,
        "pipes": running, "schemas": running, "iam": running, "sts": running,
    })
}

/// LocalStack's health shape, for tools that wait on `/_localstack/health`.
fn localstack_shape(services: Value) -> Value {
    json!({"services": services, "edition": "community", "version": env!("CARGO_PKG_VERSION")})
}

/// The store's health with which engine it is and, for PostgreSQL, the
/// schema, its migration version, the round trip of asking it, and the
/// pool size (or why the database could not be asked).
fn with_engine(mut store: Value, info: eddy_store::StoreInfo) -> Value {
    store["engine"] = json!(info.engine);
    if let Some(remote) = info.remote {
        store["schema"] = json!(remote.schema);
        store["reachable"] = json!(remote.error.is_none());
        store["schema_version"] = json!(remote.schema_version);
        store["latency_ms"] = json!(remote.latency_ms.map(|ms| (ms * 100.0).round() / 100.0));
        store["connections"] = json!(remote.connections);
        if let Some(error) = remote.error {
            store["error"] = json!(error);
        }
    }
    store
}

fn json_response(status: StatusCode, body: &Value) -> HttpResponse {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("valid response")
}
