//! GraphQL over HTTP, following the GraphQL-over-HTTP specification:
//! `application/graphql-response+json` with 4xx for requests that never
//! executed, plain `application/json` (always 200) for older clients, GET
//! for queries only. A GET that asks for a websocket upgrade gets the
//! subscription protocols; a GET from a browser gets GraphiQL.

use async_graphql::http::{GraphiQLSource, parse_query_string};
use async_graphql::parser::types::OperationType;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message};
use axum::extract::{FromRequestParts, Request, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::auth::{self, Caller};
use crate::AppState;
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
    let has_query = url_has_param(query, "query");
    if !has_query && accepts_html(&parts.headers) {
        return graphiql().into_response();
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
    if is_mutation(&request) {
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
    execute(&state, format, request, caller).await
}

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
    execute(&state, format, request, caller).await
}

async fn execute(
    state: &AppState,
    format: Format,
    request: async_graphql::Request,
    caller: Caller,
) -> Response {
    if let Some(name) = &request.operation_name {
        tracing::Span::current().record("operation", name.as_str());
    }
    let request = match auth::admit(state, &caller).await {
        Ok(viewer) => auth::attach(request, viewer, &caller),
        Err(refusal) => return refusal.into_response(format.content_type()),
    };
    let timeout = Duration::from_millis(state.limits.request_timeout_ms);
    let Ok(response) = tokio::time::timeout(timeout, state.schema.execute(request)).await else {
        return coded_error(
            format,
            StatusCode::SERVICE_UNAVAILABLE,
            code::TIMEOUT,
            &format!("the request took longer than {} ms", timeout.as_millis()),
        );
    };
    // Requests that never executed (parse, validation, limits, input that
    // does not fit its types) are answered with a 4xx.
    let never_executed = crate::graphql::coded_errors::never_executed(&response);
    let (mut status, body) = if never_executed {
        let status = match format {
            Format::GraphQLResponseJson => StatusCode::BAD_REQUEST,
            Format::Json => StatusCode::OK,
        };
        (status, json!({ "errors": response.errors }))
    } else {
        (
            StatusCode::OK,
            serde_json::to_value(&response).unwrap_or_default(),
        )
    };
    if is_rate_limited(&response) {
        status = StatusCode::TOO_MANY_REQUESTS;
    }
    let mut http = (status, body.to_string()).into_response();
    http.headers_mut()
        .insert(header::CONTENT_TYPE, format.content_type());
    for (name, value) in response.http_headers.iter() {
        http.headers_mut().insert(name.clone(), value.clone());
    }
    http
}

/// A resolver refused a sign-in attempt for its rate (it also set `Retry-After`).
fn is_rate_limited(response: &async_graphql::Response) -> bool {
    let code = async_graphql::Value::from(crate::rate_limit::RATE_LIMITED);
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

fn is_mutation(request: &async_graphql::Request) -> bool {
    // A document too deep to parse is refused when it executes.
    if !crate::graphql::document_limits::parses_safely(&request.query) {
        return false;
    }
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let selected = match (&document.operations, &request.operation_name) {
        (async_graphql::parser::types::DocumentOperations::Single(op), _) => Some(op),
        (async_graphql::parser::types::DocumentOperations::Multiple(ops), Some(name)) => {
            ops.get(name.as_str())
        }
        (async_graphql::parser::types::DocumentOperations::Multiple(ops), None) => {
            // Ambiguous without a name; refuse if any of them is a mutation.
            return ops.values().any(|op| op.node.ty == OperationType::Mutation);
        }
    };
    selected.is_some_and(|op| op.node.ty == OperationType::Mutation)
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
    if let Err(retry) = state.rate_limits.check_request(caller.ip, None) {
        return auth::Refusal::RateLimited(retry).into_response(Format::Json.content_type());
    }
    let protocol = match GraphQLProtocol::from_request_parts(parts, &()).await {
        Ok(protocol) => protocol,
        Err(status) => {
            return (
                status,
                "ask for the graphql-transport-ws or graphql-ws subprotocol",
            )
                .into_response();
        }
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let schema = state.schema.clone();
    let (db, limits, ip) = (state.db.clone(), state.rate_limits.clone(), caller.ip);
    let transport_ws = speaks_graphql_transport_ws(&parts.headers);
    let keepalive = state.ws_keepalive;
    let ws_limits = super::ws_limits::Settings::from_limits(&state.limits);
    upgrade
        .max_message_size(ws_limits.max_bytes)
        .max_frame_size(ws_limits.max_bytes)
        .read_buffer_size(WS_BUFFER_SIZE)
        .write_buffer_size(WS_BUFFER_SIZE)
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| {
            let outcome = auth::InitOutcome::default();
            let (sink, stream) = futures::StreamExt::split(stream);
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
            // async-graphql writes into a channel; one writer task owns the
            // socket and adds the server's keep-alive pings between messages.
            let (outgoing, queued) = futures::channel::mpsc::channel::<Message>(16);
            tokio::spawn(write_with_keepalive(sink, queued, keepalive, transport_ws));
            let (outgoing, stream) =
                super::ws_limits::guard(ws_limits, transport_ws, outgoing, stream);
            GraphQLWebSocket::new_with_pair(outgoing, stream, schema, protocol)
                .on_connection_init(move |payload| {
                    auth::on_connection_init(db, limits, ip, outcome, payload)
                })
                .serve()
        })
}

/// Forwards async-graphql's messages to the socket, and every `keepalive`
/// of silence after the handshake sends the protocol's keep-alive.
async fn write_with_keepalive(
    mut socket: impl futures::Sink<Message, Error = axum::Error> + Unpin,
    mut queued: futures::channel::mpsc::Receiver<Message>,
    keepalive: Option<Duration>,
    transport_ws: bool,
) {
    use futures::{SinkExt as _, StreamExt as _};
    let ping = if transport_ws {
        r#"{"type":"ping"}"#
    } else {
        r#"{"type":"ka"}"#
    };
    let mut handshake_done = false;
    loop {
        let wait = keepalive
            .filter(|_| handshake_done)
            .unwrap_or(Duration::from_secs(3600));
        let message = match tokio::time::timeout(wait, queued.next()).await {
            Ok(Some(message)) => message,
            Ok(None) => break,
            Err(_) if handshake_done && keepalive.is_some() => Message::Text(ping.into()),
            Err(_) => continue,
        };
        let closing = matches!(message, Message::Close(_));
        // The first text frame is the ack (or the refusal).
        handshake_done |= matches!(message, Message::Text(_));
        if socket.send(message).await.is_err() || closing {
            break;
        }
    }
    let _ = socket.close().await;
}

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

fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql")
            .title("InTheGame GraphiQL")
            .finish(),
    )
}
