//! A fan's stream delay through the API: the setting, and their signed-in
//! live subscriptions held back that long after each event, while an
//! anonymous viewer of the same match gets it at once and resuming with
//! `afterSeq` still misses nothing and repeats nothing.

use std::time::{Duration, Instant};

use entity::UserRole;
use serde_json::{Value, json};

use crate::common::ws::{Socket, next_json, open, send, wait_for_open_subscriptions};
use crate::common::{TestApp, accounts, seed};
use crate::stages::{SecondLeg, second_leg_under_way};

const DELAY: Duration = Duration::from_secs(2);

const EVENTS: &str = "subscription($m: ID!, $after: Int!) { matchEvents(matchId: $m, afterSeq: $after) { seq kind player } }";

async fn subscribe_events(socket: &mut Socket, match_id: &str, after_seq: i32) {
    send(
        socket,
        json!({ "id": "1", "type": "subscribe",
                "payload": { "query": EVENTS, "variables": { "m": match_id, "after": after_seq } } }),
    )
    .await;
}

/// A live match between Arsenal and Chelsea, and a fan with a stream
/// delay of `DELAY`.
struct Delayed {
    feed: String,
    arsenal: i64,
    chelsea: i64,
    match_id: String,
    /// The fan's `connection_init` payload: a socket signed in with it is
    /// delayed.
    signed_in: Value,
}

impl Delayed {
    async fn set_up(app: &TestApp) -> Self {
        let feed = accounts::create(&app.db, "feed@example.com", UserRole::Feed)
            .await
            .token;
        let season = seed::season(&app.db).await;
        let arsenal = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
        let chelsea = seed::team(&app.db, "Chelsea FC", "chelsea-fc").await;
        let match_id = app
            .schedule_match(
                &feed,
                season.id,
                (arsenal.id, chelsea.id),
                chrono::Utc::now() + chrono::Duration::hours(1),
            )
            .await;
        app.start_match(&feed, &match_id).await;
        Self {
            feed,
            arsenal: arsenal.id,
            chelsea: chelsea.id,
            match_id,
            signed_in: delayed_fan(app).await,
        }
    }
}

/// Signs a fan up with a stream delay of `DELAY`; returns the
/// `connection_init` payload of a socket signed in as them.
async fn delayed_fan(app: &TestApp) -> Value {
    let fan = accounts::user(&app.db, "fan@example.com").await;
    app.ok(
        &fan.token,
        "mutation($s: Int!) { updateNotificationPreferences(input: { streamDelaySeconds: $s }) { preferences { streamDelaySeconds } } }",
        json!({ "s": DELAY.as_secs() }),
    )
    .await;
    json!({ "authorization": format!("Bearer {}", fan.token) })
}

/// The next event a socket is sent, as `(seq, player)`.
async fn next_event(socket: &mut Socket) -> (i64, Value) {
    let message = next_json(socket).await;
    assert_eq!(message["type"], "next", "{message}");
    let event = &message["payload"]["data"]["matchEvents"];
    (
        event["seq"].as_i64().expect("a seq"),
        event["player"].clone(),
    )
}

#[tokio::test]
async fn a_fan_sets_a_stream_delay_of_up_to_120_seconds_and_reads_it_back() {
    let app = TestApp::spawn().await;
    let fan = accounts::user(&app.db, "fan@example.com").await;
    let read = "{ me { preferences { streamDelaySeconds spoilerFree } } }";
    assert_eq!(
        app.ok(&fan.token, read, json!({})).await["me"]["preferences"],
        json!({ "streamDelaySeconds": 0, "spoilerFree": false })
    );
    for seconds in [45, 120, 0] {
        let data = app
            .ok(
                &fan.token,
                "mutation($s: Int!) { updateNotificationPreferences(input: { streamDelaySeconds: $s }) {
                   preferences { streamDelaySeconds } } }",
                json!({ "s": seconds }),
            )
            .await;
        assert_eq!(
            data["updateNotificationPreferences"]["preferences"]["streamDelaySeconds"],
            seconds
        );
        assert_eq!(
            app.ok(&fan.token, read, json!({})).await["me"]["preferences"]["streamDelaySeconds"],
            seconds
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_delayed_fan_sees_each_live_event_the_delay_after_it_and_resumes_without_gap_or_repeat() {
    let app = TestApp::spawn().await;
    let Delayed {
        feed,
        arsenal,
        chelsea,
        match_id,
        signed_in,
    } = Delayed::set_up(&app).await;

    let mut anonymous = open(&app, json!({})).await;
    let mut delayed = open(&app, signed_in.clone()).await;
    subscribe_events(&mut anonymous, &match_id, 1).await;
    subscribe_events(&mut delayed, &match_id, 1).await;
    wait_for_open_subscriptions(&app, "2").await;

    let recorded = Instant::now();
    app.record_goal(&feed, &match_id, arsenal, 23, "Saka").await;
    assert_eq!(next_event(&mut anonymous).await, (2, json!("Saka")));
    let anonymous_after = recorded.elapsed();
    assert_eq!(next_event(&mut delayed).await, (2, json!("Saka")));
    let delayed_after = recorded.elapsed();
    assert!(
        anonymous_after < delayed_after,
        "{anonymous_after:?} {delayed_after:?}"
    );
    // Released at the event's time plus the delay; the event was stored
    // after `recorded`, the clocks agree to within a few milliseconds.
    assert!(
        delayed_after >= DELAY - Duration::from_millis(50),
        "the goal came {delayed_after:?} after it was recorded"
    );

    // A reconnect with the last seq seen: the next goal, once, held back too.
    drop(delayed);
    let mut resumed = open(&app, signed_in.clone()).await;
    subscribe_events(&mut resumed, &match_id, 2).await;
    wait_for_open_subscriptions(&app, "2").await;
    let recorded = Instant::now();
    app.record_goal(&feed, &match_id, chelsea, 60, "Palmer")
        .await;
    assert_eq!(next_event(&mut anonymous).await, (3, json!("Palmer")));
    assert_eq!(next_event(&mut resumed).await, (3, json!("Palmer")));
    assert!(recorded.elapsed() >= DELAY - Duration::from_millis(50));

    // From the start: what is older than the delay at once, in order,
    // each once, then the next live one in its turn.
    let mut replay = open(&app, signed_in).await;
    subscribe_events(&mut replay, &match_id, 0).await;
    assert_eq!(next_event(&mut replay).await.0, 1);
    assert_eq!(next_event(&mut replay).await.0, 2);
    assert_eq!(next_event(&mut replay).await.0, 3);
    app.record_goal(&feed, &match_id, arsenal, 70, "Rice").await;
    assert_eq!(next_event(&mut replay).await, (4, json!("Rice")));
    assert_eq!(next_event(&mut resumed).await, (4, json!("Rice")));
    app.stop().await;
}

#[tokio::test]
async fn a_delayed_fan_s_match_updates_show_a_goal_only_the_delay_after_it() {
    let app = TestApp::spawn().await;
    let Delayed {
        feed,
        arsenal,
        match_id,
        signed_in,
        ..
    } = Delayed::set_up(&app).await;
    // Long enough after the kick-off that the match as it stands is not news.
    tokio::time::sleep(DELAY).await;
    let mut delayed = open(&app, signed_in).await;
    send(
        &mut delayed,
        json!({ "id": "1", "type": "subscribe",
                "payload": { "query": "subscription($m: ID!) { matchUpdated(matchId: $m) { status score { home away } events { player } } }",
                             "variables": { "m": match_id } } }),
    )
    .await;
    let first = next_json(&mut delayed).await;
    assert_eq!(
        first["payload"]["data"]["matchUpdated"]["score"],
        json!({ "home": 0, "away": 0 }),
        "{first}"
    );
    let recorded = Instant::now();
    app.record_goal(&feed, &match_id, arsenal, 23, "Saka").await;
    // A second goal right after: the first update, sent after the delay,
    // tells the first goal alone, its events included.
    app.record_goal(&feed, &match_id, arsenal, 24, "Rice").await;
    let update = next_json(&mut delayed).await;
    assert!(recorded.elapsed() >= DELAY - Duration::from_millis(50));
    assert_eq!(
        update["payload"]["data"]["matchUpdated"],
        json!({ "status": "LIVE", "score": { "home": 1, "away": 0 },
                "events": [{ "player": null }, { "player": "Saka" }] }),
        "{update}"
    );
    let update = next_json(&mut delayed).await;
    assert_eq!(
        update["payload"]["data"]["matchUpdated"]["score"],
        json!({ "home": 2, "away": 0 }),
        "{update}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_delayed_fan_s_update_shows_the_match_and_its_tie_as_they_were_when_it_happened() {
    let app = TestApp::spawn().await;
    let SecondLeg {
        feed,
        arsenal,
        second,
        ..
    } = second_leg_under_way(&app).await;
    let signed_in = delayed_fan(&app).await;
    // Long enough after the kick-off that the match as it stands is not news.
    tokio::time::sleep(DELAY).await;

    let selection = "status score { home away } events { player cancelled }
                     tie { status aggregate { teamA teamB } winner { name } matches { status score { home away } } }";
    let mut delayed = open(&app, signed_in).await;
    send(
        &mut delayed,
        json!({ "id": "updated", "type": "subscribe", "payload": {
            "query": format!("subscription($m: ID!) {{ matchUpdated(matchId: $m) {{ {selection} }} }}"),
            "variables": { "m": second } } }),
    )
    .await;
    send(
        &mut delayed,
        json!({ "id": "scores", "type": "subscribe", "payload": {
            "query": format!("subscription {{ liveScores {{ {selection} }} }}") } }),
    )
    .await;
    let mut now = Vec::new();
    for _ in 0..2 {
        let message = next_json(&mut delayed).await;
        assert_eq!(message["type"], "next", "{message}");
        now.push(message["id"].clone());
    }
    now.sort_by_key(|id| id.to_string());
    assert_eq!(now, [json!("scores"), json!("updated")]);

    // Within the delay: Arsenal score in Paris, the goal is ruled out,
    // then the match is called off.
    let recorded = Instant::now();
    let goal = app
        .record_goal(&feed, &second, arsenal.id, 27, "Saka")
        .await;
    app.ok(
        &feed,
        "mutation($e: ID!) { cancelMatchEvent(eventId: $e, reason: \"Offside\") { event { id } } }",
        json!({ "e": goal }),
    )
    .await;
    app.ok(
        &feed,
        "mutation($m: ID!) { cancelMatch(matchId: $m) { status } }",
        json!({ "m": second }),
    )
    .await;

    // The goal's update, sent after the delay, shows the match as the goal
    // left it: live, level on aggregate, the goal standing.
    let as_it_was = json!({
        "status": "LIVE",
        "score": { "home": 0, "away": 1 },
        "events": [
            { "player": null, "cancelled": false },
            { "player": "Saka", "cancelled": false }
        ],
        "tie": {
            "status": "IN_PROGRESS",
            "aggregate": { "teamA": 1, "teamB": 1 },
            "winner": null,
            "matches": [
                { "status": "FINISHED", "score": { "home": 0, "away": 1 } },
                { "status": "LIVE", "score": { "home": 0, "away": 1 } }
            ]
        }
    });
    let mut goal_updates = serde_json::Map::new();
    while goal_updates.len() < 2 {
        let message = next_json(&mut delayed).await;
        assert_eq!(message["type"], "next", "{message}");
        let id = message["id"].as_str().expect("an id").to_owned();
        let field = if id == "updated" {
            "matchUpdated"
        } else {
            "liveScores"
        };
        goal_updates
            .entry(id)
            .or_insert_with(|| message["payload"]["data"][field].clone());
    }
    assert!(recorded.elapsed() >= DELAY - Duration::from_millis(50));
    assert_eq!(goal_updates["updated"], as_it_was, "matchUpdated");
    assert_eq!(goal_updates["scores"], as_it_was, "liveScores");
    app.stop().await;
}
