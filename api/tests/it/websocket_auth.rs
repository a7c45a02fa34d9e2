//! Signing in a websocket: the token travels in `connection_init`'s payload.

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::common::{TestApp, accounts};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, protocol: &str) -> Socket {
    let mut request = format!("ws://{}/graphql", app.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocol.parse().unwrap());
    let (socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], protocol);
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

async fn next(socket: &mut Socket) -> Message {
    tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
        .await
        .expect("a message within 10 s")
        .expect("the socket is open")
        .expect("a valid frame")
}

fn json_of(message: Message) -> Value {
    match message {
        Message::Text(text) => serde_json::from_str(&text).unwrap(),
        other => panic!("expected text, got {other:?}"),
    }
}

#[tokio::test]
async fn a_bad_token_in_connection_init_closes_the_socket_with_4403_forbidden() {
    let app = TestApp::spawn().await;
    for authorization in [
        json!("Bearer itg_not-a-token"),
        json!("itg_no-scheme"),
        json!(42),
    ] {
        let mut socket = connect(&app, "graphql-transport-ws").await;
        send(
            &mut socket,
            json!({ "type": "connection_init", "payload": { "authorization": authorization } }),
        )
        .await;
        match next(&mut socket).await {
            Message::Close(Some(frame)) => {
                assert_eq!(u16::from(frame.code), 4403, "{authorization}: {frame:?}");
                assert!(
                    frame.reason.contains("bearer") || frame.reason.contains("Bearer"),
                    "{frame:?}"
                );
            }
            other => panic!("{authorization}: expected a close frame, got {other:?}"),
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn a_good_token_is_acknowledged_and_the_socket_acts_as_that_user() {
    let app = TestApp::spawn().await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    let mut socket = connect(&app, "graphql-transport-ws").await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {}", ada.token) } }),
    )
    .await;
    assert_eq!(
        json_of(next(&mut socket).await),
        json!({ "type": "connection_ack" })
    );

    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ me { email } }" } }),
    )
    .await;
    let result = json_of(next(&mut socket).await);
    assert_eq!(result["type"], "next", "{result}");
    assert_eq!(
        result["payload"]["data"]["me"]["email"], "ada@example.com",
        "{result}"
    );
    app.stop().await;
}

#[tokio::test]
async fn without_a_token_the_socket_is_anonymous_and_guarded_fields_say_so() {
    let app = TestApp::spawn().await;
    let mut socket = connect(&app, "graphql-transport-ws").await;
    send(&mut socket, json!({ "type": "connection_init" })).await;
    assert_eq!(
        json_of(next(&mut socket).await),
        json!({ "type": "connection_ack" })
    );
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ me { email } }" } }),
    )
    .await;
    let result = json_of(next(&mut socket).await);
    assert_eq!(
        result["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{result}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_legacy_protocol_answers_a_bad_token_with_connection_error() {
    let app = TestApp::spawn().await;
    let mut socket = connect(&app, "graphql-ws").await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "authorization": "Bearer itg_nope" } }),
    )
    .await;
    let message = json_of(next(&mut socket).await);
    assert_eq!(message["type"], "connection_error", "{message}");
    assert!(
        message["payload"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid, expired or revoked"),
        "{message}"
    );
    app.stop().await;
}

#[tokio::test]
async fn subscribing_before_the_handshake_closes_the_socket_with_4401_unauthorized() {
    let app = TestApp::spawn().await;
    let mut socket = connect(&app, "graphql-transport-ws").await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ teams { id } }" } }),
    )
    .await;
    match next(&mut socket).await {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 4401, "{frame:?}"),
        other => panic!("expected a close frame, got {other:?}"),
    }
    app.stop().await;
}
