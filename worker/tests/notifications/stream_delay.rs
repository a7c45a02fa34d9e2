//! A fan's stream delay on live alerts: a goal reaches a delayed fan's
//! webhook, inbox and `notificationReceived` only that long after it
//! happened, while a fan without one hears of it at once.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use entity::notification;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use serde_json::json;

use super::{fan, notifications_socket, world};
use test_support::TestApp;
use test_support::notify::{Answer, WebhookReceiver, wait_for};
use test_support::ws::{next_json, wait_for_open_subscriptions};

const DELAY: Duration = Duration::from_secs(3);

#[tokio::test]
async fn a_delayed_fan_hears_of_a_goal_by_webhook_inbox_and_subscription_only_the_delay_after_it() {
    let receiver = WebhookReceiver::start(Answer::FailFirst(0)).await;
    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    let goals = json!({ "enabled": true, "kinds": ["GOAL"] });
    let (delayed, payload) = fan(
        &app,
        &world,
        "delayed@example.com",
        json!({
            "liveAlerts": goals,
            "channels": { "webhook": true },
            "webhookUrl": receiver.url,
            "streamDelaySeconds": DELAY.as_secs(),
        }),
    )
    .await;
    receiver.set_secret(payload["webhookSecret"].as_str().expect("a new secret"));
    let (prompt, _) = fan(
        &app,
        &world,
        "prompt@example.com",
        json!({ "liveAlerts": goals }),
    )
    .await;

    let mut socket = notifications_socket(&app, &delayed, "kind title").await;
    wait_for_open_subscriptions(&app, "1").await;

    let match_id = world.live_match(&app).await;
    let recorded = Instant::now();
    let event_id = app
        .record_goal(&world.feed.token, &match_id, world.home.id, 23, "Saka")
        .await;
    let happened: DateTime<Utc> = app
        .ok(
            &world.feed.token,
            "query($m: ID!) { match(id: $m) { events { id createdAt } } }",
            json!({ "m": match_id }),
        )
        .await["match"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == event_id.as_str())
        .and_then(|e| e["createdAt"].as_str())
        .expect("the goal's time")
        .parse()
        .unwrap();

    // The prompt fan hears at once; the delayed fan's webhook waits for
    // the goal's time plus the delay.
    wait_for(30, "the prompt fan's alert", || async {
        app.inbox(&prompt.token).await.into_iter().next()
    })
    .await;
    let webhook = wait_for(30, "the delayed webhook delivery", || async {
        world
            .deliveries(&app, None)
            .await
            .into_iter()
            .find(|d| d["channel"] == "WEBHOOK")
    })
    .await;
    assert!(
        recorded.elapsed() >= DELAY || webhook["status"] == "PENDING",
        "{webhook}"
    );

    let pushed = next_json(&mut socket).await;
    let pushed_after = recorded.elapsed();
    assert_eq!(
        pushed,
        json!({ "id": "1", "type": "next", "payload": { "data": { "notificationReceived": { "kind": "LIVE_EVENT", "title": "Goal 23' (Saka)" } } } })
    );
    assert!(
        pushed_after >= DELAY - Duration::from_millis(50),
        "pushed {pushed_after:?} after the goal"
    );
    let accepted = wait_for(30, "the delayed webhook", || async {
        let accepted = receiver.accepted();
        (!accepted.is_empty()).then_some(accepted)
    })
    .await;
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].1["notification"]["title"], "Goal 23' (Saka)");
    let sent_at: DateTime<Utc> = accepted[0].0["x-inthegame-timestamp"]
        .to_str()
        .unwrap()
        .parse::<i64>()
        .map(|s| DateTime::from_timestamp(s, 0).unwrap())
        .unwrap();
    // Signed (to the second) no earlier than the goal's second plus the delay.
    assert!(
        sent_at.timestamp() >= happened.timestamp() + DELAY.as_secs() as i64,
        "sent at {sent_at}, the goal at {happened}"
    );
    let inbox = app.inbox(&delayed.token).await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].title, "Goal 23' (Saka)");
    assert_eq!(receiver.bad_signatures(), 0);
}

#[tokio::test]
async fn a_delayed_fan_s_inbox_shows_a_goal_only_once_the_delay_has_passed() {
    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    let goals = json!({ "enabled": true, "kinds": ["GOAL"] });
    let (delayed, _) = fan(
        &app,
        &world,
        "delayed@example.com",
        json!({ "liveAlerts": goals, "streamDelaySeconds": 120 }),
    )
    .await;
    let (prompt, _) = fan(
        &app,
        &world,
        "prompt@example.com",
        json!({ "liveAlerts": goals }),
    )
    .await;
    let match_id = world.live_match(&app).await;
    app.record_goal(&world.feed.token, &match_id, world.home.id, 23, "Saka")
        .await;
    wait_for(30, "the prompt fan's alert", || async {
        app.inbox(&prompt.token).await.into_iter().next()
    })
    .await;
    super::wait_for_outbox(&app).await;
    // Written, and held back for two minutes: not in the inbox nor counted.
    let unread = app
        .ok(
            &delayed.token,
            "{ me { unreadNotificationCount } }",
            json!({}),
        )
        .await;
    assert_eq!(unread["me"]["unreadNotificationCount"], 0, "{unread}");
    assert!(app.inbox(&delayed.token).await.is_empty());

    // Two minutes pass (the release brought forward rather than waited
    // for): a subscription opened while it was held gets it at its release.
    let release = Utc::now() + chrono::Duration::seconds(2);
    let alert = notification::Entity::find()
        .filter(notification::Column::UserId.eq(delayed.id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the held-back alert");
    notification::Entity::update_many()
        .col_expr(notification::Column::ShownAt, Expr::value(release))
        .filter(notification::Column::Id.eq(alert.id))
        .exec(&app.db)
        .await
        .unwrap();
    let mut socket = notifications_socket(&app, &delayed, "title").await;
    assert_eq!(
        next_json(&mut socket).await["payload"]["data"]["notificationReceived"]["title"],
        "Goal 23' (Saka)"
    );
    assert!(Utc::now() >= release);
    let inbox = app.inbox(&delayed.token).await;
    assert_eq!(inbox.len(), 1);
}
