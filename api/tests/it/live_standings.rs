//! Live provisional standings: `standings(live: true)` counts matches in
//! play at their current score, and `standingsChanged` pushes the table when
//! a goal moves it, over a real websocket.

use entity::UserRole;
use serde_json::{Value, json};

use crate::common::ws::{next_json, open, send};
use crate::common::{TestApp, accounts, seed};

const LIVE_TABLE: &str = "query($s: ID!, $live: Boolean!) {
  standings(seasonId: $s, live: $live) { team { name } played points goalDifference provisional }
}";

const CHANGES: &str = "subscription($s: ID!) {
  standingsChanged(seasonId: $s) { team { name } played points provisional }
}";

/// Three teams; Arsenal beat Chelsea last week; Chelsea v Burnley is
/// scheduled. Returns the feeder's token, the season id and that match's id
/// and Chelsea's team id.
struct Matchday {
    feed: String,
    season_id: String,
    match_id: String,
    chelsea: i64,
}

async fn matchday(app: &TestApp) -> Matchday {
    let feed = accounts::create(&app.db, "feed@example.com", UserRole::Feed)
        .await
        .token;
    let season = seed::season(&app.db).await;
    let arsenal = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let chelsea = seed::team(&app.db, "Chelsea FC", "chelsea-fc").await;
    let burnley = seed::team(&app.db, "Burnley FC", "burnley-fc").await;
    seed::finished_match(
        &app.db,
        &season,
        &arsenal,
        &chelsea,
        seed::at(2026, 12, 1, 15, 0),
        (1, 0),
        (1, 0),
    )
    .await;
    let match_id = app
        .schedule_match(
            &feed,
            season.id,
            (chelsea.id, burnley.id),
            seed::at(2026, 12, 8, 15, 0),
        )
        .await;
    Matchday {
        feed,
        season_id: season.id.to_string(),
        match_id,
        chelsea: chelsea.id,
    }
}

fn line(name: &str, played: i64, points: i64, provisional: bool) -> Value {
    json!({ "team": { "name": name }, "played": played, "points": points, "provisional": provisional })
}

#[tokio::test]
async fn a_live_table_counts_a_match_in_play_at_its_score_and_marks_it_provisional() {
    let app = TestApp::spawn().await;
    let day = matchday(&app).await;
    app.start_match(&day.feed, &day.match_id).await;
    app.record_goal(&day.feed, &day.match_id, day.chelsea, 30, "Palmer")
        .await;

    let table = |live: bool| {
        let variables = json!({ "s": day.season_id, "live": live });
        let app = &app;
        async move {
            let body = app.graphql(LIVE_TABLE, variables).await;
            assert!(body["errors"].is_null(), "{body}");
            body["data"]["standings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|row| {
                    let mut row = row.clone();
                    row.as_object_mut().unwrap().remove("goalDifference");
                    row
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        table(false).await,
        [
            line("Arsenal FC", 1, 3, false),
            line("Burnley FC", 0, 0, false),
            line("Chelsea FC", 1, 0, false),
        ],
        "without live, only finished matches count"
    );
    assert_eq!(
        table(true).await,
        [
            line("Arsenal FC", 1, 3, false),
            line("Chelsea FC", 2, 3, true),
            line("Burnley FC", 1, 0, true),
        ]
    );
}

#[tokio::test]
async fn live_and_as_of_together_are_refused() {
    let app = TestApp::spawn().await;
    let day = matchday(&app).await;
    let body = app
        .graphql(
            "query($s: ID!) { standings(seasonId: $s, live: true, asOf: \"2026-12-01T00:00:00Z\") { position } }",
            json!({ "s": day.season_id }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    assert!(
        body["data"].is_null() || body["data"]["standings"].is_null(),
        "{body}"
    );
}

#[tokio::test]
async fn standings_changed_pushes_the_table_when_a_goal_moves_it_and_not_for_a_card() {
    let app = TestApp::spawn().await;
    let day = matchday(&app).await;
    let mut socket = open(&app, json!({})).await;
    send(
        &mut socket,
        json!({ "id": "t", "type": "subscribe", "payload": { "query": CHANGES, "variables": { "s": day.season_id } } }),
    )
    .await;
    let mut next_table = async || {
        let message = next_json(&mut socket).await;
        assert_eq!(message["type"], "next", "{message}");
        assert!(message["payload"]["errors"].is_null(), "{message}");
        message["payload"]["data"]["standingsChanged"].clone()
    };
    // The table as it is now.
    assert_eq!(next_table().await[0], line("Arsenal FC", 1, 3, false));

    // Kick-off: both teams are on a provisional draw.
    app.start_match(&day.feed, &day.match_id).await;
    let kicked_off = next_table().await;
    assert_eq!(
        kicked_off[1],
        line("Burnley FC", 1, 1, true),
        "{kicked_off}"
    );
    assert_eq!(
        kicked_off[2],
        line("Chelsea FC", 2, 1, true),
        "{kicked_off}"
    );

    // A card moves nothing, so the next table is the goal's.
    app.ok(
        &day.feed,
        "mutation($m: ID!, $t: ID!) { recordMatchEvent(matchId: $m, input: { kind: YELLOW_CARD, minute: 20, teamId: $t, player: \"Caicedo\" }) { event { id } } }",
        json!({ "m": day.match_id, "t": day.chelsea.to_string() }),
    )
    .await;
    app.record_goal(&day.feed, &day.match_id, day.chelsea, 30, "Palmer")
        .await;
    let after_goal = next_table().await;
    assert_eq!(
        after_goal,
        json!([
            line("Arsenal FC", 1, 3, false),
            line("Chelsea FC", 2, 3, true),
            line("Burnley FC", 1, 0, true),
        ])
    );
}

#[tokio::test]
async fn standings_changed_for_an_unknown_season_is_an_error() {
    let app = TestApp::spawn().await;
    let mut socket = open(&app, json!({})).await;
    send(
        &mut socket,
        json!({ "id": "t", "type": "subscribe", "payload": { "query": CHANGES, "variables": { "s": "4242" } } }),
    )
    .await;
    let message = next_json(&mut socket).await;
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(
        message["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{message}"
    );
}
