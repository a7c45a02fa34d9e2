//! Conditional GET, so that clients that poll pay for a body only when it
//! changed: a strong `ETag` over the bytes of a response, `Last-Modified`,
//! and the 304 that answers an `If-None-Match` or `If-Modified-Since`
//! that still holds (RFC 9110, section 13).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

/// A strong validator: the first 128 bits of the SHA-256 of the media
/// type and the body, so two representations of one result differ.
pub fn etag(content_type: &[u8], body: &[u8]) -> HeaderValue {
    let digest = Sha256::new()
        .chain_update(content_type)
        .chain_update([0])
        .chain_update(body)
        .finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).expect("hex is a valid header value")
}

/// Whether the client's `If-None-Match` lists `etag` (or is `*`). Weak
/// comparison, as RFC 9110 asks for this header: `W/"x"` matches `"x"`.
pub fn none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(etag) = etag.to_str().ok() else {
        return false;
    };
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// Whether the resource is unchanged since the client's
/// `If-Modified-Since`; ignored when `If-None-Match` is sent, as RFC 9110
/// says, and when the date does not parse.
pub fn not_modified_since(headers: &HeaderMap, last_modified: DateTime<Utc>) -> bool {
    if headers.contains_key(header::IF_NONE_MATCH) {
        return false;
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| DateTime::parse_from_rfc2822(value).ok())
        // HTTP dates have whole seconds.
        .is_some_and(|since| last_modified.timestamp() <= since.timestamp())
}

/// An HTTP date: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(at: DateTime<Utc>) -> HeaderValue {
    HeaderValue::from_str(&at.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .expect("a formatted date is a valid header value")
}

/// 304 with the headers a 200 would have had that describe the
/// representation and how to cache it (RFC 9110, section 15.4.5).
pub fn not_modified(full: &HeaderMap) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    for name in [
        header::ETAG,
        header::CACHE_CONTROL,
        header::VARY,
        header::LAST_MODIFIED,
        header::CONTENT_LOCATION,
        header::EXPIRES,
    ] {
        for value in full.get_all(&name) {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn the_etag_is_quoted_and_depends_on_media_type_and_body() {
        let a = etag(b"application/json", b"{}");
        assert_eq!(a.len(), 34);
        assert!(a.to_str().unwrap().starts_with('"'));
        assert_ne!(a, etag(b"application/graphql-response+json", b"{}"));
        assert_ne!(a, etag(b"application/json", b"{ }"));
        assert_eq!(a, etag(b"application/json", b"{}"));
    }

    #[test]
    fn if_none_match_matches_any_listed_tag_weak_or_strong_or_a_star() {
        let tag = HeaderValue::from_static("\"abc\"");
        assert!(none_match(
            &with(header::IF_NONE_MATCH, "\"x\", \"abc\""),
            &tag
        ));
        assert!(none_match(&with(header::IF_NONE_MATCH, "W/\"abc\""), &tag));
        assert!(none_match(&with(header::IF_NONE_MATCH, "*"), &tag));
        assert!(!none_match(&with(header::IF_NONE_MATCH, "\"abcd\""), &tag));
        assert!(!none_match(&HeaderMap::new(), &tag));
    }

    #[test]
    fn if_modified_since_holds_up_to_the_second_and_yields_to_if_none_match() {
        let at = DateTime::parse_from_rfc3339("2026-12-03T08:00:00.5Z")
            .unwrap()
            .with_timezone(&Utc);
        let since = http_date(at);
        assert_eq!(since, "Thu, 03 Dec 2026 08:00:00 GMT");
        let headers = with(header::IF_MODIFIED_SINCE, since.to_str().unwrap());
        assert!(not_modified_since(&headers, at));
        assert!(!not_modified_since(
            &headers,
            at + chrono::Duration::seconds(1)
        ));
        let mut both = headers.clone();
        both.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"x\""));
        assert!(!not_modified_since(&both, at));
        assert!(!not_modified_since(
            &with(header::IF_MODIFIED_SINCE, "yesterday"),
            at
        ));
    }
}
