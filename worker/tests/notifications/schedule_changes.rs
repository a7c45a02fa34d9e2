use entity::{notification, outbox};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use serde_json::json;

use super::{World, at, fan, wait_for_outbox, world};
use test_support::TestApp;
use test_support::feed::InboxItem;
use test_support::notify::{SmtpServer, wait_for};

async fn schedule_changes(app: &TestApp, token: &str) -> Vec<InboxItem> {
    app.inbox(token)
        .await
        .into_iter()
        .filter(|n| n.kind == "SCHEDULE_CHANGE")
        .collect()
}

/// A fixture scheduled through the feed, on Saturday 6 December 2031 at
/// 20:00 UTC (15:00 in New York).
async fn fixture(app: &TestApp, world: &World) -> String {
    let teams = (world.home.id, world.away.id);
    app.schedule_match(
        &world.feed.token,
        world.season.id,
        teams,
        at("2031-12-06T20:00:00Z"),
    )
    .await
}

async fn feed(app: &TestApp, world: &World, mutation: &str, match_id: &str) {
    app.ok(
        &world.feed.token,
        &format!("mutation($m: ID!) {{ {mutation}(matchId: $m) {{ id }} }}"),
        json!({ "m": match_id }),
    )
    .await;
}

#[tokio::test]
async fn a_follower_is_told_once_of_a_move_with_both_kick_offs_in_their_own_zone() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_worker(&["--smtp-url", &smtp.url]).await;
    let world = world(&app).await;
    // Live alerts stay off: schedule changes do not depend on them.
    let (follower, _) = fan(
        &app,
        &world,
        "ny@example.com",
        json!({ "timeZone": "America/New_York", "channels": { "email": true, "inApp": true } }),
    )
    .await;
    let (opted_out, _) = fan(
        &app,
        &world,
        "off@example.com",
        json!({ "scheduleChangeAlerts": { "enabled": false } }),
    )
    .await;
    let stranger = test_support::accounts::user(&app.db, "stranger@example.com").await;

    let preferences = app
        .ok(
            &follower.token,
            "{ me { preferences { scheduleChangeAlerts { enabled } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        preferences["me"]["preferences"]["scheduleChangeAlerts"]["enabled"], true,
        "on by default"
    );

    let match_id = fixture(&app, &world).await;
    app.ok(
        &world.feed.token,
        "mutation($m: ID!, $k: DateTime!) { rescheduleMatch(matchId: $m, kickoffAt: $k) { id } }",
        json!({ "m": match_id, "k": "2031-12-07T21:30:00Z" }),
    )
    .await;

    let alert = wait_for(30, "the schedule-change alert", || async {
        schedule_changes(&app, &follower.token)
            .await
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(alert.title, "Arsenal v Chelsea moved");
    assert_eq!(
        alert.body,
        "Arsenal v Chelsea moved from Sat 6 Dec 15:00 to Sun 7 Dec 16:30 (America/New_York)."
    );
    assert_eq!(alert.payload["matchId"].to_string(), match_id);
    assert_eq!(alert.payload["change"], "RESCHEDULED");
    assert_eq!(
        alert.payload["previousKickoffAt"],
        "2031-12-06T20:00:00+00:00"
    );
    assert_eq!(alert.payload["kickoffAt"], "2031-12-07T21:30:00+00:00");

    let mails = wait_for(30, "the schedule-change email", || async {
        let mails = smtp.mails_to(&follower.email);
        (!mails.is_empty()).then_some(mails)
    })
    .await;
    assert_eq!(mails[0].subject, "Arsenal v Chelsea moved");
    assert!(
        mails[0].text.contains("Sun 7 Dec 16:30 (America/New_York)"),
        "{}",
        mails[0].text
    );

    wait_for_outbox(&app).await;
    assert!(schedule_changes(&app, &opted_out.token).await.is_empty());
    assert!(app.inbox(&stranger.token).await.is_empty());

    // The outbox replayed (a worker died before marking it): nothing twice.
    outbox::Entity::update_many()
        .col_expr(
            outbox::Column::RelayedAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .exec(&app.db)
        .await
        .unwrap();
    wait_for_outbox(&app).await;
    assert_eq!(schedule_changes(&app, &follower.token).await.len(), 1);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(smtp.mails_to(&follower.email).len(), 1);
}

#[tokio::test]
async fn postponing_and_cancelling_tell_the_followers_so_once_per_change() {
    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    let (follower, _) = fan(
        &app,
        &world,
        "ldn@example.com",
        json!({ "timeZone": "Europe/London" }),
    )
    .await;
    let postponed = fixture(&app, &world).await;
    let cancelled = fixture(&app, &world).await;
    feed(&app, &world, "postponeMatch", &postponed).await;
    feed(&app, &world, "cancelMatch", &cancelled).await;

    let alerts = wait_for(30, "both alerts", || async {
        let alerts = schedule_changes(&app, &follower.token).await;
        (alerts.len() == 2).then_some(alerts)
    })
    .await;
    let about = |id: &str| {
        let id: i64 = id.parse().unwrap();
        alerts
            .iter()
            .find(|n| n.payload["matchId"] == id)
            .unwrap()
            .clone()
    };
    let p = about(&postponed);
    assert_eq!(p.title, "Arsenal v Chelsea postponed");
    assert_eq!(
        p.body,
        "Arsenal v Chelsea on Sat 6 Dec 20:00 (Europe/London) is postponed."
    );
    assert_eq!(p.payload["change"], "POSTPONED");
    assert!(p.payload["kickoffAt"].is_null());
    let c = about(&cancelled);
    assert_eq!(c.title, "Arsenal v Chelsea cancelled");
    assert_eq!(
        c.body,
        "Arsenal v Chelsea on Sat 6 Dec 20:00 (Europe/London) is cancelled."
    );
    assert_eq!(c.payload["change"], "CANCELLED");

    // A postponed match given a new date is a further change, told again.
    app.ok(
        &world.feed.token,
        "mutation($m: ID!, $k: DateTime!) { rescheduleMatch(matchId: $m, kickoffAt: $k) { id } }",
        json!({ "m": postponed, "k": "2031-12-13T15:00:00Z" }),
    )
    .await;
    let moved = wait_for(30, "the new date", || async {
        schedule_changes(&app, &follower.token)
            .await
            .into_iter()
            .find(|n| n.payload["change"] == "RESCHEDULED")
    })
    .await;
    assert_eq!(
        moved.body,
        "Arsenal v Chelsea moved from Sat 6 Dec 20:00 to Sat 13 Dec 15:00 (Europe/London)."
    );
    wait_for_outbox(&app).await;
    assert_eq!(schedule_changes(&app, &follower.token).await.len(), 3);
}

#[tokio::test]
async fn quiet_hours_hold_a_schedule_change_back_for_the_next_digest() {
    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    let now = chrono::Utc::now();
    let (follower, _) = fan(
        &app,
        &world,
        "sleepy@example.com",
        json!({
            "timeZone": "UTC",
            "dailyDigest": { "enabled": true, "time": "08:00" },
            "quietHours": {
                "start": (now - chrono::Duration::hours(1)).format("%H:%M").to_string(),
                "end": (now + chrono::Duration::hours(1)).format("%H:%M").to_string(),
            },
        }),
    )
    .await;
    let match_id = fixture(&app, &world).await;
    feed(&app, &world, "postponeMatch", &match_id).await;

    let held = wait_for(30, "the held alert", || async {
        notification::Entity::find()
            .filter(notification::Column::UserId.eq(follower.id))
            .one(&app.db)
            .await
            .unwrap()
    })
    .await;
    assert!(held.held);
    assert!(app.inbox(&follower.token).await.is_empty(), "held back");

    let sent = world
        .send_digest(&app, "DAILY", follower.id, &chrono::Utc::now().to_rfc3339())
        .await;
    assert_eq!(sent["outcome"], "SENT", "{sent}");
    let body = sent["notification"]["body"].as_str().unwrap();
    assert!(
        body.contains(
            "During your quiet hours\n  Arsenal v Chelsea postponed: \
             Arsenal v Chelsea on Sat 6 Dec 20:00 (UTC) is postponed."
        ),
        "{body}"
    );
}

#[tokio::test]
async fn a_match_moved_by_a_re_imported_season_file_alerts_its_followers_once() {
    use service::import::{CompetitionCode, ImportOptions, import_openfootball};
    use service::values::{SeasonLabel, TimeZone};

    // No worker loops: the outbox is read by hand.
    let app = TestApp::spawn().await;
    let file = |date: &str| {
        json!({ "name": "Test League 2031/32", "matches": [
            { "round": "Matchday 1", "date": date, "time": "15:00",
              "team1": "Leeds United FC", "team2": "Sunderland AFC" },
        ] })
        .to_string()
    };
    let options = ImportOptions::new(
        CompetitionCode::parse("TST").unwrap(),
        SeasonLabel::parse("2031/32").unwrap(),
        TimeZone::parse("Europe/London").unwrap(),
    );
    import_openfootball(&app.db, "tst.json", &file("2031-12-06"), &options)
        .await
        .unwrap();
    let fan = test_support::accounts::user(&app.db, "leeds@example.com").await;
    let team = app
        .ok(
            &fan.token,
            "{ team(slug: \"leeds-united-fc\") { id } }",
            json!({}),
        )
        .await["team"]["id"]
        .as_str()
        .unwrap()
        .parse::<i64>()
        .unwrap();
    test_support::notify::follow(&app, &fan.token, team).await;
    worker::outbox::relay(&app.worker).await.expect("a poll");

    // The same file again moves nothing; a day later moves the match.
    import_openfootball(&app.db, "tst.json", &file("2031-12-06"), &options)
        .await
        .unwrap();
    import_openfootball(&app.db, "tst.json", &file("2031-12-07"), &options)
        .await
        .unwrap();
    worker::outbox::relay(&app.worker).await.expect("a poll");
    let changes = schedule_changes(&app, &fan.token).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].payload["change"], "RESCHEDULED");
    assert_eq!(
        changes[0].payload["previousKickoffAt"],
        "2031-12-06T15:00:00+00:00"
    );
    assert_eq!(changes[0].payload["kickoffAt"], "2031-12-07T15:00:00+00:00");
}
