use serde_json::json;

use super::world;
use test_support::accounts;
use test_support::{TestApp, error_code, field_errors};

#[tokio::test]
async fn only_admins_see_deliveries_and_run_digests() {
    let app = TestApp::spawn().await;
    let world = world(&app).await;
    let fan = accounts::user(&app.db, "fan@example.com").await;
    for query in [
        "{ deliveries { totalCount } }",
        "{ deadLetters { totalCount } }",
        "mutation { redeliver(deliveryId: \"1\") { id } }",
        "mutation { sendDigest(kind: DAILY, userId: \"1\") { outcome } }",
    ] {
        let body = app.graphql_as(&fan.token, query, json!({})).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{query}: {body}");
        let body = app.graphql_as(&world.feed.token, query, json!({})).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{query}: {body}");
    }
    let body = app
        .graphql("{ deliveries { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
}

#[tokio::test]
async fn bad_operations_input_gets_clear_errors() {
    let app = TestApp::spawn().await;
    let world = world(&app).await;
    let admin = &world.admin.token;

    let body = app
        .graphql_as(
            admin,
            "mutation { sendDigest(kind: DAILY, userId: \"999999\") { outcome } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");

    let body = app
        .graphql_as(
            admin,
            "mutation { sendDigest(kind: DAILY, userId: \"x\") { outcome } }",
            json!({}),
        )
        .await;
    assert_eq!(
        field_errors(&body, "userId"),
        ["'x' is not a valid id"],
        "{body}"
    );

    let body = app
        .graphql_as(
            admin,
            "mutation { redeliver(deliveryId: \"999999\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");

    let body = app
        .graphql_as(admin, "{ deliveries(first: 0) { totalCount } }", json!({}))
        .await;
    assert_eq!(
        field_errors(&body, "first"),
        ["must be between 1 and 100"],
        "{body}"
    );

    let body = app
        .graphql_as(
            admin,
            "{ deliveries(after: \"nope\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
}

#[tokio::test]
async fn a_job_that_fails_every_attempt_is_listed_for_admins() {
    let app = test_support::TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    // A digest for an account that does not exist can never succeed.
    let job = worker::jobs::digest::DigestJob {
        user_id: 987_654,
        more_user_ids: Vec::new(),
        kind: service::notifications::period::DigestKind::Daily,
        as_of: chrono::Utc::now(),
    };
    worker::jobs::digest::enqueue(&app.worker.queue, job, "2026-12-01")
        .await
        .unwrap();
    let failed = test_support::notify::wait_for(30, "the failed job", || async {
        let data = app
            .ok(
                &world.admin.token,
                "{ failedJobs { queue id attempts args lastError failedAt } }",
                json!({}),
            )
            .await;
        data["failedJobs"].as_array()?.first().cloned()
    })
    .await;
    assert_eq!(failed["queue"], "digests");
    assert_eq!(failed["args"]["user_id"], 987_654);
    assert_eq!(failed["attempts"], 4, "{failed}");
    assert_eq!(failed["lastError"], "user not found");

    let fan = accounts::user(&app.db, "nosy@example.com").await;
    let body = app
        .graphql_as(&fan.token, "{ failedJobs { id } }", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
}
