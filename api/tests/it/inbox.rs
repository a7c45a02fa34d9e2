//! The in-app inbox: a Relay connection, newest first, with read state.

use serde_json::{Value, json};

use crate::common::{TestApp, accounts, error_code, field_errors, seed_notifications};

const PAGE: &str = "query($first: Int!, $after: String, $unread: Boolean!) {
    me { unreadNotificationCount
         notifications(first: $first, after: $after, unreadOnly: $unread) {
           totalCount
           edges { cursor node { title read kind payload } }
           nodes { id }
           pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }";

fn titles(body: &Value) -> Vec<&str> {
    body["data"]["me"]["notifications"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| e["node"]["title"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_inbox_pages_newest_first_with_cursors_and_a_total_count() {
    let app = TestApp::spawn().await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    for i in 1..=5 {
        seed_notifications::notification(&app.db, ada.id, &format!("n{i}"), i == 2, false).await;
    }
    seed_notifications::notification(&app.db, ada.id, "held back", false, true).await;

    let first = app
        .graphql_as(&ada.token, PAGE, json!({ "first": 2, "unread": false }))
        .await;
    assert_eq!(titles(&first), ["n5", "n4"], "{first}");
    let connection = &first["data"]["me"]["notifications"];
    assert_eq!(
        connection["totalCount"], 5,
        "held notifications are not listed"
    );
    assert_eq!(first["data"]["me"]["unreadNotificationCount"], 4);
    assert_eq!(connection["pageInfo"]["hasNextPage"], true);
    assert_eq!(connection["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(connection["edges"][0]["node"]["kind"], "LIVE_EVENT");
    assert_eq!(
        connection["edges"][0]["node"]["payload"],
        json!({ "title": "n5" })
    );
    let end = connection["pageInfo"]["endCursor"].clone();

    let second = app
        .graphql_as(
            &ada.token,
            PAGE,
            json!({ "first": 2, "after": end, "unread": false }),
        )
        .await;
    assert_eq!(titles(&second), ["n3", "n2"]);
    assert_eq!(
        second["data"]["me"]["notifications"]["pageInfo"]["hasPreviousPage"],
        true
    );
    let end = second["data"]["me"]["notifications"]["pageInfo"]["endCursor"].clone();
    let last = app
        .graphql_as(
            &ada.token,
            PAGE,
            json!({ "first": 2, "after": end, "unread": false }),
        )
        .await;
    assert_eq!(titles(&last), ["n1"]);
    assert_eq!(
        last["data"]["me"]["notifications"]["pageInfo"]["hasNextPage"],
        false
    );

    let unread = app
        .graphql_as(&ada.token, PAGE, json!({ "first": 10, "unread": true }))
        .await;
    assert_eq!(titles(&unread), ["n5", "n4", "n3", "n1"]);
    assert_eq!(unread["data"]["me"]["notifications"]["totalCount"], 4);
    app.stop().await;
}

#[tokio::test]
async fn a_page_size_outside_1_to_100_or_a_foreign_cursor_is_bad_input() {
    let app = TestApp::spawn().await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    for first in [0, 101, -1] {
        let body = app
            .graphql_as(&ada.token, PAGE, json!({ "first": first, "unread": false }))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{first}: {body}");
        assert_eq!(field_errors(&body, "first"), ["must be between 1 and 100"]);
    }
    let body = app
        .graphql_as(
            &ada.token,
            PAGE,
            json!({ "first": 5, "after": "42", "unread": false }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(
        field_errors(&body, "after"),
        ["is not a cursor from this connection"]
    );
    app.stop().await;
}

#[tokio::test]
async fn marking_read_changes_the_unread_count_and_mark_all_reads_the_rest() {
    let app = TestApp::spawn().await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    let mut ids = Vec::new();
    for i in 1..=4 {
        ids.push(
            seed_notifications::notification(&app.db, ada.id, &format!("n{i}"), false, false)
                .await
                .id,
        );
    }
    let marked = app
        .graphql_as(
            &ada.token,
            "mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) { id read readAt } }",
            json!({ "ids": [ids[0].to_string(), ids[1].to_string()] }),
        )
        .await;
    let list = marked["data"]["markNotificationsRead"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{marked}");
    assert!(
        list.iter()
            .all(|n| n["read"] == true && n["readAt"].is_string())
    );
    let count = app
        .graphql_as(&ada.token, "{ me { unreadNotificationCount } }", json!({}))
        .await;
    assert_eq!(count["data"]["me"]["unreadNotificationCount"], 2);

    let all = app
        .graphql_as(
            &ada.token,
            "mutation { markAllNotificationsRead }",
            json!({}),
        )
        .await;
    assert_eq!(all["data"]["markAllNotificationsRead"], 2);
    let again = app
        .graphql_as(
            &ada.token,
            "mutation { markAllNotificationsRead }",
            json!({}),
        )
        .await;
    assert_eq!(again["data"]["markAllNotificationsRead"], 0);
    let count = app
        .graphql_as(&ada.token, "{ me { unreadNotificationCount } }", json!({}))
        .await;
    assert_eq!(count["data"]["me"]["unreadNotificationCount"], 0);

    let body = app
        .graphql_as(
            &ada.token,
            r#"mutation { markNotificationsRead(ids: ["x"]) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let many: Vec<String> = (1..=101).map(|i| i.to_string()).collect();
    let body = app
        .graphql_as(
            &ada.token,
            "mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) { id } }",
            json!({ "ids": many }),
        )
        .await;
    assert_eq!(
        field_errors(&body, "ids"),
        ["at most 100 ids at once"],
        "{body}"
    );
    app.stop().await;
}
