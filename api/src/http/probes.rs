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

/// The process can do its work: the database takes writes and the
/// embedded worker's loops run when it has one. Checks run side by side,
/// each bounded.
///
/// Redis is checked and reported but does not make the process unready:
/// without it every replica still serves reads and writes, and only live
/// fan-out across replicas pauses (subscriptions catch up from the
/// database when it is back); taking every replica out of the load
/// balancer would turn that into an outage. A process that is stopping
/// answers 503 at once, so that it gets no new work.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if state.draining.is_cancelled() {
        let body = json!({ "status": "draining" });
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body));
    }
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
    let ready = database && workers.as_ref().is_none_or(|(all_up, _)| *all_up);
    let degraded = redis == Some(false);
    let check = |ok: bool| if ok { "ok" } else { "unavailable" };
    let mut checks = json!({ "database": check(database) });
    if let Some(redis) = redis {
        checks["redis"] = json!(check(redis));
        state.redis_up.set(i64::from(redis));
    }
    if let Some((_, loops)) = workers {
        checks["workers"] = loops;
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let summary = match (ready, degraded) {
        (false, _) => "not ready",
        (true, true) => "degraded",
        (true, false) => "ready",
    };
    let body = json!({ "status": summary, "checks": checks });
    (status, Json(body))
}

/// Prometheus metrics of this process.
pub async fn metrics(State(state): State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    if let Some(client) = &state.redis {
        let up = service::redis::is_reachable(client, CHECK_TIMEOUT).await;
        state.redis_up.set(i64::from(up));
    }
    state.jobs.refresh_metrics().await;
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
