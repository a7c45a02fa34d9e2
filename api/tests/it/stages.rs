//! Stages, tables per group, knockout ties and brackets, over the wire,
//! with the Champions League 2024/25 as openfootball records it as the
//! real case.

use entity::UserRole;
use serde_json::{Value, json};
use service::import::{CompetitionCode, ImportOptions, import_openfootball};
use service::values::{SeasonLabel, TimeZone};

use crate::common::ws::{next_json, open, send};
use crate::common::{TestApp, accounts, error_code, field_errors, seed};

const CL_2024_25: &str = include_str!("../../samples/uefa.cl-2024-25.json");

/// Imports `json` as competition `code`'s 2024/25 season; returns its id.
async fn import(app: &TestApp, code: &str, json: &str) -> String {
    let options = ImportOptions::new(
        CompetitionCode::parse(code).unwrap(),
        SeasonLabel::parse("2024/25").unwrap(),
        TimeZone::parse("Europe/Berlin").unwrap(),
    );
    import_openfootball(&app.db, "season.json", json, &options)
        .await
        .expect("the file imports");
    let body = app
        .graphql(
            "query($c: String!) { competition(code: $c) { seasons { id } } }",
            json!({ "c": code }),
        )
        .await;
    body["data"]["competition"]["seasons"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn data(app: &TestApp, query: &str, variables: Value) -> Value {
    let body = app.graphql(query, variables).await;
    assert!(body["errors"].is_null(), "{query}: {body}");
    body["data"].clone()
}

#[tokio::test]
async fn the_champions_league_table_is_its_league_phase_as_published() {
    let app = TestApp::spawn().await;
    let season = import(&app, "CL", CL_2024_25).await;

    let stages = data(
        &app,
        "query($s: ID!) { season(id: $s) { stages { name kind rounds groups } } }",
        json!({ "s": season }),
    )
    .await;
    let stages = &stages["season"]["stages"];
    assert_eq!(stages[0]["name"], "League");
    assert_eq!(stages[0]["kind"], "TABLE");
    assert_eq!(stages[0]["rounds"].as_array().unwrap().len(), 8);
    assert_eq!(
        stages[1],
        json!({ "name": "Playoffs", "kind": "KNOCKOUT", "rounds": ["Matchday 1", "Matchday 2"], "groups": [] })
    );
    assert_eq!(
        stages[2],
        json!({ "name": "Finals", "kind": "KNOCKOUT",
                "rounds": ["Round of 16", "Quarterfinals", "Semifinals", "Final"], "groups": [] })
    );

    let table = data(
        &app,
        "query($s: ID!) { standings(seasonId: $s) { position team { name } played points } }",
        json!({ "s": season }),
    )
    .await;
    let rows = table["standings"].as_array().unwrap();
    assert_eq!(rows.len(), 36, "36 clubs");
    assert!(rows.iter().all(|r| r["played"] == 8), "8 played each");
    assert_eq!(
        rows[0],
        json!({ "position": 1, "team": { "name": "Liverpool FC" }, "played": 8, "points": 21 })
    );
    let points: Vec<i64> = rows.iter().map(|r| r["points"].as_i64().unwrap()).collect();
    assert_eq!(
        points,
        [
            21, 19, 19, 19, 18, 16, 16, 16, 15, 15, 15, 15, 15, 14, 13, 13, 13, 13, 13, 12, 12, 11,
            11, 11, 11, 10, 7, 6, 6, 6, 4, 3, 3, 3, 0, 0
        ],
        "the points as UEFA published them"
    );
    let named = data(
        &app,
        "query($s: ID!) { standings(seasonId: $s, stage: \"League\") { team { name } } }",
        json!({ "s": season }),
    )
    .await;
    assert_eq!(named["standings"].as_array().unwrap().len(), 36);

    let knockout = app
        .graphql(
            "query($s: ID!) { standings(seasonId: $s, stage: \"Finals\") { points } }",
            json!({ "s": season }),
        )
        .await;
    assert_eq!(error_code(&knockout), Some("BAD_USER_INPUT"));
    assert_eq!(
        field_errors(&knockout, "stage"),
        ["the season has no table stage named \"Finals\"; its table stages: League"]
    );
}

/// The Champions League 2024/25 league phase as UEFA published it, with
/// each club's points.
const LEAGUE_PHASE_2024_25: [(&str, i64); 36] = [
    ("Liverpool FC", 21),
    ("FC Barcelona", 19),
    ("Arsenal FC", 19),
    ("FC Internazionale Milano", 19),
    ("Club Atlético de Madrid", 18),
    ("Bayer 04 Leverkusen", 16),
    ("Lille OSC", 16),
    ("Aston Villa FC", 16),
    ("Atalanta BC", 15),
    ("Borussia Dortmund", 15),
    ("Real Madrid CF", 15),
    ("FC Bayern München", 15),
    ("AC Milan", 15),
    ("PSV", 14),
    ("Paris Saint-Germain FC", 13),
    ("Sport Lisboa e Benfica", 13),
    ("AS Monaco FC", 13),
    ("Stade Brestois 29", 13),
    ("Feyenoord Rotterdam", 13),
    ("Juventus FC", 12),
    ("Celtic FC", 12),
    ("Manchester City FC", 11),
    ("Sporting Clube de Portugal", 11),
    ("Club Brugge KV", 11),
    ("GNK Dinamo Zagreb", 11),
    ("VfB Stuttgart", 10),
    ("FK Shakhtar Donetsk", 7),
    ("Bologna FC 1909", 6),
    ("FK Crvena Zvezda", 6),
    ("SK Sturm Graz", 6),
    ("AC Sparta Praha", 4),
    ("RB Leipzig", 3),
    ("Girona FC", 3),
    ("FC Red Bull Salzburg", 3),
    ("ŠK Slovan Bratislava", 0),
    ("BSC Young Boys", 0),
];

#[tokio::test]
async fn the_league_phase_is_ranked_by_uefa_tie_breakers_as_published() {
    let app = TestApp::spawn().await;
    let season = import(&app, "CL", CL_2024_25).await;

    let body = data(
        &app,
        "query($s: ID!) {
           standings(seasonId: $s) { position team { name } points goalDifference goalsFor
             awayGoalsFor won awayWon }
           season(id: $s) { tables { stage group ranking rows { team { name } } } } }",
        json!({ "s": season }),
    )
    .await;
    let rows = body["standings"].as_array().unwrap();
    let table: Vec<(i64, &str, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["position"].as_i64().unwrap(),
                r["team"]["name"].as_str().unwrap(),
                r["points"].as_i64().unwrap(),
            )
        })
        .collect();
    let published: Vec<(i64, &str, i64)> = (1..)
        .zip(LEAGUE_PHASE_2024_25)
        .map(|(position, (name, points))| (position, name, points))
        .collect();
    assert_eq!(table, published);

    // Level on points, goal difference, goals scored, away goals and wins:
    // Real Madrid won two away, Bayern one.
    let line = |r: &Value| {
        json!([
            r["team"]["name"],
            r["points"],
            r["goalDifference"],
            r["goalsFor"],
            r["awayGoalsFor"],
            r["won"],
            r["awayWon"]
        ])
    };
    assert_eq!(
        line(&rows[10]),
        json!(["Real Madrid CF", 15, 8, 20, 6, 5, 2])
    );
    assert_eq!(
        line(&rows[11]),
        json!(["FC Bayern München", 15, 8, 20, 6, 5, 1])
    );

    let tables = &body["season"]["tables"];
    assert_eq!(tables.as_array().unwrap().len(), 1);
    assert_eq!(tables[0]["stage"], "League");
    assert_eq!(
        tables[0]["ranking"],
        json!([
            "POINTS",
            "GOAL_DIFFERENCE",
            "GOALS_FOR",
            "AWAY_GOALS_FOR",
            "WINS",
            "AWAY_WINS",
            "OPPONENTS_POINTS",
            "OPPONENTS_GOAL_DIFFERENCE",
            "OPPONENTS_GOALS_FOR",
            "NAME"
        ])
    );
    assert_eq!(tables[0]["rows"][10]["team"]["name"], "Real Madrid CF");
}

/// The teams of each tie, its winner and how it was decided.
fn ties(round: &Value) -> Vec<Value> {
    round["ties"].as_array().unwrap().clone()
}

fn team_names(tie: &Value) -> [&str; 2] {
    [
        tie["teamA"]["name"].as_str().unwrap(),
        tie["teamB"]["name"].as_str().unwrap(),
    ]
}

#[tokio::test]
async fn every_champions_league_knockout_tie_is_won_by_the_team_that_played_on() {
    let app = TestApp::spawn().await;
    let season = import(&app, "CL", CL_2024_25).await;

    let bracket = data(
        &app,
        "query($s: ID!) { bracket(seasonId: $s) { stage name ties {
           teamA { name } teamB { name } matches { id } aggregate { teamA teamB } extraTime
           penalties { teamA teamB } status winner { name } decidedBy winnerInferred } } }",
        json!({ "s": season }),
    )
    .await;
    let rounds = bracket["bracket"].as_array().unwrap();
    let shape: Vec<(&str, usize)> = rounds
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), ties(r).len()))
        .collect();
    assert_eq!(
        shape,
        [
            ("Playoffs", 8),
            ("Round of 16", 8),
            ("Quarterfinals", 4),
            ("Semifinals", 2),
            ("Final", 1)
        ]
    );
    for pair in rounds.windows(2) {
        let next: Vec<String> = ties(&pair[1])
            .iter()
            .flat_map(|t| team_names(t).map(str::to_owned))
            .collect();
        for tie in ties(&pair[0]) {
            assert_eq!(tie["matches"].as_array().unwrap().len(), 2, "{tie}");
            assert_eq!(tie["status"], "DECIDED", "{tie}");
            let winner = tie["winner"]["name"].as_str().unwrap();
            let [a, b] = team_names(&tie);
            let loser = if winner == a { b } else { a };
            assert!(
                next.iter().any(|n| n == winner),
                "{winner} played on: {tie}"
            );
            assert!(!next.iter().any(|n| n == loser), "{loser} went out: {tie}");
        }
    }

    let find = |a: &str, b: &str| -> Value {
        rounds
            .iter()
            .flat_map(ties)
            .find(|t| team_names(t) == [a, b])
            .unwrap_or_else(|| panic!("no tie {a} v {b}"))
    };
    // The file records both shoot-outs of the round of 16 as 4-4: the
    // winners are the teams that played the quarter-finals, and say so.
    let liverpool_psg = find("Paris Saint-Germain FC", "Liverpool FC");
    assert_eq!(
        liverpool_psg["aggregate"],
        json!({ "teamA": 1, "teamB": 1 })
    );
    assert_eq!(liverpool_psg["extraTime"], true);
    assert_eq!(
        liverpool_psg["penalties"],
        json!({ "teamA": 4, "teamB": 4 })
    );
    assert_eq!(liverpool_psg["winner"]["name"], "Paris Saint-Germain FC");
    assert_eq!(liverpool_psg["decidedBy"], "NEXT_ROUND");
    assert_eq!(liverpool_psg["winnerInferred"], true);
    let madrid = find("Real Madrid CF", "Club Atlético de Madrid");
    assert_eq!(madrid["winner"]["name"], "Real Madrid CF");
    assert_eq!(madrid["winnerInferred"], true);

    let brest_psg = find("Stade Brestois 29", "Paris Saint-Germain FC");
    assert_eq!(brest_psg["aggregate"], json!({ "teamA": 0, "teamB": 10 }));
    assert_eq!(brest_psg["decidedBy"], "REGULAR_TIME");
    assert_eq!(brest_psg["winnerInferred"], false);
    let semi = find("FC Barcelona", "FC Internazionale Milano");
    assert_eq!(semi["aggregate"], json!({ "teamA": 6, "teamB": 7 }));
    assert_eq!(semi["winner"]["name"], "FC Internazionale Milano");

    // The file has no result for the final: nothing is made up.
    let last = &ties(&rounds[4])[0];
    assert_eq!(
        team_names(last),
        ["Paris Saint-Germain FC", "FC Internazionale Milano"]
    );
    assert_eq!(
        (&last["status"], &last["winner"], &last["aggregate"]),
        (&json!("UPCOMING"), &Value::Null, &Value::Null)
    );

    // Each match knows its tie; a league-phase match has none.
    let first_leg = &liverpool_psg["matches"][0]["id"];
    let on_match = data(
        &app,
        "query($s: ID!) { season(id: $s) { matches(first: 100, filter: { round: \"Round of 16\" }) {
           nodes { id tie { round winner { name } matches { id } } } } } }",
        json!({ "s": season }),
    )
    .await;
    let node = on_match["season"]["matches"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| &n["id"] == first_leg)
        .unwrap()
        .clone();
    assert_eq!(node["tie"]["round"], "Round of 16");
    assert_eq!(node["tie"]["winner"]["name"], "Paris Saint-Germain FC");
    let league = data(
        &app,
        "{ matches(first: 1) { nodes { stage tie { round } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        league["matches"]["nodes"][0],
        json!({ "stage": "League", "tie": null })
    );

    let finals_only = data(
        &app,
        "query($s: ID!) { bracket(seasonId: $s, stage: \"Finals\") { name } }",
        json!({ "s": season }),
    )
    .await;
    assert_eq!(finals_only["bracket"].as_array().unwrap().len(), 4);
    let unknown = app
        .graphql(
            "query($s: ID!) { bracket(seasonId: $s, stage: \"League\") { name } }",
            json!({ "s": season }),
        )
        .await;
    assert_eq!(
        field_errors(&unknown, "stage"),
        [
            "the season has no knockout stage named \"League\"; its knockout stages: Playoffs, Finals"
        ]
    );
    let missing = app
        .graphql(r#"{ bracket(seasonId: "4242") { name } }"#, json!({}))
        .await;
    assert_eq!(error_code(&missing), Some("NOT_FOUND"));
}

/// Two groups of two and a final between the group winners.
const WITH_GROUPS: &str = r#"{ "name": "Test Cup 2024/25", "matches": [
  { "round": "Group stage, Matchday 1", "group": "Group A", "date": "2024-09-01",
    "team1": "Alpha", "team2": "Bravo", "score": { "ft": [2, 0] } },
  { "round": "Group stage, Matchday 1", "group": "Group B", "date": "2024-09-01",
    "team1": "Charlie", "team2": "Delta", "score": { "ft": [1, 1] } },
  { "round": "Group stage, Matchday 2", "group": "Group A", "date": "2024-09-08",
    "team1": "Bravo", "team2": "Alpha", "score": { "ft": [0, 1] } },
  { "round": "Group stage, Matchday 2", "group": "Group B", "date": "2024-09-08",
    "team1": "Delta", "team2": "Charlie", "score": { "ft": [0, 3] } },
  { "round": "Final", "date": "2024-10-01",
    "team1": "Alpha", "team2": "Charlie", "score": { "ft": [1, 1], "et": [1, 1], "p": [3, 5] } }
]}"#;

#[tokio::test]
async fn a_stage_with_groups_has_a_table_per_group_and_the_final_counts_in_none() {
    let app = TestApp::spawn().await;
    let season = import(&app, "TC", WITH_GROUPS).await;

    let all = app
        .graphql(
            "query($s: ID!) { standings(seasonId: $s) { points } }",
            json!({ "s": season }),
        )
        .await;
    assert_eq!(error_code(&all), Some("BAD_USER_INPUT"));
    assert_eq!(
        field_errors(&all, "group"),
        ["the stage has a table per group; name one: Group A, Group B"]
    );

    let tables = data(
        &app,
        "query($s: ID!) { season(id: $s) { stages { name kind groups }
           tables { stage group rows { position team { name } played points } } } }",
        json!({ "s": season }),
    )
    .await;
    assert_eq!(
        tables["season"]["stages"],
        json!([
            { "name": "Group stage", "kind": "TABLE", "groups": ["Group A", "Group B"] },
            { "name": null, "kind": "KNOCKOUT", "groups": [] }
        ])
    );
    let row = |position: i64, name: &str, points: i64| json!({ "position": position, "team": { "name": name }, "played": 2, "points": points });
    assert_eq!(
        tables["season"]["tables"],
        json!([
            { "stage": "Group stage", "group": "Group A",
              "rows": [row(1, "Alpha", 6), row(2, "Bravo", 0)] },
            { "stage": "Group stage", "group": "Group B",
              "rows": [row(1, "Charlie", 4), row(2, "Delta", 1)] }
        ]),
        "the final counts in no table"
    );

    let group_b = data(
        &app,
        "query($s: ID!) { standings(seasonId: $s, group: \"Group B\") { team { name } } }",
        json!({ "s": season }),
    )
    .await;
    assert_eq!(
        group_b["standings"],
        json!([{ "team": { "name": "Charlie" } }, { "team": { "name": "Delta" } }])
    );
    let no_such = app
        .graphql(
            "query($s: ID!) { standings(seasonId: $s, group: \"Group Z\") { points } }",
            json!({ "s": season }),
        )
        .await;
    assert_eq!(
        field_errors(&no_such, "group"),
        ["there is no group named \"Group Z\"; the groups: Group A, Group B"]
    );

    let final_tie = data(
        &app,
        "query($s: ID!) { bracket(seasonId: $s) { name ties { aggregate { teamA teamB }
           penalties { teamA teamB } winner { name } decidedBy winnerInferred } } }",
        json!({ "s": season }),
    )
    .await;
    assert_eq!(
        final_tie["bracket"],
        json!([{ "name": "Final", "ties": [{
            "aggregate": { "teamA": 1, "teamB": 1 }, "penalties": { "teamA": 3, "teamB": 5 },
            "winner": { "name": "Charlie" }, "decidedBy": "PENALTIES", "winnerInferred": false }] }])
    );
}

#[tokio::test]
async fn a_league_season_has_one_table_stage_and_no_bracket() {
    let app = TestApp::spawn().await;
    let season = seed::season(&app.db).await;
    let home = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let away = seed::team(&app.db, "Chelsea FC", "chelsea-fc").await;
    seed::finished_match(
        &app.db,
        &season,
        &home,
        &away,
        seed::at(2024, 3, 2, 15, 0),
        (2, 1),
        (1, 0),
    )
    .await;
    let body = data(
        &app,
        "query($s: ID!) { season(id: $s) { stages { name kind rounds } bracket { name }
           tables { ranking } standings { team { name } points } } }",
        json!({ "s": season.id.to_string() }),
    )
    .await;
    assert_eq!(
        body["season"],
        json!({
            "stages": [{ "name": null, "kind": "TABLE", "rounds": ["Matchday 1"] }],
            "bracket": [],
            "tables": [{ "ranking": ["POINTS", "GOAL_DIFFERENCE", "GOALS_FOR", "NAME"] }],
            "standings": [
                { "team": { "name": "Arsenal FC" }, "points": 3 },
                { "team": { "name": "Chelsea FC" }, "points": 0 }
            ]
        })
    );
}

/// Schedules a knockout match through the feed; returns its id.
pub(crate) async fn knockout_match(
    app: &TestApp,
    feed: &str,
    season: i64,
    home: i64,
    away: i64,
    day: u32,
) -> String {
    let data = app
        .ok(
            feed,
            "mutation($s: ID!, $h: ID!, $a: ID!, $k: DateTime!) {
               scheduleMatch(input: { seasonId: $s, homeTeamId: $h, awayTeamId: $a, kickoffAt: $k,
                                      stage: \"Finals\", round: \"Semifinals\" }) { id } }",
            json!({
                "s": season.to_string(), "h": home.to_string(), "a": away.to_string(),
                "k": seed::at(2026, 4, day, 19, 0).to_rfc3339(),
            }),
        )
        .await;
    data["scheduleMatch"]["id"].as_str().unwrap().to_owned()
}

/// Arsenal against Paris Saint-Germain over two legs, in a knockout round
/// of a season: PSG won the first leg 1-0 and the second has kicked off.
pub(crate) struct SecondLeg {
    /// A feeder's token.
    pub feed: String,
    pub season: entity::season::Model,
    pub arsenal: entity::team::Model,
    /// The second leg's id.
    pub second: String,
}

pub(crate) async fn second_leg_under_way(app: &TestApp) -> SecondLeg {
    let feed = accounts::create(&app.db, "feed@example.com", UserRole::Feed)
        .await
        .token;
    let season = seed::season(&app.db).await;
    let arsenal = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let psg = seed::team(&app.db, "Paris Saint-Germain FC", "psg").await;
    let first = knockout_match(app, &feed, season.id, arsenal.id, psg.id, 29).await;
    let second = knockout_match(app, &feed, season.id, psg.id, arsenal.id, 30).await;
    app.start_match(&feed, &first).await;
    app.record_goal(&feed, &first, psg.id, 4, "Dembélé").await;
    app.ok(
        &feed,
        "mutation($m: ID!) { endMatch(matchId: $m) { event { id } } }",
        json!({ "m": first }),
    )
    .await;
    app.start_match(&feed, &second).await;
    SecondLeg {
        feed,
        season,
        arsenal,
        second,
    }
}

#[tokio::test]
async fn a_goal_in_a_second_leg_moves_the_aggregate_for_subscribers() {
    let app = TestApp::spawn().await;
    let SecondLeg {
        feed,
        season,
        arsenal,
        second,
        ..
    } = second_leg_under_way(&app).await;

    let mut socket = open(&app, json!({})).await;
    send(
        &mut socket,
        json!({ "id": "t", "type": "subscribe", "payload": {
            "query": "subscription($m: ID!) { matchUpdated(matchId: $m) {
                        score { home away } tie { status aggregate { teamA teamB } } } }",
            "variables": { "m": second } } }),
    )
    .await;
    let now = next_json(&mut socket).await;
    assert_eq!(
        now["payload"]["data"]["matchUpdated"],
        json!({ "score": { "home": 0, "away": 0 },
                "tie": { "status": "IN_PROGRESS", "aggregate": { "teamA": 0, "teamB": 1 } } }),
        "{now}"
    );

    app.record_goal(&feed, &second, arsenal.id, 27, "Saka")
        .await;
    let moved = next_json(&mut socket).await;
    assert_eq!(
        moved["payload"]["data"]["matchUpdated"],
        json!({ "score": { "home": 0, "away": 1 },
                "tie": { "status": "IN_PROGRESS", "aggregate": { "teamA": 1, "teamB": 1 } } }),
        "{moved}"
    );

    // The table ignores both legs: they are knockout matches.
    let table = data(
        &app,
        "query($s: ID!) { standings(seasonId: $s, live: true) { played } }",
        json!({ "s": season.id.to_string() }),
    )
    .await;
    assert_eq!(table["standings"], json!([]));
}
