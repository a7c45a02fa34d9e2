use serde_json::json;

use super::{at, fan, world};
use test_support::TestApp;

#[tokio::test]
async fn followers_who_asked_for_line_ups_hear_when_one_is_announced() {
    // No worker loops: the outbox is read once, by hand.
    let app = TestApp::spawn().await;
    let world = world(&app).await;
    let (lineups_fan, _) = fan(
        &app,
        &world,
        "lineups@example.com",
        json!({ "liveAlerts": { "enabled": true, "kinds": ["LINEUPS"] } }),
    )
    .await;
    let (goals_fan, _) = fan(
        &app,
        &world,
        "goals@example.com",
        json!({ "liveAlerts": { "enabled": true, "kinds": ["GOAL"] } }),
    )
    .await;
    let match_id = app
        .schedule_match(
            &world.feed.token,
            world.season.id,
            (world.home.id, world.away.id),
            at("2031-12-06T20:00:00Z"),
        )
        .await;
    let starters: Vec<_> = (1..=11)
        .map(|n| json!({ "shirtNumber": n, "name": format!("Player {n}") }))
        .collect();
    app.ok(
        &world.feed.token,
        "mutation($m: ID!, $t: ID!, $i: LineupInput!) { setLineup(matchId: $m, teamId: $t, input: $i) { formation } }",
        json!({ "m": match_id, "t": world.home.id.to_string(), "i": { "formation": "4-3-3", "starters": starters } }),
    )
    .await;

    let relayed = worker::outbox::relay(&app.worker).await.expect("a poll");
    assert_eq!(relayed, 2, "the schedule and the line-up");
    let alerts = app.inbox(&lineups_fan.token).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].kind, "LIVE_EVENT");
    assert_eq!(alerts[0].title, "Line-up: Arsenal");
    assert_eq!(
        alerts[0].body,
        "Arsenal v Chelsea: Arsenal's line-up is in (4-3-3)."
    );
    assert_eq!(alerts[0].payload["eventKind"], "LINEUPS");
    assert_eq!(alerts[0].payload["formation"], "4-3-3");
    assert!(app.inbox(&goals_fan.token).await.is_empty());

    let kinds = app
        .ok(
            &lineups_fan.token,
            "{ me { preferences { liveAlerts { kinds } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        kinds["me"]["preferences"]["liveAlerts"]["kinds"],
        json!(["LINEUPS"])
    );
}
