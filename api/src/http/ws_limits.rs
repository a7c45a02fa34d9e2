//! The limits of one websocket, so that a socket costs no more than the
//! HTTP requests it stands for. The document limits and the error codes
//! come from the schema's extensions, as on HTTP; this module sits between
//! the socket and async-graphql's protocol handling and adds:
//!
//! - `MAX_REQUEST_BYTES` per message: a larger one closes the socket with
//!   1009 (message too big); a broken frame closes it with 1002;
//! - `WS_MESSAGES_PER_MINUTE`: past it the socket is closed with 4429;
//! - `WS_MAX_OPERATIONS` open at once: one more is refused with an `error`
//!   message (`TOO_MANY_OPERATIONS`) and the socket stays open;
//! - `REQUEST_TIMEOUT_MS` for queries and mutations: one that runs longer
//!   is stopped and answered with an `error` message (`TIMEOUT`).
//!
//! A close frame's reason starts with the code (`RATE_LIMITED: ...`); an
//! `error` message carries it in `extensions.code`, in graphql-transport-ws
//! as a list of errors, in the legacy graphql-ws as one error.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::parser::types::{DocumentOperations, OperationType};
use axum::extract::ws::{CloseFrame, Message};
use futures::channel::mpsc::{Receiver, Sender};
use futures::stream::FuturesUnordered;
use futures::{SinkExt as _, Stream, StreamExt as _};
use governor::{DefaultDirectRateLimiter, Quota};
use serde::Deserialize;
use serde_json::json;

use crate::graphql::error::code;

/// The websocket's own settings; sizes and timeouts are HTTP's.
#[derive(Clone, Debug, clap::Args)]
pub struct WsLimits {
    /// Messages a client may send on one websocket per minute (a burst of
    /// this many, then one every 60/N seconds); past it the socket is
    /// closed with 4429 `RATE_LIMITED`. 0: no limit.
    #[arg(long, env = "WS_MESSAGES_PER_MINUTE", default_value_t = 300)]
    pub messages_per_minute: u32,

    /// Operations open at once on one websocket (subscriptions, and
    /// queries or mutations until answered); one more is refused with
    /// `TOO_MANY_OPERATIONS`.
    #[arg(long, env = "WS_MAX_OPERATIONS", default_value_t = 100)]
    pub max_operations: usize,
}

impl Default for WsLimits {
    fn default() -> Self {
        Self {
            messages_per_minute: 300,
            max_operations: 100,
        }
    }
}

pub const TOO_MANY_OPERATIONS: &str = "TOO_MANY_OPERATIONS";
/// WebSocket close code for a message over the size limit (RFC 6455).
const CLOSE_TOO_BIG: u16 = 1009;
/// A frame that breaks the WebSocket protocol, e.g. text that is not UTF-8.
const CLOSE_PROTOCOL_ERROR: u16 = 1002;
/// graphql-transport-ws's "too many requests".
const CLOSE_RATE_LIMITED: u16 = 4429;

/// What one socket may do.
#[derive(Clone, Debug)]
pub struct Settings {
    pub max_bytes: usize,
    pub request_timeout: Duration,
    pub messages_per_minute: u32,
    pub max_operations: usize,
}

impl Settings {
    /// The largest frame or message read in full before it is refused.
    /// A message over `max_bytes` but under this is read out and refused
    /// with a close frame the client gets; stopping at its header instead
    /// would leave the rest unread, and closing over unread data resets
    /// the connection, losing the close frame. Larger ones are refused at
    /// their header. Bounded: what one socket holds at a time.
    pub fn read_ceiling(&self) -> usize {
        self.max_bytes.saturating_mul(16).max(1 << 20)
    }

    pub fn from_limits(limits: &crate::app::Limits) -> Self {
        Self {
            max_bytes: limits.max_request_bytes,
            request_timeout: Duration::from_millis(limits.request_timeout_ms),
            messages_per_minute: limits.websocket.messages_per_minute,
            max_operations: limits.websocket.max_operations,
        }
    }
}

/// The socket's open operations: id and the number it was opened as, so a
/// timer for an operation that ended does not stop a later one that
/// reused its id.
#[derive(Default)]
struct Operations {
    open: HashMap<String, u64>,
    opened: u64,
}

/// Sees the messages the server sends: operations the server ended
/// (completed, or refused with an `error`) stop counting, and refusals
/// that async-graphql writes without a code get one.
#[derive(Clone)]
pub struct Outgoing(Arc<Mutex<Operations>>);

impl Outgoing {
    pub fn message(&self, message: Message) -> Message {
        outgoing_message(&self.0, message)
    }
}

/// Wraps the client's half of the socket that async-graphql reads. The
/// refusals this writes itself (an `error` for one operation, or a close
/// frame) come out of the returned receiver, for the socket's writer.
pub fn guard<S>(
    settings: Settings,
    transport_ws: bool,
    incoming: S,
) -> (
    impl Stream<Item = Result<Message, axum::Error>> + Send + Unpin + 'static,
    Outgoing,
    Receiver<Message>,
)
where
    S: Stream<Item = Result<Message, axum::Error>> + Send + Unpin + 'static,
{
    let operations = Arc::new(Mutex::new(Operations::default()));
    // Refusals are rare and the writer drains them promptly; a few slots
    // keep a flooding client from queueing more than that.
    let (replies, refusals) = futures::channel::mpsc::channel(4);
    let stream = guarded(
        settings,
        transport_ws,
        replies,
        incoming,
        operations.clone(),
    );
    (Box::pin(stream), Outgoing(operations), refusals)
}

fn guarded<S>(
    settings: Settings,
    transport_ws: bool,
    mut replies: Sender<Message>,
    incoming: S,
    operations: Arc<Mutex<Operations>>,
) -> impl Stream<Item = Result<Message, axum::Error>> + Send + 'static
where
    S: Stream<Item = Result<Message, axum::Error>> + Send + Unpin + 'static,
{
    let rate = NonZeroU32::new(settings.messages_per_minute)
        .map(|n| DefaultDirectRateLimiter::direct(Quota::per_minute(n)));
    let mut incoming = DrainOnDrop(Some(incoming));
    async_stream::stream! {
        let mut timers = FuturesUnordered::new();
        loop {
            tokio::select! {
                frame = incoming.next() => {
                    let message = match frame {
                        Some(Ok(message)) => message,
                        Some(Err(err)) => {
                            // tungstenite refuses a frame or message over
                            // the size limit; any other error ends the socket.
                            let frame = if is_too_big(&err) {
                                close(CLOSE_TOO_BIG, format!("{}: messages are limited to {} bytes", code::REQUEST_TOO_LARGE, settings.max_bytes))
                            } else {
                                close(CLOSE_PROTOCOL_ERROR, format!("{}: not a valid websocket frame", code::BAD_REQUEST))
                            };
                            // Best effort: the socket may be gone already.
                            let _ = replies.send(frame).await;
                            break;
                        }
                        None => break,
                    };
                    let size = match &message {
                        Message::Text(text) => text.len(),
                        Message::Binary(data) => data.len(),
                        _ => 0,
                    };
                    if size > settings.max_bytes {
                        let reason = format!("{}: messages are limited to {} bytes", code::REQUEST_TOO_LARGE, settings.max_bytes);
                        let _ = replies.send(close(CLOSE_TOO_BIG, reason)).await;
                        break;
                    }
                    let Message::Text(text) = &message else {
                        yield Ok(message);
                        continue;
                    };
                    if rate.as_ref().is_some_and(|r| r.check().is_err()) {
                        let reason = format!("{}: more than {} messages a minute", code::RATE_LIMITED, settings.messages_per_minute);
                        let _ = replies.send(close(CLOSE_RATE_LIMITED, reason)).await;
                        break;
                    }
                    match inspect(text.as_str(), &settings, &operations) {
                        Verdict::Forward => yield Ok(message),
                        Verdict::Timed(id, number) => {
                            let timeout = settings.request_timeout;
                            timers.push(async move {
                                tokio::time::sleep(timeout).await;
                                (id, number)
                            });
                            yield Ok(message);
                        }
                        Verdict::Refuse(id, code, text) => {
                            let _ = replies.send(error_message(transport_ws, &id, code, &text)).await;
                        }
                    }
                }
                Some((id, number)) = timers.next(), if !timers.is_empty() => {
                    let still_open = {
                        let mut ops = operations.lock().unwrap_or_else(|e| e.into_inner());
                        let open = ops.open.get(&id) == Some(&number);
                        if open {
                            ops.open.remove(&id);
                        }
                        open
                    };
                    if still_open {
                        let text = format!("the request took longer than {} ms", settings.request_timeout.as_millis());
                        let _ = replies.send(error_message(transport_ws, &id, code::TIMEOUT, &text)).await;
                        // Stops the operation inside async-graphql, as the
                        // client's own `complete` (or `stop`) would.
                        let stop = if transport_ws { "complete" } else { "stop" };
                        yield Ok(Message::Text(json!({ "type": stop, "id": id }).to_string().into()));
                    }
                }
            }
        }
    }
}

enum Verdict {
    Forward,
    /// A query or mutation: forwarded, and stopped at the timeout.
    Timed(String, u64),
    Refuse(String, &'static str, String),
}

#[derive(Deserialize)]
struct ClientMessage {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
    payload: Option<Payload>,
}

#[derive(Deserialize)]
struct Payload {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
}

/// Keeps count of the operations a client opens and closes. Anything that
/// is not a well-formed operation message is left to async-graphql, which
/// closes the socket for it as the protocol says.
fn inspect(text: &str, settings: &Settings, operations: &Mutex<Operations>) -> Verdict {
    let Ok(message) = serde_json::from_str::<ClientMessage>(text) else {
        return Verdict::Forward;
    };
    let Some(id) = message.id else {
        return Verdict::Forward;
    };
    let mut ops = operations.lock().unwrap_or_else(|e| e.into_inner());
    match message.kind.as_str() {
        "subscribe" | "start" => {
            if ops.open.contains_key(&id) {
                // A duplicate id: async-graphql closes with 4409.
                return Verdict::Forward;
            }
            if ops.open.len() >= settings.max_operations {
                let text = format!(
                    "at most {} operations may be open on one websocket; complete one first",
                    settings.max_operations
                );
                return Verdict::Refuse(id, TOO_MANY_OPERATIONS, text);
            }
            ops.opened += 1;
            let number = ops.opened;
            ops.open.insert(id.clone(), number);
            let subscription = message
                .payload
                .and_then(|p| Some(is_subscription(&p.query?, p.operation_name.as_deref())))
                .unwrap_or(false);
            if subscription {
                Verdict::Forward
            } else {
                Verdict::Timed(id, number)
            }
        }
        "complete" | "stop" => {
            ops.open.remove(&id);
            Verdict::Forward
        }
        _ => Verdict::Forward,
    }
}

/// Whether the operation a request selects is a subscription. Documents
/// that do not parse are answered by async-graphql at once.
fn is_subscription(query: &str, operation_name: Option<&str>) -> bool {
    if !crate::execution::document_limits::parses_safely(query) {
        return false;
    }
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return false;
    };
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) => ops.values().next(),
    };
    operation.is_some_and(|op| op.node.ty == OperationType::Subscription)
}

/// Forgets the operations the server completed (or refused), gives the
/// legacy protocol's `connection_error` a code, and keeps close reasons
/// within the 123 bytes a close frame can carry.
fn outgoing_message(operations: &Mutex<Operations>, message: Message) -> Message {
    let text = match message {
        Message::Text(text) => text,
        Message::Close(Some(frame)) => {
            return close(frame.code, frame.reason.to_string());
        }
        other => return other,
    };
    let raw = text.as_str();
    // Data messages are most of the traffic: only the short `complete`,
    // `error` and `connection_error` messages are parsed.
    if raw.starts_with(r#"{"type":"complete""#) || raw.starts_with(r#"{"type":"error""#) {
        if let Ok(ClientMessage { id: Some(id), .. }) = serde_json::from_str(raw) {
            operations
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .open
                .remove(&id);
        }
    } else if raw.starts_with(r#"{"type":"connection_error""#)
        && let Ok(mut value) = serde_json::from_str::<serde_json::Value>(raw)
        && value["payload"].is_object()
        && value["payload"]["extensions"]["code"].is_null()
    {
        // async-graphql's own refusals of the handshake (a second
        // `connection_init`, say) come without one.
        value["payload"]["extensions"] = json!({ "code": code::BAD_REQUEST });
        return Message::Text(value.to_string().into());
    }
    Message::Text(text)
}

fn error_message(transport_ws: bool, id: &str, code: &str, text: &str) -> Message {
    let error = json!({ "message": text, "extensions": { "code": code } });
    let payload = if transport_ws { json!([error]) } else { error };
    Message::Text(
        json!({ "type": "error", "id": id, "payload": payload })
            .to_string()
            .into(),
    )
}

/// The socket's reading half. Whoever closes the socket (this module for
/// a limit, async-graphql for a protocol error), dropping a socket with
/// unread data resets the connection, and the client would never see the
/// close frame saying why. So a half dropped before the client's own close
/// is read out, or held, for a second at most, on a task of its own.
struct DrainOnDrop<S>(Option<S>)
where
    S: Stream<Item = Result<Message, axum::Error>> + Send + Unpin + 'static;

impl<S> Stream for DrainOnDrop<S>
where
    S: Stream<Item = Result<Message, axum::Error>> + Send + Unpin + 'static,
{
    type Item = Result<Message, axum::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let Some(inner) = self.0.as_mut() else {
            return std::task::Poll::Ready(None);
        };
        let next = inner.poll_next_unpin(cx);
        if let std::task::Poll::Ready(None | Some(Ok(Message::Close(_)))) = next {
            // Closed from the client's side: nothing left to read.
            self.0 = None;
        }
        next
    }
}

impl<S> Drop for DrainOnDrop<S>
where
    S: Stream<Item = Result<Message, axum::Error>> + Send + Unpin + 'static,
{
    fn drop(&mut self) {
        let Some(mut inner) = self.0.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let linger = tokio::time::Instant::now() + Duration::from_secs(1);
                let _ = tokio::time::timeout_at(linger, async {
                    loop {
                        match inner.next().await {
                            Some(Ok(Message::Close(_))) | None => return,
                            Some(Ok(_)) => {}
                            Some(Err(_)) => break,
                        }
                    }
                    // The half cannot be read any more (a frame over the
                    // size limit ends it), yet the client may still be
                    // sending: hold the socket open for the rest of the
                    // moment, so the close frame reaches the client before
                    // the reset that closing over unread data causes.
                    std::future::pending::<()>().await;
                })
                .await;
            });
        }
    }
}

fn close(code: u16, reason: String) -> Message {
    // A close reason is at most 123 bytes.
    let mut reason = reason;
    while reason.len() > 123 {
        reason.pop();
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

fn is_too_big(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cause) = source {
        if let Some(tungstenite) = cause.downcast_ref::<tokio_tungstenite::tungstenite::Error>() {
            return matches!(
                tungstenite,
                tokio_tungstenite::tungstenite::Error::Capacity(_)
            );
        }
        source = cause.source();
    }
    false
}
