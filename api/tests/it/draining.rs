//! A replica that is told to stop, as in a rolling deploy: it leaves the
//! load balancer first, sends its subscribers elsewhere, and finishes what
//! it started.

use futures::StreamExt as _;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::common::ws::{open, send, wait_for_open_subscriptions};
use crate::common::{TestApp, seed};

const EVENTS: &str =
    "subscription($m: ID!, $a: Int!) { matchEvents(matchId: $m, afterSeq: $a) { seq } }";

#[tokio::test]
async fn a_stopping_server_turns_unready_and_sends_its_subscribers_away_with_going_away() {
    let mut app = TestApp::spawn_with_options(|o| o.shutdown_delay_ms = 3_000).await;
    let season = seed::season(&app.db).await;
    let home = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let away = seed::team(&app.db, "Chelsea FC", "chelsea-fc").await;
    let fixture = seed::fixture(&app.db, &season, &home, &away, seed::at(2026, 12, 1, 15, 0)).await;
    let mut socket = open(&app, json!({})).await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": {
            "query": EVENTS, "variables": { "m": fixture.id.to_string(), "a": 0 } } }),
    )
    .await;
    wait_for_open_subscriptions(&app, "1").await;
    let ready = app.http.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    app.begin_stop();

    // Unready at once, while it still answers.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let ready = loop {
        let ready = app.http.get(app.url("/ready")).send().await.unwrap();
        if ready.status() == 503 || std::time::Instant::now() > deadline {
            break ready;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "draining", "{body}");

    // The subscriber is told the server is going away.
    let close = loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
            .await
            .expect("a close frame within 5 s")
            .expect("the socket sends a close frame before it ends")
            .expect("a valid frame");
        if let Message::Close(close) = frame {
            break close.expect("a close code");
        }
    };
    assert_eq!(close.code, CloseCode::Away);

    // A new subscriber is sent elsewhere too, before any upgrade.
    let refused = app
        .http
        .get(app.url("/graphql"))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("sec-websocket-protocol", "graphql-transport-ws")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAVAILABLE");

    app.stop().await;
}
