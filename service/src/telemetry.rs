//! One place that sets up logging and tracing for both binaries.
//!
//! Logs go to stdout. Traces go to an OpenTelemetry collector over OTLP
//! (HTTP, protobuf) when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; the exporter reads the
//! other standard `OTEL_*` variables itself (headers, timeout,
//! compression, service name, resource attributes, sampler). Without
//! one, no span is exported and nothing is spent on trace context.
//!
//! Trace context crosses process boundaries as a W3C `traceparent`: read
//! from HTTP requests and websocket upgrades, kept with each outbox row
//! and each queued delivery, so that the worker's work on a feed write is
//! part of the write's trace.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::{Config, LogFormat};

/// Whether spans are exported in this process.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// The W3C header (and outbox and job field) that carries a trace context.
pub const TRACEPARENT: &str = "traceparent";

/// Keeps the trace exporter of this process; [`Telemetry::shutdown`]
/// sends the spans still buffered.
#[must_use = "call shutdown() before exiting, or buffered spans are lost"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans still buffered and stops the exporter. Waits (off
    /// the async threads) for the collector, at most its export timeout.
    pub async fn shutdown(self) {
        let Some(provider) = self.provider else {
            return;
        };
        let flushed = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        if let Ok(Err(err)) = flushed {
            eprintln!("could not send the last spans: {err}");
        }
    }
}

/// Installs the global subscriber: logs, and traces when an OTLP endpoint
/// is configured, named `service` unless `OTEL_SERVICE_NAME` names it.
/// Safe to call more than once (tests start many apps in one process);
/// later calls install nothing.
pub fn init(config: &Config, service: &'static str) -> Telemetry {
    let filter = EnvFilter::try_new(&config.rust_log).unwrap_or_else(|_| EnvFilter::new("info"));
    let provider = if otlp_configured() {
        match tracer_provider(service) {
            Ok(provider) => Some(provider),
            Err(err) => {
                eprintln!("OTEL_EXPORTER_OTLP_ENDPOINT: traces are off: {err}");
                None
            }
        }
    } else {
        None
    };
    let traces = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer(service)));
    let registry = tracing_subscriber::registry().with(filter).with(traces);
    let result = match config.log_format {
        LogFormat::Text => registry
            .with(fmt::layer().with_ansi(std::io::stdout().is_terminal()))
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false),
            )
            .try_init(),
    };
    if result.is_err() {
        // Already installed: keep the first one.
        return Telemetry { provider: None };
    }
    EXPORTING.store(provider.is_some(), Ordering::Relaxed);
    Telemetry { provider }
}

fn otlp_configured() -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    !disabled && (set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
}

fn tracer_provider(service: &'static str) -> anyhow::Result<SdkTracerProvider> {
    use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_http_client(OnRuntime::new()?)
        .build()?;
    let mut resource = opentelemetry_sdk::Resource::builder();
    if std::env::var("OTEL_SERVICE_NAME").is_err() {
        resource = resource.with_service_name(service);
    }
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build())
}

/// Sends the exporter's requests with the workspace's reqwest on this
/// process's tokio runtime. The batch exporter runs on a thread of its
/// own, outside the runtime, so each request is spawned onto it.
#[derive(Debug)]
struct OnRuntime {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

/// The exporter's own default (`OTEL_EXPORTER_OTLP_TIMEOUT`).
const EXPORT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl OnRuntime {
    fn new() -> anyhow::Result<Self> {
        let timeout = std::env::var("OTEL_EXPORTER_OTLP_TIMEOUT")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map_or(EXPORT_TIMEOUT, std::time::Duration::from_millis);
        Ok(Self {
            client: reqwest::Client::builder().timeout(timeout).build()?,
            runtime: tokio::runtime::Handle::try_current()?,
        })
    }
}

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for OnRuntime {
    async fn send_bytes(
        &self,
        request: http::Request<bytes::Bytes>,
    ) -> Result<http::Response<bytes::Bytes>, opentelemetry_http::HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let client = self.client.clone();
        let sent = self.runtime.spawn(async move {
            let response = client.execute(request).await?;
            let mut answer = http::Response::builder().status(response.status());
            if let Some(headers) = answer.headers_mut() {
                *headers = response.headers().clone();
            }
            let body = response.bytes().await?;
            Ok::<_, opentelemetry_http::HttpError>(answer.body(body)?)
        });
        sent.await?
    }
}

/// Whether this process exports spans; without it, trace context is
/// neither read nor written.
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// Makes `span` a child of the trace that `traceparent` names, when it is
/// a valid W3C `traceparent` and spans are exported. Call before the span
/// is first entered.
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(traceparent) = traceparent.filter(|_| exporting()) else {
        return;
    };
    let carrier =
        std::collections::HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
    let parent = TraceContextPropagator::new().extract(&carrier);
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
}

/// `span`'s trace context as a W3C `traceparent`, to carry across a queue;
/// `None` when spans are not exported.
pub fn traceparent(span: &tracing::Span) -> Option<String> {
    if !exporting() {
        return None;
    }
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = std::collections::HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove(TRACEPARENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_an_exporter_no_trace_context_is_read_or_written() {
        let span = tracing::info_span!("work");
        continue_trace(
            &span,
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        assert_eq!(traceparent(&span), None);
    }
}
