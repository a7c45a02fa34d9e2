//! Follows of a whole competition or a single match, each with its own
//! alert kinds: who hears of what, once, and what the digests tell.

use chrono::Utc;
use entity::{CompetitionKind, competition, season};
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set};
use serde_json::{Value, json};

use super::{World, at, fan, wait_for_outbox, world};
use test_support::accounts::{self, Account};
use test_support::notify::{set_preferences, wait_for};
use test_support::{TestApp, seed};

async fn follow_competition(app: &TestApp, token: &str, competition_id: i64, kinds: Value) {
    app.ok(
        token,
        "mutation($c: ID!, $k: [LiveAlertKind!]) { followCompetition(competitionId: $c, alertKinds: $k) { followedAt } }",
        json!({ "c": competition_id.to_string(), "k": kinds }),
    )
    .await;
}

async fn follow_match(app: &TestApp, token: &str, match_id: &str, kinds: Value) {
    app.ok(
        token,
        "mutation($m: ID!, $k: [LiveAlertKind!]) { followMatch(matchId: $m, alertKinds: $k) { followedAt } }",
        json!({ "m": match_id, "k": kinds }),
    )
    .await;
}

async fn end_match(app: &TestApp, world: &World, match_id: &str) {
    app.ok(
        &world.feed.token,
        "mutation($m: ID!) { endMatch(matchId: $m) { event { id } } }",
        json!({ "m": match_id }),
    )
    .await;
}

/// A fan who follows nothing yet, with these preferences.
async fn fan_of_nothing(app: &TestApp, email: &str, preferences: Value) -> Account {
    let fan = accounts::user(&app.db, email).await;
    set_preferences(app, &fan.token, preferences).await;
    fan
}

/// The fan's inbox as (title, body), sorted.
async fn alerts(app: &TestApp, fan: &Account) -> Vec<(String, String)> {
    let mut alerts: Vec<_> = app
        .inbox(&fan.token)
        .await
        .into_iter()
        .map(|n| (n.title, n.body))
        .collect();
    alerts.sort();
    alerts
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(t, b)| ((*t).to_owned(), (*b).to_owned()))
        .collect()
}

#[tokio::test]
async fn a_fan_hears_every_goal_of_their_team_but_only_the_final_result_of_the_league_s_other_matches()
 {
    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    let spurs = seed::team(&app.db, "Tottenham", "spurs").await;
    let villa = seed::team(&app.db, "Aston Villa", "villa").await;
    let live = json!({ "liveAlerts": { "enabled": true, "kinds": ["GOAL", "FULL_TIME"] } });
    // Follows Arsenal (the preferences decide: goals and full time) and
    // the league, asking only for full time.
    let (fan, _) = fan(&app, &world, "fan@example.com", live.clone()).await;
    follow_competition(
        &app,
        &fan.token,
        world.season.competition_id,
        json!(["FULL_TIME"]),
    )
    .await;
    // Follows only the league, leaving the kinds to the preferences.
    let league_fan = fan_of_nothing(&app, "league@example.com", live).await;
    follow_competition(
        &app,
        &league_fan.token,
        world.season.competition_id,
        Value::Null,
    )
    .await;

    let ours = world
        .live_match_between(&app, (world.home.id, world.away.id))
        .await;
    let other = world.live_match_between(&app, (spurs.id, villa.id)).await;
    let feed = &world.feed.token;
    app.record_goal(feed, &ours, world.home.id, 23, "Saka")
        .await;
    app.record_goal(feed, &other, spurs.id, 30, "Son").await;
    end_match(&app, &world, &ours).await;
    end_match(&app, &world, &other).await;
    wait_for(10, "the last full-time alert", || async {
        (app.inbox(&fan.token).await.len() >= 3).then_some(())
    })
    .await;
    wait_for_outbox(&app).await;

    // Arsenal's full time is covered by both follows and arrives once.
    assert_eq!(
        alerts(&app, &fan).await,
        pairs(&[
            ("Full-time", "Arsenal 1-0 Chelsea."),
            ("Full-time", "Tottenham 1-0 Aston Villa."),
            ("Goal 23' (Saka)", "Arsenal 1-0 Chelsea."),
        ])
    );
    assert_eq!(
        alerts(&app, &league_fan).await,
        pairs(&[
            ("Full-time", "Arsenal 1-0 Chelsea."),
            ("Full-time", "Tottenham 1-0 Aston Villa."),
            ("Goal 23' (Saka)", "Arsenal 1-0 Chelsea."),
            ("Goal 30' (Son)", "Tottenham 1-0 Aston Villa."),
        ])
    );
}

#[tokio::test]
async fn a_fan_who_follows_one_match_hears_of_it_alone_until_they_unfollow_it() {
    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    let spurs = seed::team(&app.db, "Tottenham", "spurs").await;
    // Live alerts on, but the preferences ask for nothing: the follow's
    // own kinds decide.
    let fan = fan_of_nothing(
        &app,
        "one@example.com",
        json!({ "liveAlerts": { "enabled": true, "kinds": [] } }),
    )
    .await;
    let followed = world
        .live_match_between(&app, (world.home.id, world.away.id))
        .await;
    let other = world
        .live_match_between(&app, (spurs.id, world.away.id))
        .await;
    follow_match(&app, &fan.token, &followed, json!(["GOAL"])).await;

    let feed = &world.feed.token;
    app.record_goal(feed, &other, spurs.id, 5, "Son").await;
    app.record_goal(feed, &followed, world.home.id, 23, "Saka")
        .await;
    wait_for(10, "the goal alert", || async {
        app.inbox(&fan.token).await.into_iter().next()
    })
    .await;
    wait_for_outbox(&app).await;
    assert_eq!(
        alerts(&app, &fan).await,
        pairs(&[("Goal 23' (Saka)", "Arsenal 1-0 Chelsea.")])
    );

    app.ok(
        &fan.token,
        "mutation($m: ID!) { unfollowMatch(matchId: $m) }",
        json!({ "m": followed }),
    )
    .await;
    app.record_goal(feed, &followed, world.home.id, 60, "Havertz")
        .await;
    wait_for_outbox(&app).await;
    assert_eq!(app.inbox(&fan.token).await.len(), 1);
}

#[tokio::test]
async fn a_daily_digest_tells_a_followed_competition_s_fixtures_and_results_and_a_followed_match() {
    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    let serie_a = competition::ActiveModel {
        code: Set("SA".to_owned()),
        name: Set("Serie A".to_owned()),
        kind: Set(CompetitionKind::League),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let serie_a_season = season::ActiveModel {
        competition_id: Set(serie_a.id),
        label: Set("2026/27".to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let inter = seed::team(&app.db, "Inter", "inter").await;
    let milan = seed::team(&app.db, "Milan", "milan").await;
    let s = &serie_a_season;
    seed::fixture(&app.db, s, &inter, &milan, at("2026-12-02T19:45:00Z")).await;
    seed::finished_match(
        &app.db,
        s,
        &milan,
        &inter,
        at("2026-12-01T17:00:00Z"),
        (2, 1),
        (1, 0),
    )
    .await;
    let followed = world.fixture(&app, at("2026-12-02T15:00:00Z")).await;
    world.fixture(&app, at("2026-12-02T17:30:00Z")).await; // not followed

    let fan = fan_of_nothing(
        &app,
        "digest@example.com",
        json!({ "timeZone": "UTC", "dailyDigest": { "enabled": true, "time": "08:00" } }),
    )
    .await;
    follow_competition(&app, &fan.token, serie_a.id, json!([])).await;
    follow_match(&app, &fan.token, &followed.id.to_string(), Value::Null).await;

    let sent = world
        .send_digest(&app, "DAILY", fan.id, "2026-12-02T08:00:00Z")
        .await;
    assert_eq!(sent["outcome"], "SENT", "{sent}");
    let body = sent["notification"]["body"].as_str().unwrap();
    assert_eq!(
        body,
        "Today (UTC)\n  15:00  Arsenal v Chelsea\n  19:45  Inter v Milan\nYesterday\n  Milan 2-1 Inter",
    );
    let payload = &sent["notification"]["payload"];
    assert_eq!(payload["fixtures"].as_array().unwrap().len(), 2);
    assert_eq!(payload["results"][0]["homeTeam"], "Milan");
}
