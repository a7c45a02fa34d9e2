//! Follows and notification preferences: defaults, partial updates, the
//! webhook secret shown once, and every bad value refused with nothing written.

use entity::{notification_preference, user};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::common::{TestApp, accounts, error_code, field_errors, seed};

const PREFERENCES: &str = "{ me { timeZone preferences {
    timeZone dailyDigest { enabled time } weeklyDigest { enabled day time }
    liveAlerts { enabled kinds } scheduleChangeAlerts { enabled } quietHours { start end }
    channels { email webhook inApp } webhookUrl hasWebhookSecret } } }";

const UPDATE: &str = "mutation($input: NotificationPreferencesInput!) {
    updateNotificationPreferences(input: $input) {
      webhookSecret
      preferences { timeZone dailyDigest { enabled time } weeklyDigest { enabled day time }
        liveAlerts { enabled kinds } scheduleChangeAlerts { enabled } quietHours { start end }
        channels { email webhook inApp } webhookUrl hasWebhookSecret } } }";

async fn preferences(app: &TestApp, token: &str) -> Value {
    let body = app.graphql_as(token, PREFERENCES, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["me"]["preferences"].clone()
}

#[tokio::test]
async fn a_new_account_has_quiet_defaults_with_the_in_app_inbox_and_schedule_changes_on() {
    let app = TestApp::spawn().await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    assert_eq!(
        preferences(&app, &ada.token).await,
        json!({
            "timeZone": "Europe/London",
            "dailyDigest": { "enabled": false, "time": "08:00" },
            "weeklyDigest": { "enabled": false, "day": "MONDAY", "time": "08:00" },
            "liveAlerts": { "enabled": false,
                "kinds": ["LINEUPS", "KICK_OFF", "GOAL", "RED_CARD", "HALF_TIME", "FULL_TIME", "CORRECTION"] },
            "scheduleChangeAlerts": { "enabled": true },
            "quietHours": null,
            "channels": { "email": false, "webhook": false, "inApp": true },
            "webhookUrl": null,
            "hasWebhookSecret": false,
        })
    );
    app.stop().await;
}

#[tokio::test]
async fn an_update_changes_only_the_fields_it_names() {
    let app = TestApp::spawn().await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    let first = app
        .graphql_as(
            &ada.token,
            UPDATE,
            json!({ "input": {
            "timeZone": "America/New_York",
            "dailyDigest": { "enabled": true, "time": "07:15" },
            "weeklyDigest": { "day": "FRIDAY" },
            "liveAlerts": { "enabled": true, "kinds": ["GOAL", "RED_CARD", "GOAL"] },
            "scheduleChangeAlerts": { "enabled": false },
            "quietHours": { "start": "22:30", "end": "06:45" },
            "channels": { "email": true },
        } }),
        )
        .await;
    assert!(first.get("errors").is_none(), "{first}");
    let second = app
        .graphql_as(
            &ada.token,
            UPDATE,
            json!({ "input": { "weeklyDigest": { "enabled": true, "time": "18:00" } } }),
        )
        .await;
    assert_eq!(
        second["data"]["updateNotificationPreferences"]["webhookSecret"],
        Value::Null
    );
    let expected = json!({
        "timeZone": "America/New_York",
        "dailyDigest": { "enabled": true, "time": "07:15" },
        "weeklyDigest": { "enabled": true, "day": "FRIDAY", "time": "18:00" },
        "liveAlerts": { "enabled": true, "kinds": ["GOAL", "RED_CARD"] },
        "scheduleChangeAlerts": { "enabled": false },
        "quietHours": { "start": "22:30", "end": "06:45" },
        "channels": { "email": true, "webhook": false, "inApp": true },
        "webhookUrl": null,
        "hasWebhookSecret": false,
    });
    assert_eq!(
        second["data"]["updateNotificationPreferences"]["preferences"],
        expected
    );
    assert_eq!(preferences(&app, &ada.token).await, expected);
    let me = app
        .graphql_as(&ada.token, "{ me { timeZone } }", json!({}))
        .await;
    assert_eq!(
        me["data"]["me"]["timeZone"], "America/New_York",
        "the account's zone moved too"
    );

    let cleared = app
        .graphql_as(
            &ada.token,
            UPDATE,
            json!({ "input": { "quietHours": null } }),
        )
        .await;
    assert_eq!(
        cleared["data"]["updateNotificationPreferences"]["preferences"]["quietHours"],
        Value::Null,
        "{cleared}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_webhook_secret_is_shown_once_when_created_and_again_only_when_rotated() {
    let app = TestApp::spawn().await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    let body = app
        .graphql_as(
            &ada.token,
            UPDATE,
            json!({ "input": {
            "webhookUrl": "https://hooks.example.com/itg", "channels": { "webhook": true } } }),
        )
        .await;
    let payload = &body["data"]["updateNotificationPreferences"];
    let secret = payload["webhookSecret"]
        .as_str()
        .expect("secret shown on creation");
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    assert_eq!(payload["preferences"]["hasWebhookSecret"], true);
    assert_eq!(payload["preferences"]["channels"]["webhook"], true);

    let again = app
        .graphql_as(
            &ada.token,
            UPDATE,
            json!({ "input": { "webhookUrl": "http://hooks.example.com/v2" } }),
        )
        .await;
    assert_eq!(
        again["data"]["updateNotificationPreferences"]["webhookSecret"],
        Value::Null
    );
    let read = app.graphql_as(&ada.token, PREFERENCES, json!({})).await;
    assert!(
        !read.to_string().contains(secret),
        "a read never shows the secret"
    );

    let rotated = app
        .graphql_as(
            &ada.token,
            "mutation { rotateWebhookSecret { webhookSecret } }",
            json!({}),
        )
        .await;
    let new_secret = rotated["data"]["rotateWebhookSecret"]["webhookSecret"]
        .as_str()
        .unwrap();
    assert!(new_secret.starts_with("whsec_"));
    assert_ne!(new_secret, secret);
    let stored = notification_preference::Entity::find_by_id(ada.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.webhook_secret.as_deref(), Some(new_secret));
    app.stop().await;
}

#[tokio::test]
async fn every_bad_preference_is_named_with_a_clear_message_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    let before = notification_preference::Entity::find_by_id(ada.id)
        .one(&app.db)
        .await
        .unwrap();
    let cases: &[(Value, &str, &str)] = &[
        (
            json!({ "timeZone": "Mars/Olympus" }),
            "timeZone",
            "'Mars/Olympus' is not an IANA time zone name such as Europe/London",
        ),
        (
            json!({ "timeZone": "" }),
            "timeZone",
            "is required, e.g. Europe/London",
        ),
        (
            json!({ "dailyDigest": { "time": "7:30" } }),
            "dailyDigest.time",
            "must be a time of day written HH:MM, e.g. 07:30",
        ),
        (
            json!({ "dailyDigest": { "time": "24:00" } }),
            "dailyDigest.time",
            "the hour must be 00 to 23",
        ),
        (
            json!({ "weeklyDigest": { "time": "12:60" } }),
            "weeklyDigest.time",
            "the minute must be 00 to 59",
        ),
        (
            json!({ "quietHours": { "start": "late", "end": "07:00" } }),
            "quietHours.start",
            "must be a time of day written HH:MM, e.g. 07:30",
        ),
        (
            json!({ "quietHours": { "start": "22:00", "end": "7" } }),
            "quietHours.end",
            "must be a time of day written HH:MM, e.g. 07:30",
        ),
        (
            json!({ "quietHours": { "start": "22:00", "end": "22:00" } }),
            "quietHours",
            "start and end must differ",
        ),
        (
            json!({ "webhookUrl": "ftp://hooks.example.com/x" }),
            "webhookUrl",
            "must start with http:// or https://, not ftp:",
        ),
        (
            json!({ "webhookUrl": "not a url" }),
            "webhookUrl",
            "is not a valid URL: relative URL without a base",
        ),
        (
            json!({ "webhookUrl": "https://user:secret@hooks.example.com/" }),
            "webhookUrl",
            "must not contain a user name or password",
        ),
        (
            json!({ "webhookUrl": "" }),
            "webhookUrl",
            "must not be empty; send null to remove the webhook",
        ),
        (
            json!({ "channels": { "webhook": true } }),
            "channels.webhook",
            "needs a webhookUrl to deliver to",
        ),
        (
            json!({ "streamDelaySeconds": 121 }),
            "streamDelaySeconds",
            "must be from 0 to 120 seconds, not 121",
        ),
        (
            json!({ "streamDelaySeconds": -1 }),
            "streamDelaySeconds",
            "must be from 0 to 120 seconds, not -1",
        ),
    ];
    for (input, field, message) in cases {
        // A valid change rides along, to show that nothing is half-written.
        let mut input = input.clone();
        input["dailyDigest"]["enabled"] = json!(true);
        let body = app
            .graphql_as(&ada.token, UPDATE, json!({ "input": input }))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{input}: {body}");
        assert_eq!(field_errors(&body, field), [*message], "{input}: {body}");
        assert_eq!(body["data"], Value::Null, "{body}");
    }
    let after = notification_preference::Entity::find_by_id(ada.id)
        .one(&app.db)
        .await
        .unwrap();
    assert_eq!(before, after, "nothing was written");
    let stored = user::Entity::find_by_id(ada.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.time_zone, "Europe/London");

    // A kind that is not an alert kind never gets past the schema.
    let body = app
        .graphql_as(
            &ada.token,
            UPDATE,
            json!({ "input": { "liveAlerts": { "kinds": ["SUBSTITUTION"] } } }),
        )
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("SUBSTITUTION"),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn following_and_unfollowing_are_idempotent_and_an_unknown_team_is_not_found() {
    let app = TestApp::spawn().await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    let arsenal = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let burnley = seed::team(&app.db, "Burnley FC", "burnley-fc").await;
    let follow = "mutation($t: ID!) { followTeam(teamId: $t) { team { name } followedAt } }";
    let unfollow = "mutation($t: ID!) { unfollowTeam(teamId: $t) }";
    let follows = "{ me { follows { team { name } } } }";

    let first = app
        .graphql_as(&ada.token, follow, json!({ "t": arsenal.id.to_string() }))
        .await;
    let second = app
        .graphql_as(&ada.token, follow, json!({ "t": arsenal.id.to_string() }))
        .await;
    assert_eq!(first, second, "following twice is the same follow");
    app.graphql_as(&ada.token, follow, json!({ "t": burnley.id.to_string() }))
        .await;
    let body = app.graphql_as(&ada.token, follows, json!({})).await;
    assert_eq!(
        body["data"]["me"]["follows"],
        json!([{ "team": { "name": "Arsenal FC" } }, { "team": { "name": "Burnley FC" } }])
    );

    let removed = app
        .graphql_as(&ada.token, unfollow, json!({ "t": arsenal.id.to_string() }))
        .await;
    assert_eq!(removed["data"]["unfollowTeam"], true);
    let again = app
        .graphql_as(&ada.token, unfollow, json!({ "t": arsenal.id.to_string() }))
        .await;
    assert_eq!(again["data"]["unfollowTeam"], false, "{again}");
    let body = app.graphql_as(&ada.token, follows, json!({})).await;
    assert_eq!(
        body["data"]["me"]["follows"],
        json!([{ "team": { "name": "Burnley FC" } }])
    );

    for mutation in [follow, unfollow] {
        let body = app
            .graphql_as(&ada.token, mutation, json!({ "t": "999999" }))
            .await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
        assert_eq!(body["errors"][0]["message"], "team not found");
        let body = app
            .graphql_as(&ada.token, mutation, json!({ "t": "arsenal" }))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn concurrent_partial_updates_of_one_account_lose_nothing() {
    let app = TestApp::spawn().await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    let times = ["06:00", "06:15", "06:30", "06:45"];
    let days = ["TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"];
    for (time, day) in times.iter().zip(days) {
        let (a, b) = tokio::join!(
            app.graphql_as(
                &ada.token,
                UPDATE,
                json!({ "input": { "dailyDigest": { "time": time } } })
            ),
            app.graphql_as(
                &ada.token,
                UPDATE,
                json!({ "input": { "weeklyDigest": { "day": day } } })
            ),
        );
        assert!(
            a.get("errors").is_none() && b.get("errors").is_none(),
            "{a} {b}"
        );
        let prefs = preferences(&app, &ada.token).await;
        assert_eq!(prefs["dailyDigest"]["time"], *time, "{prefs}");
        assert_eq!(prefs["weeklyDigest"]["day"], day, "{prefs}");
    }
    app.stop().await;
}
