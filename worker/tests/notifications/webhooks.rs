use serde_json::{Value, json};

use super::{World, at, fan, world};
use test_support::notify::{Answer, WebhookReceiver, wait_for};
use test_support::{TestApp, error_code};

/// A fan with a daily digest to `receiver`, whose secret it now knows.
async fn webhook_fan(app: &TestApp, world: &World, receiver: &WebhookReceiver) -> i64 {
    let (fan, payload) = digest_fan_with_webhook(app, world, &receiver.url).await;
    receiver.set_secret(payload["webhookSecret"].as_str().expect("a new secret"));
    fan
}

/// A fan with a daily digest sent to the webhook at `url`, and a fixture
/// of their team to put in it; returns the fan's id and the preferences.
async fn digest_fan_with_webhook(app: &TestApp, world: &World, url: &str) -> (i64, Value) {
    let (fan, payload) = fan(
        app,
        world,
        "hook@example.com",
        json!({
            "dailyDigest": { "enabled": true },
            "channels": { "webhook": true, "inApp": false },
            "webhookUrl": url,
        }),
    )
    .await;
    world.fixture(app, at("2026-12-01T15:00:00Z")).await;
    (fan.id, payload)
}

async fn webhook_delivery(app: &TestApp, world: &World, status: &str) -> Option<Value> {
    world
        .deliveries(app, Some(status))
        .await
        .into_iter()
        .find(|d| d["channel"] == "WEBHOOK")
}

#[tokio::test]
async fn a_webhook_that_fails_twice_is_retried_and_delivered_once_with_a_valid_signature() {
    let receiver = WebhookReceiver::start(Answer::FailFirst(2)).await;
    let app = TestApp::spawn_worker(&["--delivery-max-attempts", "5"]).await;
    let world = world(&app).await;
    let user_id = webhook_fan(&app, &world, &receiver).await;

    let sent = world
        .send_digest(&app, "DAILY", user_id, "2026-12-01T09:00:00Z")
        .await;
    assert_eq!(sent["outcome"], "SENT");
    let delivery = wait_for(20, "the webhook to be delivered", || {
        webhook_delivery(&app, &world, "DELIVERED")
    })
    .await;

    assert_eq!(delivery["attempts"], 3, "{delivery}");
    assert_eq!(receiver.requests(), 3);
    assert_eq!(receiver.bad_signatures(), 0, "every attempt was signed");
    let accepted = receiver.accepted();
    assert_eq!(accepted.len(), 1, "delivered exactly once");
    let (headers, body) = &accepted[0];
    assert_eq!(
        headers["x-inthegame-delivery"].to_str().unwrap(),
        delivery["id"].as_str().unwrap()
    );
    assert_eq!(body["notification"]["kind"], "DAILY_DIGEST");
    assert_eq!(
        body["notification"]["title"],
        "Your daily digest for Tuesday 1 December 2026"
    );
    assert_eq!(
        body["notification"]["payload"]["fixtures"][0]["homeTeam"],
        "Arsenal"
    );

    let metrics = app.metrics().await;
    for line in [
        r#"inthegame_deliveries_total{channel="WEBHOOK",outcome="retry"} 2"#,
        r#"inthegame_deliveries_total{channel="WEBHOOK",outcome="delivered"} 1"#,
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} not in {metrics}"
        );
    }
}

#[tokio::test]
async fn a_webhook_that_always_fails_is_dead_lettered_visible_to_admins_and_redeliverable() {
    let receiver = WebhookReceiver::start(Answer::AlwaysFail).await;
    let app = TestApp::spawn_worker(&["--delivery-max-attempts", "3"]).await;
    let world = world(&app).await;
    let user_id = webhook_fan(&app, &world, &receiver).await;
    world
        .send_digest(&app, "DAILY", user_id, "2026-12-01T09:00:00Z")
        .await;

    let dead = wait_for(20, "the webhook to be dead-lettered", || async {
        let data = app.ok(&world.admin.token,
            "{ deadLetters(first: 10) { totalCount nodes { id channel status attempts lastError nextAttemptAt } } }",
            json!({}),
        )
        .await;
        data["deadLetters"]["nodes"].as_array()?.first().cloned()
    })
    .await;
    assert_eq!(dead["channel"], "WEBHOOK");
    assert_eq!(dead["status"], "DEAD");
    assert_eq!(dead["attempts"], 3);
    assert!(dead["nextAttemptAt"].is_null());
    let error = dead["lastError"].as_str().unwrap();
    assert!(error.contains("500"), "{error}");
    assert_eq!(receiver.requests(), 3, "no attempt after the last");
    assert!(receiver.accepted().is_empty());

    // Fixed on the receiver's side; an admin sends it again.
    receiver.answer(Answer::FailFirst(0));
    let redelivered = app
        .ok(
            &world.admin.token,
            "mutation($d: ID!) { redeliver(deliveryId: $d) { id status attempts } }",
            json!({ "d": dead["id"] }),
        )
        .await;
    assert_eq!(redelivered["redeliver"]["status"], "PENDING");
    assert_eq!(redelivered["redeliver"]["attempts"], 0);
    let delivered = wait_for(20, "the redelivery", || {
        webhook_delivery(&app, &world, "DELIVERED")
    })
    .await;
    assert_eq!(delivered["id"], dead["id"]);
    assert_eq!(receiver.accepted().len(), 1);
    assert_eq!(receiver.bad_signatures(), 0);

    // Delivered now: sending it again would send it twice.
    let again = app
        .graphql_as(
            &world.admin.token,
            "mutation($d: ID!) { redeliver(deliveryId: $d) { id } }",
            json!({ "d": dead["id"] }),
        )
        .await;
    assert_eq!(error_code(&again), Some("BAD_USER_INPUT"), "{again}");
}

#[tokio::test]
async fn without_private_targets_a_loopback_webhook_is_refused_when_set_and_when_sent() {
    let receiver = WebhookReceiver::start(Answer::FailFirst(0)).await;
    let app = TestApp::spawn_worker(&[
        "--allow-private-webhooks",
        "false",
        "--delivery-max-attempts",
        "1",
    ])
    .await;
    let world = world(&app).await;

    // When set: address literals and names of this machine.
    let fan_account = test_support::accounts::user(&app.db, "ssrf@example.com").await;
    for url in [
        receiver.url.as_str(),
        "http://localhost:8002/graphql",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/hook",
        "http://192.168.1.1/hook",
        "http://[::1]:8080/hook",
        "http://0.0.0.0/hook",
    ] {
        let body = app
            .graphql_as(
                &fan_account.token,
                "mutation($input: NotificationPreferencesInput!) {
                   updateNotificationPreferences(input: $input) { webhookSecret }
                 }",
                json!({ "input": { "webhookUrl": url } }),
            )
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{url}: {body}");
        let messages = test_support::field_errors(&body, "webhookUrl");
        assert!(
            messages.iter().any(|m| m.contains("private")),
            "{url}: {body}"
        );
    }

    // When sent: a URL that pointed elsewhere when it was set (a name
    // that now resolves to this machine looks the same to the worker).
    let user_id = digest_fan_with_webhook(&app, &world, "https://hooks.example.com/itg")
        .await
        .0;
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.db,
        &format!(
            "UPDATE notification_preferences SET webhook_url = '{}' WHERE user_id = {user_id}",
            receiver.url
        ),
    )
    .await
    .unwrap();
    world
        .send_digest(&app, "DAILY", user_id, "2026-12-01T09:00:00Z")
        .await;
    let dead = wait_for(20, "the webhook to be refused", || {
        webhook_delivery(&app, &world, "DEAD")
    })
    .await;
    let error = dead["lastError"].as_str().unwrap();
    assert!(error.contains("refused"), "{error}");
    assert!(!error.contains("os error"), "{error}");
    assert_eq!(receiver.requests(), 0, "nothing reached the receiver");
}
