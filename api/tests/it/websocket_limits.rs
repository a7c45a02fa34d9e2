//! A websocket is held to the same limits as HTTP requests, each refusal
//! in the protocol's own way and with a code.

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::common::ws::{self, Socket};
use crate::common::{TestApp, seed};

/// The next text message as JSON, or the close frame's code and reason.
enum Received {
    Json(Value),
    Closed(u16, String),
}

async fn receive(socket: &mut Socket) -> Received {
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s");
        match message {
            Some(Ok(Message::Text(text))) => {
                return Received::Json(serde_json::from_str(&text).unwrap());
            }
            Some(Ok(Message::Close(Some(frame)))) => {
                return Received::Closed(frame.code.into(), frame.reason.to_string());
            }
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => {
                return Received::Closed(0, String::new());
            }
            Some(Ok(_)) => {}
        }
    }
}

async fn closed(socket: &mut Socket) -> (u16, String) {
    loop {
        if let Received::Closed(code, reason) = receive(socket).await {
            return (code, reason);
        }
    }
}

/// The code of the first error in a message about operation `id`
/// (`error` carries a list; `next` a response with `errors`).
async fn error_code_for(socket: &mut Socket, id: &str) -> String {
    loop {
        let Received::Json(message) = receive(socket).await else {
            panic!("the socket closed before operation {id} was answered");
        };
        if message["id"] != id {
            continue;
        }
        let error = match message["type"].as_str() {
            Some("error") => &message["payload"][0],
            Some("next") => &message["payload"]["errors"][0],
            _ => panic!("no error for {id}: {message}"),
        };
        return error["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no code: {message}"))
            .to_owned();
    }
}

fn subscribe(id: &str, query: &str) -> Value {
    json!({ "type": "subscribe", "id": id, "payload": { "query": query } })
}

const LIVE: &str = "subscription { liveScores { id } }";

#[tokio::test]
async fn a_message_over_the_size_limit_closes_the_socket_with_1009() {
    let app = TestApp::spawn_with_options(|o| o.limits.max_request_bytes = 4096).await;
    let mut socket = ws::open(&app, json!({})).await;
    let padding = " ".repeat(5000);
    ws::send(
        &mut socket,
        subscribe("1", &format!("{{ __typename }}{padding}")),
    )
    .await;
    let (code, reason) = closed(&mut socket).await;
    assert_eq!(code, 1009, "{reason}");
    assert!(reason.starts_with("REQUEST_TOO_LARGE"), "{reason}");
    app.stop().await;
}

/// A message far over the limit: the api stops reading at its header, yet
/// a client that sends the whole message before it reads gets the close
/// frame rather than a reset under its writes.
#[tokio::test]
async fn a_message_far_over_the_size_limit_still_gets_its_close_frame() {
    let app = TestApp::spawn_with_options(|o| o.limits.max_request_bytes = 4096).await;
    let mut socket = ws::open(&app, json!({})).await;
    let padding = " ".repeat(3_000_000);
    socket
        .send(Message::Text(
            subscribe("1", &format!("{{ __typename }}{padding}"))
                .to_string()
                .into(),
        ))
        .await
        .expect("the whole message written before the socket closes");
    let (code, reason) = closed(&mut socket).await;
    assert_eq!(code, 1009, "{reason}");
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_sends_faster_than_the_message_rate_is_closed_with_4429() {
    let app = TestApp::spawn_with_options(|o| o.limits.websocket.messages_per_minute = 5).await;
    let mut socket = ws::open(&app, json!({})).await;
    for _ in 0..10 {
        // The server may close before all are written.
        let _ = socket
            .send(Message::Text(json!({ "type": "ping" }).to_string().into()))
            .await;
    }
    let (code, reason) = closed(&mut socket).await;
    assert_eq!(code, 4429, "{reason}");
    assert!(reason.starts_with("RATE_LIMITED"), "{reason}");
    app.stop().await;
}

#[tokio::test]
async fn operations_past_the_cap_on_one_socket_are_refused_until_one_completes() {
    let app = TestApp::spawn_with_options(|o| o.limits.websocket.max_operations = 2).await;
    let mut socket = ws::open(&app, json!({})).await;
    ws::send(&mut socket, subscribe("a", LIVE)).await;
    ws::send(&mut socket, subscribe("b", LIVE)).await;
    ws::send(&mut socket, subscribe("c", LIVE)).await;
    assert_eq!(
        error_code_for(&mut socket, "c").await,
        "TOO_MANY_OPERATIONS"
    );

    // The socket stays open; completing one makes room for another.
    ws::send(&mut socket, json!({ "type": "complete", "id": "a" })).await;
    ws::send(&mut socket, subscribe("d", "{ __typename }")).await;
    loop {
        let Received::Json(message) = receive(&mut socket).await else {
            panic!("closed");
        };
        if message["id"] == "d" {
            assert_eq!(message["type"], "next", "{message}");
            assert_eq!(message["payload"]["data"]["__typename"], "Query");
            break;
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn a_query_over_a_websocket_that_runs_past_the_timeout_is_stopped_with_timeout() {
    let app = TestApp::spawn_with_options(|o| o.limits.request_timeout_ms = 1).await;
    for i in 0..60 {
        seed::team(&app.db, &format!("Team {i:02}"), &format!("team-{i:02}")).await;
    }
    let mut socket = ws::open(&app, json!({})).await;
    // Two unbatched lookups per team: far more than a millisecond of work.
    let query = "{ teams(first: 60) { nodes { nextMatch { id } lastMatch { id } } } }";
    ws::send(&mut socket, subscribe("slow", query)).await;
    assert_eq!(error_code_for(&mut socket, "slow").await, "TIMEOUT");
    app.stop().await;
}

#[tokio::test]
async fn document_limits_apply_over_a_websocket() {
    let app = TestApp::spawn().await;
    let mut socket = ws::open(&app, json!({})).await;
    let mut bomb = "subscription { ...F0 }".to_owned();
    for i in 0..30 {
        bomb.push_str(&format!(
            " fragment F{i} on Subscription {{ ...F{n} ...F{n} }}",
            n = i + 1
        ));
    }
    bomb.push_str(" fragment F30 on Subscription { liveScores { id } }");
    ws::send(&mut socket, subscribe("bomb", &bomb)).await;
    assert_eq!(
        error_code_for(&mut socket, "bomb").await,
        "QUERY_TOO_COMPLEX"
    );
    ws::send(&mut socket, subscribe("typo", "{ noSuchField }")).await;
    assert_eq!(
        error_code_for(&mut socket, "typo").await,
        "GRAPHQL_VALIDATION_FAILED"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_legacy_protocol_gets_its_own_error_message() {
    let app = TestApp::spawn_with_options(|o| o.limits.websocket.max_operations = 1).await;
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
            "ws://{}/graphql",
            app.addr
        ))
        .unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-ws".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    ws::send(
        &mut socket,
        json!({ "type": "connection_init", "payload": {} }),
    )
    .await;
    let start = |id: &str| json!({ "type": "start", "id": id, "payload": { "query": LIVE } });
    ws::send(&mut socket, start("1")).await;
    ws::send(&mut socket, start("2")).await;
    loop {
        let Received::Json(message) = receive(&mut socket).await else {
            panic!("closed");
        };
        if message["id"] == "2" {
            assert_eq!(message["type"], "error", "{message}");
            assert_eq!(
                message["payload"]["extensions"]["code"], "TOO_MANY_OPERATIONS",
                "{message}"
            );
            break;
        }
    }
    app.stop().await;
}
