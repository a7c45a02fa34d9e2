//! Public query results are kept and served again until a write is
//! announced: what a client reads is never older than its own writes, or
//! than a write on another replica once the bus carried it. Anonymous
//! readers and signed-in readers who see the same share them; an answer
//! that depends on the viewer is never kept.

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
async fn failed_queries_are_not_kept() {
    let app = TestApp::spawn().await;
    scheduled(&app).await;
    let hits = counter(&app, "response_cache_hits").await;
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

/// Asks until an answer comes from the cache (through Redis, the app hears
/// its own earlier writes back a moment later, which moves the revision),
/// then returns that answer's body.
async fn until_kept(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> String {
    test_support::notify::wait_for(5, "an answer from the cache", || async {
        let hits = counter(app, "response_cache_hits").await;
        let body = app
            .post_as(token, query, variables.clone())
            .await
            .text()
            .await
            .unwrap();
        (counter(app, "response_cache_hits").await == hits + 1).then_some(body)
    })
    .await
}

#[tokio::test]
async fn a_signed_in_reader_who_sees_the_public_view_is_answered_from_the_cache() {
    let app = TestApp::spawn().await;
    let (_, match_id) = scheduled(&app).await;
    let fan = accounts::user(&app.db, "fan@example.com").await;
    let variables = json!({ "id": match_id });
    let anonymous = app
        .post_as(None, SCORE, variables.clone())
        .await
        .text()
        .await
        .unwrap();

    // The second identical request from the signed-in fan is a hit, with
    // the bytes an anonymous reader gets: one cache for both.
    let kept = until_kept(&app, Some(&fan.token), SCORE, variables.clone()).await;
    assert_eq!(kept, anonymous);
    let hits = counter(&app, "response_cache_hits").await;
    let statements = app.statements.get();
    let again = app
        .post_as(Some(&fan.token), SCORE, variables.clone())
        .await
        .text()
        .await
        .unwrap();
    let spent = app.statements.get() - statements;
    assert_eq!(again, anonymous);
    assert_eq!(counter(&app, "response_cache_hits").await, hits + 1);
    // Nor is the token: it worked a moment ago and nothing changed it.
    assert_eq!(spent, 0, "{spent} statements");

    // A token that does not work is still refused, cached answer or not.
    let refused = app
        .post_as(Some("itg_not_a_token"), SCORE, variables.clone())
        .await;
    assert_eq!(refused.status(), 401);
}

#[tokio::test]
async fn a_spoiler_free_reader_is_never_served_the_kept_anonymous_answer() {
    let app = TestApp::spawn().await;
    let (feed, match_id) = scheduled(&app).await;
    let home_id: i64 = score(&app, &match_id).await["homeTeam"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    app.start_match(&feed, &match_id).await;
    app.record_goal(&feed, &match_id, home_id, 12, "Saka").await;
    let query = "query($id: ID!) { match(id: $id) { spoilerHidden score { home away } } }";
    let variables = json!({ "id": match_id });
    let fan = accounts::user(&app.db, "careful@example.com").await;
    let payload =
        test_support::notify::set_preferences(&app, &fan.token, json!({ "spoilerFree": true }))
            .await;
    assert!(payload.is_object(), "{payload}");
    // The anonymous answer, with the score, is kept.
    let public: Value =
        serde_json::from_str(&until_kept(&app, None, query, variables.clone()).await).unwrap();
    assert_eq!(
        public["data"]["match"]["score"],
        json!({ "home": 1, "away": 0 })
    );

    let hits = counter(&app, "response_cache_hits").await;
    for _ in 0..3 {
        let body = app.graphql_as(&fan.token, query, variables.clone()).await;
        assert_eq!(body["data"]["match"]["spoilerHidden"], true, "{body}");
        assert_eq!(
            body["data"]["match"]["score"],
            json!({ "home": null, "away": null }),
            "{body}"
        );
    }
    assert_eq!(counter(&app, "response_cache_hits").await, hits);
    // Nor was the hidden answer kept for anyone else.
    let body = app.graphql(query, variables).await;
    assert_eq!(
        body["data"]["match"]["score"],
        json!({ "home": 1, "away": 0 })
    );
}

#[tokio::test]
async fn a_query_that_selects_the_viewer_is_never_kept() {
    let app = TestApp::spawn().await;
    scheduled(&app).await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    let bob = accounts::user(&app.db, "bob@example.com").await;
    let admin = accounts::create(&app.db, "admin@example.com", UserRole::Admin)
        .await
        .token;
    // Make sure answers are kept by now (the revision settled).
    until_kept(&app, None, "{ competitions { code } }", json!({})).await;

    let hits = counter(&app, "response_cache_hits").await;
    let direct = "{ competitions { code } me { email } }";
    let through_a_fragment = "query { ...Mine competitions { code } } fragment Mine on Query { ... on Query { me { email } } }";
    for query in [direct, through_a_fragment] {
        for _ in 0..2 {
            for (fan, email) in [(&ada, "ada@example.com"), (&bob, "bob@example.com")] {
                let data = app.ok(&fan.token, query, json!({})).await;
                assert_eq!(data["me"]["email"], email, "{query}: {data}");
            }
        }
    }
    for _ in 0..2 {
        app.ok(&admin, "{ deliveries(first: 5) { totalCount } }", json!({}))
            .await;
    }
    assert_eq!(counter(&app, "response_cache_hits").await, hits);
    // And an admin's answer is not what an anonymous reader gets.
    let body = app
        .graphql("{ deliveries(first: 5) { totalCount } }", json!({}))
        .await;
    assert_eq!(
        test_support::error_code(&body),
        Some("UNAUTHENTICATED"),
        "{body}"
    );
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
