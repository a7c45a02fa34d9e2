use chrono::{Duration, Utc};
use entity::{notification, outbox};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use serde_json::json;

use super::{World, fan, notifications_socket, wait_for_outbox, world};
use test_support::TestApp;
use test_support::notify::wait_for;

async fn goal(app: &TestApp, world: &World, match_id: &str) -> String {
    app.record_goal(&world.feed.token, match_id, world.home.id, 23, "Saka")
        .await
}

async fn kinds(app: &TestApp, token: &str) -> Vec<String> {
    app.inbox(token).await.into_iter().map(|n| n.kind).collect()
}

#[tokio::test]
async fn a_goal_alerts_the_followers_who_asked_for_goals_and_a_correction_follows_it() {
    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    let live = json!({ "liveAlerts": { "enabled": true, "kinds": ["GOAL"] } });
    let (goals_fan, _) = fan(&app, &world, "goals@example.com", live.clone()).await;
    let (cards_fan, _) = fan(
        &app,
        &world,
        "cards@example.com",
        json!({ "liveAlerts": { "enabled": true, "kinds": ["RED_CARD"] } }),
    )
    .await;
    let (off_fan, _) = fan(
        &app,
        &world,
        "off@example.com",
        json!({ "liveAlerts": { "enabled": false, "kinds": ["GOAL"] } }),
    )
    .await;
    let stranger = test_support::accounts::user(&app.db, "stranger@example.com").await;
    test_support::notify::set_preferences(&app, &stranger.token, live).await;

    let match_id = world.live_match(&app).await;
    let event_id = goal(&app, &world, &match_id).await;
    let alert = wait_for(30, "the goal alert", || async {
        app.inbox(&goals_fan.token).await.into_iter().next()
    })
    .await;
    assert_eq!(alert.kind, "LIVE_EVENT");
    assert_eq!(alert.title, "Goal 23' (Saka)");
    assert_eq!(alert.body, "Arsenal 1-0 Chelsea.");
    assert_eq!(alert.payload["eventId"].to_string(), event_id);

    app.ok(&world.feed.token,
        "mutation($e: ID!) { cancelMatchEvent(eventId: $e, reason: \"Offside (VAR)\") { event { id } } }",
        json!({ "e": event_id }),
    )
    .await;
    let correction = wait_for(30, "the correction", || async {
        app.inbox(&goals_fan.token)
            .await
            .into_iter()
            .find(|n| n.kind == "CORRECTION")
    })
    .await;
    assert_eq!(correction.title, "Correction: goal taken back");
    assert_eq!(correction.body, "Arsenal 0-0 Chelsea. Offside (VAR).");

    wait_for_outbox(&app).await;
    assert!(kinds(&app, &cards_fan.token).await.is_empty());
    assert!(kinds(&app, &off_fan.token).await.is_empty());
    assert!(kinds(&app, &stranger.token).await.is_empty());

    // The outbox replayed (a worker died before marking it): nothing twice.
    outbox::Entity::update_many()
        .col_expr(
            outbox::Column::RelayedAt,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .exec(&app.db)
        .await
        .unwrap();
    wait_for_outbox(&app).await;
    assert_eq!(
        kinds(&app, &goals_fan.token).await,
        ["CORRECTION", "LIVE_EVENT"]
    );
}

#[tokio::test]
async fn a_goal_is_told_once_committed_not_at_the_workers_next_poll() {
    // A minute between polls: only the bus's word that the match changed
    // can bring the alert sooner than that.
    let app = TestApp::spawn_worker(&["--job-poll-ms", "60000"]).await;
    let world = world(&app).await;
    let live = json!({ "liveAlerts": { "enabled": true, "kinds": ["GOAL"] } });
    let (fan, _) = fan(&app, &world, "soon@example.com", live).await;

    let match_id = world.live_match(&app).await;
    goal(&app, &world, &match_id).await;
    let alert = wait_for(30, "the goal alert, well before the next poll", || async {
        app.inbox(&fan.token).await.into_iter().next()
    })
    .await;
    assert_eq!(alert.title, "Goal 23' (Saka)");
}

#[tokio::test]
async fn two_goals_read_in_one_poll_of_the_outbox_alert_with_the_score_each_made() {
    // No worker loops: the outbox is read once, by hand, after both goals,
    // as a worker whose poll came round after the second would read it.
    let app = TestApp::spawn().await;
    let world = world(&app).await;
    let (fan, _) = fan(
        &app,
        &world,
        "goals@example.com",
        json!({ "liveAlerts": { "enabled": true, "kinds": ["GOAL"] } }),
    )
    .await;
    let match_id = world.live_match(&app).await;
    let feed = &world.feed.token;
    app.record_goal(feed, &match_id, world.home.id, 23, "Saka")
        .await;
    app.record_goal(feed, &match_id, world.home.id, 67, "Havertz")
        .await;

    let relayed = worker::outbox::relay(&app.worker).await.expect("a poll");
    assert_eq!(relayed, 4, "the schedule, the kick-off and both goals");
    let mut alerts: Vec<(String, String, Option<i64>)> = app
        .inbox(&fan.token)
        .await
        .into_iter()
        .map(|n| (n.title, n.body, n.payload["homeScore"].as_i64()))
        .collect();
    alerts.sort();
    assert_eq!(
        alerts,
        [
            (
                "Goal 23' (Saka)".to_owned(),
                "Arsenal 1-0 Chelsea.".to_owned(),
                Some(1)
            ),
            (
                "Goal 67' (Havertz)".to_owned(),
                "Arsenal 2-0 Chelsea.".to_owned(),
                Some(2)
            ),
        ]
    );
}

#[tokio::test]
async fn workers_side_by_side_take_a_matchs_rows_one_at_a_time_in_order() {
    // No worker loops: two workers' claims are made by hand, as two
    // workers whose polls came round while both goals waited would.
    let app = TestApp::spawn().await;
    let world = world(&app).await;
    let match_id = world.live_match(&app).await;
    let other_match = world.live_match(&app).await;
    worker::outbox::relay(&app.worker)
        .await
        .expect("the schedules and kick-offs relayed");
    let feed = &world.feed.token;
    app.record_goal(feed, &match_id, world.home.id, 23, "Saka")
        .await;
    app.record_goal(feed, &match_id, world.home.id, 67, "Havertz")
        .await;
    app.record_goal(feed, &other_match, world.home.id, 5, "Rice")
        .await;

    let match_of = |rows: &[outbox::Model]| -> Vec<String> {
        rows.iter()
            .map(|row| row.payload["match_id"].to_string())
            .collect()
    };
    let now = Utc::now();
    let lease = now + Duration::seconds(30);
    let first = service::outbox::claim(&app.db, now, lease, 1)
        .await
        .unwrap();
    assert_eq!(match_of(&first), [match_id.as_str()], "the oldest row");
    // A second worker, while the first works on the goal at 23': the
    // goal at 67' waits for it; the other match's goal does not.
    let second = service::outbox::claim(&app.db, now, lease, 8)
        .await
        .unwrap();
    assert_eq!(match_of(&second), [other_match.as_str()]);
    assert!(
        service::outbox::claim(&app.db, now, lease, 8)
            .await
            .unwrap()
            .is_empty()
    );

    service::outbox::relayed(&app.db, first[0].id, Utc::now())
        .await
        .unwrap();
    let third = service::outbox::claim(&app.db, Utc::now(), lease, 8)
        .await
        .unwrap();
    assert_eq!(
        match_of(&third),
        [match_id.as_str()],
        "then the goal at 67'"
    );
    assert!(third[0].id > first[0].id);
}

#[tokio::test]
async fn quiet_hours_hold_a_goal_alert_back_and_the_next_digest_carries_it() {
    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    let now = Utc::now();
    let (fan, _) = fan(
        &app,
        &world,
        "sleepy@example.com",
        json!({
            "timeZone": "UTC",
            "liveAlerts": { "enabled": true, "kinds": ["GOAL"] },
            "dailyDigest": { "enabled": true, "time": "08:00" },
            "quietHours": {
                "start": (now - Duration::hours(1)).format("%H:%M").to_string(),
                "end": (now + Duration::hours(1)).format("%H:%M").to_string(),
            },
        }),
    )
    .await;
    let match_id = world.live_match(&app).await;
    goal(&app, &world, &match_id).await;

    let held = wait_for(30, "the held alert", || async {
        notification::Entity::find()
            .filter(notification::Column::UserId.eq(fan.id))
            .one(&app.db)
            .await
            .unwrap()
    })
    .await;
    assert!(held.held);
    assert!(
        app.inbox(&fan.token).await.is_empty(),
        "held back, not shown"
    );

    let sent = world
        .send_digest(&app, "DAILY", fan.id, &Utc::now().to_rfc3339())
        .await;
    assert_eq!(sent["outcome"], "SENT", "{sent}");
    let digest = &sent["notification"];
    assert_eq!(digest["payload"]["heldBack"][0]["title"], "Goal 23' (Saka)");
    let body = digest["body"].as_str().unwrap();
    assert!(
        body.contains("During your quiet hours\n  Goal 23' (Saka): Arsenal 1-0 Chelsea."),
        "{body}"
    );

    let folded = notification::Entity::find_by_id(held.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        folded.folded_into_id.map(|id| id.to_string()),
        digest["id"].as_str().map(str::to_owned)
    );
    // Folded in once: the next period's digest does not repeat it.
    let inbox_now = app.inbox(&fan.token).await;
    assert_eq!(inbox_now.len(), 1);
    assert_eq!(inbox_now[0].kind, "DAILY_DIGEST");
}

#[tokio::test]
async fn a_goal_alert_is_pushed_to_the_fans_notification_subscription() {
    use test_support::ws::{next_json, wait_for_open_subscriptions};

    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    let (fan, _) = fan(
        &app,
        &world,
        "push@example.com",
        json!({ "liveAlerts": { "enabled": true, "kinds": ["GOAL"] } }),
    )
    .await;
    let mut socket = notifications_socket(&app, &fan, "kind title").await;
    wait_for_open_subscriptions(&app, "1").await;

    let match_id = world.live_match(&app).await;
    goal(&app, &world, &match_id).await;
    assert_eq!(
        next_json(&mut socket).await,
        json!({ "id": "1", "type": "next", "payload": { "data": { "notificationReceived": { "kind": "LIVE_EVENT", "title": "Goal 23' (Saka)" } } } })
    );
}
