//! A season's scorers over the wire: goals, penalties, own goals, assists
//! and cards as the feed records them, corrections and shoot-outs left out,
//! and a match in play counted as it goes.

use entity::UserRole;
use serde_json::{Value, json};

use crate::common::{TestApp, accounts, error_code, field_errors, seed};

const SCORERS: &str = "query($s: ID!, $t: ID) { scorers(seasonId: $s, teamId: $t) {
  player team { name } goals penalties ownGoals assists yellowCards redCards matches } }";

async fn event(app: &TestApp, feed: &str, m: &str, input: Value) -> String {
    let data = app
        .ok(
            feed,
            "mutation($m: ID!, $i: MatchEventInput!) { recordMatchEvent(matchId: $m, input: $i) { event { id } } }",
            json!({ "m": m, "i": input }),
        )
        .await;
    data["recordMatchEvent"]["event"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn line(player: &str, team: &str, stats: [i64; 7]) -> Value {
    let [goals, penalties, own_goals, assists, yellow, red, matches] = stats;
    json!({ "player": player, "team": { "name": team }, "goals": goals, "penalties": penalties,
            "ownGoals": own_goals, "assists": assists, "yellowCards": yellow, "redCards": red,
            "matches": matches })
}

#[tokio::test]
async fn scorers_count_goals_penalties_and_assists_but_not_own_goals_shootouts_or_corrections() {
    let app = TestApp::spawn().await;
    let feed = accounts::create(&app.db, "feed@example.com", UserRole::Feed)
        .await
        .token;
    let season = seed::season(&app.db).await;
    let arsenal = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let chelsea = seed::team(&app.db, "Chelsea FC", "chelsea-fc").await;
    let (a, c) = (arsenal.id.to_string(), chelsea.id.to_string());
    let first = app
        .schedule_match(
            &feed,
            season.id,
            (arsenal.id, chelsea.id),
            seed::at(2026, 4, 1, 19, 0),
        )
        .await;
    app.start_match(&feed, &first).await;
    event(&app, &feed, &first, json!({ "kind": "GOAL", "teamId": a, "player": "Saka", "assist": "Ødegaard", "minute": 10 })).await;
    event(
        &app,
        &feed,
        &first,
        json!({ "kind": "PENALTY_GOAL", "teamId": a, "player": "Saka", "minute": 30 }),
    )
    .await;
    event(
        &app,
        &feed,
        &first,
        json!({ "kind": "OWN_GOAL", "teamId": c, "player": "Colwill", "minute": 40 }),
    )
    .await;
    let offside = event(
        &app,
        &feed,
        &first,
        json!({ "kind": "GOAL", "teamId": c, "player": "Palmer", "minute": 50 }),
    )
    .await;
    app.ok(
        &feed,
        "mutation($e: ID!) { cancelMatchEvent(eventId: $e, reason: \"offside\") { event { id } } }",
        json!({ "e": offside }),
    )
    .await;
    event(
        &app,
        &feed,
        &first,
        json!({ "kind": "YELLOW_CARD", "teamId": c, "player": "Caicedo", "minute": 60 }),
    )
    .await;
    event(
        &app,
        &feed,
        &first,
        json!({ "kind": "SECOND_YELLOW", "teamId": c, "player": "Caicedo", "minute": 70 }),
    )
    .await;
    event(&app, &feed, &first, json!({ "kind": "PENALTY_SHOOTOUT" })).await;
    event(
        &app,
        &feed,
        &first,
        json!({ "kind": "PENALTY_GOAL", "teamId": c, "player": "Palmer" }),
    )
    .await;
    event(
        &app,
        &feed,
        &first,
        json!({ "kind": "MISSED_PENALTY", "teamId": a, "player": "Saka" }),
    )
    .await;

    // A second match, in play: its goal counts at once.
    let second = app
        .schedule_match(
            &feed,
            season.id,
            (chelsea.id, arsenal.id),
            seed::at(2026, 4, 8, 19, 0),
        )
        .await;
    app.start_match(&feed, &second).await;
    event(&app, &feed, &second, json!({ "kind": "GOAL", "teamId": c, "player": "Palmer", "assist": "Jackson", "minute": 5 })).await;

    let body = app
        .graphql(SCORERS, json!({ "s": season.id.to_string() }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(
        body["data"]["scorers"],
        json!([
            line("Saka", "Arsenal FC", [2, 1, 0, 0, 0, 0, 1]),
            line("Palmer", "Chelsea FC", [1, 0, 0, 0, 0, 0, 1]),
            line("Jackson", "Chelsea FC", [0, 0, 0, 1, 0, 0, 1]),
            line("Ødegaard", "Arsenal FC", [0, 0, 0, 1, 0, 0, 1]),
            line("Caicedo", "Chelsea FC", [0, 0, 0, 0, 1, 1, 1]),
            line("Colwill", "Chelsea FC", [0, 0, 1, 0, 0, 0, 1]),
        ])
    );

    let chelsea_only = app
        .graphql(SCORERS, json!({ "s": season.id.to_string(), "t": c }))
        .await;
    let players: Vec<&str> = chelsea_only["data"]["scorers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["player"].as_str().unwrap())
        .collect();
    assert_eq!(players, ["Palmer", "Jackson", "Caicedo", "Colwill"]);
}

#[tokio::test]
async fn bad_scorer_requests_name_the_field() {
    let app = TestApp::spawn().await;
    let feed = accounts::create(&app.db, "feed@example.com", UserRole::Feed)
        .await
        .token;
    let season = seed::season(&app.db).await;
    let arsenal = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let chelsea = seed::team(&app.db, "Chelsea FC", "chelsea-fc").await;

    let too_many = app
        .graphql(
            "query($s: ID!) { scorers(seasonId: $s, first: 500) { player } }",
            json!({ "s": season.id.to_string() }),
        )
        .await;
    assert_eq!(
        field_errors(&too_many, "first"),
        ["must be between 1 and 100"]
    );
    let unknown = app
        .graphql(r#"{ scorers(seasonId: "4242") { player } }"#, json!({}))
        .await;
    assert_eq!(error_code(&unknown), Some("NOT_FOUND"));

    let m = app
        .schedule_match(
            &feed,
            season.id,
            (arsenal.id, chelsea.id),
            seed::at(2026, 4, 1, 19, 0),
        )
        .await;
    app.start_match(&feed, &m).await;
    let body = app
        .graphql_as(
            &feed,
            "mutation($m: ID!, $i: MatchEventInput!) { recordMatchEvent(matchId: $m, input: $i) { event { id } } }",
            json!({ "m": m, "i": { "kind": "YELLOW_CARD", "teamId": arsenal.id.to_string(), "player": "Rice", "assist": "Saka" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(
        field_errors(&body, "input.assist"),
        ["only a goal has an assist (not a penalty, an own goal or another event)"]
    );
    let events = app
        .graphql(
            "query($m: ID!) { match(id: $m) { events { kind } } }",
            json!({ "m": m }),
        )
        .await;
    assert_eq!(
        events["data"]["match"]["events"],
        json!([{ "kind": "KICK_OFF" }]),
        "nothing written"
    );
}
