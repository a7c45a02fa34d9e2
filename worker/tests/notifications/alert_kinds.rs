//! Every alert kind fans expect, recorded by the feed and told in words:
//! penalties awarded and missed, VAR checks and their outcome, the
//! periods of play, extra time, the shoot-out and its result, and the
//! final result alone.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use super::{World, fan, wait_for_outbox, world};
use test_support::TestApp;
use test_support::accounts::Account;
use test_support::notify::wait_for;

async fn record(app: &TestApp, world: &World, match_id: &str, input: Value) {
    app.ok(
        &world.feed.token,
        "mutation($m: ID!, $i: MatchEventInput!) { recordMatchEvent(matchId: $m, input: $i) { event { id } } }",
        json!({ "m": match_id, "i": input }),
    )
    .await;
}

/// The fan's inbox as (title, body), oldest first.
async fn alerts(app: &TestApp, fan: &Account) -> Vec<(String, String)> {
    let mut alerts: Vec<_> = app
        .inbox(&fan.token)
        .await
        .into_iter()
        .map(|n| (n.title, n.body))
        .collect();
    alerts.reverse();
    alerts
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(t, b)| ((*t).to_owned(), (*b).to_owned()))
        .collect()
}

#[tokio::test]
async fn a_cup_tie_decided_on_penalties_is_told_in_words_to_each_fan_as_they_asked() {
    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    let live = |kinds: Value| json!({ "liveAlerts": { "enabled": true, "kinds": kinds } });
    let (everything, _) = fan(
        &app,
        &world,
        "everything@example.com",
        live(json!([
            "PENALTY_AWARDED",
            "MISSED_PENALTY",
            "VAR_CHECK",
            "VAR_DECISION",
            "HALF_TIME",
            "SECOND_HALF",
            "EXTRA_TIME",
            "PENALTY_SHOOTOUT"
        ])),
    )
    .await;
    let (shootout, _) = fan(
        &app,
        &world,
        "shootout@example.com",
        live(json!(["PENALTY_SHOOTOUT"])),
    )
    .await;
    let (final_only, _) = fan(
        &app,
        &world,
        "final@example.com",
        live(json!(["FINAL_RESULT"])),
    )
    .await;

    let (home, away) = (world.home.id.to_string(), world.away.id.to_string());
    let kickoff = Utc::now() + Duration::hours(2);
    let feed = &world.feed.token;
    let game = app
        .schedule_match(
            feed,
            world.season.id,
            (world.home.id, world.away.id),
            kickoff,
        )
        .await;
    app.start_match(feed, &game).await;
    for input in [
        json!({ "kind": "PENALTY_AWARDED", "minute": 20, "teamId": home, "detail": "Saka brought down" }),
        json!({ "kind": "VAR_CHECK", "minute": 21, "detail": "possible offside in the build-up" }),
        json!({ "kind": "VAR_DECISION", "minute": 22, "detail": "Penalty stands" }),
        json!({ "kind": "MISSED_PENALTY", "minute": 23, "teamId": home, "player": "Saka" }),
        json!({ "kind": "HALF_TIME", "minute": 45 }),
        json!({ "kind": "SECOND_HALF", "minute": 46 }),
        json!({ "kind": "GOAL", "minute": 60, "teamId": away, "player": "Palmer" }),
        json!({ "kind": "GOAL", "minute": 80, "teamId": home, "player": "Saka" }),
        json!({ "kind": "EXTRA_TIME", "minute": 90 }),
        json!({ "kind": "PENALTY_SHOOTOUT", "minute": 120 }),
        json!({ "kind": "PENALTY_GOAL", "teamId": home, "player": "Saka" }),
        json!({ "kind": "MISSED_PENALTY", "teamId": away, "player": "Palmer" }),
        json!({ "kind": "PENALTY_GOAL", "teamId": home, "player": "Odegaard" }),
        json!({ "kind": "FULL_TIME", "minute": 120 }),
    ] {
        record(&app, &world, &game, input).await;
    }
    wait_for(20, "the final whistle's alert", || async {
        (app.inbox(&everything.token).await.len() >= 10).then_some(())
    })
    .await;
    wait_for_outbox(&app).await;

    let result = (
        "Full-time: Arsenal win on penalties",
        "Arsenal 1-1 Chelsea after extra time; Arsenal win 2-0 on penalties.",
    );
    assert_eq!(
        alerts(&app, &everything).await,
        pairs(&[
            (
                "Penalty to Arsenal 20'",
                "Arsenal 0-0 Chelsea. Saka brought down."
            ),
            (
                "VAR check 21'",
                "Arsenal 0-0 Chelsea. VAR is checking possible offside in the build-up."
            ),
            (
                "VAR decision 22'",
                "Arsenal 0-0 Chelsea. VAR: Penalty stands."
            ),
            ("Missed penalty 23' (Saka)", "Arsenal 0-0 Chelsea."),
            ("Half-time", "Arsenal 0-0 Chelsea at half-time."),
            (
                "Second half",
                "Arsenal 0-0 Chelsea: the second half is under way."
            ),
            (
                "Extra time",
                "Arsenal 1-1 Chelsea after 90 minutes: extra time begins."
            ),
            (
                "Penalty shoot-out",
                "Arsenal 1-1 Chelsea: a penalty shoot-out decides it."
            ),
            ("Missed penalty (Palmer)", "Arsenal 1-1 Chelsea."),
            result,
        ])
    );
    assert_eq!(
        alerts(&app, &shootout).await,
        pairs(&[
            (
                "Penalty shoot-out",
                "Arsenal 1-1 Chelsea: a penalty shoot-out decides it."
            ),
            result,
        ])
    );
    assert_eq!(alerts(&app, &final_only).await, pairs(&[result]));
    let payload = &app.inbox(&final_only.token).await[0].payload;
    assert_eq!(payload["eventKind"], "FULL_TIME");
    assert_eq!(
        (
            payload["homePenalties"].clone(),
            payload["awayPenalties"].clone()
        ),
        (json!(2), json!(0))
    );
}

#[tokio::test]
async fn a_daily_digest_tells_a_result_after_extra_time_and_penalties_in_words() {
    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    let (fan, _) = fan(
        &app,
        &world,
        "digest@example.com",
        json!({ "timeZone": "UTC", "dailyDigest": { "enabled": true, "time": "08:00" } }),
    )
    .await;
    let kickoff = super::at("2026-12-01T19:45:00Z");
    let game = world.result(&app, kickoff, (1, 1)).await;
    let mut decided: entity::football_match::ActiveModel = game.into();
    use sea_orm::{ActiveModelTrait as _, ActiveValue::Set};
    decided.extra_time_home = Set(Some(1));
    decided.extra_time_away = Set(Some(1));
    decided.penalties_home = Set(Some(3));
    decided.penalties_away = Set(Some(4));
    decided.update(&app.db).await.unwrap();

    let sent = world
        .send_digest(&app, "DAILY", fan.id, "2026-12-02T08:00:00Z")
        .await;
    assert_eq!(sent["outcome"], "SENT", "{sent}");
    assert_eq!(
        sent["notification"]["body"],
        "Yesterday\n  Arsenal 1-1 Chelsea after extra time; Chelsea win 4-3 on penalties"
    );
    let result = &sent["notification"]["payload"]["results"][0];
    assert_eq!(result["afterExtraTime"], true);
    assert_eq!(
        (
            result["homePenalties"].clone(),
            result["awayPenalties"].clone()
        ),
        (json!(3), json!(4))
    );
}

#[tokio::test]
async fn a_fan_who_asked_for_the_final_result_only_hears_of_no_schedule_change() {
    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    let (final_only, _) = fan(
        &app,
        &world,
        "final@example.com",
        json!({ "liveAlerts": { "enabled": true, "kinds": ["FINAL_RESULT"] } }),
    )
    .await;
    let (everyone_else, _) = fan(&app, &world, "fan@example.com", json!({})).await;
    let feed = &world.feed.token;
    let kickoff = Utc::now() + Duration::days(2);
    let game = app
        .schedule_match(
            feed,
            world.season.id,
            (world.home.id, world.away.id),
            kickoff,
        )
        .await;
    app.ok(
        feed,
        "mutation($m: ID!) { postponeMatch(matchId: $m) { status } }",
        json!({ "m": game }),
    )
    .await;
    let told = wait_for(10, "the schedule change", || async {
        app.inbox(&everyone_else.token).await.into_iter().next()
    })
    .await;
    assert_eq!(told.kind, "SCHEDULE_CHANGE");
    wait_for_outbox(&app).await;
    assert!(app.inbox(&final_only.token).await.is_empty());
}
