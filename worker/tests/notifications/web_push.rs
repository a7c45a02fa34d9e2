use std::time::Duration;

use chrono::Utc;
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set};
use serde_json::{Value, json};
use test_support::accounts::Account;
use test_support::notify::wait_for;
use test_support::push::{PushService, Reply, Subscriber};
use test_support::{TestApp, error_code, field_errors};

use super::{World, fan, world};

const SUBSCRIBE: &str = "mutation($e: String!, $k: WebPushKeysInput!) {
    subscribeWebPush(endpoint: $e, keys: $k) { id endpoint }
}";

async fn subscribe(app: &TestApp, token: &str, endpoint: &str, p256dh: &str, auth: &str) -> Value {
    app.graphql_as(
        token,
        SUBSCRIBE,
        json!({ "e": endpoint, "k": { "p256dh": p256dh, "auth": auth } }),
    )
    .await
}

/// The push service trusts the server's published key, and a goal fan's
/// browser on it is subscribed.
async fn goal_fan_with_browser(
    app: &TestApp,
    world: &World,
    push: &PushService,
) -> (Account, Subscriber) {
    let key = app.graphql("{ webPushPublicKey }", json!({})).await["data"]["webPushPublicKey"]
        .as_str()
        .expect("Web Push is on")
        .to_owned();
    push.trust(&key);
    let (fan, _) = fan(
        app,
        world,
        "push@example.com",
        json!({ "liveAlerts": { "enabled": true, "kinds": ["GOAL"] } }),
    )
    .await;
    let browser = push.subscriber();
    let body = subscribe(
        app,
        &fan.token,
        &browser.endpoint,
        &browser.p256dh,
        &browser.auth,
    )
    .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(
        body["data"]["subscribeWebPush"]["endpoint"],
        browser.endpoint
    );
    (fan, browser)
}

async fn live_goal(app: &TestApp, world: &World) -> String {
    let feed = &world.feed.token;
    let kickoff = Utc::now() + chrono::Duration::hours(2);
    let match_id = app
        .schedule_match(
            feed,
            world.season.id,
            (world.home.id, world.away.id),
            kickoff,
        )
        .await;
    app.start_match(feed, &match_id).await;
    app.record_goal(feed, &match_id, world.home.id, 23, "Saka")
        .await;
    match_id
}

async fn push_delivery(app: &TestApp, world: &World, status: &str) -> Option<Value> {
    world
        .deliveries(app, Some(status))
        .await
        .into_iter()
        .find(|d| d["channel"] == "WEB_PUSH")
}

async fn browsers(app: &TestApp, token: &str) -> Vec<Value> {
    app.ok(
        token,
        "{ me { webPushSubscriptions { endpoint } } }",
        json!({}),
    )
    .await["me"]["webPushSubscriptions"]
        .as_array()
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn a_goal_reaches_a_subscribed_fans_browser_encrypted_signed_and_urgent() {
    let push = PushService::start().await;
    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    let (_fan, browser) = goal_fan_with_browser(&app, &world, &push).await;

    let match_id = live_goal(&app, &world).await;
    let delivered = wait_for(20, "the push to be delivered", || {
        push_delivery(&app, &world, "DELIVERED")
    })
    .await;

    assert_eq!(push.refused(), Vec::<String>::new(), "every push verified");
    let accepted = push.accepted();
    assert_eq!(accepted.len(), 1, "one push: {accepted:?}");
    let got = &accepted[0];
    assert_eq!(got.endpoint, browser.endpoint);
    assert_eq!(got.payload["title"], "Goal 23' (Saka)");
    assert_eq!(got.payload["body"], "Arsenal 1-0 Chelsea.");
    assert_eq!(got.payload["kind"], "LIVE_EVENT");
    assert_eq!(got.payload["url"], format!("/?match={match_id}"));
    assert_eq!(got.headers["urgency"], "high");
    assert_eq!(
        got.headers["topic"].to_str().unwrap(),
        format!("match-{match_id}")
    );
    assert_eq!(got.headers["ttl"], "3600");
    assert_eq!(delivered["attempts"], 1);
    assert_eq!(
        delivered["notification"]["id"].as_str().unwrap(),
        got.payload["notificationId"].to_string()
    );
}

#[tokio::test]
async fn a_browser_the_push_service_says_is_gone_is_unsubscribed_and_not_retried() {
    let push = PushService::start().await;
    push.script([Reply::status(410)]);
    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    let (fan, _browser) = goal_fan_with_browser(&app, &world, &push).await;
    assert_eq!(browsers(&app, &fan.token).await.len(), 1);

    live_goal(&app, &world).await;
    let ended = wait_for(20, "the push to end", || {
        push_delivery(&app, &world, "DEAD")
    })
    .await;

    assert_eq!(ended["attempts"], 1, "{ended}");
    assert!(
        ended["lastError"].as_str().unwrap().contains("410"),
        "{ended}"
    );
    assert!(browsers(&app, &fan.token).await.is_empty());
    // Nothing more arrives: no retry of a gone browser.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(push.requests(), 1);
    assert!(push.accepted().is_empty());
}

#[tokio::test]
async fn a_busy_push_service_is_retried_after_the_wait_it_asks_for_and_gets_the_push_once() {
    let push = PushService::start().await;
    push.script([Reply::retry_after(429, 1)]);
    // Retries after 200 ms unless told otherwise.
    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    goal_fan_with_browser(&app, &world, &push).await;

    live_goal(&app, &world).await;
    let delivered = wait_for(20, "the push to be delivered", || {
        push_delivery(&app, &world, "DELIVERED")
    })
    .await;

    assert_eq!(delivered["attempts"], 2, "{delivered}");
    assert_eq!(push.requests(), 2);
    assert_eq!(push.accepted().len(), 1, "delivered once");
    assert_eq!(push.accepted()[0].payload["title"], "Goal 23' (Saka)");
    let arrivals = push.arrivals();
    let waited = arrivals[1] - arrivals[0];
    assert!(
        waited >= Duration::from_millis(900),
        "retried after {waited:?}"
    );
}

#[tokio::test]
async fn a_push_endpoint_on_a_private_network_is_refused_when_subscribed_and_when_sent() {
    let push = PushService::start().await;
    let app = TestApp::spawn_worker(&["--allow-private-webhooks", "false"]).await;
    let world = world(&app).await;
    let key = app.graphql("{ webPushPublicKey }", json!({})).await["data"]["webPushPublicKey"]
        .as_str()
        .unwrap()
        .to_owned();
    push.trust(&key);
    let (fan, _) = fan(
        &app,
        &world,
        "push@example.com",
        json!({ "liveAlerts": { "enabled": true, "kinds": ["GOAL"] } }),
    )
    .await;
    let browser = push.subscriber();
    let https_loopback = browser.endpoint.replace("http://", "https://");
    for endpoint in [&browser.endpoint, &https_loopback] {
        let body = subscribe(&app, &fan.token, endpoint, &browser.p256dh, &browser.auth).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        assert_eq!(field_errors(&body, "endpoint").len(), 1, "{body}");
    }
    assert_eq!(
        field_errors(
            &subscribe(
                &app,
                &fan.token,
                &https_loopback,
                &browser.p256dh,
                &browser.auth
            )
            .await,
            "endpoint"
        ),
        ["must not point at a private, loopback or link-local network address"]
    );
    assert!(browsers(&app, &fan.token).await.is_empty());

    // One stored while private endpoints were allowed is refused at send time.
    entity::web_push_subscription::ActiveModel {
        user_id: Set(fan.id),
        endpoint: Set(browser.endpoint.clone()),
        p256dh: Set(browser.p256dh.clone()),
        auth: Set(browser.auth.clone()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    live_goal(&app, &world).await;
    let refused = wait_for(20, "the push to be refused", || async {
        push_delivery(&app, &world, "FAILED")
            .await
            .or(push_delivery(&app, &world, "DEAD").await)
    })
    .await;
    let error = refused["lastError"].as_str().unwrap();
    assert!(error.contains("refused"), "{error}");
    assert_eq!(push.requests(), 0, "nothing reached the private address");
}

#[tokio::test]
async fn subscribing_checks_the_endpoint_and_keys_and_bounds_the_browsers_per_fan() {
    let push = PushService::start().await;
    let app = TestApp::spawn().await;
    let world = world(&app).await;
    let (fan, _) = fan(&app, &world, "push@example.com", json!({})).await;
    let good = push.subscriber();

    let cases = [
        (
            "not a url",
            good.p256dh.as_str(),
            good.auth.as_str(),
            "endpoint",
        ),
        (
            "ftp://push.example.com/x",
            &good.p256dh,
            &good.auth,
            "endpoint",
        ),
        (&good.endpoint, "not base64!", &good.auth, "keys.p256dh"),
        (&good.endpoint, "BAAA", &good.auth, "keys.p256dh"),
        (&good.endpoint, &good.p256dh, "c2hvcnQ", "keys.auth"),
    ];
    for (endpoint, p256dh, auth, field) in cases {
        let body = subscribe(&app, &fan.token, endpoint, p256dh, auth).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        assert_eq!(field_errors(&body, field).len(), 1, "{field}: {body}");
    }
    let anonymous = app
        .graphql(
            SUBSCRIBE,
            json!({ "e": good.endpoint, "k": { "p256dh": good.p256dh, "auth": good.auth } }),
        )
        .await;
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"));
    assert!(
        browsers(&app, &fan.token).await.is_empty(),
        "nothing half-written"
    );

    // Ten browsers, the same one again (its keys renewed), then no more.
    let mut subscribed = Vec::new();
    for _ in 0..10 {
        let browser = push.subscriber();
        let body = subscribe(
            &app,
            &fan.token,
            &browser.endpoint,
            &browser.p256dh,
            &browser.auth,
        )
        .await;
        assert!(body["errors"].is_null(), "{body}");
        subscribed.push(browser);
    }
    let again = &subscribed[0];
    let body = subscribe(
        &app,
        &fan.token,
        &again.endpoint,
        &again.p256dh,
        &again.auth,
    )
    .await;
    assert!(body["errors"].is_null(), "the same browser again: {body}");
    let eleventh = push.subscriber();
    let body = subscribe(
        &app,
        &fan.token,
        &eleventh.endpoint,
        &eleventh.p256dh,
        &eleventh.auth,
    )
    .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(
        field_errors(&body, "endpoint"),
        ["at most 10 browsers can be subscribed; unsubscribe one first"]
    );
    assert_eq!(browsers(&app, &fan.token).await.len(), 10);

    let unsubscribe = "mutation($e: String!) { unsubscribeWebPush(endpoint: $e) }";
    let first = app
        .ok(&fan.token, unsubscribe, json!({ "e": again.endpoint }))
        .await;
    assert_eq!(first["unsubscribeWebPush"], true);
    let second = app
        .ok(&fan.token, unsubscribe, json!({ "e": again.endpoint }))
        .await;
    assert_eq!(second["unsubscribeWebPush"], false);
    assert_eq!(browsers(&app, &fan.token).await.len(), 9);

    // The channel's switch sits with the others.
    let prefs = app
        .ok(
            &fan.token,
            "{ me { preferences { channels { email inApp webhook webPush } } } }",
            json!({}),
        )
        .await;
    assert_eq!(prefs["me"]["preferences"]["channels"]["webPush"], true);
}

#[tokio::test]
async fn twenty_browsers_subscribing_at_once_store_ten_and_the_rest_are_refused_on_endpoint() {
    let push = PushService::start().await;
    let app = TestApp::spawn().await;
    let world = world(&app).await;
    let (fan, _) = fan(&app, &world, "many-browsers@example.com", json!({})).await;

    let browsers_at_once: Vec<Subscriber> = (0..20).map(|_| push.subscriber()).collect();
    let answers = futures::future::join_all(browsers_at_once.iter().map(|browser| {
        subscribe(
            &app,
            &fan.token,
            &browser.endpoint,
            &browser.p256dh,
            &browser.auth,
        )
    }))
    .await;

    let stored = answers.iter().filter(|b| b["errors"].is_null()).count();
    assert_eq!(stored, 10, "{answers:?}");
    for refused in answers.iter().filter(|b| !b["errors"].is_null()) {
        assert_eq!(error_code(refused), Some("BAD_USER_INPUT"), "{refused}");
        assert_eq!(
            field_errors(refused, "endpoint"),
            ["at most 10 browsers can be subscribed; unsubscribe one first"]
        );
    }
    assert_eq!(browsers(&app, &fan.token).await.len(), 10);
}
