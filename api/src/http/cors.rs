//! Cross-origin access to `/graphql` from web pages (`CORS_ALLOWED_ORIGINS`).
//! Only `/graphql` has the CORS layer: `/metrics` and the probes are for
//! operators' tools, never for a page in a browser.

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Which origins may read `/graphql` responses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// Any origin (`*`).
    #[default]
    Any,
    /// Only these, each `scheme://host[:port]`.
    List(Vec<HeaderValue>),
}

impl AllowedOrigins {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw == "*" {
            return Ok(Self::Any);
        }
        let mut origins = Vec::new();
        for origin in raw.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            let url = url::Url::parse(origin).map_err(|e| {
                format!("{origin} is not an origin such as https://app.example.com: {e}")
            })?;
            let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || !bare {
                return Err(format!(
                    "{origin} is not an origin such as https://app.example.com (scheme, host and port only)"
                ));
            }
            // Browsers send the origin without a trailing slash.
            let value = HeaderValue::from_str(origin.trim_end_matches('/'))
                .map_err(|e| format!("{origin}: {e}"))?;
            origins.push(value);
        }
        if origins.is_empty() {
            return Err("give `*` or at least one origin".into());
        }
        Ok(Self::List(origins))
    }

    /// The layer for `/graphql`: GET and POST with the headers a GraphQL
    /// client sends; no cookies, since authentication is a bearer token.
    pub fn layer(&self) -> CorsLayer {
        let origins = match self {
            Self::Any => AllowOrigin::any(),
            Self::List(list) => AllowOrigin::list(list.iter().cloned()),
        };
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                header::IF_NONE_MATCH,
                HeaderName::from_static("x-request-id"),
            ])
            .expose_headers([
                header::RETRY_AFTER,
                header::ETAG,
                HeaderName::from_static("x-request-id"),
                HeaderName::from_static("ratelimit"),
                HeaderName::from_static("ratelimit-policy"),
            ])
            .max_age(Duration::from_secs(3600))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_star_allows_any_origin() {
        assert_eq!(AllowedOrigins::parse(" * "), Ok(AllowedOrigins::Any));
    }

    #[test]
    fn a_list_of_origins_is_kept_without_trailing_slashes() {
        let parsed =
            AllowedOrigins::parse("https://app.example.com/, http://localhost:3000").unwrap();
        assert_eq!(
            parsed,
            AllowedOrigins::List(vec![
                HeaderValue::from_static("https://app.example.com"),
                HeaderValue::from_static("http://localhost:3000"),
            ])
        );
    }

    #[test]
    fn something_that_is_not_an_origin_is_refused_by_name() {
        let err = AllowedOrigins::parse("https://app.example.com/path").unwrap_err();
        assert!(err.contains("https://app.example.com/path"), "{err}");
        assert!(AllowedOrigins::parse("app.example.com").is_err());
        assert!(AllowedOrigins::parse(",").is_err());
    }
}
