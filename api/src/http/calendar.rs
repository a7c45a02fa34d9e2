//! Calendar feeds over HTTP: `/calendar/team/{slug or id}.ics`,
//! `/calendar/season/{id}.ics` and `/calendar/user/{token}.ics`. Calendar
//! apps poll these for as long as they are subscribed, so each answer
//! carries an `ETag` and `Last-Modified`, and a poll that finds nothing new
//! gets a 304 without the calendar.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::auth::Caller;
use super::conditional;
use crate::AppState;
use crate::graphql::error::{UNAVAILABLE_RETRY_AFTER_SECS, code};

const TEXT_CALENDAR: &str = "text/calendar; charset=utf-8";

/// Calendar apps poll hourly at most; a shared cache may answer the
/// public feeds for a few minutes.
const PUBLIC_CACHE_CONTROL: &str = "public, max-age=300";
/// The user's feed has their secret in its URL: no shared cache keeps it.
const PRIVATE_CACHE_CONTROL: &str = "private, max-age=300";

pub async fn team(
    State(state): State<AppState>,
    caller: Caller,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = rate_limited(&state, &caller).await {
        return refused;
    }
    let Some(team) = file.strip_suffix(".ics") else {
        return not_found("a team's calendar is at /calendar/team/{slug or id}.ics");
    };
    let feed = service::calendar::team_feed(&state.db, team, Utc::now()).await;
    respond(feed, &headers, Freshness::Public)
}

pub async fn season(
    State(state): State<AppState>,
    caller: Caller,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = rate_limited(&state, &caller).await {
        return refused;
    }
    let Some(season_id) = file
        .strip_suffix(".ics")
        .and_then(|id| id.parse::<i64>().ok())
    else {
        return not_found("a season's calendar is at /calendar/season/{season id}.ics");
    };
    let feed = service::calendar::season_feed(&state.db, season_id).await;
    respond(feed, &headers, Freshness::Public)
}

pub async fn user(
    State(state): State<AppState>,
    caller: Caller,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = rate_limited(&state, &caller).await {
        return refused;
    }
    let Some(token) = file.strip_suffix(".ics") else {
        return not_found("a calendar token's feed is at /calendar/user/{token}.ics");
    };
    let feed = service::calendar::user_feed(&state.db, token, Utc::now()).await;
    respond(feed, &headers, Freshness::Private)
}

/// Who may keep a feed, and whether `If-Modified-Since` can be trusted for
/// it: a user's feed also shrinks when they unfollow a team, which moves
/// no date, so only its `ETag` tells whether it changed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Freshness {
    Public,
    Private,
}

async fn rate_limited(state: &AppState, caller: &Caller) -> Option<Response> {
    let verdict = state.rate_limits.check_request(caller.ip, None).await;
    let retry = verdict.result().err()?;
    Some(
        super::auth::Refusal::RateLimited(retry)
            .into_response(HeaderValue::from_static("application/json; charset=utf-8")),
    )
}

fn respond(
    feed: service::Result<service::calendar::Feed>,
    request: &HeaderMap,
    freshness: Freshness,
) -> Response {
    let feed = match feed {
        Ok(feed) => feed,
        Err(service::Error::NotFound(what)) => {
            return not_found(&format!("no calendar here: {what} not found"));
        }
        Err(service::Error::Unavailable(cause)) => {
            tracing::warn!(error = ?cause, "calendar feed: database unavailable");
            let mut response = super::refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                code::UNAVAILABLE,
                "the service is unavailable; try again shortly",
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS),
            );
            return response;
        }
        Err(err) => {
            tracing::error!(error = ?err, "calendar feed failed");
            return super::refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                code::INTERNAL,
                "internal error",
            );
        }
    };
    let mut response = (StatusCode::OK, feed.ics.clone()).into_response();
    let headers = response.headers_mut();
    let etag = conditional::etag(TEXT_CALENDAR.as_bytes(), feed.ics.as_bytes());
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TEXT_CALENDAR),
    );
    headers.insert(header::ETAG, etag.clone());
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(match freshness {
            Freshness::Public => PUBLIC_CACHE_CONTROL,
            Freshness::Private => PRIVATE_CACHE_CONTROL,
        }),
    );
    if let Some(at) = feed.last_modified {
        headers.insert(header::LAST_MODIFIED, conditional::http_date(at));
    }
    let unchanged_since = freshness == Freshness::Public
        && feed
            .last_modified
            .is_some_and(|at| conditional::not_modified_since(request, at));
    if conditional::none_match(request, &etag) || unchanged_since {
        return conditional::not_modified(response.headers());
    }
    response
}

fn not_found(message: &str) -> Response {
    super::refusal(StatusCode::NOT_FOUND, code::NOT_FOUND, message)
}
