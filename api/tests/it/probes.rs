use serde_json::Value;

use crate::common::TestApp;

#[tokio::test]
async fn health_answers_ok_while_the_process_is_up() {
    let app = TestApp::spawn().await;
    let response = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    app.stop().await;
}

#[tokio::test]
async fn ready_reports_each_dependency_it_checked() {
    let app = TestApp::spawn().await;
    let response = app.http.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["database"], "ok");
    if std::env::var("REDIS_URL").is_ok() {
        assert_eq!(body["checks"]["redis"], "ok");
    } else {
        assert!(body["checks"].get("redis").is_none(), "{body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let response = app.http.get(app.url("/health")).send().await.unwrap();
    let id = response
        .headers()
        .get("x-request-id")
        .expect("x-request-id header");
    assert!(!id.is_empty());
    let given = app
        .http
        .get(app.url("/health"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "trace-me-42");
    app.stop().await;
}

#[tokio::test]
async fn a_database_that_is_gone_fails_requests_fast_with_unavailable_and_ready_says_so() {
    let app = TestApp::spawn().await;
    app.db.close_by_ref().await.unwrap();
    let started = std::time::Instant::now();
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .json(&serde_json::json!({ "query": "{ matches(first: 5) { nodes { id } } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        crate::common::error_code(&body),
        Some("UNAVAILABLE"),
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], 5);
    // Well inside the request timeout (10 s), which used to be the answer.
    assert!(started.elapsed() < std::time::Duration::from_secs(5));

    let ready = app.http.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["database"], "unavailable", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn ready_reports_the_embedded_workers_loops() {
    let app = TestApp::spawn_worker(&["--digest-cron", "true"]).await;
    let body: Value = crate::common::notify::wait_for(10, "the worker's loops", || async {
        let body: Value = app
            .http
            .get(app.url("/ready"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (body["checks"]["workers"].as_object().map_or(0, |w| w.len()) == 5).then_some(body)
    })
    .await;
    assert_eq!(body["status"], "ready", "{body}");
    for loop_name in [
        "digests",
        "deliveries",
        "reminders",
        "digest-cron",
        "outbox",
    ] {
        assert_eq!(body["checks"]["workers"][loop_name], "ok", "{body}");
    }
    app.stop().await;
}
