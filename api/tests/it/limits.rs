//! Each limit on a request's cost refuses with its own code.

use serde_json::{Value, json};

use crate::common::{TestApp, doubling_fragments, seed};

async fn post(app: &TestApp, body: String) -> (u16, Value) {
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_query_nested_too_deep_is_refused_with_query_too_deep() {
    let app = TestApp::spawn().await;
    // match -> homeTeam -> matches -> nodes -> homeTeam -> ... well past 15 levels.
    let mut selection = "name".to_owned();
    for _ in 0..5 {
        selection = format!("matches(first: 1) {{ nodes {{ homeTeam {{ {selection} }} }} }}");
    }
    let query = format!("{{ teams(first: 1) {{ nodes {{ {selection} }} }} }}");
    let (status, body) = post(&app, json!({ "query": query }).to_string()).await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), "QUERY_TOO_DEEP", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_query_too_costly_is_refused_with_query_too_complex() {
    let app = TestApp::spawn().await;
    let query =
        "{ matches(first: 100) { nodes { homeTeam { matches(first: 100) { nodes { id } } } } } }";
    let (status, body) = post(&app, json!({ "query": query }).to_string()).await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_body_over_the_size_limit_is_refused_with_request_too_large() {
    let app = TestApp::spawn().await;
    let padding = " ".repeat(70_000);
    let (status, body) = post(
        &app,
        json!({ "query": format!("{{ teams {{ totalCount }} }}{padding}") }).to_string(),
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(code(&body), "REQUEST_TOO_LARGE", "{body}");
    app.stop().await;
}

/// A client that writes its whole body before it reads, as most do, reads
/// the refusal of a body over the limit: the api answers at once, then
/// reads the rest out instead of closing over unread data, which would
/// reset the connection under the client's writes.
#[tokio::test]
async fn a_client_that_writes_a_body_over_the_limit_before_reading_gets_the_refusal() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let app = TestApp::spawn().await;
    let body = vec![b' '; 4 << 20];
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
        .write_all(&body)
        .await
        .expect("the api reads the refused body out rather than resetting the connection");
    // The connection stays open for another request: read until the
    // answer is whole.
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while !answer.ends_with(b"}") {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("an answer within 10 s")
            .expect("an answer, not a reset");
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&chunk[..n]);
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("REQUEST_TOO_LARGE"), "{answer}");
    app.stop().await;
}

/// async-graphql's parser recurses into nested input values without a
/// limit: a document nesting them thousands deep must be refused before
/// anything parses it, or it overflows the stack and aborts the process.
#[tokio::test]
async fn input_values_nested_thousands_deep_are_refused_and_the_api_keeps_serving() {
    let app = TestApp::spawn().await;
    for depth in [400, 2_000] {
        let query = format!(
            "{{ matches(filter: {}1{}) {{ totalCount }} }}",
            "{ teamId: ".repeat(depth),
            " }".repeat(depth)
        );
        for accept in ["application/json", "application/graphql-response+json"] {
            let response = app
                .http
                .post(app.url("/graphql"))
                .header("accept", accept)
                .json(&json!({ "query": query }))
                .send()
                .await
                .expect("an answer, not a dead process");
            let body: Value = response.json().await.unwrap();
            assert_eq!(code(&body), "QUERY_TOO_DEEP", "{depth}, {accept}: {body}");
        }
    }
    let (status, body) = post(&app, json!({ "query": "{ __typename }" }).to_string()).await;
    assert_eq!(
        (status, &body["data"]["__typename"]),
        (200, &json!("Query"))
    );
    app.stop().await;
}

#[tokio::test]
async fn a_request_that_runs_past_the_timeout_is_refused_with_timeout() {
    let app = TestApp::spawn_with_options(|options| options.limits.request_timeout_ms = 1).await;
    for i in 0..60 {
        seed::team(&app.db, &format!("Team {i:02}"), &format!("team-{i:02}")).await;
    }
    // Two unbatched lookups per team: far more than a millisecond of work.
    let query = "{ teams(first: 60) { nodes { nextMatch { id } lastMatch { id } } } }";
    let (status, body) = post(&app, json!({ "query": query }).to_string()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(code(&body), "TIMEOUT", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn introspection_can_be_turned_off() {
    let app = TestApp::spawn_with_options(|options| options.limits.introspection = false).await;
    let (_, body) = post(
        &app,
        json!({ "query": "{ __schema { queryType { name } } }" }).to_string(),
    )
    .await;
    assert!(
        body["data"]["__schema"].is_null(),
        "introspection answered: {body}"
    );
    app.stop().await;

    let default = TestApp::spawn().await;
    let (_, body) = post(
        &default,
        json!({ "query": "{ __schema { queryType { name } } }" }).to_string(),
    )
    .await;
    assert_eq!(
        body["data"]["__schema"]["queryType"]["name"], "Query",
        "{body}"
    );
    default.stop().await;
}

#[tokio::test]
async fn fragments_that_double_at_every_level_are_refused_before_they_expand() {
    let app = TestApp::spawn().await;
    let query = doubling_fragments(30);
    assert!(query.len() < 1300, "{} bytes", query.len());
    // Expanded, this is 2^30 selections: were it validated, this request
    // would not come back at all, so a hang is the failure.
    let (status, body) = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        post(&app, json!({ "query": query }).to_string()),
    )
    .await
    .expect("refused without expanding the fragments");
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    assert!(body.get("data").is_none(), "{body}");

    // A few levels are an ordinary query.
    let (status, body) = post(&app, json!({ "query": doubling_fragments(4) }).to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn each_limit_on_a_document_refuses_with_its_own_code() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            format!("{{ {} }}", "__typename ".repeat(2001)),
            "TOO_MANY_TOKENS",
        ),
        (
            format!(
                "{{ {} }}",
                (0..51)
                    .map(|i| format!("a{i}: __typename "))
                    .collect::<String>()
            ),
            "TOO_MANY_ALIASES",
        ),
        (
            format!("{{ __typename {} }}", "@skip(if: false) ".repeat(51)),
            "TOO_MANY_DIRECTIVES",
        ),
        (
            format!(
                "{{ ...F }} fragment F on Query {{ {} }}",
                "__typename ".repeat(1001)
            ),
            "QUERY_TOO_COMPLEX",
        ),
        (
            format!(
                "{{ ...F0 }} {} fragment F40 on Query {{ __typename }}",
                (0..40)
                    .map(|i| format!("fragment F{i} on Query {{ ...F{} }} ", i + 1))
                    .collect::<String>()
            ),
            "QUERY_TOO_DEEP",
        ),
    ];
    for (query, expected) in cases {
        let (status, body) = post(&app, json!({ "query": query }).to_string()).await;
        assert_eq!(status, 400, "{expected}: {body}");
        assert_eq!(code(&body), expected, "{body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn document_limits_are_settings() {
    let app = TestApp::spawn_with_options(|options| options.limits.max_query_aliases = 1).await;
    let (status, body) = post(
        &app,
        json!({ "query": "{ a: __typename b: __typename }" }).to_string(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "TOO_MANY_ALIASES", "{body}");
    let (status, _) = post(&app, json!({ "query": "{ a: __typename }" }).to_string()).await;
    assert_eq!(status, 200);
    app.stop().await;
}
