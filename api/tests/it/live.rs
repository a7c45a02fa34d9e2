//! The feed's writes: what they change, what they refuse, and who may make them.

use entity::UserRole;
use serde_json::{Value, json};

use crate::common::{TestApp, accounts, error_code, seed};

const RECORD: &str = "mutation($m: ID!, $i: MatchEventInput!) { recordMatchEvent(matchId: $m, input: $i) {
    event { id seq kind minute team { name } cancelled } match { status minute lastEventSeq score { home away halfTime { home away } } } duplicate } }";

struct Fixture {
    app: TestApp,
    feed: String,
    match_id: String,
    home: String,
    away: String,
}

/// A scheduled match between two teams, and a feeder's token.
async fn fixture() -> Fixture {
    let app = TestApp::spawn().await;
    let feed = accounts::create(&app.db, "feed@example.com", UserRole::Feed)
        .await
        .token;
    let season = seed::season(&app.db).await;
    let home = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let away = seed::team(&app.db, "Chelsea FC", "chelsea-fc").await;
    let body = app
        .graphql_as(
            &feed,
            "mutation($s: ID!, $h: ID!, $a: ID!) { scheduleMatch(input: { seasonId: $s, homeTeamId: $h, awayTeamId: $a,
               kickoffAt: \"2026-12-01T15:00:00Z\", round: \"Matchday 14\", matchday: 14 }) { id status } }",
            json!({ "s": season.id.to_string(), "h": home.id.to_string(), "a": away.id.to_string() }),
        )
        .await;
    assert_eq!(
        body["data"]["scheduleMatch"]["status"], "SCHEDULED",
        "{body}"
    );
    Fixture {
        match_id: body["data"]["scheduleMatch"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        app,
        feed,
        home: home.id.to_string(),
        away: away.id.to_string(),
    }
}

impl Fixture {
    async fn record(&self, input: Value) -> Value {
        self.app
            .graphql_as(
                &self.feed,
                RECORD,
                json!({ "m": self.match_id, "i": input }),
            )
            .await
    }

    async fn start(&self) -> Value {
        self.app
            .graphql_as(
                &self.feed,
                "mutation($m: ID!) { startMatch(matchId: $m) { event { seq kind } match { status score { home away } } } }",
                json!({ "m": self.match_id }),
            )
            .await
    }
}

#[tokio::test]
async fn the_score_and_status_follow_the_events_and_an_own_goal_counts_for_the_other_side() {
    let f = fixture().await;
    let started = f.start().await;
    assert_eq!(
        started["data"]["startMatch"],
        json!({ "event": { "seq": 1, "kind": "KICK_OFF" }, "match": { "status": "LIVE", "score": { "home": 0, "away": 0 } } }),
        "{started}"
    );
    let goal = f
        .record(json!({ "kind": "GOAL", "minute": 12, "teamId": f.home, "player": "Saka" }))
        .await;
    assert_eq!(
        goal["data"]["recordMatchEvent"]["event"]["seq"], 2,
        "{goal}"
    );
    assert_eq!(
        goal["data"]["recordMatchEvent"]["event"]["team"]["name"],
        "Arsenal FC"
    );
    f.record(json!({ "kind": "OWN_GOAL", "minute": 30, "teamId": f.home, "player": "Gabriel" }))
        .await;
    let half = f.record(json!({ "kind": "HALF_TIME", "minute": 45 })).await;
    assert_eq!(
        half["data"]["recordMatchEvent"]["match"],
        json!({ "status": "HALF_TIME", "minute": 45, "lastEventSeq": 4,
                "score": { "home": 1, "away": 1, "halfTime": { "home": 1, "away": 1 } } }),
        "{half}"
    );
    f.record(json!({ "kind": "SECOND_HALF", "minute": 46 }))
        .await;
    f.record(json!({ "kind": "PENALTY_GOAL", "minute": 88, "teamId": f.away }))
        .await;
    let ended = f
        .app
        .graphql_as(
            &f.feed,
            "mutation($m: ID!) { endMatch(matchId: $m) { match { status score { home away } } } }",
            json!({ "m": f.match_id }),
        )
        .await;
    assert_eq!(
        ended["data"]["endMatch"]["match"],
        json!({ "status": "FINISHED", "score": { "home": 1, "away": 2 } }),
        "{ended}"
    );
    let events = f
        .app
        .graphql(
            "query($m: ID!) { match(id: $m) { events { seq kind } } }",
            json!({ "m": f.match_id }),
        )
        .await;
    let kinds: Vec<&str> = events["data"]["match"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "KICK_OFF",
            "GOAL",
            "OWN_GOAL",
            "HALF_TIME",
            "SECOND_HALF",
            "PENALTY_GOAL",
            "FULL_TIME"
        ]
    );
    f.app.stop().await;
}

#[tokio::test]
async fn a_var_correction_takes_the_goal_back_off_the_score_and_is_itself_an_event() {
    let f = fixture().await;
    f.start().await;
    let goal = f
        .record(json!({ "kind": "GOAL", "minute": 12, "teamId": f.home }))
        .await;
    let goal_id = goal["data"]["recordMatchEvent"]["event"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let corrected = f
        .app
        .graphql_as(
            &f.feed,
            "mutation($e: ID!) { cancelMatchEvent(eventId: $e, reason: \"offside (VAR)\") {
               event { seq kind correctsEventId detail } match { lastEventSeq score { home away } } } }",
            json!({ "e": goal_id }),
        )
        .await;
    assert_eq!(
        corrected["data"]["cancelMatchEvent"],
        json!({ "event": { "seq": 3, "kind": "CORRECTION", "correctsEventId": goal_id, "detail": "offside (VAR)" },
                "match": { "lastEventSeq": 3, "score": { "home": 0, "away": 0 } } }),
        "{corrected}"
    );
    let events = f
        .app
        .graphql(
            "query($m: ID!) { match(id: $m) { events { seq cancelled cancelledReason } } }",
            json!({ "m": f.match_id }),
        )
        .await;
    assert_eq!(
        events["data"]["match"]["events"][1],
        json!({ "seq": 2, "cancelled": true, "cancelledReason": "offside (VAR)" })
    );
    let again = f
        .app
        .graphql_as(
            &f.feed,
            "mutation($e: ID!) { cancelMatchEvent(eventId: $e, reason: \"again\") { duplicate } }",
            json!({ "e": goal_id }),
        )
        .await;
    assert_eq!(error_code(&again), Some("BAD_USER_INPUT"), "{again}");
    f.app.stop().await;
}

async fn last_event_seq(f: &Fixture) -> i64 {
    let body = f
        .app
        .graphql(
            "query($m: ID!) { match(id: $m) { lastEventSeq } }",
            json!({ "m": f.match_id }),
        )
        .await;
    body["data"]["match"]["lastEventSeq"].as_i64().unwrap()
}

#[tokio::test]
async fn illegal_transitions_are_refused_with_a_clear_message_and_write_nothing() {
    let f = fixture().await;
    let early = f
        .record(json!({ "kind": "GOAL", "minute": 1, "teamId": f.home }))
        .await;
    assert_eq!(error_code(&early), Some("BAD_USER_INPUT"), "{early}");
    assert!(
        early["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("the match has not started"),
        "{early}"
    );
    assert_eq!(last_event_seq(&f).await, 0);

    f.start().await;
    let twice = f.start().await;
    assert!(
        twice["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already kicked off"),
        "{twice}"
    );
    let stranger = f
        .record(json!({ "kind": "GOAL", "minute": 5, "teamId": "999999" }))
        .await;
    assert!(
        stranger["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("one of the two teams"),
        "{stranger}"
    );
    let no_team = f.record(json!({ "kind": "RED_CARD", "minute": 5 })).await;
    assert_eq!(error_code(&no_team), Some("BAD_USER_INPUT"), "{no_team}");
    let minute = f
        .record(json!({ "kind": "YELLOW_CARD", "minute": 300, "teamId": f.home }))
        .await;
    assert!(
        minute["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("between 0 and 130"),
        "{minute}"
    );
    assert_eq!(
        last_event_seq(&f).await,
        1,
        "a refused event must not take a sequence number"
    );

    f.record(json!({ "kind": "FULL_TIME", "minute": 90 })).await;
    let late = f
        .record(json!({ "kind": "GOAL", "minute": 95, "teamId": f.home }))
        .await;
    assert!(
        late["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("the match has finished"),
        "{late}"
    );
    assert_eq!(last_event_seq(&f).await, 2);
    f.app.stop().await;
}

#[tokio::test]
async fn a_cancelled_match_cannot_start_and_a_postponed_one_starts_after_rescheduling() {
    let f = fixture().await;
    let call = |query: &'static str| {
        let (app, feed, m) = (&f.app, f.feed.clone(), f.match_id.clone());
        async move { app.graphql_as(&feed, query, json!({ "m": m })).await }
    };
    let postponed = call("mutation($m: ID!) { postponeMatch(matchId: $m) { status } }").await;
    assert_eq!(postponed["data"]["postponeMatch"]["status"], "POSTPONED");
    let refused = f.start().await;
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("reschedule it first"),
        "{refused}"
    );
    let moved = call("mutation($m: ID!) { rescheduleMatch(matchId: $m, kickoffAt: \"2026-12-08T20:00:00Z\") { status kickoffAt } }").await;
    assert_eq!(
        moved["data"]["rescheduleMatch"],
        json!({ "status": "SCHEDULED", "kickoffAt": "2026-12-08T20:00:00+00:00" }),
        "{moved}"
    );
    let cancelled = call("mutation($m: ID!) { cancelMatch(matchId: $m) { status } }").await;
    assert_eq!(cancelled["data"]["cancelMatch"]["status"], "CANCELLED");
    let start = f.start().await;
    assert!(
        start["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("the match was cancelled"),
        "{start}"
    );
    f.app.stop().await;
}

#[tokio::test]
async fn a_repeated_external_id_returns_the_original_event_and_records_nothing() {
    let f = fixture().await;
    f.start().await;
    let input = json!({ "kind": "GOAL", "minute": 12, "teamId": f.home, "externalId": "opta-123" });
    let first = f.record(input.clone()).await;
    let second = f.record(input).await;
    assert_eq!(
        first["data"]["recordMatchEvent"]["duplicate"], false,
        "{first}"
    );
    assert_eq!(
        second["data"]["recordMatchEvent"]["duplicate"], true,
        "{second}"
    );
    assert_eq!(
        first["data"]["recordMatchEvent"]["event"],
        second["data"]["recordMatchEvent"]["event"]
    );
    assert_eq!(
        second["data"]["recordMatchEvent"]["match"]["score"]["home"],
        1
    );
    assert_eq!(last_event_seq(&f).await, 2);
    f.app.stop().await;
}

#[tokio::test]
async fn concurrent_deliveries_of_one_external_id_record_it_once() {
    let f = fixture().await;
    f.start().await;
    let input = json!({ "kind": "GOAL", "minute": 12, "teamId": f.home, "externalId": "dup-race" });
    let results = futures::future::join_all((0..6).map(|_| f.record(input.clone()))).await;
    let seqs: Vec<&Value> = results
        .iter()
        .map(|r| &r["data"]["recordMatchEvent"]["event"]["seq"])
        .collect();
    assert!(seqs.iter().all(|s| **s == json!(2)), "{results:?}");
    assert_eq!(last_event_seq(&f).await, 2);
    f.app.stop().await;
}

#[tokio::test]
async fn a_write_against_a_stale_sequence_number_is_a_conflict() {
    let f = fixture().await;
    f.start().await;
    let fresh = f
        .record(json!({ "kind": "YELLOW_CARD", "minute": 3, "teamId": f.home, "expectedSeq": 1 }))
        .await;
    assert_eq!(
        fresh["data"]["recordMatchEvent"]["event"]["seq"], 2,
        "{fresh}"
    );
    let stale = f
        .record(json!({ "kind": "YELLOW_CARD", "minute": 4, "teamId": f.away, "expectedSeq": 1 }))
        .await;
    assert_eq!(error_code(&stale), Some("CONFLICT"), "{stale}");
    assert!(
        stale["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at event 2, not 1"),
        "{stale}"
    );
    assert_eq!(last_event_seq(&f).await, 2);
    f.app.stop().await;
}

#[tokio::test]
async fn only_feeders_and_admins_may_write_match_data() {
    let f = fixture().await;
    let user = accounts::user(&f.app.db, "fan@example.com").await.token;
    let admin = accounts::create(&f.app.db, "admin@example.com", UserRole::Admin)
        .await
        .token;
    let write = "mutation { createTeam(input: { name: \"Fulham FC\" }) { slug } }";

    let anonymous = f.app.graphql(write, json!({})).await;
    assert_eq!(
        error_code(&anonymous),
        Some("UNAUTHENTICATED"),
        "{anonymous}"
    );
    let fan = f.app.graphql_as(&user, write, json!({})).await;
    assert_eq!(error_code(&fan), Some("FORBIDDEN"), "{fan}");
    let by_admin = f.app.graphql_as(&admin, write, json!({})).await;
    assert_eq!(
        by_admin["data"]["createTeam"]["slug"], "fulham-fc",
        "{by_admin}"
    );
    let fan_goal = f
        .app
        .graphql_as(
            &user,
            RECORD,
            json!({ "m": f.match_id, "i": { "kind": "GOAL", "teamId": f.home } }),
        )
        .await;
    assert_eq!(error_code(&fan_goal), Some("FORBIDDEN"), "{fan_goal}");
    f.app.stop().await;
}

#[tokio::test]
async fn fixtures_are_created_with_clear_errors_for_bad_input() {
    let f = fixture().await;
    let competition = f
        .app
        .graphql_as(&f.feed, "mutation { createCompetition(input: { code: \"ucl\", name: \"Champions League\", kind: CUP }) { id code kind } }", json!({}))
        .await;
    assert_eq!(
        competition["data"]["createCompetition"]["code"], "UCL",
        "{competition}"
    );
    let duplicate = f
        .app
        .graphql_as(&f.feed, "mutation { createCompetition(input: { code: \"UCL\", name: \"Again\", kind: CUP }) { id } }", json!({}))
        .await;
    assert_eq!(
        error_code(&duplicate),
        Some("BAD_USER_INPUT"),
        "{duplicate}"
    );
    let id = competition["data"]["createCompetition"]["id"].clone();
    let season = f
        .app
        .graphql_as(&f.feed, "mutation($c: ID!) { createSeason(input: { competitionId: $c, label: \"2026-27\" }) { id } }", json!({ "c": id }))
        .await;
    assert_eq!(error_code(&season), Some("BAD_USER_INPUT"), "{season}");
    let tla = f
        .app
        .graphql_as(
            &f.feed,
            "mutation { createTeam(input: { name: \"Real Madrid CF\", tla: \"RM\" }) { id } }",
            json!({}),
        )
        .await;
    assert!(
        tla["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("three letters"),
        "{tla}"
    );
    let same_teams = f
        .app
        .graphql_as(
            &f.feed,
            "mutation($s: ID!, $h: ID!) { scheduleMatch(input: { seasonId: $s, homeTeamId: $h, awayTeamId: $h, kickoffAt: \"2026-12-01T15:00:00Z\" }) { id } }",
            json!({ "s": "1", "h": f.home }),
        )
        .await;
    assert_eq!(
        error_code(&same_teams),
        Some("BAD_USER_INPUT"),
        "{same_teams}"
    );
    let teams = f.app.graphql("{ teams { totalCount } }", json!({})).await;
    assert_eq!(
        teams["data"]["teams"]["totalCount"], 2,
        "nothing half-written: {teams}"
    );
    f.app.stop().await;
}

#[tokio::test]
async fn a_points_adjustment_changes_the_table() {
    let f = fixture().await;
    let season = f
        .app
        .graphql(
            "{ competition(code: \"PL\") { seasons { id } } }",
            json!({}),
        )
        .await["data"]["competition"]["seasons"][0]["id"]
        .clone();
    let adjusted = f
        .app
        .graphql_as(
            &f.feed,
            "mutation($s: ID!, $t: ID!) { adjustPoints(seasonId: $s, teamId: $t, points: -6, reason: \"financial rules\") { points team { name } } }",
            json!({ "s": season, "t": f.away }),
        )
        .await;
    assert_eq!(
        adjusted["data"]["adjustPoints"],
        json!({ "points": -6, "team": { "name": "Chelsea FC" } }),
        "{adjusted}"
    );
    let table = f
        .app
        .graphql(
            "query($s: ID!) { standings(seasonId: $s) { team { name } points pointsAdjustment } }",
            json!({ "s": season }),
        )
        .await;
    assert_eq!(
        table["data"]["standings"][1],
        json!({ "team": { "name": "Chelsea FC" }, "points": -6, "pointsAdjustment": -6 }),
        "{table}"
    );
    f.app.stop().await;
}

mod websocket {
    use serde_json::json;
    use service::live::bus::BusMessage;

    use crate::common::ws::{
        Socket, next_json, open, send, wait_for_metric, wait_for_open_subscriptions,
    };
    use crate::common::{TestApp, accounts, seed_notifications};

    const EVENTS: &str = "subscription($m: ID!, $a: Int!) { matchEvents(matchId: $m, afterSeq: $a) { seq kind team { name } } }";

    async fn subscribe_events(app: &TestApp, match_id: &str, after_seq: i64) -> Socket {
        let mut socket = open(app, json!({})).await;
        send(
            &mut socket,
            json!({ "id": "1", "type": "subscribe", "payload": {
            "query": EVENTS, "variables": { "m": match_id, "a": after_seq } } }),
        )
        .await;
        socket
    }

    async fn seqs_and_kinds(socket: &mut Socket, n: usize) -> Vec<(i64, String)> {
        let mut seen = Vec::new();
        for _ in 0..n {
            let message = next_json(socket).await;
            let event = &message["payload"]["data"]["matchEvents"];
            seen.push((
                event["seq"].as_i64().unwrap_or_else(|| panic!("{message}")),
                event["kind"].as_str().unwrap_or_default().to_owned(),
            ));
        }
        seen
    }

    #[tokio::test]
    async fn subscribers_of_one_match_share_one_execution_and_each_gets_every_event_after_its_after_seq()
     {
        let f = super::fixture().await;
        f.start().await;
        let goal =
            |x: &str| json!({ "kind": "GOAL", "minute": 9, "teamId": f.home, "externalId": x });
        f.record(goal("g1")).await;
        let mut early = Vec::new();
        for _ in 0..3 {
            early.push(subscribe_events(&f.app, &f.match_id, 0).await);
        }
        wait_for_open_subscriptions(&f.app, "3").await;
        wait_for_metric(&f.app, "inthegame_shared_executions 1").await;
        f.record(goal("g2")).await;
        let all = vec![
            (1, "KICK_OFF".to_owned()),
            (2, "GOAL".to_owned()),
            (3, "GOAL".to_owned()),
        ];
        for socket in &mut early {
            assert_eq!(seqs_and_kinds(socket, 3).await, all);
        }
        // A late subscriber to the same document replays from its afterSeq;
        // another afterSeq is an execution of its own.
        let mut late = subscribe_events(&f.app, &f.match_id, 0).await;
        assert_eq!(seqs_and_kinds(&mut late, 3).await, all);
        let mut resumed = subscribe_events(&f.app, &f.match_id, 2).await;
        assert_eq!(
            seqs_and_kinds(&mut resumed, 1).await,
            vec![(3, "GOAL".to_owned())]
        );
        wait_for_metric(&f.app, "inthegame_shared_executions 2").await;
        wait_for_open_subscriptions(&f.app, "5").await;
        f.record(goal("g3")).await;
        for socket in early.iter_mut().chain([&mut late, &mut resumed]) {
            assert_eq!(
                seqs_and_kinds(socket, 1).await,
                vec![(4, "GOAL".to_owned())]
            );
        }
        drop(early);
        drop(late);
        drop(resumed);
        wait_for_open_subscriptions(&f.app, "0").await;
        wait_for_metric(&f.app, "inthegame_shared_executions 0").await;
    }

    /// A legacy `graphql-ws` socket, past its handshake.
    async fn open_legacy(app: &TestApp) -> Socket {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
        let mut request = format!("ws://{}/graphql", app.addr)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("sec-websocket-protocol", "graphql-ws".parse().unwrap());
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        send(
            &mut socket,
            json!({ "type": "connection_init", "payload": {} }),
        )
        .await;
        assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
        socket
    }

    #[tokio::test]
    async fn sockets_of_both_protocols_sharing_one_execution_each_get_every_event_under_their_own_operation_id()
     {
        let f = super::fixture().await;
        f.start().await;
        let variables = json!({ "m": f.match_id, "a": 0 });
        let ids = ["1", "x\"y\\z", "\u{e9}t\u{e9} \n"];
        let mut modern = Vec::new();
        for id in ids {
            let mut socket = open(&f.app, json!({})).await;
            send(
                &mut socket,
                json!({ "id": id, "type": "subscribe", "payload": { "query": EVENTS, "variables": variables } }),
            )
            .await;
            modern.push((id, socket));
        }
        let mut legacy = open_legacy(&f.app).await;
        send(
            &mut legacy,
            json!({ "id": "7", "type": "start", "payload": { "query": EVENTS, "variables": variables } }),
        )
        .await;
        wait_for_open_subscriptions(&f.app, "4").await;
        wait_for_metric(&f.app, "inthegame_shared_executions 1").await;
        f.record(json!({ "kind": "GOAL", "minute": 9, "teamId": f.home, "externalId": "g1" }))
            .await;
        let kick_off =
            json!({ "data": { "matchEvents": { "seq": 1, "kind": "KICK_OFF", "team": null } } });
        let goal = json!({ "data": { "matchEvents": { "seq": 2, "kind": "GOAL", "team": { "name": "Arsenal FC" } } } });
        for (id, socket) in &mut modern {
            for payload in [&kick_off, &goal] {
                assert_eq!(
                    next_json(socket).await,
                    json!({ "type": "next", "id": id, "payload": payload })
                );
            }
        }
        for payload in [&kick_off, &goal] {
            assert_eq!(
                next_json(&mut legacy).await,
                json!({ "type": "data", "id": "7", "payload": payload })
            );
        }
        // Completing one leaves the others reading.
        let (id, socket) = &mut modern[0];
        send(socket, json!({ "id": id, "type": "complete" })).await;
        wait_for_open_subscriptions(&f.app, "3").await;
        f.record(json!({ "kind": "GOAL", "minute": 20, "teamId": f.away, "externalId": "g2" }))
            .await;
        let third = json!({ "data": { "matchEvents": { "seq": 3, "kind": "GOAL", "team": { "name": "Chelsea FC" } } } });
        for (id, socket) in &mut modern[1..] {
            assert_eq!(
                next_json(socket).await,
                json!({ "type": "next", "id": id, "payload": third })
            );
        }
        assert_eq!(
            next_json(&mut legacy).await,
            json!({ "type": "data", "id": "7", "payload": third })
        );
        f.app.stop().await;
    }

    #[tokio::test]
    async fn the_server_sends_keep_alive_pings_at_the_configured_interval() {
        let app = TestApp::spawn_with_options(|options| options.ws_keepalive_secs = 1).await;
        let mut socket = open(&app, json!({})).await;
        let started = std::time::Instant::now();
        assert_eq!(next_json(&mut socket).await, json!({ "type": "ping" }));
        let waited = started.elapsed();
        assert!(
            waited >= std::time::Duration::from_millis(900),
            "pinged after {waited:?}"
        );
        app.stop().await;
    }

    #[tokio::test]
    async fn a_new_in_app_notification_reaches_only_its_user_and_the_gauge_returns_to_zero() {
        let app = TestApp::spawn().await;
        let ada = accounts::user(&app.db, "ada@example.com").await;
        let bob = accounts::user(&app.db, "bob@example.com").await;
        let mut socket = open(
            &app,
            json!({ "authorization": format!("Bearer {}", ada.token) }),
        )
        .await;
        send(
            &mut socket,
            json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { notificationReceived { title } }" } }),
        )
        .await;
        wait_for_open_subscriptions(&app, "1").await;
        for (user, title) in [(&bob, "for bob"), (&ada, "for ada")] {
            let n = seed_notifications::notification(&app.db, user.id, title, false, false).await;
            app.bus.publish(BusMessage::Notification {
                user_id: user.id,
                notification_id: n.id,
            });
        }
        let received = next_json(&mut socket).await;
        assert_eq!(
            received,
            json!({ "id": "1", "type": "next", "payload": { "data": { "notificationReceived": { "title": "for ada" } } } })
        );
        send(&mut socket, json!({ "id": "1", "type": "complete" })).await;
        wait_for_open_subscriptions(&app, "0").await;
        app.stop().await;
    }
    #[tokio::test]
    async fn a_notification_subscription_ends_once_its_token_is_logged_out() {
        let app = TestApp::spawn().await;
        let ada = accounts::user(&app.db, "ada@example.com").await;
        let mut socket = open(
            &app,
            json!({ "authorization": format!("Bearer {}", ada.token) }),
        )
        .await;
        send(
            &mut socket,
            json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { notificationReceived { title } }" } }),
        )
        .await;
        wait_for_open_subscriptions(&app, "1").await;

        let logout = app
            .graphql_as(&ada.token, "mutation { logout }", json!({}))
            .await;
        assert!(logout["errors"].is_null(), "{logout}");
        let n =
            seed_notifications::notification(&app.db, ada.id, "after logout", false, false).await;
        app.bus.publish(BusMessage::Notification {
            user_id: ada.id,
            notification_id: n.id,
        });

        let answer = next_json(&mut socket).await;
        assert_eq!(answer["type"], "next", "{answer}");
        assert!(
            answer["payload"]["data"].is_null(),
            "delivered after logout: {answer}"
        );
        assert_eq!(
            answer["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{answer}"
        );
        assert_eq!(
            next_json(&mut socket).await,
            json!({ "id": "1", "type": "complete" })
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn the_demo_replays_a_real_match_live_ending_with_its_real_score() {
    let app = TestApp::spawn_with_options(|options| {
        options.demo = true;
        options.demo_minute_ms = 5;
    })
    .await;
    let query = r#"{ matches(filter: { competitionCode: "REPLAY", status: [FINISHED] }, first: 1) {
        nodes { homeTeam { name } awayTeam { name } score { home away halfTime { home away } } events { kind minute } } } }"#;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let replay = loop {
        let body = app.graphql(query, json!({})).await;
        if let Some(replay) = body["data"]["matches"]["nodes"].get(0) {
            break replay.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no replay finished: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    // The first replay is the season's opener: Burnley 0-3 Manchester City, 0-2 at half time.
    assert_eq!(replay["homeTeam"]["name"], "Burnley FC");
    assert_eq!(
        replay["score"],
        json!({ "home": 0, "away": 3, "halfTime": { "home": 0, "away": 2 } })
    );
    let kinds: Vec<&str> = replay["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "KICK_OFF",
            "GOAL",
            "GOAL",
            "HALF_TIME",
            "SECOND_HALF",
            "GOAL",
            "FULL_TIME"
        ]
    );
    app.stop().await;
}
