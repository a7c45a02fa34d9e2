//! Persisted documents as Apollo's client uses them: a hash alone first,
//! `PersistedQueryNotFound`, then the hash with the document, then the
//! hash alone for good, over POST and GET; and the allowlist mode, where
//! only known documents run, on HTTP and websockets alike.

use api::execution::persisted::{Mode, sha256};
use serde_json::{Value, json};

use crate::common::ws::{next_json, open, send};
use crate::common::{TestApp, error_code, seed};

const TEAM: &str = "query Team($slug: String!) { team(slug: $slug) { name shortName } }";

/// `extensions.persistedQuery` for a document.
fn persisted(document: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256(document) } })
}

/// POSTs as Apollo's HTTP link does: `extensions`, and the document only
/// when `with_document`.
async fn post(app: &TestApp, document: &str, with_document: bool, accept: &str) -> (u16, Value) {
    let mut body = json!({
        "operationName": "Team",
        "variables": { "slug": "arsenal-fc" },
        "extensions": persisted(document),
    });
    if with_document {
        body["query"] = json!(document);
    }
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("accept", accept)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// The URL Apollo's link builds with `useGETForHashedQueries`.
fn get_url(app: &TestApp, document: &str, variables: Value) -> String {
    let mut url = reqwest::Url::parse(&app.url("/graphql")).unwrap();
    url.query_pairs_mut()
        .append_pair("variables", &variables.to_string())
        .append_pair("extensions", &persisted(document).to_string());
    url.to_string()
}

async fn counter(app: &TestApp, name: &str) -> u64 {
    let text = app.metrics().await;
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("inthegame_{name}_total ")))
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_document_is_registered_by_its_hash_and_then_runs_from_the_hash_alone() {
    let app = TestApp::spawn().await;
    seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    const APOLLO_ACCEPT: &str = "application/graphql-response+json,application/json;q=0.9";

    // First the hash alone: not known yet, in the words Apollo's client
    // matches, and (this media type) a 400, since nothing ran.
    let (status, body) = post(&app, TEAM, false, APOLLO_ACCEPT).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        error_code(&body),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    let (status, body) = post(&app, TEAM, false, "application/json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        error_code(&body),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );

    // Then the hash with the document: it runs and is kept.
    let (status, body) = post(&app, TEAM, true, APOLLO_ACCEPT).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["team"]["name"], "Arsenal FC", "{body}");
    assert_eq!(counter(&app, "persisted_queries_registered").await, 1);

    // From now on the hash alone is enough.
    for _ in 0..2 {
        let (status, body) = post(&app, TEAM, false, APOLLO_ACCEPT).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["team"]["name"], "Arsenal FC", "{body}");
    }
    assert_eq!(counter(&app, "persisted_queries_registered").await, 1);

    // A document that is not what its hash says is refused, and not kept.
    let mut body = json!({
        "query": "{ competitions { code } }",
        "extensions": persisted("{ competitions { name } }"),
    });
    let response: Value = app
        .http
        .post(app.url("/graphql"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(error_code(&response), Some("BAD_REQUEST"), "{response}");
    assert_eq!(
        response["errors"][0]["message"],
        "provided sha does not match query"
    );
    body["query"] = json!("");
    body["extensions"] = persisted("{ competitions { name } }");
    let response: Value = app
        .http
        .post(app.url("/graphql"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        error_code(&response),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{response}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_public_query_by_hash_is_a_url_that_a_cdn_can_keep() {
    let app = TestApp::spawn().await;
    seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let variables = json!({ "slug": "arsenal-fc" });
    let url = get_url(&app, TEAM, variables.clone());

    let response = app.http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        error_code(&body),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );

    // Apollo's client registers with a POST, then reads by URL again.
    let (_, body) = post(&app, TEAM, true, "application/json").await;
    assert!(body["errors"].is_null(), "{body}");
    let first = app.http.get(&url).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["cache-control"], "public, max-age=5");
    let etag = first.headers()["etag"].clone();
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["data"]["team"]["name"], "Arsenal FC", "{body}");
    let revalidated = app
        .http
        .get(&url)
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);

    // The same document sent in full and by hash shares one kept answer.
    test_support::notify::wait_for(5, "an answer from the cache", || async {
        let hits = counter(&app, "response_cache_hits").await;
        app.http.get(&url).send().await.unwrap();
        (counter(&app, "response_cache_hits").await == hits + 1).then_some(())
    })
    .await;
    let hits = counter(&app, "response_cache_hits").await;
    let body = app.graphql(TEAM, variables).await;
    assert_eq!(body["data"]["team"]["name"], "Arsenal FC", "{body}");
    assert_eq!(counter(&app, "response_cache_hits").await, hits + 1);

    // A mutation named by its hash is still no GET.
    let mutation = "mutation { logout }";
    let body = json!({ "query": mutation, "extensions": persisted(mutation) });
    app.http
        .post(app.url("/graphql"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let response = app
        .http
        .get(get_url(&app, mutation, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("METHOD_NOT_ALLOWED"), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_document_is_registered_only_once_it_passed_the_limits() {
    let app = TestApp::spawn_with_options(|o| o.limits.max_query_tokens = 20).await;
    let big = format!(
        "{{ {} }}",
        (0..30)
            .map(|n| format!("a{n}: __typename"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let register = json!({ "query": big, "extensions": persisted(&big) });
    let body: Value = app
        .http
        .post(app.url("/graphql"))
        .json(&register)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(error_code(&body), Some("TOO_MANY_TOKENS"), "{body}");
    let by_hash = json!({ "extensions": persisted(&big) });
    let body: Value = app
        .http
        .post(app.url("/graphql"))
        .json(&by_hash)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        error_code(&body),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );
    assert_eq!(counter(&app, "persisted_queries_registered").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_document_registered_through_one_replica_runs_by_hash_on_another() {
    if std::env::var("REDIS_URL").is_err() {
        // Replicas share documents only through Redis.
        return;
    }
    let first = TestApp::spawn().await;
    seed::team(&first.db, "Arsenal FC", "arsenal-fc").await;
    let second = first.replica(|_| {}).await;
    let (_, body) = post(&first, TEAM, true, "application/json").await;
    assert!(body["errors"].is_null(), "{body}");
    // Written to Redis just after the answer: ask until it is there.
    let body = test_support::notify::wait_for(3, "the other replica to know the hash", || async {
        let (_, body) = post(&second, TEAM, false, "application/json").await;
        body["errors"].is_null().then_some(body)
    })
    .await;
    assert_eq!(body["data"]["team"]["name"], "Arsenal FC", "{body}");
    // And by URL on that replica, as a CDN would ask.
    let body: Value = second
        .http
        .get(get_url(&second, TEAM, json!({ "slug": "arsenal-fc" })))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["team"]["name"], "Arsenal FC", "{body}");
}

#[tokio::test]
async fn with_an_allowlist_only_the_listed_documents_run() {
    const TABLE: &str = "query Table { competitions { code } }";
    const LIVE: &str = "subscription { liveScores { id } }";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("persisted-query-manifest.json");
    let operations: Vec<Value> = [(TABLE, "Table", "query"), (LIVE, "Live", "subscription")]
        .iter()
        .map(|(body, name, kind)| json!({ "id": sha256(body), "name": name, "type": kind, "body": body }))
        .collect();
    std::fs::write(
        &file,
        json!({ "format": "apollo-persisted-query-manifest", "version": 1, "operations": operations })
            .to_string(),
    )
    .unwrap();
    let app = TestApp::spawn_with_options(|o| {
        o.persisted_queries.mode = Mode::Allowlist;
        o.persisted_queries.file = Some(file.clone());
    })
    .await;
    let send_body = |body: Value| {
        let app = &app;
        async move {
            let response = app
                .http
                .post(app.url("/graphql"))
                .json(&body)
                .send()
                .await
                .unwrap();
            let json: Value = response.json().await.unwrap();
            json
        }
    };

    // A listed document runs by hash, or in full.
    let body = send_body(json!({ "extensions": persisted(TABLE) })).await;
    assert!(body["errors"].is_null(), "{body}");
    assert!(body["data"]["competitions"].is_array(), "{body}");
    let body = send_body(json!({ "query": TABLE })).await;
    assert!(body["errors"].is_null(), "{body}");

    // Anything else is refused with a code, however it is sent.
    let other = "{ competitions { name } }";
    for body in [
        json!({ "query": other }),
        json!({ "query": other, "extensions": persisted(other) }),
    ] {
        let answer = send_body(body).await;
        assert_eq!(
            error_code(&answer),
            Some("PERSISTED_QUERY_NOT_IN_LIST"),
            "{answer}"
        );
        assert!(answer["data"].is_null(), "{answer}");
    }
    let answer = send_body(json!({ "extensions": persisted(other) })).await;
    assert_eq!(
        error_code(&answer),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{answer}"
    );

    // Over a websocket too.
    let mut socket = open(&app, json!({})).await;
    send(
        &mut socket,
        json!({ "type": "subscribe", "id": "1", "payload": { "query": other } }),
    )
    .await;
    // Refused before it ran, as a document over the limits is.
    let message = next_json(&mut socket).await;
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(
        message["payload"]["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_IN_LIST",
        "{message}"
    );
    assert!(message["payload"]["data"].is_null(), "{message}");
    send(
        &mut socket,
        json!({ "type": "subscribe", "id": "2", "payload": { "extensions": persisted(LIVE) } }),
    )
    .await;
    crate::common::ws::wait_for_open_subscriptions(&app, "1").await;
    app.stop().await;
}

#[tokio::test]
async fn with_persisted_queries_off_a_hash_is_answered_not_supported() {
    let app = TestApp::spawn_with_options(|o| o.persisted_queries.mode = Mode::Off).await;
    let body: Value = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "extensions": persisted(TEAM) }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        error_code(&body),
        Some("PERSISTED_QUERY_NOT_SUPPORTED"),
        "{body}"
    );
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotSupported");
    app.stop().await;
}
