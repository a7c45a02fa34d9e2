//! Every refusal a client can receive carries an `extensions.code`, and a
//! request that never executed is a 4xx under
//! `application/graphql-response+json`.

use serde_json::{Value, json};

use crate::common::TestApp;

async fn post(app: &TestApp, accept: &str, body: Value) -> (u16, Value) {
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("accept", accept)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn codes(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("<none>"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn variables_that_do_not_fit_their_types_are_bad_user_input_and_a_400() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            "query($from: DateTime) { matches(filter: { from: $from }) { totalCount } }",
            json!({ "from": "yesterday" }),
            "Failed to parse \"DateTime\"",
        ),
        (
            "query($filter: MatchFilter) { matches(filter: $filter) { totalCount } }",
            json!({ "filter": 1 }),
            "Expected input type \"MatchFilter\", found 1.",
        ),
        (
            "query($id: ID!) { match(id: $id) { id } }",
            json!({}),
            "Variable id is not defined.",
        ),
    ];
    for (query, variables, message) in cases {
        let (status, body) = post(
            &app,
            "application/graphql-response+json",
            json!({ "query": query, "variables": variables }),
        )
        .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(codes(&body), ["BAD_USER_INPUT"], "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(message),
            "{body}"
        );
        assert!(body.get("data").is_none(), "{body}");

        // A legacy client gets the same error with 200.
        let (status, legacy) = post(
            &app,
            "application/json",
            json!({ "query": query, "variables": variables }),
        )
        .await;
        assert_eq!(status, 200, "{legacy}");
        assert_eq!(codes(&legacy), ["BAD_USER_INPUT"], "{legacy}");
    }
    app.stop().await;
}

#[tokio::test]
async fn parse_and_validation_failures_carry_a_code() {
    let app = TestApp::spawn().await;
    for query in [
        "{ teams { name ",
        "{ noSuchField }",
        "query A { __typename } query B { __typename }",
        "{ match(id: \"1\") }",
    ] {
        let (status, body) = post(
            &app,
            "application/graphql-response+json",
            json!({ "query": query }),
        )
        .await;
        assert_eq!(status, 400, "{query}: {body}");
        let codes = codes(&body);
        assert!(!codes.is_empty(), "{body}");
        assert!(
            codes.iter().all(|c| *c == "GRAPHQL_VALIDATION_FAILED"),
            "{query}: {body}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn paths_and_methods_the_api_does_not_serve_get_a_coded_answer() {
    let app = TestApp::spawn().await;
    let response = app.http.get(app.url("/nowhere")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(codes(&body), ["NOT_FOUND"], "{body}");

    let response = app.http.put(app.url("/graphql")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET, POST");
    let body: Value = response.json().await.unwrap();
    assert_eq!(codes(&body), ["METHOD_NOT_ALLOWED"], "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_websocket_upgrade_without_a_subprotocol_this_server_speaks_gets_a_coded_json_refusal() {
    let app = TestApp::spawn().await;
    for protocol in [None, Some("mqtt"), Some("graphql-sse")] {
        let mut request = app
            .http
            .get(app.url("/graphql"))
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
        if let Some(protocol) = protocol {
            request = request.header("sec-websocket-protocol", protocol);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 400, "{protocol:?}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{protocol:?}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNSUPPORTED_SUBPROTOCOL",
            "{protocol:?}: {body}"
        );
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("graphql-transport-ws"),
            "{body}"
        );
    }
    app.stop().await;
}
