//! The descriptor limit, on the `api` binary started with a low one: the
//! process refuses what it cannot hold and keeps serving what it holds.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entity::UserRole;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::common::ws::{Socket, next_json, open_at, send};
use crate::common::{TestApp, accounts, seed};

const API: &str = env!("CARGO_BIN_EXE_api");

/// The `api` binary on the test app's database, started under
/// `prlimit --nofile=soft:hard`.
struct ApiProcess {
    child: tokio::process::Child,
    addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    _files: tempfile::TempDir,
}

impl ApiProcess {
    async fn start(app: &TestApp, soft: u64, hard: u64) -> Self {
        let files = tempfile::tempdir().unwrap();
        let mut command = tokio::process::Command::new("prlimit");
        command
            .arg(format!("--nofile={soft}:{hard}"))
            .arg("--")
            .arg(API)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", app.database_url())
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .env("RUST_LOG", "info")
            .env("WS_KEEPALIVE_SECS", "0")
            .env("EMBEDDED_WORKER", "false")
            .env("MAIL_OUTBOX_DIR", files.path())
            .current_dir(files.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Ok(redis) = std::env::var("REDIS_URL") {
            let prefix = format!("test-{}", uuid::Uuid::new_v4().simple());
            command
                .env("REDIS_URL", redis)
                .env("BUS_CHANNEL_PREFIX", prefix);
        }
        let mut child = command.spawn().expect("prlimit and api run");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (found, addr) = tokio::sync::oneshot::channel();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let kept = log.clone();
        tokio::spawn(async move {
            let mut found = Some(found);
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(at) = line.find("GraphiQL: http://")
                    && let Some(found) = found.take()
                {
                    let rest = &line[at + "GraphiQL: http://".len()..];
                    let addr: SocketAddr =
                        rest.trim().trim_end_matches("/graphql").parse().unwrap();
                    let _ = found.send(addr);
                }
                kept.lock().unwrap().push(line);
            }
        });
        let addr = tokio::time::timeout(Duration::from_secs(60), addr)
            .await
            .expect("the api starts within 60 s")
            .expect("the api prints its address");
        Self {
            child,
            addr,
            log,
            _files: files,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn log_line(&self, containing: &str) -> Option<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.contains(containing))
            .cloned()
    }
}

async fn graphql(
    http: &reqwest::Client,
    api: &ApiProcess,
    token: &str,
    query: &str,
    variables: Value,
) -> Value {
    http.post(api.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("the api answers")
        .json()
        .await
        .unwrap()
}

const GOAL: &str = "mutation($m: ID!, $t: ID!, $x: String!) { recordMatchEvent(matchId: $m, input: { kind: GOAL, minute: 10, teamId: $t, externalId: $x }) { event { seq } } }";

/// Reads `next` messages until the goal with sequence number `seq` arrives.
async fn sees_goal(socket: &mut Socket, seq: i64) {
    loop {
        let message = next_json(socket).await;
        assert_eq!(message["type"], "next", "{message}");
        let event = &message["payload"]["data"]["matchEvents"];
        if event["seq"] == seq {
            assert_eq!(event["kind"], "GOAL", "{message}");
            assert_eq!(event["team"]["name"], "Arsenal FC", "{message}");
            return;
        }
    }
}

/// Opens a websocket without sending anything; `Err` carries a refusal's
/// status and body.
async fn upgrade(addr: SocketAddr) -> Result<Socket, (u16, String)> {
    let mut request = format!("ws://{addr}/graphql")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) => {
            let body = response
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            Err((response.status().as_u16(), body))
        }
        Err(err) => Err((0, err.to_string())),
    }
}

/// A plain TCP connection that asks for `/health`: `Some` if it was
/// answered (and stays open), `None` if the server closed it unanswered.
async fn raw_health(addr: SocketAddr) -> Option<tokio::net::TcpStream> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nhost: test\r\n\r\n")
        .await
        .ok()?;
    let mut buf = [0u8; 512];
    match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
        Ok(Ok(n)) if n > 0 && buf.starts_with(b"HTTP/1.1 200") => Some(stream),
        _ => None,
    }
}

#[tokio::test]
async fn at_the_descriptor_limit_upgrades_get_503_at_capacity_while_subscribers_queries_and_metrics_keep_working()
 {
    // This process holds a few hundred sockets too.
    api::http::capacity::raise_open_files_limit();
    let app = TestApp::spawn().await;
    let feed = accounts::create(&app.db, "feed@example.com", UserRole::Feed)
        .await
        .token;
    let season = seed::season(&app.db).await;
    let home = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let away = seed::team(&app.db, "Chelsea FC", "chelsea-fc").await;

    // Soft 256, hard 512: the api raises its soft limit to 512 and keeps
    // 256 descriptors free of websockets.
    let api = ApiProcess::start(&app, 256, 512).await;
    let budget = api
        .log_line("descriptor budget")
        .expect("the budget is logged");
    assert!(budget.contains("open_files=512"), "{budget}");
    assert!(budget.contains("raised_from=256"), "{budget}");
    assert!(budget.contains("max_websockets=256"), "{budget}");

    let http = reqwest::Client::new();
    let scheduled = graphql(
        &http,
        &api,
        &feed,
        "mutation($s: ID!, $h: ID!, $a: ID!) { scheduleMatch(input: { seasonId: $s, homeTeamId: $h, awayTeamId: $a,
           kickoffAt: \"2026-12-01T15:00:00Z\", round: \"Matchday 14\", matchday: 14 }) { id } }",
        json!({ "s": season.id.to_string(), "h": home.id.to_string(), "a": away.id.to_string() }),
    )
    .await;
    let match_id = scheduled["data"]["scheduleMatch"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = graphql(
        &http,
        &api,
        &feed,
        "mutation($m: ID!) { startMatch(matchId: $m) { event { seq } } }",
        json!({ "m": match_id }),
    )
    .await;
    assert!(started["errors"].is_null(), "{started}");

    let mut subscribers = Vec::new();
    for id in ["1", "2"] {
        let mut socket = open_at(api.addr, json!({})).await;
        send(&mut socket, json!({ "id": id, "type": "subscribe", "payload": {
            "query": "subscription($m: ID!) { matchEvents(matchId: $m) { seq kind team { name } } }",
            "variables": { "m": match_id } } }))
        .await;
        subscribers.push(socket);
    }
    let record = |n: u32| {
        let (http, api, feed, match_id, team) = (&http, &api, &feed, &match_id, home.id);
        async move {
            let body = graphql(
                http,
                api,
                feed,
                GOAL,
                json!({ "m": match_id, "t": team.to_string(), "x": format!("goal-{n}") }),
            )
            .await;
            body["data"]["recordMatchEvent"]["event"]["seq"]
                .as_i64()
                .unwrap_or_else(|| panic!("recorded: {body}"))
        }
    };
    let seq = record(1).await;
    for socket in &mut subscribers {
        sees_goal(socket, seq).await;
    }

    // Fill every websocket slot; the next upgrade is refused, coded.
    let mut held = Vec::new();
    let refusal = loop {
        match upgrade(api.addr).await {
            Ok(socket) => held.push(socket),
            Err(refusal) => break refusal,
        }
        assert!(held.len() < 400, "never refused an upgrade");
    };
    assert_eq!(held.len() + subscribers.len(), 256);
    assert_eq!(refusal.0, 503, "{refusal:?}");
    let body: Value = serde_json::from_str(&refusal.1).expect("a JSON body");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "AT_CAPACITY",
        "{body}"
    );

    // A new connection still gets queries and metrics answered, and the
    // subscribers still hear every event.
    let fresh = reqwest::Client::new();
    let count = fresh
        .post(api.url("/graphql"))
        .json(&json!({ "query": "{ matches(first: 1) { totalCount } }" }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(count["data"]["matches"]["totalCount"], 1, "{count}");
    let metrics = fresh
        .get(api.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l == "inthegame_open_subscriptions 2"),
        "{metrics}"
    );
    let seq = record(2).await;
    for socket in &mut subscribers {
        sees_goal(socket, seq).await;
    }

    // Past the connection limit, new connections are closed unanswered;
    // what is open keeps working.
    let flood = futures::future::join_all((0..300).map(|_| raw_health(api.addr))).await;
    let answered: Vec<_> = flood.into_iter().flatten().collect();
    assert!(answered.len() < 300, "no connection was refused");
    assert!(!answered.is_empty(), "every connection was refused");
    let seq = record(3).await;
    for socket in &mut subscribers {
        sees_goal(socket, seq).await;
    }

    // Once connections close, everything is admitted again.
    drop(answered);
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut late = open_at(api.addr, json!({})).await;
    send(&mut late, json!({ "id": "3", "type": "subscribe", "payload": {
        "query": "subscription($m: ID!, $a: Int!) { matchEvents(matchId: $m, afterSeq: $a) { seq kind team { name } } }",
        "variables": { "m": match_id, "a": seq - 1 } } }))
    .await;
    sees_goal(&mut late, seq).await;
    let health = reqwest::Client::new()
        .get(api.url("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let mut child = api.child;
    child.kill().await.unwrap();
    drop(app);
}
