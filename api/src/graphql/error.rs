//! Service errors become GraphQL errors with a stable `extensions.code`.

use async_graphql::ErrorExtensions as _;

/// Converts a service result into a resolver result.
pub trait GqlResultExt<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResultExt<T> for service::Result<T> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(to_graphql)
    }
}

/// The stable codes clients can switch on.
pub mod code {
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const CONFLICT: &str = "CONFLICT";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const INTERNAL: &str = "INTERNAL";
    /// A dependency is down or full; retry after `retryAfter` seconds.
    pub const UNAVAILABLE: &str = "UNAVAILABLE";
    pub const QUERY_TOO_DEEP: &str = "QUERY_TOO_DEEP";
    pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
    pub const TOO_MANY_TOKENS: &str = "TOO_MANY_TOKENS";
    pub const TOO_MANY_ALIASES: &str = "TOO_MANY_ALIASES";
    pub const TOO_MANY_DIRECTIVES: &str = "TOO_MANY_DIRECTIVES";
    pub const REQUEST_TOO_LARGE: &str = "REQUEST_TOO_LARGE";
    pub const TIMEOUT: &str = "TIMEOUT";
    /// HTTP-level refusals, before any GraphQL runs.
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    pub const NOT_ACCEPTABLE: &str = "NOT_ACCEPTABLE";
    /// A subscription sent as an HTTP request instead of over a websocket.
    pub const SUBSCRIPTION_OVER_HTTP: &str = "SUBSCRIPTION_OVER_HTTP";
    /// The request did not parse or does not fit the schema.
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    pub const RATE_LIMITED: &str = crate::rate_limit::RATE_LIMITED;
    /// A websocket upgrade that asks for no subprotocol this server speaks.
    pub const UNSUPPORTED_SUBPROTOCOL: &str = "UNSUPPORTED_SUBPROTOCOL";
    /// The process holds as many websockets as its descriptors allow.
    pub const AT_CAPACITY: &str = "AT_CAPACITY";
    /// The viewer keeps results away (spoiler-free mode) and asked for a
    /// live feed of them.
    pub const SPOILER_FREE: &str = "SPOILER_FREE";
    /// A document asked for by its hash alone that this server does not
    /// hold: send it again with the document (Apollo's persisted queries).
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    /// Persisted queries are off (`PERSISTED_QUERIES=off`), or the
    /// extension's version is not 1.
    pub const PERSISTED_QUERY_NOT_SUPPORTED: &str = "PERSISTED_QUERY_NOT_SUPPORTED";
    /// With `PERSISTED_QUERIES=allowlist`: a document not on the list.
    pub const PERSISTED_QUERY_NOT_IN_LIST: &str = "PERSISTED_QUERY_NOT_IN_LIST";
}

pub fn to_graphql(err: service::Error) -> async_graphql::Error {
    use service::Error;
    match &err {
        Error::NotFound(_) => async_graphql::Error::new(err.to_string())
            .extend_with(|_, e| e.set("code", code::NOT_FOUND)),
        Error::Invalid(fields) => {
            let fields = fields.clone();
            async_graphql::Error::new(err.to_string()).extend_with(move |_, e| {
                e.set("code", code::BAD_USER_INPUT);
                let mut map = async_graphql::indexmap::IndexMap::new();
                for (field, messages) in &fields {
                    map.insert(
                        async_graphql::Name::new(field),
                        async_graphql::Value::List(
                            messages.iter().map(|m| m.as_str().into()).collect(),
                        ),
                    );
                }
                e.set("fields", async_graphql::Value::Object(map));
            })
        }
        Error::Conflict(_) => async_graphql::Error::new(err.to_string())
            .extend_with(|_, e| e.set("code", code::CONFLICT)),
        Error::Forbidden => async_graphql::Error::new(err.to_string())
            .extend_with(|_, e| e.set("code", code::FORBIDDEN)),
        Error::Unauthenticated | Error::WrongCredentials => {
            async_graphql::Error::new(err.to_string())
                .extend_with(|_, e| e.set("code", code::UNAUTHENTICATED))
        }
        Error::Unavailable(cause) => {
            tracing::warn!(error = format!("{cause:#}"), "dependency unavailable");
            unavailable()
        }
        Error::Internal(cause) => {
            tracing::error!(error = format!("{cause:#}"), "internal error");
            async_graphql::Error::new("internal error")
                .extend_with(|_, e| e.set("code", code::INTERNAL))
        }
    }
}

/// Seconds a client should wait before retrying after `UNAVAILABLE`.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// An `UNAVAILABLE` error. The HTTP handler answers it with 503 and
/// `Retry-After`.
pub fn unavailable() -> async_graphql::Error {
    async_graphql::Error::new(service::Error::Unavailable(anyhow::anyhow!("")).to_string())
        .extend_with(|_, e| {
            e.set("code", code::UNAVAILABLE);
            e.set("retryAfter", UNAVAILABLE_RETRY_AFTER_SECS);
        })
}

/// A `BAD_USER_INPUT` error on one argument.
pub fn bad_input(field: &str, message: impl Into<String>) -> async_graphql::Error {
    to_graphql(service::Error::invalid(field, message))
}

/// A `RATE_LIMITED` error. It also sets `Retry-After` on the HTTP response,
/// which the HTTP handler answers with status 429.
pub fn rate_limited(
    ctx: &async_graphql::Context<'_>,
    retry: crate::rate_limit::RetryAfter,
) -> async_graphql::Error {
    let seconds = retry.seconds();
    ctx.insert_http_header(axum::http::header::RETRY_AFTER, seconds.to_string());
    async_graphql::Error::new(format!("too many attempts; try again in {seconds} s")).extend_with(
        move |_, e| {
            e.set("code", code::RATE_LIMITED);
            e.set("retryAfter", seconds);
        },
    )
}
