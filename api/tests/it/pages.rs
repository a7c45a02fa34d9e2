//! What a browser gets from the server itself: GraphiQL and the scoreboard
//! with every script and style they need, cacheable, and no CDN. The
//! browser tests in `e2e/browser.test.mjs` run them in Chromium.

use serde_json::Value;

use crate::common::TestApp;

async fn html(app: &TestApp, path: &str) -> String {
    let response = app
        .http
        .get(app.url(path))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    response.text().await.unwrap()
}

/// Every `src="…"` and `href="…"` of a page.
fn links(page: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attr| page.split(attr).skip(1))
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn graphiql_and_the_scoreboard_load_everything_from_this_server() {
    let app = TestApp::spawn().await;
    for page in ["/graphql", "/"] {
        let page = html(&app, page).await;
        let assets: Vec<_> = links(&page)
            .into_iter()
            .filter(|link| link.starts_with("/assets/"))
            .collect();
        assert!(assets.len() >= 3, "{page}");
        assert!(!page.contains("unpkg") && !page.contains("cdn"), "{page}");
        for link in links(&page) {
            assert!(link.starts_with('/'), "{link} is not on this server");
        }
        for asset in assets {
            let response = app.http.get(app.url(&asset)).send().await.unwrap();
            assert_eq!(response.status(), 200, "{asset}");
            assert_eq!(
                response.headers()["cache-control"],
                "public, max-age=31536000, immutable",
                "{asset}"
            );
            assert!(!response.bytes().await.unwrap().is_empty(), "{asset}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn the_scoreboard_offers_web_push_through_a_service_worker_at_the_root() {
    let app = TestApp::spawn().await;
    let page = html(&app, "/").await;
    let script = links(&page)
        .into_iter()
        .find(|link| link.starts_with("/assets/scoreboard.") && link.ends_with(".js"))
        .expect("the scoreboard's script");
    let script = app.http.get(app.url(&script)).send().await.unwrap();
    let script = script.text().await.unwrap();
    for needed in [
        "serviceWorker.register('/push-sw.js'",
        "pushManager.subscribe",
        "webPushPublicKey",
        "subscribeWebPush(",
    ] {
        assert!(script.contains(needed), "{needed}");
    }
    assert!(page.contains("id=\"sign-in\""), "a sign-in form: {page}");

    let worker = app.http.get(app.url("/push-sw.js")).send().await.unwrap();
    assert_eq!(worker.status(), 200);
    assert_eq!(
        worker.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(worker.headers()["cache-control"], "no-cache");
    let worker = worker.text().await.unwrap();
    assert!(
        worker.contains("addEventListener('push'") && worker.contains("showNotification"),
        "{worker}"
    );
    app.stop().await;
}

#[tokio::test]
async fn graphiql_is_wired_for_subscriptions_over_a_websocket() {
    let app = TestApp::spawn().await;
    let page = html(&app, "/graphql").await;
    let script = links(&page)
        .into_iter()
        .find(|link| link.starts_with("/assets/graphiql.") && link.ends_with(".js"))
        .expect("GraphiQL's start-up script");
    let script = app.http.get(app.url(&script)).send().await.unwrap();
    let script = script.text().await.unwrap();
    assert!(
        script.contains("graphqlWs.createClient") && script.contains("wsClient"),
        "{script}"
    );
    app.stop().await;
}

#[tokio::test]
async fn assets_are_gzipped_for_a_browser_that_accepts_it() {
    let app = TestApp::spawn().await;
    let page = html(&app, "/graphql").await;
    let bundle = links(&page)
        .into_iter()
        .find(|link| link.starts_with("/assets/graphiql-") && link.ends_with(".js"))
        .expect("GraphiQL's bundle");
    let plain = app.http.get(app.url(&bundle)).send().await.unwrap();
    let plain_len = plain.bytes().await.unwrap().len();
    let gzipped = app
        .http
        .get(app.url(&bundle))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let gzipped_len = gzipped.bytes().await.unwrap().len();
    assert!(gzipped_len * 2 < plain_len, "{gzipped_len} of {plain_len}");
    app.stop().await;
}

#[tokio::test]
async fn an_asset_that_does_not_exist_is_a_404() {
    let app = TestApp::spawn().await;
    for path in ["/assets/graphiql.js", "/assets/nothing.0000000000.js"] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_schema_and_the_docs_are_served_as_text() {
    let app = TestApp::spawn().await;
    for (path, expected) in [
        ("/schema.graphql", "type Subscription {"),
        ("/docs/README.md", "# InTheGame"),
        ("/docs/ARCHITECTURE.md", "# Architecture"),
    ] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
        assert!(response.text().await.unwrap().contains(expected), "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_subscription_sent_over_http_is_told_to_use_a_websocket() {
    let app = TestApp::spawn().await;
    let query = "subscription { liveScores { id } }";
    for (accept, status) in [
        ("application/graphql-response+json", 400),
        ("application/json", 200),
    ] {
        let response = app
            .http
            .post(app.url("/graphql"))
            .header("accept", accept)
            .json(&serde_json::json!({ "query": query }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{accept}");
        let body: Value = response.json().await.unwrap();
        assert!(body.get("data").is_none(), "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "SUBSCRIPTION_OVER_HTTP",
            "{body}"
        );
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("websocket"), "{message}");
    }
    let response = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", query)])
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "SUBSCRIPTION_OVER_HTTP",
        "{body}"
    );
    app.stop().await;
}
