//! Rate limits: sign-in attempts per address and per email, requests per
//! token and per address. A refusal is HTTP 429 with `Retry-After` and a
//! `RATE_LIMITED` GraphQL error.

use serde_json::{Value, json};

use crate::common::{TestApp, accounts, error_code};

const LOGIN: &str = "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token } }";

async fn assert_rate_limited(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], retry_after);
    body
}

#[tokio::test]
async fn guessing_one_account_s_password_is_stopped_per_email_even_with_the_right_one() {
    let app = TestApp::spawn_with(&["--auth-attempts-per-email-per-minute", "3"]).await;
    accounts::user(&app.db, "ada@example.com").await;
    for guess in ["guess one", "guess two", "guess three"] {
        let body = app
            .graphql(
                LOGIN,
                json!({ "email": "ada@example.com", "password": guess }),
            )
            .await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    }
    let response = app
        .post_as(
            None,
            LOGIN,
            json!({ "email": "ADA@example.com", "password": accounts::PASSWORD }),
        )
        .await;
    let body = assert_rate_limited(response).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("too many attempts")
    );

    // Another account is not affected.
    accounts::user(&app.db, "bob@example.com").await;
    let body = app
        .graphql(
            LOGIN,
            json!({ "email": "bob@example.com", "password": accounts::PASSWORD }),
        )
        .await;
    assert!(body["data"]["login"]["token"].is_string(), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn registrations_and_logins_are_limited_per_address() {
    let app = TestApp::spawn_with(&["--auth-attempts-per-ip-per-minute", "2"]).await;
    let register = "mutation($e: String!) { register(input: { email: $e, password: \"correct horse\", displayName: \"N\" }) { token } }";
    for email in ["a@example.com", "b@example.com"] {
        let body = app.graphql(register, json!({ "e": email })).await;
        assert!(body["data"]["register"]["token"].is_string(), "{body}");
    }
    assert_rate_limited(
        app.post_as(None, register, json!({ "e": "c@example.com" }))
            .await,
    )
    .await;
    assert_rate_limited(
        app.post_as(
            None,
            LOGIN,
            json!({ "email": "a@example.com", "password": "correct horse" }),
        )
        .await,
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn guessing_bearer_tokens_counts_as_sign_in_attempts() {
    let app = TestApp::spawn_with(&["--auth-attempts-per-ip-per-minute", "2"]).await;
    for i in 0..2 {
        let response = app
            .post_as(
                Some(&format!("itg_guess{i}")),
                "{ teams { id } }",
                json!({}),
            )
            .await;
        assert_eq!(response.status(), 401);
    }
    assert_rate_limited(
        app.post_as(Some("itg_guess3"), "{ teams { id } }", json!({}))
            .await,
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn requests_are_limited_per_address_without_a_token_and_per_token_with_one() {
    let app = TestApp::spawn_with(&[
        "--requests-per-ip-per-minute",
        "3",
        "--requests-per-token-per-minute",
        "2",
    ])
    .await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    for _ in 0..3 {
        assert_eq!(
            app.post_as(None, "{ teams { id } }", json!({}))
                .await
                .status(),
            200
        );
    }
    assert_rate_limited(app.post_as(None, "{ teams { id } }", json!({})).await).await;
    // GET is counted the same way.
    let get = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", "{ teams { id } }")])
        .send()
        .await
        .unwrap();
    assert_rate_limited(get).await;

    // A signed-in client has its own allowance, whatever its address used.
    for _ in 0..2 {
        let response = app
            .post_as(Some(&ada.token), "{ me { email } }", json!({}))
            .await;
        assert_eq!(response.status(), 200);
    }
    assert_rate_limited(
        app.post_as(Some(&ada.token), "{ me { email } }", json!({}))
            .await,
    )
    .await;

    // The probes are never limited.
    assert_eq!(
        app.http
            .get(app.url("/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.stop().await;
}

const HELLO: &str = "{ __typename }";

/// `RateLimit-Policy` and `RateLimit` as sent: (quota, remaining, reset).
fn standing(response: &reqwest::Response, policy: &str) -> (u64, u64, u64) {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let field = |value: &str, key: &str| -> u64 {
        value
            .split(';')
            .find_map(|part| part.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key} in {value}"))
            .parse()
            .unwrap()
    };
    let (declared, now) = (header("ratelimit-policy"), header("ratelimit"));
    let name = format!("\"{policy}\";");
    assert!(declared.starts_with(&name), "{declared}");
    assert!(now.starts_with(&name), "{now}");
    assert_eq!(field(&declared, "w"), 60, "{declared}");
    (field(&declared, "q"), field(&now, "r"), field(&now, "t"))
}

#[tokio::test]
async fn every_graphql_answer_says_where_the_client_stands_and_a_refusal_when_to_retry() {
    let app = TestApp::spawn_with(&["--requests-per-ip-per-minute", "2"]).await;
    let first = app.post_as(None, HELLO, json!({})).await;
    assert_eq!(first.status(), 200);
    let (quota, remaining, reset) = standing(&first, "per-ip");
    assert_eq!((quota, remaining), (2, 1));
    assert!((29..=30).contains(&reset), "{reset}");
    let second = app.post_as(None, HELLO, json!({})).await;
    assert_eq!(standing(&second, "per-ip").1, 0);
    let refused = app.post_as(None, HELLO, json!({})).await;
    assert_eq!(standing(&refused, "per-ip").1, 0);
    assert_rate_limited(refused).await;

    let ada = accounts::user(&app.db, "ada@example.com").await;
    let signed_in = app.post_as(Some(&ada.token), HELLO, json!({})).await;
    assert_eq!(signed_in.status(), 200);
    let (quota, remaining, _) = standing(&signed_in, "per-token");
    assert_eq!((quota, remaining), (600, 599));
    app.stop().await;
}

async fn post_from(app: &TestApp, forwarded_for: &str) -> reqwest::Response {
    app.http
        .post(app.url("/graphql"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "query": HELLO }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_a_bucket_of_its_own() {
    let app = TestApp::spawn_configured(&["--requests-per-ip-per-minute", "1"], |o| {
        o.trusted_proxies = api::http::client_ip::TrustedProxies::parse("127.0.0.1/32").unwrap();
    })
    .await;
    assert_eq!(post_from(&app, "198.51.100.1").await.status(), 200);
    assert_rate_limited(post_from(&app, "198.51.100.1").await).await;
    // What the client claimed before our proxy counts for nothing.
    assert_rate_limited(post_from(&app, "203.0.113.5, 198.51.100.1").await).await;
    assert_eq!(post_from(&app, "198.51.100.2").await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn forwarding_headers_from_a_peer_that_is_not_a_trusted_proxy_are_ignored() {
    let app = TestApp::spawn_with(&["--requests-per-ip-per-minute", "1"]).await;
    assert_eq!(post_from(&app, "198.51.100.1").await.status(), 200);
    assert_rate_limited(post_from(&app, "198.51.100.2").await).await;
    app.stop().await;
}

#[tokio::test]
async fn with_redis_a_client_has_one_bucket_across_replicas() {
    if std::env::var("REDIS_URL").is_err() {
        // Replicas share limits only through Redis.
        return;
    }
    let limit = ["--requests-per-ip-per-minute", "3"];
    let a = TestApp::spawn_with(&limit).await;
    let b = a.replica_with(&limit, |_| {}).await;
    let mut remaining = Vec::new();
    for app in [&a, &b, &a] {
        let response = app.post_as(None, HELLO, json!({})).await;
        assert_eq!(response.status(), 200);
        remaining.push(standing(&response, "per-ip").1);
    }
    assert_eq!(remaining, [2, 1, 0]);
    assert_rate_limited(b.post_as(None, HELLO, json!({})).await).await;
    assert_rate_limited(a.post_as(None, HELLO, json!({})).await).await;
    b.stop().await;
    a.stop().await;
}
