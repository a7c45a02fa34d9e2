//! Polling cheaply: when a match last changed, and conditional GET on
//! queries.

use chrono::{DateTime, Utc};
use entity::UserRole;
use serde_json::{Value, json};

use crate::common::{TestApp, accounts, seed};

const MATCH: &str = "query($id: ID!) { match(id: $id) { updatedAt lastEventAt scheduleRevision } }";

fn instant(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
        .unwrap_or_else(|| panic!("not a DateTime: {value}"))
        .with_timezone(&Utc)
}

/// A feeder's token and a scheduled match's id.
async fn scheduled(app: &TestApp) -> (String, String) {
    let feed = accounts::create(&app.db, "feed@example.com", UserRole::Feed)
        .await
        .token;
    let season = seed::season(&app.db).await;
    let home = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let away = seed::team(&app.db, "Chelsea FC", "chelsea-fc").await;
    let match_id = app
        .schedule_match(
            &feed,
            season.id,
            (home.id, away.id),
            seed::at(2026, 12, 20, 15, 0),
        )
        .await;
    (feed, match_id)
}

async fn get(app: &TestApp, query: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.http.get(app.url("/graphql")).query(&[("query", query)]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request sent")
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn a_match_tells_when_it_last_changed_and_when_its_last_event_was_recorded() {
    let app = TestApp::spawn().await;
    let (feed, match_id) = scheduled(&app).await;
    let fresh = app.ok(&feed, MATCH, json!({ "id": match_id })).await["match"].clone();
    assert_eq!(fresh["lastEventAt"], Value::Null, "{fresh}");
    assert_eq!(fresh["scheduleRevision"], 0);

    app.ok(
        &feed,
        "mutation($m: ID!) { rescheduleMatch(matchId: $m, kickoffAt: \"2026-12-21T15:00:00Z\") { id } }",
        json!({ "m": match_id }),
    )
    .await;
    let moved = app.ok(&feed, MATCH, json!({ "id": match_id })).await["match"].clone();
    assert_eq!(moved["scheduleRevision"], 1);
    assert_eq!(moved["lastEventAt"], Value::Null);
    assert!(instant(&moved["updatedAt"]) > instant(&fresh["updatedAt"]));

    let before = Utc::now();
    app.start_match(&feed, &match_id).await;
    let started = app.ok(&feed, MATCH, json!({ "id": match_id })).await["match"].clone();
    let last_event_at = instant(&started["lastEventAt"]);
    assert!(last_event_at >= before - chrono::Duration::seconds(1));
    assert_eq!(instant(&started["updatedAt"]), last_event_at);
    assert_eq!(
        started["scheduleRevision"], 1,
        "an event is no schedule change"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_anonymous_get_query_may_be_cached_briefly_and_revalidates_with_304() {
    let app = TestApp::spawn().await;
    let (feed, match_id) = scheduled(&app).await;
    let query = format!("{{ match(id: \"{match_id}\") {{ status updatedAt }} }}");

    let first = get(&app, &query, &[]).await;
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, "cache-control"), "public, max-age=5");
    let etag = header(&first, "etag").to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert!(header(&first, "vary").contains("authorization"));
    let again = get(&app, &query, &[]).await;
    assert_eq!(header(&again, "etag"), etag, "same result, same tag");

    let unchanged = get(&app, &query, &[("if-none-match", &etag)]).await;
    assert_eq!(unchanged.status(), 304);
    assert_eq!(header(&unchanged, "etag"), etag);
    assert_eq!(header(&unchanged, "cache-control"), "public, max-age=5");
    assert!(unchanged.bytes().await.unwrap().is_empty());

    app.ok(
        &feed,
        "mutation($m: ID!) { postponeMatch(matchId: $m) { id } }",
        json!({ "m": match_id }),
    )
    .await;
    let changed = get(&app, &query, &[("if-none-match", &etag)]).await;
    assert_eq!(changed.status(), 200);
    assert_ne!(header(&changed, "etag"), etag);
    let body: Value = changed.json().await.unwrap();
    assert_eq!(body["data"]["match"]["status"], "POSTPONED");

    // Another representation of the same result is another tag.
    let other = get(
        &app,
        &query,
        &[("accept", "application/graphql-response+json")],
    )
    .await;
    assert_ne!(header(&other, "etag"), header(&first, "etag"));
    app.stop().await;
}

#[tokio::test]
async fn a_signed_in_get_query_is_kept_only_by_the_client_and_revalidated_each_time() {
    let app = TestApp::spawn().await;
    let fan = accounts::user(&app.db, "fan@example.com").await;
    let bearer = format!("Bearer {}", fan.token);
    let query = "{ me { email } }";
    let first = get(&app, query, &[("authorization", &bearer)]).await;
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, "cache-control"), "private, no-cache");
    let etag = header(&first, "etag").to_owned();
    let unchanged = get(
        &app,
        query,
        &[("authorization", &bearer), ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(unchanged.status(), 304);
    app.stop().await;
}

#[tokio::test]
async fn a_get_query_that_failed_is_not_stored_and_a_post_has_no_tag() {
    let app = TestApp::spawn().await;
    let failed = get(&app, "{ match(id: \"not-a-number\") { id } }", &[]).await;
    assert_eq!(failed.status(), 200);
    assert_eq!(header(&failed, "cache-control"), "no-store");
    let body: Value = failed.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    let post = app
        .post_as(None, "{ matches { nodes { id } } }", json!({}))
        .await;
    assert_eq!(post.status(), 200);
    assert!(post.headers().get("etag").is_none());
    app.stop().await;
}
