//! The HTTP edge: which browsers may read what, and clients too slow to
//! send their headers.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::TestApp;

async fn preflight(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    app.http
        .request(reqwest::Method::OPTIONS, app.url(path))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, authorization",
        )
        .send()
        .await
        .unwrap()
}

fn allowed_origin(response: &reqwest::Response) -> Option<&str> {
    response
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn by_default_any_web_page_may_call_graphql() {
    let app = TestApp::spawn().await;
    let response = preflight(&app, "/graphql", "https://fan.example.org").await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(allowed_origin(&response), Some("*"));
    app.stop().await;
}

#[tokio::test]
async fn only_the_configured_origins_may_call_graphql_from_a_browser() {
    let app = TestApp::spawn_with_options(|o| {
        o.cors_allowed_origins =
            api::http::cors::AllowedOrigins::parse("https://app.example.com").unwrap();
    })
    .await;
    let allowed = preflight(&app, "/graphql", "https://app.example.com").await;
    assert_eq!(allowed_origin(&allowed), Some("https://app.example.com"));
    let refused = preflight(&app, "/graphql", "https://evil.example.net").await;
    assert_eq!(allowed_origin(&refused), None);
    app.stop().await;
}

#[tokio::test]
async fn metrics_and_probes_are_not_readable_from_other_origins() {
    let app = TestApp::spawn().await;
    for path in ["/metrics", "/health"] {
        let response = app
            .http
            .get(app.url(path))
            .header("origin", "https://fan.example.org")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(allowed_origin(&response), None, "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_trickles_its_headers_is_disconnected() {
    let app = TestApp::spawn_with_options(|o| o.limits.header_read_timeout_secs = 1).await;
    let mut socket = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    socket.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
    // A header line every half second: never a complete request.
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 1024];
        for i in 0.. {
            tokio::select! {
                read = socket.read(&mut buf) => return read.map_or(true, |n| n == 0 || buf[..n].starts_with(b"HTTP/1.1 408")),
                () = tokio::time::sleep(Duration::from_millis(500)) => {
                    let line = format!("x-slow-{i}: 1\r\n");
                    if socket.write_all(line.as_bytes()).await.is_err() {
                        return true;
                    }
                }
            }
        }
        false
    })
    .await
    .expect("the server closed the connection");
    assert!(closed);
    app.stop().await;
}
