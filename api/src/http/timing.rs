//! How long HTTP requests take, for Prometheus: one histogram per route,
//! method and status class. A websocket counts until its upgrade.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;

use crate::AppState;

/// Latency buckets, in seconds, from a millisecond to the longest a
/// request may run (`REQUEST_TIMEOUT_MS` defaults to ten seconds).
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route as the router names it, such as `/graphql` or
    /// `/calendar/team/{file}`; `unmatched` for any other path.
    pub route: String,
    pub method: &'static str,
    /// `2xx`, `3xx`, `4xx` or `5xx`.
    pub status: &'static str,
}

/// Request latency histograms, by [`RequestLabels`].
pub type RequestLatency = Family<RequestLabels, Histogram, fn() -> Histogram>;

pub fn request_latency() -> RequestLatency {
    let histogram: fn() -> Histogram = || Histogram::new(LATENCY_BUCKETS);
    Family::new_with_constructor(histogram)
}

/// Times the request until its response's head is ready.
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = match *request.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let response = next.run(request).await;
    let status = match response.status().as_u16() {
        100..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    state
        .request_latency
        .get_or_create(&RequestLabels {
            route,
            method,
            status,
        })
        .observe(started.elapsed().as_secs_f64());
    response
}
