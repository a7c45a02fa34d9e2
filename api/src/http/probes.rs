//! Liveness and readiness, for load balancers and orchestrators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::AppState;

/// The process is up and serving HTTP.
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The process can do its work: the database answers, and Redis when configured.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = service::db::is_reachable(&state.db).await;
    let redis = match &state.redis {
        Some(client) => Some(service::redis::is_reachable(client).await),
        None => None,
    };
    let ready = database && redis.unwrap_or(true);
    let check = |ok: bool| if ok { "ok" } else { "unavailable" };
    let mut checks = json!({ "database": check(database) });
    if let Some(redis) = redis {
        checks["redis"] = json!(check(redis));
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({ "status": if ready { "ready" } else { "not ready" }, "checks": checks });
    (status, Json(body))
}

/// Prometheus metrics of this process.
pub async fn metrics(State(state): State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let mut body = String::new();
    if prometheus_client::encoding::text::encode(&mut body, &state.metrics).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
