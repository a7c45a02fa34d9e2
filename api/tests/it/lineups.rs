//! Line-ups: the feed sets each team's formation, eleven and bench before
//! kick-off; fans read them on the match, and the match's events tell when.

use entity::UserRole;
use serde_json::{Value, json};

use crate::common::{TestApp, accounts, error_code, field_errors, seed};

const SET: &str = "mutation($m: ID!, $t: ID!, $i: LineupInput!) {
  setLineup(matchId: $m, teamId: $t, input: $i) { team { name } formation starters { shirtNumber name position } bench { shirtNumber name } }
}";

const READ: &str = "query($m: ID!) {
  match(id: $m) { lastEventSeq lineups { team { name } formation starters { shirtNumber name } bench { shirtNumber } } events { seq kind team { name } detail } }
}";

struct Fixture {
    feed: String,
    match_id: String,
    home: String,
    away: String,
    outsider: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let feed = accounts::create(&app.db, "feed@example.com", UserRole::Feed)
        .await
        .token;
    let season = seed::season(&app.db).await;
    let home = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let away = seed::team(&app.db, "Chelsea FC", "chelsea-fc").await;
    let outsider = seed::team(&app.db, "Burnley FC", "burnley-fc").await;
    let match_id = app
        .schedule_match(
            &feed,
            season.id,
            (home.id, away.id),
            seed::at(2026, 12, 20, 15, 0),
        )
        .await;
    Fixture {
        feed,
        match_id,
        home: home.id.to_string(),
        away: away.id.to_string(),
        outsider: outsider.id.to_string(),
    }
}

fn players(numbers: impl IntoIterator<Item = i64>) -> Vec<Value> {
    numbers
        .into_iter()
        .map(|n| json!({ "shirtNumber": n, "name": format!("Player {n}") }))
        .collect()
}

fn eleven() -> Vec<Value> {
    let mut starters = players(1..=11);
    starters[0] = json!({ "shirtNumber": 1, "name": " Raya ", "position": "GK" });
    starters
}

async fn set(app: &TestApp, f: &Fixture, team: &str, input: Value) -> Value {
    app.graphql_as(
        &f.feed,
        SET,
        json!({ "m": f.match_id, "t": team, "i": input }),
    )
    .await
}

async fn read(app: &TestApp, f: &Fixture) -> Value {
    let body = app.graphql(READ, json!({ "m": f.match_id })).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["match"].clone()
}

#[tokio::test]
async fn a_line_up_is_set_read_back_home_side_first_and_recorded_as_an_event() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    let away = set(
        &app,
        &f,
        &f.away,
        json!({ "formation": "4-2-3-1", "starters": players(21..=31), "bench": players([40]) }),
    )
    .await;
    assert!(away["errors"].is_null(), "{away}");
    let home = set(
        &app,
        &f,
        &f.home,
        json!({ "formation": "4-3-3", "starters": eleven(), "bench": players([12, 13]) }),
    )
    .await;
    assert_eq!(
        home["data"]["setLineup"]["starters"][0],
        json!({ "shirtNumber": 1, "name": "Raya", "position": "GK" }),
        "names and positions are trimmed"
    );

    let game = read(&app, &f).await;
    let lineups = game["lineups"].as_array().unwrap();
    assert_eq!(lineups.len(), 2);
    assert_eq!(lineups[0]["team"]["name"], "Arsenal FC");
    assert_eq!(lineups[0]["formation"], "4-3-3");
    assert_eq!(lineups[0]["starters"].as_array().unwrap().len(), 11);
    assert_eq!(
        lineups[0]["bench"],
        json!([{ "shirtNumber": 12 }, { "shirtNumber": 13 }])
    );
    assert_eq!(lineups[1]["team"]["name"], "Chelsea FC");
    assert_eq!(
        game["events"],
        json!([
            { "seq": 1, "kind": "LINEUPS", "team": { "name": "Chelsea FC" }, "detail": "4-2-3-1" },
            { "seq": 2, "kind": "LINEUPS", "team": { "name": "Arsenal FC" }, "detail": "4-3-3" },
        ])
    );

    // Sent again, it replaces the first.
    let changed = set(
        &app,
        &f,
        &f.home,
        json!({ "formation": "3-5-2", "starters": eleven() }),
    )
    .await;
    assert!(changed["errors"].is_null(), "{changed}");
    let game = read(&app, &f).await;
    assert_eq!(game["lineups"].as_array().unwrap().len(), 2);
    assert_eq!(game["lineups"][0]["formation"], "3-5-2");
    assert_eq!(game["lineups"][0]["bench"], json!([]));
    assert_eq!(game["lastEventSeq"], 3);
}

#[tokio::test]
async fn a_line_up_that_does_not_hold_together_is_refused_whole_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    let mut starters = players(1..=10);
    starters.push(json!({ "shirtNumber": 9, "name": "Twin" }));
    starters.push(json!({ "shirtNumber": 0, "name": "Zero" }));
    let body = set(
        &app,
        &f,
        &f.home,
        json!({ "formation": "4-4-3", "starters": starters, "bench": players(12..=27) }),
    )
    .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(
        field_errors(&body, "input.starters"),
        [
            "must name 11 players, not 12",
            "shirt number 9 is used twice",
            "shirt number 0 is not 1 to 99"
        ]
    );
    assert_eq!(
        field_errors(&body, "input.bench"),
        ["may name at most 15 players"]
    );
    assert_eq!(field_errors(&body, "input.formation").len(), 1, "{body}");

    let outsider = set(&app, &f, &f.outsider, json!({ "starters": eleven() })).await;
    assert_eq!(
        field_errors(&outsider, "teamId"),
        ["must be one of the two teams in the match"],
        "{outsider}"
    );

    let direct = app
        .graphql_as(
            &f.feed,
            "mutation($m: ID!, $t: ID!) { recordMatchEvent(matchId: $m, input: { kind: LINEUPS, teamId: $t }) { event { id } } }",
            json!({ "m": f.match_id, "t": f.home }),
        )
        .await;
    assert_eq!(
        field_errors(&direct, "input.kind"),
        ["set a line-up with setLineup"],
        "{direct}"
    );

    let game = read(&app, &f).await;
    assert_eq!(game["lineups"], json!([]));
    assert_eq!(game["events"], json!([]));
    assert_eq!(game["lastEventSeq"], 0);
}

#[tokio::test]
async fn line_ups_are_set_before_kick_off_and_by_the_feed_only() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    let fan = accounts::user(&app.db, "fan@example.com").await;
    let body = app
        .graphql_as(
            &fan.token,
            SET,
            json!({ "m": f.match_id, "t": f.home, "i": { "starters": eleven() } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let anonymous = app
        .graphql(
            SET,
            json!({ "m": f.match_id, "t": f.home, "i": { "starters": eleven() } }),
        )
        .await;
    assert_eq!(
        error_code(&anonymous),
        Some("UNAUTHENTICATED"),
        "{anonymous}"
    );

    app.start_match(&f.feed, &f.match_id).await;
    let late = set(&app, &f, &f.home, json!({ "starters": eleven() })).await;
    assert_eq!(
        field_errors(&late, "matchId"),
        ["line-ups are set before kick-off"],
        "{late}"
    );
    assert_eq!(read(&app, &f).await["lineups"], json!([]));
}
