//! Liveness and readiness, for load balancers and orchestrators.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::AppState;

/// The process is up and serving HTTP.
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Longest one dependency check may take, so that `/ready` answers within
/// a second even when a dependency hangs.
const CHECK_TIMEOUT: Duration = Duration::from_millis(800);

/// The process can do its work: the database takes writes, Redis answers
/// when configured, and the embedded worker's loops run when it has one.
/// Checks run side by side, each bounded.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = async {
        match tokio::time::timeout(CHECK_TIMEOUT, service::db::probe(&state.db)).await {
            Ok(Ok(())) => true,
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "readiness: the database check failed");
                false
            }
            Err(_) => false,
        }
    };
    let redis = async {
        match &state.redis {
            Some(client) => Some(service::redis::is_reachable(client, CHECK_TIMEOUT).await),
            None => None,
        }
    };
    let (database, redis) = tokio::join!(database, redis);
    // The embedded worker's loops, when this process runs them.
    let workers = state.jobs.loops();
    let ready =
        database && redis.unwrap_or(true) && workers.as_ref().is_none_or(|(all_up, _)| *all_up);
    let check = |ok: bool| if ok { "ok" } else { "unavailable" };
    let mut checks = json!({ "database": check(database) });
    if let Some(redis) = redis {
        checks["redis"] = json!(check(redis));
    }
    if let Some((_, loops)) = workers {
        checks["workers"] = loops;
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
