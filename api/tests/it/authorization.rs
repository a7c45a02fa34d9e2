//! Who may do what: every mutation and every user-scoped query, called as
//! anonymous, USER, FEED and ADMIN; and one user probing another's data.

use std::collections::BTreeMap;

use entity::{UserRole, follow, notification};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::common::{TestApp, accounts, error_code, seed, seed_notifications};

/// Each operation with the variables it needs. `{team}`, `{user}`,
/// `{notification}` and `{email}` are filled in per caller.
const OPERATIONS: &[(&str, &str)] = &[
    ("teams", "{ teams(first: 1) { nodes { id } } }"),
    ("matches", "{ matches(first: 1) { nodes { id } } }"),
    (
        "me",
        "{ me { id email follows { team { id } } preferences { timeZone }
           notifications(first: 5) { totalCount } unreadNotificationCount } }",
    ),
    (
        "register",
        r#"mutation { register(input: { email: "{email}", password: "correct horse battery", displayName: "N" }) { token } }"#,
    ),
    (
        "login",
        r#"mutation { login(email: "target@example.com", password: "correct horse battery staple") { token } }"#,
    ),
    ("logout", "mutation { logout }"),
    (
        "deleteAccount",
        r#"mutation { deleteAccount(password: "correct horse battery staple") }"#,
    ),
    (
        "setUserRole",
        r#"mutation { setUserRole(userId: "{user}", role: USER) { role } }"#,
    ),
    (
        "followTeam",
        r#"mutation { followTeam(teamId: "{team}") { team { id } } }"#,
    ),
    (
        "unfollowTeam",
        r#"mutation { unfollowTeam(teamId: "{team}") }"#,
    ),
    (
        "updateNotificationPreferences",
        r#"mutation { updateNotificationPreferences(input: { dailyDigest: { enabled: true } }) { preferences { dailyDigest { enabled } } } }"#,
    ),
    (
        "rotateWebhookSecret",
        "mutation { rotateWebhookSecret { webhookSecret } }",
    ),
    (
        "markNotificationsRead",
        r#"mutation { markNotificationsRead(ids: ["{notification}"]) { id } }"#,
    ),
    (
        "markAllNotificationsRead",
        "mutation { markAllNotificationsRead }",
    ),
];

/// What happened: `ok`, or the first error's code.
fn outcome(body: &Value) -> String {
    match error_code(body) {
        None if body.get("errors").is_none() => "ok".to_owned(),
        None => format!("error without code: {body}"),
        Some(code) => code.to_owned(),
    }
}

async fn outcomes(
    app: &TestApp,
    role: Option<UserRole>,
    n: usize,
) -> BTreeMap<&'static str, String> {
    let team = seed::team(&app.db, &format!("Team {n}"), &format!("team-{n}")).await;
    let mut results = BTreeMap::new();
    for (i, (name, template)) in OPERATIONS.iter().enumerate() {
        // A fresh account per operation, so that logout and deleteAccount
        // affect nothing else and every call starts from the same place.
        let caller = match role {
            Some(role) => {
                Some(accounts::create(&app.db, &format!("caller-{n}-{i}@example.com"), role).await)
            }
            None => None,
        };
        let own_notification = match &caller {
            Some(c) => {
                seed_notifications::notification(&app.db, c.id, &format!("n-{n}-{i}"), false, false)
                    .await
                    .id
            }
            None => 1,
        };
        let query = template
            .replace("{team}", &team.id.to_string())
            .replace("{user}", &caller.as_ref().map_or(1, |c| c.id).to_string())
            .replace("{notification}", &own_notification.to_string())
            .replace("{email}", &format!("new-{n}-{i}@example.com"));
        let response = app
            .post_as(caller.as_ref().map(|c| c.token.as_str()), &query, json!({}))
            .await;
        let body: Value = response.json().await.unwrap();
        results.insert(*name, outcome(&body));
    }
    results
}

fn expected(denied: &[(&'static str, &str)]) -> BTreeMap<&'static str, String> {
    OPERATIONS
        .iter()
        .map(|(name, _)| {
            let code = denied
                .iter()
                .find(|(n, _)| n == name)
                .map_or("ok", |(_, code)| code);
            (*name, code.to_owned())
        })
        .collect()
}

#[tokio::test]
async fn every_operation_admits_exactly_the_roles_it_should() {
    let app = TestApp::spawn_with(&[
        "--auth-attempts-per-ip-per-minute",
        "1000",
        "--requests-per-ip-per-minute",
        "1000",
    ])
    .await;
    accounts::user(&app.db, "target@example.com").await;

    let signed_in_only = [
        "me",
        "logout",
        "deleteAccount",
        "setUserRole",
        "followTeam",
        "unfollowTeam",
        "updateNotificationPreferences",
        "rotateWebhookSecret",
        "markNotificationsRead",
        "markAllNotificationsRead",
    ];
    let anonymous: Vec<_> = signed_in_only
        .iter()
        .map(|name| (*name, "UNAUTHENTICATED"))
        .collect();
    assert_eq!(
        outcomes(&app, None, 0).await,
        expected(&anonymous),
        "anonymous"
    );
    assert_eq!(
        outcomes(&app, Some(UserRole::User), 1).await,
        expected(&[("setUserRole", "FORBIDDEN")]),
        "USER"
    );
    assert_eq!(
        outcomes(&app, Some(UserRole::Feed), 2).await,
        expected(&[("setUserRole", "FORBIDDEN")]),
        "FEED"
    );
    assert_eq!(
        outcomes(&app, Some(UserRole::Admin), 3).await,
        expected(&[]),
        "ADMIN"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_schema_offers_no_way_to_name_another_user_s_private_data() {
    let app = TestApp::spawn().await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    let bob = accounts::user(&app.db, "bob@example.com").await;
    for query in [
        format!(r#"{{ user(id: "{}") {{ email }} }}"#, bob.id),
        format!(r#"{{ node(id: "{}") {{ id }} }}"#, bob.id),
        format!(r#"{{ me(id: "{}") {{ email }} }}"#, bob.id),
        format!(
            r#"{{ notifications(userId: "{}") {{ totalCount }} }}"#,
            bob.id
        ),
        // An admin's view of another account has no private fields.
        format!(
            r#"mutation {{ setUserRole(userId: "{}", role: USER) {{ preferences {{ webhookUrl }} }} }}"#,
            bob.id
        ),
    ] {
        let body = app.graphql_as(&ada.token, &query, json!({})).await;
        assert!(
            body.get("data").is_none_or(Value::is_null),
            "{query}: {body}"
        );
        assert!(body["errors"][0]["message"].is_string(), "{query}: {body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn user_a_cannot_read_or_change_b_s_follows_preferences_or_notifications_by_guessing_ids() {
    let app = TestApp::spawn().await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    let bob = accounts::user(&app.db, "bob@example.com").await;
    let arsenal = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let city = seed::team(&app.db, "Manchester City FC", "manchester-city-fc").await;

    let follow = r#"mutation($t: ID!) { followTeam(teamId: $t) { team { id } } }"#;
    app.graphql_as(&bob.token, follow, json!({ "t": arsenal.id.to_string() }))
        .await;
    app.graphql_as(&ada.token, follow, json!({ "t": city.id.to_string() }))
        .await;
    let bob_prefs = r#"mutation { updateNotificationPreferences(input: {
        webhookUrl: "https://bob.example.com/hook", quietHours: { start: "22:00", end: "07:00" } }) { webhookSecret } }"#;
    let body = app.graphql_as(&bob.token, bob_prefs, json!({})).await;
    assert!(body["data"]["updateNotificationPreferences"]["webhookSecret"].is_string());
    let ada_note = seed_notifications::notification(&app.db, ada.id, "ada 0", false, false).await;
    let mut bob_notes = Vec::new();
    for i in 0..3 {
        bob_notes.push(
            seed_notifications::notification(&app.db, bob.id, &format!("bob {i}"), false, false)
                .await,
        );
    }

    // Ada reads only her own.
    let mine = app
        .graphql_as(
            &ada.token,
            "{ me { follows { team { id } } preferences { webhookUrl quietHours { start } }
               notifications(first: 100) { totalCount nodes { id title } } unreadNotificationCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        mine["data"]["me"],
        json!({
            "follows": [{ "team": { "id": city.id.to_string() } }],
            "preferences": { "webhookUrl": null, "quietHours": null },
            "notifications": { "totalCount": 1, "nodes": [{ "id": ada_note.id.to_string(), "title": "ada 0" }] },
            "unreadNotificationCount": 1,
        }),
        "{mine}"
    );

    // A cursor from Bob's inbox pages through Ada's inbox only.
    let bobs_page = app
        .graphql_as(
            &bob.token,
            "{ me { notifications(first: 1) { pageInfo { endCursor } } } }",
            json!({}),
        )
        .await;
    let cursor = bobs_page["data"]["me"]["notifications"]["pageInfo"]["endCursor"].clone();
    assert!(cursor.is_string(), "{bobs_page}");
    let paged = app
        .graphql_as(
            &ada.token,
            "query($a: String) { me { notifications(first: 10, after: $a) { nodes { title } } } }",
            json!({ "a": cursor }),
        )
        .await;
    assert_eq!(
        paged["data"]["me"]["notifications"]["nodes"],
        json!([{ "title": "ada 0" }]),
        "{paged}"
    );

    // Marking Bob's notifications read touches nothing and reveals nothing.
    let ids: Vec<String> = bob_notes.iter().map(|n| n.id.to_string()).collect();
    let marked = app
        .graphql_as(
            &ada.token,
            "mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) { id } }",
            json!({ "ids": ids }),
        )
        .await;
    assert_eq!(
        marked["data"]["markNotificationsRead"],
        json!([]),
        "{marked}"
    );
    let unread_for_bob = notification::Entity::find()
        .filter(notification::Column::UserId.eq(bob.id))
        .filter(notification::Column::ReadAt.is_null())
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(unread_for_bob, 3);
    let nonexistent = app
        .graphql_as(
            &ada.token,
            r#"mutation { markNotificationsRead(ids: ["987654"]) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        nonexistent, marked,
        "someone else's id and no id look the same"
    );

    // Unfollowing Bob's team as Ada leaves Bob's follow alone.
    let unfollow = app
        .graphql_as(
            &ada.token,
            "mutation($t: ID!) { unfollowTeam(teamId: $t) }",
            json!({ "t": arsenal.id.to_string() }),
        )
        .await;
    assert_eq!(unfollow["data"]["unfollowTeam"], false, "{unfollow}");
    let bob_follows = follow::Entity::find()
        .filter(follow::Column::UserId.eq(bob.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(bob_follows, 1);

    // Ada's preference changes stay hers.
    app.graphql_as(
        &ada.token,
        r#"mutation { updateNotificationPreferences(input: { quietHours: null, webhookUrl: null, timeZone: "Asia/Tokyo" }) { preferences { timeZone } } }"#,
        json!({}),
    )
    .await;
    let bobs = app
        .graphql_as(
            &bob.token,
            "{ me { timeZone preferences { webhookUrl quietHours { start end } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        bobs["data"]["me"],
        json!({ "timeZone": "Europe/London", "preferences": {
            "webhookUrl": "https://bob.example.com/hook", "quietHours": { "start": "22:00", "end": "07:00" } } }),
        "{bobs}"
    );

    // And Ada cannot promote herself to reach further.
    let promote = app
        .graphql_as(
            &ada.token,
            "mutation($u: ID!) { setUserRole(userId: $u, role: ADMIN) { role } }",
            json!({ "u": ada.id.to_string() }),
        )
        .await;
    assert_eq!(error_code(&promote), Some("FORBIDDEN"), "{promote}");
    app.stop().await;
}
