//! A response lists its fields in the order the query asked for them, at
//! every depth, as the GraphQL specification requires. The assertions read
//! the raw text a client receives: parsing it into a map would hide the order.

use futures::{SinkExt as _, StreamExt as _};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::common::{TestApp, seed};

/// Neither name order nor the order fields finish in is the query's order:
/// at each level a field that waits on the database (`totalCount`,
/// `homeTeam`) comes before fields that are ready at once.
const PAGE: &str = "query($season: ID!) { matches(first: 5, filter: { seasonId: $season }) { \
    totalCount pageInfo { hasNextPage } \
    nodes { homeTeam { name } status id score { home away } awayTeam { name } } } }";

const LIVE: &str = "subscription($match: ID!) { matchUpdated(matchId: $match) { \
    homeTeam { name } status id score { home away } awayTeam { name } } }";

struct Fixture {
    app: TestApp,
    season: String,
    id: String,
    /// The match as both documents select it.
    node: String,
}

async fn fixture() -> Fixture {
    let app = TestApp::spawn().await;
    let season = seed::season(&app.db).await;
    let home = seed::team(&app.db, "Wolverhampton Wanderers FC", "wolves").await;
    let away = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let m = seed::finished_match(
        &app.db,
        &season,
        &home,
        &away,
        seed::at(2024, 3, 2, 15, 0),
        (2, 1),
        (1, 0),
    )
    .await;
    let node = format!(
        r#"{{"homeTeam":{{"name":"Wolverhampton Wanderers FC"}},"status":"FINISHED","id":"{}","score":{{"home":2,"away":1}},"awayTeam":{{"name":"Arsenal FC"}}}}"#,
        m.id
    );
    Fixture {
        app,
        season: season.id.to_string(),
        id: m.id.to_string(),
        node,
    }
}

impl Fixture {
    fn page(&self) -> String {
        format!(
            r#"{{"data":{{"matches":{{"totalCount":1,"pageInfo":{{"hasNextPage":false}},"nodes":[{}]}}}}}}"#,
            self.node
        )
    }

    fn live(&self) -> String {
        format!(r#"{{"data":{{"matchUpdated":{}}}}}"#, self.node)
    }
}

#[tokio::test]
async fn a_nested_query_over_http_answers_in_the_order_of_the_query() {
    let f = fixture().await;
    for accept in ["application/json", "application/graphql-response+json"] {
        let body = f
            .app
            .http
            .post(f.app.url("/graphql"))
            .header("accept", accept)
            .json(&json!({ "query": PAGE, "variables": { "season": f.season } }))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, f.page(), "accept: {accept}");
    }
    f.app.stop().await;
}

#[tokio::test]
async fn nested_queries_and_subscriptions_over_both_websocket_protocols_answer_in_the_order_of_the_query()
 {
    let f = fixture().await;
    for (protocol, start, next) in [
        ("graphql-transport-ws", "subscribe", "next"),
        ("graphql-ws", "start", "data"),
    ] {
        let mut request = format!("ws://{}/graphql", f.app.addr)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("sec-websocket-protocol", protocol.parse().unwrap());
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let init = json!({ "type": "connection_init", "payload": {} });
        socket
            .send(Message::Text(init.to_string().into()))
            .await
            .unwrap();
        assert!(next_text(&mut socket).await.contains("connection_ack"));
        for (id, query, variables, expected) in [
            ("1", PAGE, json!({ "season": f.season }), f.page()),
            ("2", LIVE, json!({ "match": f.id }), f.live()),
        ] {
            let message = json!({ "id": id, "type": start,
                                  "payload": { "query": query, "variables": variables } });
            socket
                .send(Message::Text(message.to_string().into()))
                .await
                .unwrap();
            // A query's result may follow the previous operation's `complete`.
            let mut text = next_text(&mut socket).await;
            while text.contains(r#""type":"complete""#) {
                text = next_text(&mut socket).await;
            }
            let payload = format!(r#""payload":{expected}"#);
            assert!(
                text.contains(&format!(r#""type":"{next}""#)) && text.contains(&payload),
                "{protocol}: expected {payload} in {text}"
            );
        }
    }
    f.app.stop().await;
}

/// The next text frame, skipping keep-alives.
async fn next_text(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> String {
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .expect("the socket is open")
            .expect("a valid frame");
        if let Message::Text(text) = message
            && !text.contains(r#""type":"ka""#)
            && !text.contains(r#""type":"ping""#)
        {
            return text.to_string();
        }
    }
}
