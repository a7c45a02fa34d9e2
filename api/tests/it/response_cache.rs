//! Anonymous query results are kept and served again until a write is
//! announced: what a client reads is never older than its own writes, or
//! than a write on another replica once the bus carried it.

use entity::UserRole;
use serde_json::{Value, json};

use crate::common::{TestApp, accounts, seed};

const SCORE: &str =
    "query($id: ID!) { match(id: $id) { status homeTeam { id } score { home away } } }";

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

/// The value of a counter in the app's `/metrics`.
async fn counter(app: &TestApp, name: &str) -> u64 {
    let text = app.metrics().await;
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("inthegame_{name}_total ")))
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
        .parse()
        .unwrap()
}

async fn score(app: &TestApp, match_id: &str) -> Value {
    let body = app.graphql(SCORE, json!({ "id": match_id })).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["match"].clone()
}

#[tokio::test]
async fn a_repeated_anonymous_query_is_answered_from_the_cache_with_the_same_bytes() {
    let app = TestApp::spawn().await;
    let (_, match_id) = scheduled(&app).await;
    let ask = || async {
        app.post_as(None, SCORE, json!({ "id": match_id }))
            .await
            .text()
            .await
            .unwrap()
    };
    let first = ask().await;
    // Through Redis, this app hears its own earlier writes back a moment
    // later, which moves the revision once more: ask until it settled.
    let hit = test_support::notify::wait_for(5, "an answer from the cache", || async {
        let hits = counter(&app, "response_cache_hits").await;
        // Counted around the query alone: a scrape reads the outbox backlog.
        let statements = app.statements.get();
        let again = ask().await;
        let spent = app.statements.get() - statements;
        (counter(&app, "response_cache_hits").await == hits + 1).then_some((again, spent))
    })
    .await;
    assert_eq!(hit.0, first);
    assert_eq!(
        hit.1, 0,
        "the answer from the cache read nothing from the database"
    );
}

#[tokio::test]
async fn a_client_reads_its_own_write_at_once() {
    let app = TestApp::spawn().await;
    let (feed, match_id) = scheduled(&app).await;
    let home_id: i64 = score(&app, &match_id).await["homeTeam"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(score(&app, &match_id).await["status"], "SCHEDULED");
    // Kept now; the writes below must not be hidden by it.
    assert_eq!(score(&app, &match_id).await["status"], "SCHEDULED");

    app.start_match(&feed, &match_id).await;
    let live = score(&app, &match_id).await;
    assert_eq!(live["status"], "LIVE", "{live}");
    assert_eq!(live["score"], json!({ "home": 0, "away": 0 }));

    app.record_goal(&feed, &match_id, home_id, 12, "Saka").await;
    let after_goal = score(&app, &match_id).await;
    assert_eq!(after_goal["score"], json!({ "home": 1, "away": 0 }));
}

#[tokio::test]
async fn a_write_only_its_user_can_see_leaves_the_kept_answers_be() {
    let app = TestApp::spawn().await;
    let (_, match_id) = scheduled(&app).await;
    let fan = accounts::user(&app.db, "fan@example.com").await;
    let team_id = score(&app, &match_id).await["homeTeam"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Through Redis the app hears its own earlier writes back a moment
    // later: wait until answers are kept.
    test_support::notify::wait_for(5, "an answer from the cache", || async {
        let hits = counter(&app, "response_cache_hits").await;
        score(&app, &match_id).await;
        (counter(&app, "response_cache_hits").await > hits).then_some(())
    })
    .await;
    app.ok(
        &fan.token,
        "mutation($t: ID!) { followTeam(teamId: $t) { team { id } } }",
        json!({ "t": team_id }),
    )
    .await;
    let hits = counter(&app, "response_cache_hits").await;
    score(&app, &match_id).await;
    assert_eq!(counter(&app, "response_cache_hits").await, hits + 1);
}

#[tokio::test]
async fn signed_in_and_failed_queries_are_not_kept() {
    let app = TestApp::spawn().await;
    let (feed, match_id) = scheduled(&app).await;
    let hits = counter(&app, "response_cache_hits").await;
    for _ in 0..2 {
        app.ok(&feed, SCORE, json!({ "id": match_id })).await;
    }
    let unknown = json!({ "id": "999999" });
    for _ in 0..2 {
        let body = app
            .graphql(
                "query($id: ID!) { match(id: $id) { id } team(id: \"x\") { id } }",
                unknown.clone(),
            )
            .await;
        assert!(!body["errors"].is_null(), "{body}");
    }
    assert_eq!(counter(&app, "response_cache_hits").await, hits);
}

#[tokio::test]
async fn with_the_cache_off_every_query_runs() {
    let app = TestApp::spawn_with_options(|o| o.response_cache.ttl_ms = 0).await;
    let (_, match_id) = scheduled(&app).await;
    score(&app, &match_id).await;
    let statements = app.statements.get();
    score(&app, &match_id).await;
    assert!(app.statements.get() > statements);
    assert_eq!(counter(&app, "response_cache_hits").await, 0);
}

/// Two replicas on one database and one bus: a write through one shows on
/// the other once the bus carried it, also a write that moves no match.
#[tokio::test]
async fn a_write_through_another_replica_shows_once_the_bus_carries_it() {
    if std::env::var("REDIS_URL").is_err() {
        // Replicas share a bus only through Redis; one process reading its
        // own writes is `a_client_reads_its_own_write_at_once`.
        return;
    }
    // Kept longer than the wait below: only the bus can make it show in time.
    let kept_long = |o: &mut api::ServeOptions| o.response_cache.ttl_ms = 5000;
    let first = TestApp::spawn_with_options(kept_long).await;
    let admin = accounts::create(&first.db, "admin@example.com", UserRole::Admin)
        .await
        .token;
    let team = seed::team(&first.db, "Arsenal FC", "arsenal-fc").await;
    let second = first.replica(kept_long).await;
    let name = "query($id: ID!) { team(id: $id) { name } }";
    let variables = json!({ "id": team.id.to_string() });
    for _ in 0..2 {
        let body = second.graphql(name, variables.clone()).await;
        assert_eq!(body["data"]["team"]["name"], "Arsenal FC", "{body}");
    }

    first
        .ok(
            &admin,
            "mutation($id: ID!) { updateTeam(teamId: $id, input: { name: \"Arsenal\" }) { name } }",
            variables.clone(),
        )
        .await;
    test_support::notify::wait_for(3, "the other replica to show the new name", || async {
        let body = second.graphql(name, variables.clone()).await;
        (body["data"]["team"]["name"] == "Arsenal").then_some(())
    })
    .await;
}
