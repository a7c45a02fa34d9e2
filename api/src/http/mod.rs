//! HTTP routes and middleware: GraphQL (queries over HTTP, subscriptions
//! over websockets, GraphiQL for browsers), the scoreboard page and the
//! health probes.

mod auth;
mod graphql;
mod pages;
mod probes;

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, Request};
use axum::routing::get;
use tower_http::cors::CorsLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<_>| {
            let request_id = request
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            tracing::info_span!(
                "request",
                request_id,
                method = %request.method(),
                path = request.uri().path(),
                operation = tracing::field::Empty,
            )
        })
        .on_request(())
        .on_response(
            |response: &axum::response::Response, latency: Duration, _span: &tracing::Span| {
                tracing::info!(
                    status = response.status().as_u16(),
                    duration_ms = latency.as_secs_f64() * 1000.0,
                    "request finished"
                );
            },
        );
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/health", get(probes::health))
        .route("/ready", get(probes::ready))
        .route("/metrics", get(probes::metrics))
        .merge(pages::router())
        .layer(trace)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(CorsLayer::permissive())
        .with_state(state)
}
