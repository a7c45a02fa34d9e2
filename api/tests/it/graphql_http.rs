//! GraphQL over HTTP as the specification asks; the graphql-http audit in
//! CI covers the rest.

use serde_json::Value;

use crate::common::TestApp;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";

fn content_type(response: &reqwest::Response) -> String {
    response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_query_answers_in_the_media_type_the_client_accepts() {
    let app = TestApp::spawn().await;
    for (accept, expected) in [
        ("application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/json", JSON),
        ("application/json, application/graphql-response+json", JSON),
        ("*/*", JSON),
        (
            "application/graphql-response+json, application/json",
            GRAPHQL_RESPONSE,
        ),
    ] {
        let response = app
            .http
            .post(app.url("/graphql"))
            .header("accept", accept)
            .json(&serde_json::json!({ "query": "{ teams { nodes { name } } }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{accept}");
        assert_eq!(content_type(&response), expected, "{accept}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["data"]["teams"]["nodes"], serde_json::json!([]));
    }
    app.stop().await;
}

#[tokio::test]
async fn a_query_that_does_not_parse_is_a_400_without_data() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .json(&serde_json::json!({ "query": "{ teams { name " }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(body.get("data").is_none(), "{body}");
    assert!(body["errors"][0]["message"].is_string(), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_legacy_json_client_gets_validation_errors_with_status_200() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("accept", "application/json")
        .json(&serde_json::json!({ "query": "{ noSuchField }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(content_type(&response), JSON);
    let body: Value = response.json().await.unwrap();
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("noSuchField"), "{message}");
    app.stop().await;
}

#[tokio::test]
async fn a_query_can_be_sent_with_get_and_variables() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(app.url("/graphql"))
        .query(&[
            (
                "query",
                "query Few($n: Int!) { matches(first: $n) { nodes { status } } }",
            ),
            ("variables", r#"{"n": 5}"#),
            ("operationName", "Few"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["data"]["matches"]["nodes"],
        serde_json::json!([]),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_mutation_over_get_is_refused_with_405() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", "mutation { anything }")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert!(
        response.headers()["allow"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_post_that_is_not_json_is_refused_with_415() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("content-type", "text/plain")
        .body("{ teams { nodes { name } } }")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_accepts_neither_json_type_gets_406() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("accept", "text/csv")
        .json(&serde_json::json!({ "query": "{ teams { nodes { name } } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 406);
    app.stop().await;
}
