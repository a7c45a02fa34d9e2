//! Spoiler-free mode through the API: a viewer who keeps results away sees
//! fixtures but no scores, goals or tables until they reveal a match, and
//! cannot be spoiled by a live feed.

use entity::UserRole;
use serde_json::{Value, json};

use crate::common::ws::{next_json, open, send};
use crate::common::{TestApp, accounts, error_code, seed};

const MATCH: &str = "query($m: ID!) {
  match(id: $m) { status spoilerHidden score { home away halfTime { home away } } events { kind } }
}";

const TABLE: &str = "query($s: ID!) { standings(seasonId: $s) { team { name } played points } }";

struct World {
    season_id: String,
    arsenal: i64,
    chelsea: i64,
    /// Arsenal 2-1 Chelsea, finished, with a kick-off and a goal recorded.
    played: String,
    /// Chelsea v Arsenal next week.
    fixture: String,
}

async fn world(app: &TestApp) -> World {
    let feed = accounts::create(&app.db, "feed@example.com", UserRole::Feed)
        .await
        .token;
    let season = seed::season(&app.db).await;
    let arsenal = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let chelsea = seed::team(&app.db, "Chelsea FC", "chelsea-fc").await;
    let played = app
        .schedule_match(
            &feed,
            season.id,
            (arsenal.id, chelsea.id),
            seed::at(2026, 11, 28, 15, 0),
        )
        .await;
    app.start_match(&feed, &played).await;
    app.record_goal(&feed, &played, arsenal.id, 10, "Saka")
        .await;
    app.record_goal(&feed, &played, arsenal.id, 50, "Rice")
        .await;
    app.record_goal(&feed, &played, chelsea.id, 80, "Palmer")
        .await;
    app.ok(
        &feed,
        "mutation($m: ID!) { endMatch(matchId: $m) { event { id } } }",
        json!({ "m": played }),
    )
    .await;
    let fixture = app
        .schedule_match(
            &feed,
            season.id,
            (chelsea.id, arsenal.id),
            seed::at(2026, 12, 20, 15, 0),
        )
        .await;
    World {
        season_id: season.id.to_string(),
        arsenal: arsenal.id,
        chelsea: chelsea.id,
        played,
        fixture,
    }
}

/// A fan with spoiler-free mode on.
async fn careful_fan(app: &TestApp) -> String {
    let fan = accounts::user(&app.db, "careful@example.com").await;
    let payload =
        test_support::notify::set_preferences(app, &fan.token, json!({ "spoilerFree": true }))
            .await;
    assert!(payload.is_object(), "{payload}");
    fan.token
}

async fn as_viewer(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> Value {
    let body: Value = app
        .post_as(token, query, variables)
        .await
        .json()
        .await
        .unwrap();
    assert!(body["errors"].is_null(), "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn a_spoiler_free_viewer_sees_the_fixture_but_no_result_until_they_reveal_it() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let token = careful_fan(&app).await;
    let m = json!({ "m": w.played });

    let everyone = as_viewer(&app, None, MATCH, m.clone()).await["match"].clone();
    assert_eq!(everyone["score"]["home"], 2);
    assert_eq!(everyone["spoilerHidden"], false);
    assert_eq!(everyone["events"].as_array().unwrap().len(), 5);

    let hidden = as_viewer(&app, Some(&token), MATCH, m.clone()).await["match"].clone();
    assert_eq!(
        hidden,
        json!({
            "status": "FINISHED",
            "spoilerHidden": true,
            "score": { "home": null, "away": null, "halfTime": null },
            "events": [{ "kind": "KICK_OFF" }],
        })
    );
    // A fixture has nothing to hide.
    let fixture =
        as_viewer(&app, Some(&token), MATCH, json!({ "m": w.fixture })).await["match"].clone();
    assert_eq!(fixture["spoilerHidden"], false);
    assert_eq!(fixture["status"], "SCHEDULED");

    let table = as_viewer(&app, Some(&token), TABLE, json!({ "s": w.season_id })).await;
    assert!(
        table["standings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|row| row["played"] == 0 && row["points"] == 0),
        "{table}"
    );

    let h2h = json!({ "a": w.arsenal.to_string(), "b": w.chelsea.to_string() });
    const HEAD_TO_HEAD: &str =
        "query($a: ID!, $b: ID!) { headToHead(teamA: $a, teamB: $b) { played teamAWins } }";
    let record = as_viewer(&app, Some(&token), HEAD_TO_HEAD, h2h.clone()).await;
    assert_eq!(record["headToHead"], json!({ "played": 0, "teamAWins": 0 }));

    let revealed = as_viewer(
        &app,
        Some(&token),
        "mutation($m: ID!) { revealMatch(matchId: $m) { spoilerHidden score { home away } } }",
        m.clone(),
    )
    .await;
    assert_eq!(
        revealed["revealMatch"],
        json!({ "spoilerHidden": false, "score": { "home": 2, "away": 1 } })
    );
    let shown = as_viewer(&app, Some(&token), MATCH, m.clone()).await["match"].clone();
    assert_eq!(shown, everyone);
    let table = as_viewer(&app, Some(&token), TABLE, json!({ "s": w.season_id })).await;
    assert_eq!(
        table["standings"][0],
        json!({ "team": { "name": "Arsenal FC" }, "played": 1, "points": 3 })
    );
    let record = as_viewer(&app, Some(&token), HEAD_TO_HEAD, h2h).await;
    assert_eq!(record["headToHead"], json!({ "played": 1, "teamAWins": 1 }));
}

#[tokio::test]
async fn a_spoiler_free_calendar_feed_shows_the_match_without_its_score_until_revealed() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let token = careful_fan(&app).await;
    test_support::notify::follow(&app, &token, w.arsenal).await;
    let path = as_viewer(
        &app,
        Some(&token),
        "mutation { createCalendarToken { path } }",
        json!({}),
    )
    .await["createCalendarToken"]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    let feed = || async {
        let response = app.http.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let last_modified = response.headers()["last-modified"]
            .to_str()
            .unwrap()
            .to_owned();
        (response.text().await.unwrap(), last_modified)
    };
    let (hidden, hidden_at) = feed().await;
    assert!(
        hidden.contains("SUMMARY:Arsenal FC vs Chelsea FC"),
        "{hidden}"
    );
    assert!(!hidden.contains("2–1"), "{hidden}");

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    as_viewer(
        &app,
        Some(&token),
        "mutation($m: ID!) { revealMatch(matchId: $m) { id } }",
        json!({ "m": w.played }),
    )
    .await;
    let (shown, shown_at) = feed().await;
    assert!(
        shown.contains("SUMMARY:Arsenal FC 2–1 Chelsea FC"),
        "{shown}"
    );
    assert_ne!(
        shown_at, hidden_at,
        "a reveal moves Last-Modified, so no 304 hides it"
    );
}

#[tokio::test]
async fn revealing_a_match_that_does_not_exist_is_not_found() {
    let app = TestApp::spawn().await;
    let token = careful_fan(&app).await;
    let body: Value = app
        .post_as(
            Some(&token),
            "mutation { revealMatch(matchId: \"4242\") { id } }",
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
}

async fn subscribe(socket: &mut crate::common::ws::Socket, query: &str, variables: Value) -> Value {
    send(
        socket,
        json!({ "id": "s", "type": "subscribe", "payload": { "query": query, "variables": variables } }),
    )
    .await;
    next_json(socket).await
}

#[tokio::test]
async fn a_spoiler_free_socket_gets_no_live_results_but_those_of_a_revealed_match() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let token = careful_fan(&app).await;
    let init = json!({ "authorization": format!("Bearer {token}") });

    let mut socket = open(&app, init.clone()).await;
    for (query, variables) in [
        ("subscription { liveScores { id } }", json!({})),
        (
            "subscription($s: ID!) { standingsChanged(seasonId: $s) { points } }",
            json!({ "s": w.season_id }),
        ),
        (
            "subscription($m: ID!) { matchUpdated(matchId: $m) { score { home } } }",
            json!({ "m": w.played }),
        ),
        (
            "subscription($m: ID!) { matchEvents(matchId: $m) { kind } }",
            json!({ "m": w.played }),
        ),
    ] {
        let message = subscribe(&mut socket, query, variables).await;
        assert_eq!(
            message["payload"]["errors"][0]["extensions"]["code"], "SPOILER_FREE",
            "{query}: {message}"
        );
        assert_eq!(next_json(&mut socket).await["type"], "complete");
    }

    as_viewer(
        &app,
        Some(&token),
        "mutation($m: ID!) { revealMatch(matchId: $m) { id } }",
        json!({ "m": w.played }),
    )
    .await;
    let message = subscribe(
        &mut socket,
        "subscription($m: ID!) { matchUpdated(matchId: $m) { score { home away } } }",
        json!({ "m": w.played }),
    )
    .await;
    assert_eq!(
        message["payload"]["data"]["matchUpdated"]["score"],
        json!({ "home": 2, "away": 1 }),
        "{message}"
    );
}
