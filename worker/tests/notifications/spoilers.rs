//! Spoiler-free mode in what the worker sends: no alert or digest tells a
//! result the user has not revealed; fixtures and kick-offs still come.

use serde_json::json;

use super::{at, fan, world};
use test_support::TestApp;

#[tokio::test]
async fn a_spoiler_free_digest_after_a_match_day_holds_the_fixture_and_no_score() {
    let app = TestApp::spawn().await;
    let world = world(&app).await;
    let weekly = json!({ "weeklyDigest": { "enabled": true, "day": "MONDAY", "time": "09:00" } });
    let (careful, _) = fan(&app, &world, "careful@example.com", weekly.clone()).await;
    test_support::notify::set_preferences(&app, &careful.token, json!({ "spoilerFree": true }))
        .await;
    let (plain, _) = fan(&app, &world, "plain@example.com", weekly).await;
    // Monday 30 November 2026, 09:00 in London: Saturday's result, and
    // next Saturday's fixture.
    let played = world.result(&app, at("2026-11-28T15:00:00Z"), (3, 0)).await;
    world.fixture(&app, at("2026-12-05T17:30:00Z")).await;

    let digest = |user_id: i64| world.send_digest(&app, "WEEKLY", user_id, "2026-11-30T09:00:00Z");
    let sent = digest(careful.id).await;
    assert_eq!(sent["outcome"], "SENT", "{sent}");
    let body = sent["notification"]["body"].as_str().unwrap();
    assert!(
        body.contains("Sat  5 Dec 17:30  Arsenal v Chelsea"),
        "{body}"
    );
    assert!(body.contains("Arsenal v Chelsea (result hidden)"), "{body}");
    assert!(!body.contains("3-0"), "{body}");
    assert!(
        !body.contains("League positions"),
        "a table tells results: {body}"
    );
    let payload = &sent["notification"]["payload"];
    assert_eq!(payload["fixtures"].as_array().unwrap().len(), 1);
    assert_eq!(
        payload["results"][0],
        json!({ "matchId": played.id, "homeTeam": "Arsenal", "awayTeam": "Chelsea",
                "homeScore": null, "awayScore": null, "hidden": true })
    );
    assert_eq!(payload["positions"], json!([]));

    let sent = digest(plain.id).await;
    let body = sent["notification"]["body"].as_str().unwrap();
    assert!(body.contains("Arsenal 3-0 Chelsea"), "{body}");
    assert_eq!(
        sent["notification"]["payload"]["results"][0]["hidden"],
        false
    );
}

#[tokio::test]
async fn a_spoiler_free_follower_hears_the_kick_off_and_the_goals_only_of_a_revealed_match() {
    // No worker loops: the outbox is read by hand after each step.
    let app = TestApp::spawn().await;
    let world = world(&app).await;
    let alerts = json!({ "liveAlerts": { "enabled": true, "kinds": ["KICK_OFF", "GOAL"] } });
    let (careful, _) = fan(&app, &world, "careful@example.com", alerts.clone()).await;
    test_support::notify::set_preferences(&app, &careful.token, json!({ "spoilerFree": true }))
        .await;
    let (plain, _) = fan(&app, &world, "plain@example.com", alerts).await;
    let feed = &world.feed.token;
    let match_id = app
        .schedule_match(
            feed,
            world.season.id,
            (world.home.id, world.away.id),
            at("2031-12-06T20:00:00Z"),
        )
        .await;
    app.start_match(feed, &match_id).await;
    app.record_goal(feed, &match_id, world.home.id, 23, "Saka")
        .await;
    worker::outbox::relay(&app.worker).await.expect("a poll");
    let titles = |token: String| {
        let app = &app;
        async move {
            let mut titles: Vec<String> = app
                .inbox(&token)
                .await
                .into_iter()
                .map(|n| n.title)
                .collect();
            titles.sort();
            titles
        }
    };
    assert_eq!(titles(careful.token.clone()).await, ["Kick-off"]);
    assert_eq!(
        titles(plain.token.clone()).await,
        ["Goal 23' (Saka)", "Kick-off"]
    );

    app.ok(
        &careful.token,
        "mutation($m: ID!) { revealMatch(matchId: $m) { id } }",
        json!({ "m": match_id }),
    )
    .await;
    app.record_goal(feed, &match_id, world.home.id, 67, "Havertz")
        .await;
    worker::outbox::relay(&app.worker).await.expect("a poll");
    assert_eq!(
        titles(careful.token.clone()).await,
        ["Goal 67' (Havertz)", "Kick-off"]
    );
}
