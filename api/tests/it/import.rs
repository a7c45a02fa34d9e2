//! Importing openfootball season files: through the service, the `api
//! import` command and `--demo`, checked over GraphQL and in the database.

use entity::{
    CompetitionKind, MatchStatus, competition, football_match, points_adjustment, season, team,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use service::import::{
    CompetitionCode, ImportError, ImportOptions, ImportReport, Tally, import_openfootball,
};
use service::values::{SeasonLabel, TimeZone};

use crate::common::TestApp;

const PL_2023_24: &str = include_str!("../../samples/en.1-2023-24.json");
const CL_2024_25: &str = include_str!("../../samples/uefa.cl-2024-25.json");
const PL_2025_26: &str = include_str!("../../samples/en.1-2025-26.json");

const API: &str = env!("CARGO_BIN_EXE_api");

fn options(code: &str, season: &str, zone: &str) -> ImportOptions {
    ImportOptions::new(
        CompetitionCode::parse(code).unwrap(),
        SeasonLabel::parse(season).unwrap(),
        TimeZone::parse(zone).unwrap(),
    )
}

async fn import_pl_2023_24(db: &DatabaseConnection, json: &str) -> ImportReport {
    import_openfootball(
        db,
        "en.1-2023-24.json",
        json,
        &options("PL", "2023/24", "Europe/London"),
    )
    .await
    .expect("the file imports")
}

/// Rows in (competitions, seasons, teams, matches).
async fn counts(db: &DatabaseConnection) -> (u64, u64, u64, u64) {
    (
        competition::Entity::find().count(db).await.unwrap(),
        season::Entity::find().count(db).await.unwrap(),
        team::Entity::find().count(db).await.unwrap(),
        football_match::Entity::find().count(db).await.unwrap(),
    )
}

fn tally(created: usize, updated: usize, unchanged: usize, skipped: usize) -> Tally {
    Tally {
        created,
        updated,
        unchanged,
        skipped,
    }
}

async fn team_id(db: &DatabaseConnection, slug: &str) -> i64 {
    team::Entity::find()
        .filter(team::Column::Slug.eq(slug))
        .one(db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no team {slug}"))
        .id
}

async fn match_between(
    db: &DatabaseConnection,
    round: &str,
    home: &str,
    away: &str,
) -> football_match::Model {
    football_match::Entity::find()
        .filter(football_match::Column::Round.eq(round))
        .filter(football_match::Column::HomeTeamId.eq(team_id(db, home).await))
        .filter(football_match::Column::AwayTeamId.eq(team_id(db, away).await))
        .one(db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no {round} match {home} v {away}"))
}

#[tokio::test]
async fn importing_the_premier_league_2023_24_creates_its_20_teams_and_380_matches_with_real_results()
 {
    let app = TestApp::spawn().await;

    let report = import_pl_2023_24(&app.db, PL_2023_24).await;

    assert_eq!(report.competitions, tally(1, 0, 0, 0));
    assert_eq!(report.seasons, tally(1, 0, 0, 0));
    assert_eq!(report.teams, tally(20, 0, 0, 0));
    assert_eq!(report.matches, tally(380, 0, 0, 0));
    assert!(
        report.skipped.is_empty() && report.warnings.is_empty(),
        "{report}"
    );

    let teams = app
        .graphql("{ teams(first: 100) { nodes { name area } } }", json!({}))
        .await;
    let teams = teams["data"]["teams"]["nodes"].as_array().unwrap().clone();
    assert_eq!(teams.len(), 20);
    assert!(teams.contains(&json!({ "name": "Brighton & Hove Albion FC", "area": null })));

    // The opening match kicked off at 20:00 BST, which is 19:00 UTC.
    let opener = app
        .graphql(
            "{ matches(first: 1) { nodes { kickoffAt kickoffTimeKnown status round matchday stage
               homeTeam { name slug } awayTeam { name slug }
               score { home away halfTime { home away } extraTime { home away } penalties { home away } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        opener["data"]["matches"]["nodes"][0],
        json!({
            "kickoffAt": "2023-08-11T19:00:00+00:00", "kickoffTimeKnown": true, "status": "FINISHED",
            "round": "Matchday 1", "matchday": 1, "stage": null,
            "homeTeam": { "name": "Burnley FC", "slug": "burnley-fc" },
            "awayTeam": { "name": "Manchester City FC", "slug": "manchester-city-fc" },
            "score": { "home": 0, "away": 3, "halfTime": { "home": 0, "away": 2 },
                       "extraTime": null, "penalties": null },
        }),
        "{opener}"
    );

    let pl = competition::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (pl.code.as_str(), pl.name.as_str()),
        ("PL", "English Premier League")
    );
    assert_eq!(pl.kind, CompetitionKind::League);
    let season = season::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(season.label, "2023/24");
    assert_eq!(season.start_date.unwrap().to_string(), "2023-08-11");
    assert_eq!(season.end_date.unwrap().to_string(), "2024-05-19");
    app.stop().await;
}

#[tokio::test]
async fn importing_the_same_file_twice_creates_and_updates_nothing_the_second_time() {
    let app = TestApp::spawn().await;
    import_pl_2023_24(&app.db, PL_2023_24).await;

    let again = import_pl_2023_24(&app.db, PL_2023_24).await;

    assert_eq!(again.competitions, tally(0, 0, 1, 0));
    assert_eq!(again.seasons, tally(0, 0, 1, 0));
    assert_eq!(again.teams, tally(0, 0, 20, 0));
    assert_eq!(again.matches, tally(0, 0, 380, 0));
    assert_eq!(counts(&app.db).await, (1, 1, 20, 380));
    app.stop().await;
}

#[tokio::test]
async fn a_corrected_file_updates_the_changed_match_in_place() {
    let app = TestApp::spawn().await;
    import_pl_2023_24(&app.db, PL_2023_24).await;
    let before = match_between(&app.db, "Matchday 1", "burnley-fc", "manchester-city-fc").await;

    // The feed corrects the opener's score.
    let mut file: Value = serde_json::from_str(PL_2023_24).unwrap();
    assert_eq!(file["matches"][0]["team1"], "Burnley FC");
    file["matches"][0]["score"]["ft"] = json!([1, 3]);
    let corrected = import_pl_2023_24(&app.db, &file.to_string()).await;

    assert_eq!(corrected.matches, tally(0, 1, 379, 0));
    assert_eq!(corrected.seasons, tally(0, 0, 1, 0));
    let after = match_between(&app.db, "Matchday 1", "burnley-fc", "manchester-city-fc").await;
    assert_eq!(after.id, before.id, "updated in place");
    assert_eq!((after.home_score, after.away_score), (Some(1), Some(3)));
    assert!(after.updated_at > before.updated_at);
    assert_eq!(after.created_at, before.created_at);
    assert_eq!(
        after.schedule_revision, 0,
        "a new score is no schedule change"
    );
    let body = app
        .graphql(
            "{ matches(first: 1) { nodes { score { home away } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["matches"]["nodes"][0]["score"],
        json!({ "home": 1, "away": 3 })
    );

    // Then it moves the opener a day earlier: the match and the season's
    // first day both change.
    file["matches"][0]["date"] = json!("2023-08-10");
    let moved = import_pl_2023_24(&app.db, &file.to_string()).await;
    assert_eq!(moved.matches, tally(0, 1, 379, 0));
    assert_eq!(moved.seasons, tally(0, 1, 0, 0));
    let after = match_between(&app.db, "Matchday 1", "burnley-fc", "manchester-city-fc").await;
    assert_eq!(after.kickoff_at.to_rfc3339(), "2023-08-10T19:00:00+00:00");
    assert_eq!(after.schedule_revision, 1, "a calendar shows the move");
    assert_eq!(counts(&app.db).await, (1, 1, 20, 380));
    app.stop().await;
}

#[tokio::test]
async fn the_champions_league_keeps_extra_time_penalties_and_countries_and_warns_of_a_drawn_shoot_out()
 {
    let app = TestApp::spawn().await;

    let report = import_openfootball(
        &app.db,
        "uefa.cl-2024-25.json",
        CL_2024_25,
        &options("CL", "2024/25", "Europe/Berlin"),
    )
    .await
    .unwrap();

    assert_eq!(report.teams, tally(36, 0, 0, 0));
    assert_eq!(report.matches, tally(189, 0, 0, 0));
    let drawn: Vec<String> = report
        .warnings
        .iter()
        .filter(|w| w.message.contains("shoot-out recorded as a draw 4-4"))
        .map(ToString::to_string)
        .collect();
    assert_eq!(drawn.len(), 2, "{report}");
    assert!(
        drawn[0].contains("Liverpool FC (ENG) v Paris Saint-Germain FC (FRA)"),
        "{drawn:?}"
    );

    let cl = competition::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cl.name, "UEFA Champions League");
    assert_eq!(cl.kind, CompetitionKind::Cup, "a final makes it a cup");

    let liverpool_psg = match_between(
        &app.db,
        "Round of 16",
        "liverpool-fc",
        "paris-saint-germain-fc",
    )
    .await;
    assert_eq!(liverpool_psg.stage.as_deref(), Some("Finals"));
    assert_eq!(liverpool_psg.matchday, None);
    assert_eq!(liverpool_psg.status, MatchStatus::Finished);
    assert_eq!(
        (liverpool_psg.home_score, liverpool_psg.away_score),
        (Some(0), Some(1))
    );
    assert_eq!(
        (liverpool_psg.extra_time_home, liverpool_psg.extra_time_away),
        (Some(0), Some(1))
    );
    assert_eq!(
        (liverpool_psg.penalties_home, liverpool_psg.penalties_away),
        (Some(4), Some(4))
    );
    // 21:00 in Berlin in March is 20:00 UTC.
    assert_eq!(
        liverpool_psg.kickoff_at.to_rfc3339(),
        "2025-03-11T20:00:00+00:00"
    );

    let teams = app
        .graphql(
            "{ teams(first: 100) { nodes { name area slug } } }",
            json!({}),
        )
        .await;
    let teams = teams["data"]["teams"]["nodes"].as_array().unwrap();
    assert!(
        teams.contains(&json!({ "name": "Club Atlético de Madrid", "area": "ESP", "slug": "club-atletico-de-madrid" })),
        "{teams:?}"
    );
    assert!(teams.contains(
        &json!({ "name": "ŠK Slovan Bratislava", "area": "SVK", "slug": "sk-slovan-bratislava" })
    ));

    let first = app
        .graphql(
            "{ matches(first: 1) { nodes { stage round matchday } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        first["data"]["matches"]["nodes"][0],
        json!({ "stage": "League", "round": "Matchday 1", "matchday": 1 })
    );
    app.stop().await;
}

#[tokio::test]
async fn a_season_in_progress_keeps_its_postponed_match_postponed_and_the_unplayed_ones_scheduled()
{
    let app = TestApp::spawn().await;

    let report = import_openfootball(
        &app.db,
        "en.1-2025-26.json",
        PL_2025_26,
        &options("PL", "2025/26", "Europe/London"),
    )
    .await
    .unwrap();

    assert_eq!(report.matches, tally(380, 0, 0, 0));
    let with_status = |status: MatchStatus| {
        football_match::Entity::find()
            .filter(football_match::Column::Status.eq(status))
            .count(&app.db)
    };
    assert_eq!(with_status(MatchStatus::Finished).await.unwrap(), 291);
    assert_eq!(with_status(MatchStatus::Postponed).await.unwrap(), 1);
    assert_eq!(with_status(MatchStatus::Scheduled).await.unwrap(), 88);

    let postponed = match_between(
        &app.db,
        "Matchday 31",
        "manchester-city-fc",
        "crystal-palace-fc",
    )
    .await;
    assert_eq!(postponed.status, MatchStatus::Postponed);
    assert_eq!((postponed.home_score, postponed.away_score), (None, None));
    // No time in the file: local midnight, flagged as a placeholder.
    assert!(!postponed.kickoff_time_known);
    assert_eq!(
        postponed.kickoff_at.to_rfc3339(),
        "2026-03-21T00:00:00+00:00"
    );
    app.stop().await;
}

#[tokio::test]
async fn clock_changes_duplicates_and_missing_times_are_imported_or_skipped_with_reasons() {
    let app = TestApp::spawn().await;
    let file = r#"{"name": "Clock League 2023/24", "matches": [
        {"round": "Matchday 1", "date": "2023-10-29", "time": "01:30", "team1": "Early FC", "team2": "Late FC", "score": {"ft": [1, 0]}},
        {"round": "Matchday 2", "date": "2024-03-31", "time": "01:30", "team1": "Late FC", "team2": "Early FC", "score": {}},
        {"round": "Matchday 1", "date": "2023-10-29", "time": "15:00", "team1": "Early FC", "team2": "Late FC", "score": {}},
        {"round": "Matchday 3", "date": "2024-04-06", "team1": "Early FC", "team2": "Late FC", "score": {}}
    ]}"#;

    let report = import_openfootball(
        &app.db,
        "clock.json",
        file,
        &options("CLK", "2023/24", "Europe/London"),
    )
    .await
    .unwrap();

    assert_eq!(report.matches, tally(2, 0, 0, 2));
    let skipped: Vec<String> = report
        .skipped
        .iter()
        .map(|s| format!("{}: {}", s.at, s.reason))
        .collect();
    assert_eq!(
        skipped,
        [
            "matches[1] (Matchday 2: Late FC v Early FC): kick-off 2024-03-31 01:30 never happened \
             in Europe/London: the clocks went forward over it",
            "matches[2] (Matchday 1: Early FC v Late FC): duplicate of matches[0]: same round and teams",
        ]
    );
    assert!(
        report.warnings[0]
            .to_string()
            .contains("took the earlier instant 2023-10-29 00:30:00 UTC"),
        "{report}"
    );
    let body = app
        .graphql(
            "{ matches(first: 10) { nodes { kickoffAt kickoffTimeKnown round } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["matches"]["nodes"],
        json!([
            { "kickoffAt": "2023-10-29T00:30:00+00:00", "kickoffTimeKnown": true, "round": "Matchday 1" },
            { "kickoffAt": "2024-04-05T23:00:00+00:00", "kickoffTimeKnown": false, "round": "Matchday 3" },
        ])
    );
    app.stop().await;
}

#[tokio::test]
async fn a_malformed_file_fails_naming_the_file_and_the_problem_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let mut last_date_wrong: Value = serde_json::from_str(PL_2023_24).unwrap();
    last_date_wrong["matches"][379]["date"] = json!("2023-13-45");
    let mut negative_score: Value = serde_json::from_str(PL_2023_24).unwrap();
    negative_score["matches"][5]["score"]["ft"] = json!([1, -1]);
    let mut no_away_team: Value = serde_json::from_str(PL_2023_24).unwrap();
    no_away_team["matches"][7]
        .as_object_mut()
        .unwrap()
        .remove("team2");
    let mut date_a_number: Value = serde_json::from_str(PL_2023_24).unwrap();
    date_a_number["matches"][0]["date"] = json!(20230811);

    let cases = [
        (
            PL_2023_24[..2000].to_owned(),
            "bad.json: invalid JSON at line 110 column 6: EOF while parsing a value",
        ),
        (
            serde_json::to_string_pretty(&date_a_number).unwrap(),
            "bad.json: unexpected JSON at line 4 column 22: invalid type: integer `20230811`, expected a string",
        ),
        (
            last_date_wrong.to_string(),
            "bad.json: matches[379] (Matchday 38: Sheffield United FC v Tottenham Hotspur FC): \
             \"date\" \"2023-13-45\" is not a date of the form YYYY-MM-DD",
        ),
        (
            negative_score.to_string(),
            "\"score.ft\" must be two non-negative whole numbers, not [1,-1]",
        ),
        (
            no_away_team.to_string(),
            "bad.json: matches[7] (Matchday 1: Brentford FC v ?): \"team2\" (a team) is missing",
        ),
    ];
    for (json, expected) in cases {
        let err = import_openfootball(
            &app.db,
            "bad.json",
            &json,
            &options("PL", "2023/24", "Europe/London"),
        )
        .await
        .expect_err("a malformed file is refused");
        assert!(matches!(err, ImportError::Malformed { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains(expected),
            "expected {expected:?} in {message:?}"
        );
        assert!(message.starts_with("bad.json: "), "{message}");
        assert!(!message.contains('\n'), "{message}");
    }

    assert_eq!(counts(&app.db).await, (0, 0, 0, 0), "nothing was written");
    app.stop().await;
}

/// `api import`, run the way an operator runs it, on the test's database.
async fn api_import(app: &TestApp, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    tokio::process::Command::new(API)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", app.database_url())
        .arg("import")
        .args(args)
        .output()
        .await
        .expect("api runs")
}

fn samples_file(name: &str) -> String {
    format!("{}/samples/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test]
async fn the_import_command_prints_the_counts_and_exits_zero() {
    let app = TestApp::spawn().await;
    let file = samples_file("uefa.cl-2024-25.json");

    let output = api_import(
        &app,
        &[
            &file,
            "--competition-code",
            "cl",
            "--season",
            "2024/25",
            "--timezone",
            "Europe/Berlin",
            "--competition-name",
            "UEFA Champions League",
            "--kind",
            "cup",
        ],
    )
    .await;

    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let row = |kind: &str| -> Vec<String> {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(kind))
            .unwrap_or_else(|| panic!("no {kind} row in\n{stdout}"));
        line.split_whitespace().skip(1).map(str::to_owned).collect()
    };
    assert!(
        stdout.contains("created  updated  unchanged  skipped"),
        "{stdout}"
    );
    assert_eq!(row("competitions"), ["1", "0", "0", "0"]);
    assert_eq!(row("seasons"), ["1", "0", "0", "0"]);
    assert_eq!(row("teams"), ["36", "0", "0", "0"]);
    assert_eq!(row("matches"), ["189", "0", "0", "0"]);
    assert_eq!(stdout.matches("warning: ").count(), 2, "{stdout}");
    assert_eq!(counts(&app.db).await, (1, 1, 36, 189));
    let cl = competition::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cl.code, "CL");

    let again = api_import(
        &app,
        &[
            &file,
            "--competition-code",
            "CL",
            "--season",
            "2024/25",
            "--timezone",
            "Europe/Berlin",
        ],
    )
    .await;
    assert!(again.status.success());
    let stdout = String::from_utf8(again.stdout).unwrap();
    assert!(
        stdout
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["matches", "0", "0", "189", "0"]),
        "{stdout}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_import_command_refuses_a_bad_file_or_time_zone_in_one_line() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.json");
    let mut file: Value = serde_json::from_str(PL_2023_24).unwrap();
    file["matches"][3]["score"]["ft"] = json!([2, "x"]);
    std::fs::write(&bad, file.to_string()).unwrap();
    let bad = bad.display().to_string();

    for (args, expected) in [
        (
            vec![bad.as_str(), "--competition-code", "PL", "--season", "2023/24", "--timezone", "Europe/London"],
            format!("error: {bad}: matches[3] (Matchday 1: Brighton & Hove Albion FC v Luton Town FC): \"score.ft\" must be two non-negative whole numbers, not [2,\"x\"]"),
        ),
        (
            vec![bad.as_str(), "--competition-code", "PL", "--season", "2023/24", "--timezone", "Mars/Olympus"],
            "error: --timezone <TIMEZONE>: invalid value 'Mars/Olympus': 'Mars/Olympus' is not an IANA time zone name such as Europe/London".to_owned(),
        ),
        (
            vec![bad.as_str(), "--competition-code", "PL", "--season", "2023-24", "--timezone", "Europe/London"],
            "error: --season <SEASON>: invalid value '2023-24': '2023-24' is not a season label: use YYYY/YY, such as 2023/24".to_owned(),
        ),
    ] {
        let output = api_import(&app, &args).await;
        assert!(!output.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.trim_end(), expected, "{args:?}");
        assert_eq!(stderr.lines().count(), 1);
    }
    assert_eq!(counts(&app.db).await, (0, 0, 0, 0), "nothing was written");
    app.stop().await;
}

#[tokio::test]
async fn serving_with_demo_on_an_empty_database_imports_the_bundled_seasons() {
    let app = TestApp::spawn_with_options(|options| options.demo = true).await;

    let teams = app
        .graphql("{ teams(first: 100) { nodes { name } } }", json!({}))
        .await;
    let names: Vec<&str> = teams["data"]["teams"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    // 20 + 20 Premier League clubs and 36 Champions League clubs, less the
    // clubs that play in more than one of them.
    assert_eq!(names.len(), 54, "{names:?}");
    assert!(names.contains(&"FC Bayern München") && names.contains(&"Sunderland AFC"));

    let matches = app
        .graphql(
            "{ matches(first: 100) { nodes { kickoffAt status homeTeam { name } awayTeam { name } score { home away } } } }",
            json!({}),
        )
        .await;
    let matches = matches["data"]["matches"]["nodes"].as_array().unwrap();
    assert_eq!(matches.len(), 100);
    assert_eq!(
        matches[0],
        json!({ "kickoffAt": "2023-08-11T19:00:00+00:00", "status": "FINISHED",
                "homeTeam": { "name": "Burnley FC" }, "awayTeam": { "name": "Manchester City FC" },
                "score": { "home": 0, "away": 3 } })
    );
    assert_eq!(counts(&app.db).await, (2, 3, 54, 380 + 189 + 380));

    let everton_points: Vec<i32> = points_adjustment::Entity::find()
        .filter(points_adjustment::Column::TeamId.eq(team_id(&app.db, "everton-fc").await))
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|a| a.points)
        .collect();
    assert_eq!(everton_points.iter().sum::<i32>(), -8, "{everton_points:?}");
    assert_eq!(
        points_adjustment::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        4
    );

    // Seeding again, as a restart with --demo does, adds nothing.
    let again = service::demo::seed(&app.db).await.unwrap();
    assert!(
        matches!(again, service::demo::Seeded::AlreadyHadMatches),
        "{again:?}"
    );
    assert_eq!(counts(&app.db).await, (2, 3, 54, 949));
    assert_eq!(
        points_adjustment::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        4
    );
    app.stop().await;
}

#[tokio::test]
async fn the_demo_premier_league_2023_24_table_matches_the_official_final_table() {
    let app = TestApp::spawn_with_options(|options| options.demo = true).await;
    let seasons = app
        .graphql(
            r#"{ competition(code: "PL") { seasons { id label } } }"#,
            json!({}),
        )
        .await;
    let season_id = seasons["data"]["competition"]["seasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["label"] == "2023/24")
        .map(|s| s["id"].clone())
        .expect("PL 2023/24 season");
    let table = app
        .graphql(
            "query($s: ID!) { standings(seasonId: $s) { position team { name } played won drawn lost
               goalsFor goalsAgainst goalDifference points pointsAdjustment form } }",
            json!({ "s": season_id }),
        )
        .await;
    let rows = table["data"]["standings"]
        .as_array()
        .unwrap_or_else(|| panic!("{table}"));
    assert_eq!(rows.len(), 20);
    assert_eq!(
        rows[0],
        json!({ "position": 1, "team": { "name": "Manchester City FC" }, "played": 38, "won": 28, "drawn": 7,
                "lost": 3, "goalsFor": 96, "goalsAgainst": 34, "goalDifference": 62, "points": 91,
                "pointsAdjustment": 0, "form": ["WON", "WON", "WON", "WON", "WON"] })
    );
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["team"]["name"] == name)
            .unwrap()
            .clone()
    };
    // Everton's deductions (net -8) and Forest's (-4) put them 15th and 17th.
    let everton = row("Everton FC");
    assert_eq!(
        (
            everton["position"].clone(),
            everton["points"].clone(),
            everton["pointsAdjustment"].clone()
        ),
        (json!(15), json!(40), json!(-8))
    );
    let forest = row("Nottingham Forest FC");
    assert_eq!(
        (
            forest["position"].clone(),
            forest["points"].clone(),
            forest["pointsAdjustment"].clone()
        ),
        (json!(17), json!(32), json!(-4))
    );

    // Before the first deduction took effect, Everton's table shows none.
    let before = app
        .graphql(
            "query($s: ID!) { standings(seasonId: $s, asOf: \"2023-11-01T00:00:00Z\") { team { name } pointsAdjustment played } }",
            json!({ "s": season_id }),
        )
        .await;
    let everton_then = before["data"]["standings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["team"]["name"] == "Everton FC")
        .unwrap()
        .clone();
    assert_eq!(everton_then["pointsAdjustment"], 0);
    assert_eq!(everton_then["played"], 10);
    app.stop().await;
}
