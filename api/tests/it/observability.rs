//! What an operator sees of the service: traces in an OTLP collector,
//! and latency histograms and backlog gauges on `/metrics`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use entity::UserRole;
use serde_json::{Value, json};
use test_support::notify::{SmtpServer, wait_for};
use test_support::otlp::{OtlpReceiver, ReceivedSpan};
use test_support::{TestApp, TestDatabase, accounts, seed};

const API: &str = env!("CARGO_BIN_EXE_api");

/// The value of the series `series` (its name and labels, as written),
/// if `/metrics` has it.
fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?.strip_prefix(' ')?;
        rest.split(' ').next()?.parse().ok()
    })
}

#[tokio::test]
async fn the_latency_histograms_and_backlog_gauges_move_with_the_work() {
    // No worker loops: the test moves the outbox and the queue by hand.
    let app = TestApp::spawn().await;
    let season = seed::season(&app.db).await;
    let home = seed::team(&app.db, "Arsenal", "arsenal").await;
    let away = seed::team(&app.db, "Chelsea", "chelsea").await;
    let feed = accounts::create(&app.db, "feed@example.com", UserRole::Feed).await;

    let before = app.metrics().await;
    assert_eq!(
        value(&before, "inthegame_outbox_backlog"),
        Some(0.0),
        "{before}"
    );
    assert_eq!(
        value(&before, "inthegame_outbox_oldest_age_seconds"),
        Some(0.0)
    );
    let pending_deliveries = r#"inthegame_queue_jobs{queue="deliveries",state="pending"}"#;
    assert_eq!(value(&before, pending_deliveries), Some(0.0), "{before}");
    assert_eq!(value(&before, "inthegame_bus_backlog"), Some(0.0));

    // A feed write commits an outbox row and publishes on the bus.
    let kickoff = Utc::now() + chrono::Duration::hours(2);
    app.schedule_match(&feed.token, season.id, (home.id, away.id), kickoff)
        .await;
    let written = app.metrics().await;
    assert_eq!(
        value(&written, "inthegame_outbox_backlog"),
        Some(1.0),
        "{written}"
    );
    assert!(value(&written, "inthegame_outbox_oldest_age_seconds").unwrap() > 0.0);
    let mutations = r#"inthegame_graphql_operation_duration_seconds_count{type="mutation"}"#;
    assert_eq!(value(&written, mutations), Some(1.0), "{written}");
    let posts = r#"inthegame_http_request_duration_seconds_count{route="/graphql",method="POST",status="2xx"}"#;
    assert_eq!(value(&written, posts), Some(1.0), "{written}");
    let scrapes = r#"inthegame_http_request_duration_seconds_count{route="/metrics",method="GET",status="2xx"}"#;
    assert_eq!(value(&written, scrapes), Some(1.0), "{written}");
    let lag = wait_for(5, "the bus to publish the change", || async {
        value(&app.metrics().await, "inthegame_bus_lag_seconds").filter(|lag| *lag > 0.0)
    })
    .await;
    assert!(lag < 2.0, "a change waited {lag} s to be published");

    // The worker handles the row: the backlog empties, the job is timed.
    worker::outbox::relay(&app.worker).await.unwrap();
    let relayed = app.metrics().await;
    assert_eq!(
        value(&relayed, "inthegame_outbox_backlog"),
        Some(0.0),
        "{relayed}"
    );
    let outbox_jobs = r#"inthegame_job_duration_seconds_count{queue="outbox",outcome="ok"}"#;
    assert_eq!(value(&relayed, outbox_jobs), Some(1.0), "{relayed}");

    // A queued delivery shows in the queue's depth until a worker takes it.
    worker::jobs::delivery::enqueue(&app.worker.queue, 4242, None)
        .await
        .unwrap();
    let queued = app.metrics().await;
    assert_eq!(value(&queued, pending_deliveries), Some(1.0), "{queued}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The api binary, killed when dropped so a failing test leaves none behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn graphql(http: &reqwest::Client, url: &str, token: &str, query: &str, variables: Value) {
    let body: Value = http
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body["errors"].is_null(), "{query}: {body}");
}

/// The spans from `span` up to the root of its trace.
fn ancestry<'a>(spans: &'a [ReceivedSpan], span: &'a ReceivedSpan) -> Vec<&'a ReceivedSpan> {
    let mut chain = vec![span];
    while let Some(parent) = spans
        .iter()
        .find(|s| s.span_id == chain.last().unwrap().parent_span_id)
    {
        chain.push(parent);
    }
    chain
}

/// The api binary as an operator runs it with `OTEL_EXPORTER_OTLP_ENDPOINT`
/// set, against a real OTLP receiver: a goal recorded with a `traceparent`
/// is one trace from the feeder's request to the fan's email, and the
/// spans still buffered are sent when the process stops.
#[tokio::test]
async fn a_feed_write_with_a_traceparent_is_one_trace_from_the_request_to_the_email() {
    let receiver = OtlpReceiver::start().await;
    let smtp = SmtpServer::start();
    let database = TestDatabase::create().await;
    let url = service::config::DatabaseUrl::parse(&database.url).unwrap();
    let db = service::db::connect(&url, Default::default())
        .await
        .unwrap();
    service::db::migrate(&db).await.unwrap();
    let season = seed::season(&db).await;
    let home = seed::team(&db, "Arsenal", "arsenal").await;
    let away = seed::team(&db, "Chelsea", "chelsea").await;
    let feed = accounts::create(&db, "feed@example.com", UserRole::Feed).await;
    let fan = accounts::user(&db, "fan@example.com").await;

    let dir = tempfile::tempdir().unwrap();
    let port = free_port().to_string();
    let mut command = Command::new(API);
    command
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs([
            ("DATABASE_URL", database.url.as_str()),
            ("PORT", port.as_str()),
            ("SMTP_URL", smtp.url.as_str()),
            ("JOB_POLL_MS", "100"),
            ("EMBEDDED_WORKER", "true"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint.as_str()),
            ("OTEL_SERVICE_NAME", "inthegame-api"),
        ]);
    if let Ok(redis) = std::env::var("REDIS_URL") {
        let prefix = format!("test-{}", uuid::Uuid::new_v4().simple());
        command
            .env("REDIS_URL", redis)
            .env("BUS_CHANNEL_PREFIX", prefix);
    }
    let api = Running(
        command
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the api starts"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let graphql_url = format!("{base}/graphql");
    let http = reqwest::Client::new();
    wait_for(60, "the api to be ready", || async {
        let ready = http.get(format!("{base}/ready")).send().await.ok()?;
        ready.status().is_success().then_some(())
    })
    .await;

    graphql(
        &http,
        &graphql_url,
        &fan.token,
        "mutation($input: NotificationPreferencesInput!) {
           updateNotificationPreferences(input: $input) { preferences { timeZone } }
         }",
        json!({ "input": {
            "liveAlerts": { "enabled": true, "kinds": ["GOAL"] },
            "channels": { "email": true, "inApp": false },
        } }),
    )
    .await;
    graphql(
        &http,
        &graphql_url,
        &fan.token,
        "mutation($t: ID!) { followTeam(teamId: $t) { team { id } } }",
        json!({ "t": home.id.to_string() }),
    )
    .await;
    let kickoff = Utc::now() + chrono::Duration::hours(2);
    let scheduled: Value = http
        .post(&graphql_url)
        .bearer_auth(&feed.token)
        .json(&json!({
            "query": "mutation($s: ID!, $h: ID!, $a: ID!, $k: DateTime!) {
                scheduleMatch(input: { seasonId: $s, homeTeamId: $h, awayTeamId: $a, kickoffAt: $k }) { id }
            }",
            "variables": {
                "s": season.id.to_string(),
                "h": home.id.to_string(),
                "a": away.id.to_string(),
                "k": kickoff.to_rfc3339(),
            },
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let match_id = scheduled["data"]["scheduleMatch"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{scheduled}"))
        .to_owned();
    graphql(
        &http,
        &graphql_url,
        &feed.token,
        "mutation($m: ID!) { startMatch(matchId: $m) { event { id } } }",
        json!({ "m": match_id }),
    )
    .await;

    // The feeder's own trace: its request, and everything that follows
    // from it, are children of the span it names.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let goal: Value = http
        .post(&graphql_url)
        .bearer_auth(&feed.token)
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
        .json(&json!({
            "query": "mutation RecordGoal($m: ID!, $i: MatchEventInput!) {
                recordMatchEvent(matchId: $m, input: $i) { event { id } }
            }",
            "variables": {
                "m": match_id,
                "i": { "kind": "GOAL", "minute": 23, "teamId": home.id.to_string(), "player": "Saka" },
            },
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(goal["errors"].is_null(), "{goal}");
    wait_for(20, "the goal alert by email", || async {
        smtp.mails_to(&fan.email).into_iter().next()
    })
    .await;

    // The delivery's latency is on /metrics.
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let delivered =
        r#"inthegame_delivery_duration_seconds_count{channel="EMAIL",outcome="delivered"}"#;
    assert_eq!(value(&metrics, delivered), Some(1.0), "{metrics}");

    // Stopped as an orchestrator stops it: the spans still buffered are sent.
    let status = Command::new("kill")
        .args(["-TERM", &api.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exited = tokio::task::spawn_blocking(move || {
        let mut api = api;
        let exit = api.0.wait();
        // Reaped: nothing left to kill.
        std::mem::forget(api);
        exit
    });
    let exit = tokio::time::timeout(Duration::from_secs(30), exited)
        .await
        .expect("the api stops within 30 s")
        .unwrap()
        .unwrap();
    assert!(exit.success(), "api exited with {exit}");

    let spans = receiver.trace(trace_id);
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    let find = |name: &str| {
        spans
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no span {name:?} in the trace, only {names:?}"))
    };
    let request = find("POST /graphql");
    assert_eq!(request.parent_span_id, caller_span, "{request:?}");
    assert_eq!(request.service, "inthegame-api");
    let operation = find("mutation RecordGoal");
    assert_eq!(operation.parent_span_id, request.span_id);
    assert_eq!(
        operation.attribute("graphql.operation.type"),
        Some("mutation")
    );
    let outbox = find("outbox");
    assert_eq!(outbox.attribute("topic"), Some("match_event"));
    let delivery = find("delivery");
    // The delivery descends from the row, which descends from the write.
    let chain = ancestry(&spans, delivery);
    assert!(
        chain.iter().any(|s| s.span_id == outbox.span_id),
        "the delivery is not under the outbox row: {chain:?}"
    );
    assert!(
        ancestry(&spans, outbox)
            .iter()
            .any(|s| s.span_id == operation.span_id),
        "the outbox row is not under the mutation"
    );
    assert_eq!(chain.last().unwrap().span_id, request.span_id);
    // The other requests, sent without a traceparent, are traces of their own.
    let requests_in_trace = spans.iter().filter(|s| s.name == "POST /graphql").count();
    assert_eq!(requests_in_trace, 1, "{names:?}");
    assert!(
        receiver
            .spans()
            .iter()
            .any(|s| s.name == "POST /graphql" && s.trace_id != trace_id),
        "the other requests were traced too"
    );
}
