//! A graphql-transport-ws client over a real websocket, for subscription tests.

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use super::TestApp;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn open(app: &TestApp, init: Value) -> Socket {
    open_at(app.addr, init).await
}

/// As `open`, to a server at `addr` (e.g. the `api` binary in a child process).
pub async fn open_at(addr: std::net::SocketAddr, init: Value) -> Socket {
    let mut request = format!("ws://{addr}/graphql")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": init }),
    )
    .await;
    assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
    socket
}

pub async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

pub async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .expect("the socket is open")
            .expect("a valid frame");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// Polls `/metrics` until the open-subscriptions gauge reads `value`.
pub async fn wait_for_open_subscriptions(app: &TestApp, value: &str) {
    wait_for_metric(app, &format!("inthegame_open_subscriptions {value}")).await;
}

/// Polls `/metrics` until a line reads `expected`.
pub async fn wait_for_metric(app: &TestApp, expected: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let metrics = app.metrics().await;
        if metrics.lines().any(|l| l == expected) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never saw {expected}: {metrics}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
