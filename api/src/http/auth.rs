//! Who is calling: the client's address and bearer token, checked once per
//! request (or once per websocket, at `connection_init`) before anything
//! executes; over HTTP, a token that worked a moment ago is known without
//! the database for as long as nothing changed it (`verified_tokens`). A
//! token that does not work is refused outright rather than treated as
//! anonymous, so a client never mistakes an expired session for an empty
//! inbox.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use async_graphql::Data;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::AppState;
use crate::graphql::error::code;
use crate::graphql::guards::{ClientIp, RequestOrigin, Viewer};
use crate::rate_limit::{RateLimits, RetryAfter};

const BAD_TOKEN: &str = "the bearer token is invalid, expired or revoked; sign in again";
const BAD_HEADER: &str = "the Authorization header must be `Bearer <token>`";

/// The client's address and its `Authorization` header, as received.
pub struct Caller {
    pub ip: IpAddr,
    authorization: Option<HeaderValue>,
    origin: Option<String>,
    /// Where the request's rate-limit standing goes, on `/graphql`.
    standing: Option<crate::rate_limit::StandingSlot>,
}

impl Caller {
    /// The address resolved from the peer and, when the peer is a trusted
    /// proxy, its forwarding headers (see `client_ip`); else the TCP
    /// peer's (`ConnectInfo`).
    pub fn from_parts(headers: &HeaderMap, extensions: &Extensions) -> Self {
        let ip = match extensions.get::<super::client_ip::ClientAddr>() {
            Some(client) => client.0,
            None => extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip()),
        };
        Self {
            ip,
            authorization: headers.get(header::AUTHORIZATION).cloned(),
            origin: origin(headers),
            standing: extensions.get().cloned(),
        }
    }

    /// `scheme://host` as the client sees this server, if it said.
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }
}

/// `scheme://host` as the client sees this server: its `Host`, and
/// `https` when a proxy in front says so. Used only to build links.
fn origin(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    // A host is letters, digits, dots, dashes, a port, IPv6 brackets.
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
    {
        return None;
    }
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"));
    Some(format!("{}://{host}", if https { "https" } else { "http" }))
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(&parts.headers, &parts.extensions))
    }
}

/// Why a request was turned away before it executed.
#[derive(Debug)]
pub enum Refusal {
    RateLimited(RetryAfter),
    Unauthenticated(&'static str),
    /// The database did not answer; retry later.
    Unavailable,
    Internal,
}

impl Refusal {
    /// A GraphQL error response: 429 or 503 with `Retry-After`, 401 with
    /// `WWW-Authenticate`, or 500.
    pub fn into_response(self, content_type: HeaderValue) -> Response {
        let (status, message, code, retry) = match self {
            Refusal::RateLimited(retry) => (
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many requests; try again in {} s", retry.seconds()),
                code::RATE_LIMITED,
                Some(retry.seconds()),
            ),
            Refusal::Unauthenticated(message) => (
                StatusCode::UNAUTHORIZED,
                message.to_owned(),
                code::UNAUTHENTICATED,
                None,
            ),
            Refusal::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                service::Error::Unavailable(anyhow::anyhow!("")).to_string(),
                code::UNAVAILABLE,
                Some(crate::graphql::error::UNAVAILABLE_RETRY_AFTER_SECS),
            ),
            Refusal::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error".to_owned(),
                code::INTERNAL,
                None,
            ),
        };
        let mut extensions = json!({ "code": code });
        if let Some(seconds) = retry {
            extensions["retryAfter"] = json!(seconds);
        }
        let body = json!({ "errors": [{ "message": message, "extensions": extensions }] });
        let mut response = (status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, content_type);
        if let Some(seconds) = retry {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer error="invalid_token""#),
            );
        }
        response
    }
}

/// The token in `Bearer <token>`; `Err` for any other shape.
fn bearer(value: &str) -> Result<&str, &'static str> {
    let (scheme, token) = value.trim().split_once(' ').ok_or(BAD_HEADER)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(BAD_HEADER);
    }
    Ok(token)
}

/// Applies the request rate limit and resolves the bearer token: the
/// viewer, `None` for an anonymous request, or a refusal.
pub async fn admit(state: &AppState, caller: &Caller) -> Result<Option<Viewer>, Refusal> {
    let token = match &caller.authorization {
        None => None,
        Some(value) => match value.to_str().map_err(|_| BAD_HEADER).and_then(bearer) {
            Ok(token) => Some(token),
            Err(message) => {
                refuse_failed_token(&state.rate_limits, caller.ip).await?;
                return Err(Refusal::Unauthenticated(message));
            }
        },
    };
    let verdict = state.rate_limits.check_request(caller.ip, token).await;
    if let Some(slot) = &caller.standing {
        slot.set(verdict.standing);
    }
    verdict.result().map_err(Refusal::RateLimited)?;
    let Some(token) = token else {
        return Ok(None);
    };
    let key = service::accounts::token::digest(token);
    // Taken before anything is read, so that a change to anyone's sessions
    // from here on keeps what is read below from being remembered.
    let mark = state.bus.sessions_mark();
    match mark {
        Some(_) => {
            let bus = &state.bus;
            if let Some(viewer) = state
                .verified_tokens
                .get(&key, |stamp| bus.sessions_current(stamp))
            {
                return Ok(Some(viewer));
            }
        }
        // The bus may be missing changes made elsewhere: nothing
        // remembered can be trusted until it vouches again.
        None => state.verified_tokens.distrusted(),
    }
    let (viewer, expires_at) =
        authenticate(&state.db, &state.rate_limits, caller.ip, token).await?;
    if let Some(stamp) = mark.and_then(|mark| state.bus.sessions_stamp(mark, viewer.user.id)) {
        state
            .verified_tokens
            .put(key, viewer.clone(), stamp, expires_at);
    }
    Ok(Some(viewer))
}

/// The viewer behind a token, checked in the database, and when the token
/// expires; a token that does not work counts as a failed sign-in.
async fn authenticate(
    db: &DatabaseConnection,
    limits: &RateLimits,
    ip: IpAddr,
    token: &str,
) -> Result<(Viewer, chrono::DateTime<chrono::Utc>), Refusal> {
    match service::accounts::authenticate(db, token).await {
        Ok(Some(found)) => Ok((
            Viewer {
                user: found.user,
                token_id: found.token_id,
                spoiler_free: found.spoiler_free,
                stream_delay: found.stream_delay,
            },
            found.expires_at,
        )),
        Ok(None) => {
            refuse_failed_token(limits, ip).await?;
            Err(Refusal::Unauthenticated(BAD_TOKEN))
        }
        Err(service::Error::Unavailable(err)) => {
            tracing::warn!(error = format!("{err:#}"), "resolving a bearer token");
            Err(Refusal::Unavailable)
        }
        Err(err) => {
            tracing::error!(
                error = format!("{:#}", anyhow::Error::from(err)),
                "resolving a bearer token"
            );
            Err(Refusal::Internal)
        }
    }
}

/// A token that does not work counts as a sign-in attempt from its address.
async fn refuse_failed_token(limits: &RateLimits, ip: IpAddr) -> Result<(), Refusal> {
    limits
        .check_failed_token(ip)
        .await
        .map_err(Refusal::RateLimited)
}

/// Adds who is calling to the request's data, where guards look.
pub fn attach(
    request: async_graphql::Request,
    viewer: Option<Viewer>,
    caller: &Caller,
) -> async_graphql::Request {
    let mut request = request.data(ClientIp(caller.ip));
    if let Some(origin) = &caller.origin {
        request = request.data(RequestOrigin(origin.clone()));
    }
    match viewer {
        // Read with the token: a viewer who is not in spoiler-free mode
        // sees everything, as an anonymous reader does, with no further read.
        Some(viewer) if viewer.spoiler_free => request
            .data(crate::graphql::spoilers::SpoilerShield::per_request(
                viewer.user.id,
            ))
            .data(viewer),
        Some(viewer) => request.data(viewer),
        None => request,
    }
}

/// What the websocket's `connection_init` decided. The protocol engine
/// closes a refused connection with a generic code; the socket's sink
/// swaps it for this one (see `http::graphql::upgrade`).
#[derive(Clone, Default)]
pub struct InitOutcome(Arc<AtomicU16>);

/// graphql-transport-ws: "If the server wishes to reject the connection
/// [in `connection_init`] it is recommended to close the socket with
/// `4403: Forbidden`."
pub const CLOSE_FORBIDDEN: u16 = 4403;
/// graphql-transport-ws: a `subscribe` before `connection_ack` "is
/// unauthorized": close with `4401: Unauthorized`.
pub const CLOSE_UNAUTHORIZED: u16 = 4401;
/// Used by the same protocol for too many initialisation requests.
pub const CLOSE_TOO_MANY: u16 = 4429;
/// RFC 6455 "internal error".
pub const CLOSE_INTERNAL: u16 = 1011;
/// RFC 6455 "try again later": the database did not answer.
pub const CLOSE_TRY_AGAIN: u16 = 1013;

impl InitOutcome {
    pub fn close_code(&self) -> Option<u16> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            code => Some(code),
        }
    }

    fn refuse(&self, code: u16) {
        self.0.store(code, Ordering::SeqCst);
    }
}

/// `connection_init` for both websocket protocols: the payload may carry
/// `{"authorization": "Bearer …"}`. Without it the connection is anonymous;
/// with a token that does not work it is refused.
pub async fn on_connection_init(
    db: DatabaseConnection,
    limits: Arc<RateLimits>,
    ip: IpAddr,
    outcome: InitOutcome,
    payload: serde_json::Value,
) -> async_graphql::Result<Data> {
    let mut data = Data::default();
    data.insert(ClientIp(ip));
    // A client that cannot set headers on the upgrade (a browser) names
    // its trace here; only read when spans are exported.
    if service::telemetry::exporting()
        && let Some(traceparent) = payload.get("traceparent").and_then(|v| v.as_str())
    {
        data.insert(crate::execution::Traceparent(traceparent.to_owned()));
    }
    let value = payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"));
    let Some(value) = value else {
        return Ok(data);
    };
    let token = value.as_str().ok_or(BAD_HEADER).and_then(bearer);
    let result = match token {
        Ok(token) => authenticate(&db, &limits, ip, token)
            .await
            .map(|(viewer, _)| viewer),
        Err(message) => refuse_failed_token(&limits, ip)
            .await
            .and(Err(Refusal::Unauthenticated(message))),
    };
    match result {
        Ok(viewer) => {
            // Whether the viewer keeps results away is read once, with the
            // token: it decides whether their live subscriptions may be
            // shared. One who is, is checked again on every use.
            if viewer.spoiler_free {
                data.insert(crate::graphql::spoilers::SpoilerShield::Fresh {
                    user_id: viewer.user.id,
                });
            }
            // So is their stream delay: a delayed viewer's live
            // subscriptions run on their own, held back on the socket.
            if !viewer.stream_delay.is_off() {
                data.insert(crate::graphql::StreamDelayed(viewer.stream_delay));
            }
            data.insert(viewer);
            Ok(data)
        }
        Err(Refusal::RateLimited(retry)) => {
            outcome.refuse(CLOSE_TOO_MANY);
            Err(coded(
                format!("too many attempts; try again in {} s", retry.seconds()),
                code::RATE_LIMITED,
            ))
        }
        Err(Refusal::Unauthenticated(message)) => {
            outcome.refuse(CLOSE_FORBIDDEN);
            Err(coded(message.to_owned(), code::UNAUTHENTICATED))
        }
        Err(Refusal::Unavailable) => {
            outcome.refuse(CLOSE_TRY_AGAIN);
            Err(async_graphql::Error::new(
                service::Error::Unavailable(anyhow::anyhow!("")).to_string(),
            ))
        }
        Err(Refusal::Internal) => {
            outcome.refuse(CLOSE_INTERNAL);
            Err(coded("internal error".to_owned(), code::INTERNAL))
        }
    }
}

/// The legacy protocol sends this error as `connection_error`'s payload.
fn coded(message: String, code: &'static str) -> async_graphql::Error {
    use async_graphql::ErrorExtensions as _;
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bearer_header_yields_its_token() {
        assert_eq!(bearer("Bearer itg_abc"), Ok("itg_abc"));
        assert_eq!(bearer("bearer   itg_abc "), Ok("itg_abc"));
    }

    #[test]
    fn other_schemes_and_empty_tokens_are_refused() {
        assert_eq!(bearer("Basic dXNlcjpwYXNz"), Err(BAD_HEADER));
        assert_eq!(bearer("Bearer "), Err(BAD_HEADER));
        assert_eq!(bearer("itg_abc"), Err(BAD_HEADER));
    }
}
