//! GraphQL over HTTP, following the GraphQL-over-HTTP specification:
//! `application/graphql-response+json` with 4xx for requests that never
//! executed, plain `application/json` (always 200) for older clients, GET
//! for queries only. A GET that asks for a websocket upgrade gets the
//! subscription protocols; a GET from a browser gets GraphiQL.

use async_graphql::http::parse_query_string;
use async_graphql::http::{WebSocketProtocols, WsMessage};
use async_graphql::parser::types::OperationType;
use async_graphql_axum::GraphQLProtocol;
use futures::StreamExt as _;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message};
use axum::extract::{FromRequestParts, Request, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::auth::{self, Caller};
use super::keepalive::SocketClock;
use crate::AppState;
use crate::execution::Prepared;
use crate::graphql::error::code;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const APPLICATION_JSON: &str = "application/json";

/// Per websocket: small buffers keep a held-open subscription cheap
/// (the 128 KiB defaults cost ~145 KiB RSS per connection).
const WS_BUFFER_SIZE: usize = 4096;

/// The media type a response is written in, chosen from `Accept`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Format {
    GraphQLResponseJson,
    Json,
}

impl Format {
    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Format::GraphQLResponseJson => "application/graphql-response+json; charset=utf-8",
            Format::Json => "application/json; charset=utf-8",
        })
    }
}

/// Picks the first acceptable media type in the client's order of listing.
/// Wildcards and a missing `Accept` get `application/json`, which every
/// client understands (the spec's advice until the watershed).
fn negotiate(headers: &HeaderMap) -> Option<Format> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(Format::Json);
    };
    if accept.trim().is_empty() {
        return Some(Format::Json);
    }
    accept
        .split(',')
        .map(|part| {
            part.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .find_map(|media| match media.as_str() {
            GRAPHQL_RESPONSE_JSON => Some(Format::GraphQLResponseJson),
            APPLICATION_JSON | "application/*" | "*/*" => Some(Format::Json),
            _ => None,
        })
}

pub async fn get(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, _body) = request.into_parts();
    let caller = Caller::from_parts(&parts.headers, &parts.extensions);
    if is_websocket_upgrade(&parts.headers) {
        return upgrade(state, &mut parts, caller).await;
    }
    let query = parts.uri.query().unwrap_or_default();
    // A persisted query by hash has `extensions` and no `query`.
    let has_query = url_has_param(query, "query") || url_has_param(query, "extensions");
    if !has_query && accepts_html(&parts.headers) {
        return super::pages::graphiql();
    }
    let Some(format) = negotiate(&parts.headers) else {
        return not_acceptable();
    };
    let request = match parse_query_string(query) {
        Ok(request) => request,
        Err(err) => {
            return coded_error(
                format,
                StatusCode::BAD_REQUEST,
                code::BAD_REQUEST,
                &err.to_string(),
            );
        }
    };
    // Parsed here, once, to refuse a mutation before anything else (after
    // finding a document named by its hash, which may be in Redis).
    state.pipeline.persisted().fetch(&request).await;
    let prepared = state.pipeline.prepare(request);
    if prepared
        .operation_types()
        .contains(&OperationType::Mutation)
    {
        let mut response = coded_error(
            format,
            StatusCode::METHOD_NOT_ALLOWED,
            code::METHOD_NOT_ALLOWED,
            "mutations must be sent with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        return response;
    }
    let signed_in = parts.headers.contains_key(header::AUTHORIZATION);
    let response = execute(&state, format, Edge::Prepared(prepared), caller).await;
    with_validators(response, signed_in, &parts.headers).await
}

/// Reads out, and throws away, some of a body that was refused unread.
/// Closing a connection with unread data makes the kernel reset it, which
/// also discards the refusal not yet sent; reading on for a moment (as
/// nginx's lingering close does) lets the client see why. Bounded: at most
/// 8 MiB, for at most two seconds, and no longer than a quarter second
/// without data, on its own task, keeping nothing.
fn linger(body: axum::body::Body) {
    const LINGER: Duration = Duration::from_secs(2);
    const QUIET: Duration = Duration::from_millis(250);
    const BUDGET: usize = 8 << 20;
    tokio::spawn(async move {
        let mut frames = body.into_data_stream();
        let mut read = 0usize;
        let _ = tokio::time::timeout(LINGER, async {
            while let Ok(Some(Ok(chunk))) = tokio::time::timeout(QUIET, frames.next()).await {
                read += chunk.len();
                if read > BUDGET {
                    break;
                }
            }
        })
        .await;
    });
}

/// What `execute` tells about the result beside the HTTP response.
#[derive(Clone, Copy)]
struct Executed {
    errors: bool,
}

/// Makes a GET query cheap to poll: a strong `ETag` over the body, and a
/// 304 for a client that already holds it. An anonymous result without
/// errors may be kept by any cache for a few seconds, so a scoreboard
/// polled by many clients through a CDN runs once per interval; a
/// signed-in one only by the client, which must revalidate it each time;
/// one with errors by none.
async fn with_validators(response: Response, signed_in: bool, request: &HeaderMap) -> Response {
    let Some(executed) = response.extensions().get::<Executed>().copied() else {
        return response;
    };
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // The body is already in memory: `execute` wrote it in one piece.
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    let etag = super::conditional::etag(content_type, &body);
    let cache_control = match (executed.errors, signed_in) {
        (true, _) => "no-store",
        (false, true) => "private, no-cache",
        (false, false) => PUBLIC_CACHE_CONTROL,
    };
    let headers = &mut parts.headers;
    headers.insert(header::ETAG, etag.clone());
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    headers.append(
        header::VARY,
        HeaderValue::from_static("accept, authorization"),
    );
    if super::conditional::none_match(request, &etag) {
        return super::conditional::not_modified(&parts.headers);
    }
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// How long a shared cache may serve an anonymous query's result: short
/// enough that a live score is at most this stale.
const PUBLIC_CACHE_CONTROL: &str = "public, max-age=5";

pub async fn post(State(state): State<AppState>, caller: Caller, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let Some(format) = negotiate(&headers) else {
        return not_acceptable();
    };
    let limit = state.limits.max_request_bytes;
    let too_large = || {
        coded_error(
            format,
            StatusCode::PAYLOAD_TOO_LARGE,
            code::REQUEST_TOO_LARGE,
            &format!("the request body is larger than {limit} bytes"),
        )
    };
    // Refused on its declared length, before waiting for a byte of it.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        linger(body);
        return too_large();
    }
    // A body that trickles in is bounded like the request it carries.
    let timeout = Duration::from_millis(state.limits.request_timeout_ms);
    let body = match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => return too_large(),
        Err(_) => {
            return coded_error(
                format,
                StatusCode::REQUEST_TIMEOUT,
                code::TIMEOUT,
                &format!(
                    "the request body took longer than {} ms",
                    timeout.as_millis()
                ),
            );
        }
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    if content_type.as_deref() != Some(APPLICATION_JSON) {
        return coded_error(
            format,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::UNSUPPORTED_MEDIA_TYPE,
            "send the request as application/json",
        );
    }
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(err) => {
            return coded_error(
                format,
                StatusCode::BAD_REQUEST,
                code::BAD_REQUEST,
                &format!("the body is not a valid GraphQL request: {err}"),
            );
        }
    };
    execute(&state, format, Edge::Decoded(request), caller).await
}

/// A request as the wire delivered it: decoded, or already prepared (GET
/// prepares first, to refuse mutations). Moved once per request, so its
/// size does not matter.
#[allow(clippy::large_enum_variant)]
enum Edge {
    Decoded(async_graphql::Request),
    Prepared(Prepared),
}

impl Edge {
    fn request(&self) -> &async_graphql::Request {
        match self {
            Edge::Decoded(request) => request,
            Edge::Prepared(prepared) => prepared.request(),
        }
    }

    async fn prepare(self, state: &AppState) -> Prepared {
        match self {
            Edge::Decoded(request) => {
                state.pipeline.persisted().fetch(&request).await;
                state.pipeline.prepare(request)
            }
            Edge::Prepared(prepared) => prepared,
        }
    }
}

async fn execute(state: &AppState, format: Format, edge: Edge, caller: Caller) -> Response {
    let request = edge.request();
    if let Some(name) = &request.operation_name {
        tracing::Span::current().record("operation", name.as_str());
    }
    let viewer = match auth::admit(state, &caller).await {
        Ok(viewer) => viewer,
        Err(refusal) => return refusal.into_response(format.content_type()),
    };
    // Taken before the query reads anything: a write announced while it
    // runs leaves its result stale, and it is not served again.
    let revision = state.bus.revision();
    // Anyone who sees what an anonymous reader sees shares the cache; a
    // viewer in spoiler-free mode neither reads nor fills it.
    let public_view = viewer.as_ref().is_none_or(|viewer| !viewer.spoiler_free);
    let cache_key = public_view
        .then(|| state.pipeline.persisted().document_of(request))
        .flatten()
        .and_then(|document| {
            state
                .response_cache
                .key(document.as_str(), request, caller.origin())
        });
    // Only results of queries that select no viewer field are kept, so a
    // hit needs no parsing to know it is one, whoever asks.
    if let Some(key) = &cache_key
        && let Some(body) = state.response_cache.get(key, revision)
    {
        return ok_response(format, body, false);
    }
    let prepared = edge.prepare(state).await;
    let operations = prepared.operation_types();
    if operations.contains(&OperationType::Subscription) {
        let status = match format {
            Format::GraphQLResponseJson => StatusCode::BAD_REQUEST,
            Format::Json => StatusCode::OK,
        };
        return coded_error(
            format,
            status,
            code::SUBSCRIPTION_OVER_HTTP,
            "subscriptions run over a websocket: connect to this URL with the \
             graphql-transport-ws (or legacy graphql-ws) subprotocol",
        );
    }
    // Only a query that selects no viewer field has an answer to share. A
    // walk of the root selections, each fragment once.
    let cache_key =
        cache_key.filter(|_| operations == [OperationType::Query] && !prepared.reads_viewer());
    if cache_key.is_some() {
        state.response_cache.missed();
    }
    let prepared = prepared.with(|request| auth::attach(request, viewer, &caller));
    let timeout = Duration::from_millis(state.limits.request_timeout_ms);
    let Ok(response) = tokio::time::timeout(timeout, state.pipeline.run(prepared)).await else {
        return coded_error(
            format,
            StatusCode::SERVICE_UNAVAILABLE,
            code::TIMEOUT,
            &format!("the request took longer than {} ms", timeout.as_millis()),
        );
    };
    // Requests that never executed (parse, validation, limits, input that
    // does not fit its types) are answered with a 4xx.
    let never_executed = crate::execution::coded_errors::never_executed(&response);
    let unavailable = has_code(&response, code::UNAVAILABLE);
    let status = match (never_executed, format) {
        (true, Format::GraphQLResponseJson) => StatusCode::BAD_REQUEST,
        _ if has_code(&response, crate::rate_limit::RATE_LIMITED) => StatusCode::TOO_MANY_REQUESTS,
        _ if unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::OK,
    };
    let body = axum::body::Bytes::from(response_body(&response, never_executed));
    if let Some(key) = cache_key
        && status == StatusCode::OK
        && response.errors.is_empty()
        && response.http_headers.is_empty()
    {
        state.response_cache.put(key, revision, body.clone());
    }
    let mut http = ok_response(format, body, !response.errors.is_empty());
    *http.status_mut() = status;
    for (name, value) in response.http_headers.iter() {
        http.headers_mut().insert(name.clone(), value.clone());
    }
    if unavailable && !http.headers().contains_key(header::RETRY_AFTER) {
        http.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(crate::graphql::error::UNAVAILABLE_RETRY_AFTER_SECS),
        );
    }
    http
}

/// A result as it goes out, before `with_validators` adds what GET needs.
fn ok_response(format: Format, body: axum::body::Bytes, errors: bool) -> Response {
    let mut http = body.into_response();
    http.headers_mut()
        .insert(header::CONTENT_TYPE, format.content_type());
    http.extensions_mut().insert(Executed { errors });
    http
}

/// The response as JSON, written once straight from async-graphql's value,
/// whose objects keep the query's field order (a detour through
/// `serde_json::Value` would sort them by name).
fn response_body(response: &async_graphql::Response, never_executed: bool) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct ErrorsOnly<'a> {
        errors: &'a [async_graphql::ServerError],
    }
    let written = if never_executed {
        serde_json::to_vec(&ErrorsOnly {
            errors: &response.errors,
        })
    } else {
        serde_json::to_vec(response)
    };
    written.unwrap_or_else(|err| {
        tracing::error!(error = %err, "could not serialise a GraphQL response");
        json!({ "errors": [{ "message": "internal error", "extensions": { "code": code::INTERNAL } }] })
            .to_string()
            .into_bytes()
    })
}

/// Some error carries this `extensions.code`: a refused sign-in (the
/// resolver also set `Retry-After`), or a database that is down.
fn has_code(response: &async_graphql::Response, code: &str) -> bool {
    let code = async_graphql::Value::from(code);
    response.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|c| *c == code)
    })
}

fn coded_error(format: Format, status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, format.content_type());
    response
}

fn not_acceptable() -> Response {
    let message = format!("accept {GRAPHQL_RESPONSE_JSON} or {APPLICATION_JSON}");
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code::NOT_ACCEPTABLE } }] });
    let mut response = (StatusCode::NOT_ACCEPTABLE, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

fn url_has_param(query: &str, name: &str) -> bool {
    query
        .split('&')
        .any(|pair| pair.split('=').next() == Some(name))
}

async fn upgrade(
    state: AppState,
    parts: &mut axum::http::request::Parts,
    caller: Caller,
) -> Response {
    if let Err(retry) = state
        .rate_limits
        .check_request(caller.ip, None)
        .await
        .result()
    {
        return auth::Refusal::RateLimited(retry).into_response(Format::Json.content_type());
    }
    if state.draining.is_cancelled() {
        let mut response = coded_error(
            Format::Json,
            StatusCode::SERVICE_UNAVAILABLE,
            code::UNAVAILABLE,
            "this server is stopping; connect again to reach another one",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(1));
        return response;
    }
    // Taken before the upgrade and held for the socket's life.
    let Some(slot) = state.capacity.admit_websocket() else {
        let mut response = coded_error(
            Format::Json,
            StatusCode::SERVICE_UNAVAILABLE,
            code::AT_CAPACITY,
            "this server holds as many live connections as it can; try again later or elsewhere",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(5));
        return response;
    };
    if let Err(status) = GraphQLProtocol::from_request_parts(parts, &()).await {
        return coded_error(
            Format::Json,
            status,
            code::UNSUPPORTED_SUBPROTOCOL,
            "ask for the graphql-transport-ws or graphql-ws subprotocol",
        );
    }
    let upgrade = match WebSocketUpgrade::from_request_parts(parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            return coded_error(
                Format::Json,
                rejection.status(),
                code::BAD_REQUEST,
                &rejection.body_text(),
            );
        }
    };
    let executor = state.subscriptions.clone();
    let (db, limits, ip) = (state.db.clone(), state.rate_limits.clone(), caller.ip);
    let transport_ws = speaks_graphql_transport_ws(&parts.headers);
    // The same choice `GraphQLProtocol` made: the first one listed.
    let protocol = if transport_ws {
        WebSocketProtocols::GraphQLWS
    } else {
        WebSocketProtocols::SubscriptionsTransportWS
    };
    let clock = state.ws_keepalive.as_ref().map(|k| k.watch());
    let draining = state.draining.clone();
    let ws_limits = super::ws_limits::Settings::from_limits(&state.limits);
    // The socket's life as a span in the upgrade request's trace (which
    // follows the upgrade's `traceparent`), so that what its operations
    // write joins that trace; only when spans are exported.
    let socket_span = if service::telemetry::exporting() {
        tracing::info_span!("websocket", otel.kind = "server")
    } else {
        tracing::Span::none()
    };
    upgrade
        .max_message_size(ws_limits.read_ceiling())
        .max_frame_size(ws_limits.read_ceiling())
        .read_buffer_size(WS_BUFFER_SIZE)
        .write_buffer_size(WS_BUFFER_SIZE)
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            tracing::Instrument::instrument(
                async move {
                    let _slot = slot;
                    let outcome = auth::InitOutcome::default();
                    let (sink, input) = futures::StreamExt::split(socket);
                    // async-graphql closes a refused `connection_init` with 1002 and
                    // a subscribe before the handshake with 1011; graphql-transport-ws
                    // asks for 4403 and 4401, which this sink puts in their place.
                    let sink = futures::SinkExt::with(sink, {
                        let outcome = outcome.clone();
                        move |message| {
                            let message = close_code_for(message, &outcome, transport_ws);
                            futures::future::ready(Ok::<_, axum::Error>(message))
                        }
                    });
                    // As async-graphql-axum's `GraphQLWebSocket::serve`, driven here
                    // so that this one task also sends the keep-alive pings: no
                    // writer task or timer per socket.
                    let (input, outgoing, refusals) =
                        super::ws_limits::guard(ws_limits, transport_ws, input);
                    let input = input
                        .take_while(|frame| futures::future::ready(frame.is_ok()))
                        .filter_map(|frame| {
                            futures::future::ready(match frame {
                                Ok(message @ (Message::Text(_) | Message::Binary(_))) => {
                                    Some(message.into_data())
                                }
                                _ => None,
                            })
                        });
                    // Shared subscriptions' payloads, serialised once for every
                    // socket, go in where async-graphql wrote a marker.
                    let splice = crate::execution::fanout::Splice::default();
                    let mut connection = async_graphql::Data::default();
                    connection.insert(splice.clone());
                    let messages = async_graphql::http::WebSocket::new(executor, input, protocol)
                        .connection_data(connection)
                        .on_connection_init(move |payload| {
                            auth::on_connection_init(db, limits, ip, outcome, payload)
                        })
                        .map(move |message| match message {
                            WsMessage::Text(text) => Message::Text(splice.fill(text).into()),
                            WsMessage::Close(code, reason) => Message::Close(Some(CloseFrame {
                                code,
                                reason: reason.into(),
                            })),
                        })
                        .map(move |message| outgoing.message(message));
                    write_with_keepalive(sink, messages, refusals, clock, transport_ws, draining)
                        .await;
                },
                socket_span,
            )
        })
}

/// Writes async-graphql's messages and the limits' refusals to the socket,
/// and after the handshake the protocol's keep-alive whenever the shared
/// clock finds the socket silent for an interval. When the server starts
/// to stop, closes the socket with 1001 (going away): the client connects
/// again, reaches another replica, and resumes with `afterSeq`.
async fn write_with_keepalive(
    mut socket: impl futures::Sink<Message, Error = axum::Error> + Unpin,
    messages: impl futures::Stream<Item = Message>,
    mut refusals: futures::channel::mpsc::Receiver<Message>,
    mut clock: Option<SocketClock>,
    transport_ws: bool,
    draining: tokio_util::sync::CancellationToken,
) {
    use futures::SinkExt as _;
    let ping = if transport_ws {
        r#"{"type":"ping"}"#
    } else {
        r#"{"type":"ka"}"#
    };
    let mut messages = std::pin::pin!(messages);
    let mut handshake_done = false;
    loop {
        let ping_due = async {
            match (&mut clock, handshake_done) {
                (Some(clock), true) => clock.ping_due().await,
                _ => std::future::pending().await,
            }
        };
        let message = tokio::select! {
            biased;
            Some(refusal) = refusals.next() => refusal,
            message = messages.next() => match message {
                Some(message) => message,
                // A refusal that closes the socket ends async-graphql's
                // input, and so its messages, in the same poll: write it.
                None => match refusals.try_recv() {
                    Ok(refusal) => refusal,
                    _ => break,
                },
            },
            () = ping_due => Message::Text(ping.into()),
            () = draining.cancelled() => Message::Close(Some(CloseFrame {
                code: CLOSE_GOING_AWAY,
                reason: "server stopping; reconnect and resume with afterSeq".into(),
            })),
        };
        // A refusal queued while async-graphql produced `message` (a
        // timed-out query's `TIMEOUT` before its `complete`) goes first.
        let mut next = Some(message);
        while let Some(message) = refusals.try_recv().ok().or_else(|| next.take()) {
            let closing = matches!(message, Message::Close(_));
            // The first text frame is the ack (or the refusal).
            handshake_done |= matches!(message, Message::Text(_));
            if socket.send(message).await.is_err() || closing {
                let _ = socket.close().await;
                return;
            }
            if let Some(clock) = &mut clock {
                clock.sent();
            }
        }
    }
    let _ = socket.close().await;
}

/// RFC 6455: the server is going away.
const CLOSE_GOING_AWAY: u16 = 1001;

fn close_code_for(message: Message, outcome: &auth::InitOutcome, transport_ws: bool) -> Message {
    match (message, outcome.close_code()) {
        (Message::Close(Some(frame)), Some(code)) => Message::Close(Some(CloseFrame {
            code,
            reason: frame.reason,
        })),
        (Message::Close(Some(frame)), None) if transport_ws && frame.code == 1011 => {
            Message::Close(Some(CloseFrame {
                code: auth::CLOSE_UNAUTHORIZED,
                reason: "Unauthorized".into(),
            }))
        }
        (message, _) => message,
    }
}

/// The subprotocol `GraphQLProtocol` picks: the first one we know.
fn speaks_graphql_transport_ws(headers: &HeaderMap) -> bool {
    headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|list| {
            list.split(',').find_map(|p| match p.trim() {
                "graphql-transport-ws" => Some(true),
                "graphql-ws" => Some(false),
                _ => None,
            })
        })
        .unwrap_or(false)
}
