//! HTTP routes and middleware: GraphQL (queries over HTTP, subscriptions
//! over websockets, GraphiQL for browsers), calendar feeds, the
//! scoreboard page and the health probes.

mod auth;
mod calendar;
pub mod capacity;
pub mod client_ip;
mod conditional;
pub mod cors;
mod graphql;
pub mod keepalive;
mod pages;
mod probes;
pub mod response_cache;
pub mod server;
pub mod timing;
pub mod verified_tokens;
pub mod ws_limits;

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
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
            let client = request
                .extensions()
                .get::<client_ip::ClientAddr>()
                .map(|c| c.0.to_string())
                .unwrap_or_default();
            let span = tracing::info_span!(
                "request",
                request_id,
                client,
                method = %request.method(),
                path = request.uri().path(),
                operation = tracing::field::Empty,
                otel.kind = "server",
                otel.name = tracing::field::Empty,
            );
            // The caller's trace (a W3C `traceparent`), when spans are
            // exported: this request, its operation and any work it
            // queues (outbox rows, deliveries) become part of it.
            if service::telemetry::exporting() {
                let route = request
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("unmatched", |p| p.as_str());
                span.record(
                    "otel.name",
                    format!("{} {route}", request.method()).as_str(),
                );
                let traceparent = request
                    .headers()
                    .get(service::telemetry::TRACEPARENT)
                    .and_then(|v| v.to_str().ok());
                service::telemetry::continue_trace(&span, traceparent);
            }
            span
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
        .route(
            "/graphql",
            get(graphql::get)
                .post(graphql::post)
                .fallback(method_not_allowed)
                .layer::<_, std::convert::Infallible>(axum::middleware::from_fn(
                    crate::rate_limit::standing_headers,
                ))
                .layer(state.cors.layer()),
        )
        .route("/calendar/team/{file}", get(calendar::team))
        .route("/calendar/season/{file}", get(calendar::season))
        .route("/calendar/user/{file}", get(calendar::user))
        .route("/health", get(probes::health))
        .route("/ready", get(probes::ready))
        .route("/metrics", get(probes::metrics))
        .merge(pages::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            timing::observe,
        ))
        .layer(trace)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        // Outermost, so that the request's log line names the client.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            client_ip::resolve,
        ))
        .fallback(not_found)
        .with_state(state)
}

/// Any path but ours: still a coded JSON answer.
async fn not_found() -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        crate::graphql::error::code::NOT_FOUND,
        "no such path; GraphQL is served at /graphql",
    )
}

/// PUT, DELETE, ... on `/graphql`.
async fn method_not_allowed() -> Response {
    let mut response = refusal(
        StatusCode::METHOD_NOT_ALLOWED,
        crate::graphql::error::code::METHOD_NOT_ALLOWED,
        "send GraphQL requests with GET or POST",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    response
}

fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    let body =
        serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}
