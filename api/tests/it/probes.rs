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
