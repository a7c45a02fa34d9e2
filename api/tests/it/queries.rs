//! The read API over a small, hand-made season.

use entity::MatchEventKind;
use serde_json::{Value, json};

use crate::common::{TestApp, seed};

#[tokio::test]
async fn teams_is_a_connection_by_name_with_a_total_count() {
    let app = TestApp::spawn().await;
    seed::team(
        &app.db,
        "Wolverhampton Wanderers FC",
        "wolverhampton-wanderers-fc",
    )
    .await;
    seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    seed::team(&app.db, "Brentford FC", "brentford-fc").await;

    let first = app
        .graphql(
            "{ teams(first: 2) { totalCount nodes { name } pageInfo { hasNextPage hasPreviousPage endCursor } } }",
            json!({}),
        )
        .await;
    let page = &first["data"]["teams"];
    assert_eq!(page["totalCount"], 3, "{first}");
    assert_eq!(
        page["nodes"],
        json!([{ "name": "Arsenal FC" }, { "name": "Brentford FC" }])
    );
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    assert_eq!(page["pageInfo"]["hasPreviousPage"], false);

    let cursor = page["pageInfo"]["endCursor"].as_str().unwrap();
    let second = app
        .graphql(
            "query($after: String) { teams(first: 2, after: $after) { nodes { name } pageInfo { hasNextPage hasPreviousPage } } }",
            json!({ "after": cursor }),
        )
        .await;
    assert_eq!(
        second["data"]["teams"],
        json!({ "nodes": [{ "name": "Wolverhampton Wanderers FC" }],
                "pageInfo": { "hasNextPage": false, "hasPreviousPage": true } })
    );
    app.stop().await;
}

#[tokio::test]
async fn a_cursor_stays_valid_while_teams_are_inserted_before_it() {
    let app = TestApp::spawn().await;
    seed::team(&app.db, "Chelsea FC", "chelsea-fc").await;
    seed::team(&app.db, "Everton FC", "everton-fc").await;
    seed::team(&app.db, "Fulham FC", "fulham-fc").await;
    let first = app
        .graphql("{ teams(first: 1) { pageInfo { endCursor } } }", json!({}))
        .await;
    let cursor = first["data"]["teams"]["pageInfo"]["endCursor"].clone();

    seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;

    let next = app
        .graphql(
            "query($c: String) { teams(first: 5, after: $c) { nodes { name } } }",
            json!({ "c": cursor }),
        )
        .await;
    assert_eq!(
        next["data"]["teams"]["nodes"],
        json!([{ "name": "Everton FC" }, { "name": "Fulham FC" }])
    );
    app.stop().await;
}

#[tokio::test]
async fn teams_can_be_searched_and_found_by_slug() {
    let app = TestApp::spawn().await;
    seed::team(&app.db, "Manchester City FC", "manchester-city-fc").await;
    seed::team(&app.db, "Manchester United FC", "manchester-united-fc").await;
    seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;

    let body = app
        .graphql(
            r#"{ teams(search: "MANCHESTER") { totalCount nodes { name } }
                 team(slug: "arsenal-fc") { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"],
        json!({
            "teams": { "totalCount": 2, "nodes": [{ "name": "Manchester City FC" }, { "name": "Manchester United FC" }] },
            "team": { "name": "Arsenal FC" },
        }),
        "{body}"
    );
    app.stop().await;
}

/// Three matches of one season: Burnley 0-3 City, Arsenal 2-1 City, Arsenal 1-1 Burnley.
async fn small_season(
    app: &TestApp,
) -> (Vec<entity::team::Model>, Vec<entity::football_match::Model>) {
    let season = seed::season(&app.db).await;
    let burnley = seed::team(&app.db, "Burnley FC", "burnley-fc").await;
    let city = seed::team(&app.db, "Manchester City FC", "manchester-city-fc").await;
    let arsenal = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let m1 = seed::finished_match(
        &app.db,
        &season,
        &burnley,
        &city,
        seed::at(2023, 8, 11, 19, 0),
        (0, 3),
        (0, 2),
    )
    .await;
    let m2 = seed::finished_match(
        &app.db,
        &season,
        &arsenal,
        &city,
        seed::at(2023, 8, 12, 12, 0),
        (2, 1),
        (1, 1),
    )
    .await;
    let m3 = seed::finished_match(
        &app.db,
        &season,
        &arsenal,
        &burnley,
        seed::at(2023, 8, 19, 14, 0),
        (1, 1),
        (0, 0),
    )
    .await;
    (vec![burnley, city, arsenal], vec![m1, m2, m3])
}

fn home_names(body: &Value) -> Vec<String> {
    body["data"]["matches"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes in {body}"))
        .iter()
        .map(|m| m["homeTeam"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn matches_come_with_their_teams_season_and_score_in_kickoff_order() {
    let app = TestApp::spawn().await;
    small_season(&app).await;

    let body = app
        .graphql(
            "{ matches(first: 2) { totalCount nodes { kickoffAt status round homeTeam { name } awayTeam { name }
               competition { code } season { label }
               score { home away halfTime { home away } extraTime { home away } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["matches"]["totalCount"], 3);
    assert_eq!(
        body["data"]["matches"]["nodes"][0],
        json!({ "kickoffAt": "2023-08-11T19:00:00+00:00", "status": "FINISHED", "round": "Matchday 1",
                "homeTeam": { "name": "Burnley FC" }, "awayTeam": { "name": "Manchester City FC" },
                "competition": { "code": "PL" }, "season": { "label": "2023/24" },
                "score": { "home": 0, "away": 3, "halfTime": { "home": 0, "away": 2 }, "extraTime": null } }),
        "{body}"
    );
    assert_eq!(home_names(&body), ["Burnley FC", "Arsenal FC"]);
    app.stop().await;
}

#[tokio::test]
async fn matches_can_be_listed_latest_first_and_paged_from_the_end() {
    let app = TestApp::spawn().await;
    small_season(&app).await;
    let query = "query($order: MatchOrder, $last: Int) { matches(orderBy: $order, last: $last) {
                   nodes { homeTeam { name } } pageInfo { hasPreviousPage hasNextPage } } }";

    let latest_first = app.graphql(query, json!({ "order": "KICKOFF_DESC" })).await;
    assert_eq!(
        home_names(&latest_first),
        ["Arsenal FC", "Arsenal FC", "Burnley FC"]
    );

    let last_two = app.graphql(query, json!({ "last": 2 })).await;
    assert_eq!(home_names(&last_two), ["Arsenal FC", "Arsenal FC"]);
    assert_eq!(
        last_two["data"]["matches"]["pageInfo"]["hasPreviousPage"],
        true
    );
    app.stop().await;
}

#[tokio::test]
async fn the_match_filter_narrows_by_team_status_competition_and_time() {
    let app = TestApp::spawn().await;
    let (teams, _) = small_season(&app).await;
    let burnley = teams[0].id.to_string();
    let query =
        "query($f: MatchFilter) { matches(filter: $f) { totalCount nodes { homeTeam { name } } } }";
    let count = |body: Value| body["data"]["matches"]["totalCount"].clone();

    assert_eq!(
        count(
            app.graphql(query, json!({ "f": { "teamId": burnley } }))
                .await
        ),
        2
    );
    assert_eq!(
        count(
            app.graphql(query, json!({ "f": { "status": ["SCHEDULED", "LIVE"] } }))
                .await
        ),
        0
    );
    assert_eq!(
        count(
            app.graphql(query, json!({ "f": { "competitionCode": "pl" } }))
                .await
        ),
        3
    );
    assert_eq!(
        count(
            app.graphql(query, json!({ "f": { "competitionCode": "XX" } }))
                .await
        ),
        0
    );
    let window = json!({ "f": { "from": "2023-08-12T00:00:00Z", "to": "2023-08-19T14:00:00Z" } });
    assert_eq!(count(app.graphql(query, window).await), 1);
    assert_eq!(
        count(
            app.graphql(query, json!({ "f": { "round": "Matchday 1" } }))
                .await
        ),
        3
    );

    let backwards = app
        .graphql(
            query,
            json!({ "f": { "from": "2023-09-01T00:00:00Z", "to": "2023-08-01T00:00:00Z" } }),
        )
        .await;
    assert_eq!(
        backwards["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{backwards}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_match_lists_its_events_in_sequence_order() {
    let app = TestApp::spawn().await;
    let (_, matches) = small_season(&app).await;
    let m = &matches[1];
    // Inserted out of order on purpose.
    seed::event(&app.db, m, 2, MatchEventKind::Goal, 23).await;
    seed::event(&app.db, m, 1, MatchEventKind::KickOff, 0).await;
    seed::event(&app.db, m, 3, MatchEventKind::YellowCard, 40).await;

    let body = app
        .graphql(
            "query($id: ID!) { match(id: $id) { homeTeam { name } events { seq kind minute team { name } } } }",
            json!({ "id": m.id.to_string() }),
        )
        .await;
    assert_eq!(
        body["data"]["match"]["events"],
        json!([
            { "seq": 1, "kind": "KICK_OFF", "minute": 0, "team": { "name": "Arsenal FC" } },
            { "seq": 2, "kind": "GOAL", "minute": 23, "team": { "name": "Arsenal FC" } },
            { "seq": 3, "kind": "YELLOW_CARD", "minute": 40, "team": { "name": "Arsenal FC" } },
        ]),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_missing_match_is_null_and_a_malformed_id_is_bad_user_input() {
    let app = TestApp::spawn().await;
    let missing = app
        .graphql(r#"{ match(id: "999999") { id } }"#, json!({}))
        .await;
    assert_eq!(missing, json!({ "data": { "match": null } }));
    let malformed = app
        .graphql(r#"{ match(id: "abc") { id } }"#, json!({}))
        .await;
    assert_eq!(
        malformed["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{malformed}"
    );
    assert!(
        malformed["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("'abc' is not a valid id")
    );
    app.stop().await;
}

#[tokio::test]
async fn competitions_list_their_seasons_and_are_found_by_code() {
    let app = TestApp::spawn().await;
    small_season(&app).await;
    let body = app
        .graphql(
            r#"{ competitions { code name kind seasons { label } }
                 competition(code: "pl") { name seasons { id label competition { code } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["competitions"],
        json!([{ "code": "PL", "name": "Premier League", "kind": "LEAGUE", "seasons": [{ "label": "2023/24" }] }]),
        "{body}"
    );
    let season_id = body["data"]["competition"]["seasons"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let season = app
        .graphql(
            "query($id: ID!) { season(id: $id) { label matches { totalCount } } }",
            json!({ "id": season_id }),
        )
        .await;
    assert_eq!(
        season["data"]["season"],
        json!({ "label": "2023/24", "matches": { "totalCount": 3 } })
    );
    app.stop().await;
}

#[tokio::test]
async fn standings_rank_teams_and_show_form_newest_first() {
    let app = TestApp::spawn().await;
    let (_, matches) = small_season(&app).await;
    let season_id = matches[0].season_id.to_string();
    let body = app
        .graphql(
            "query($s: ID!) { standings(seasonId: $s) { position team { name } played won drawn lost
               goalsFor goalsAgainst goalDifference points pointsAdjustment form } }",
            json!({ "s": season_id }),
        )
        .await;
    assert_eq!(
        body["data"]["standings"],
        json!([
            { "position": 1, "team": { "name": "Arsenal FC" }, "played": 2, "won": 1, "drawn": 1, "lost": 0,
              "goalsFor": 3, "goalsAgainst": 2, "goalDifference": 1, "points": 4, "pointsAdjustment": 0, "form": ["DRAWN", "WON"] },
            { "position": 2, "team": { "name": "Manchester City FC" }, "played": 2, "won": 1, "drawn": 0, "lost": 1,
              "goalsFor": 4, "goalsAgainst": 2, "goalDifference": 2, "points": 3, "pointsAdjustment": 0, "form": ["LOST", "WON"] },
            { "position": 3, "team": { "name": "Burnley FC" }, "played": 2, "won": 0, "drawn": 1, "lost": 1,
              "goalsFor": 1, "goalsAgainst": 4, "goalDifference": -3, "points": 1, "pointsAdjustment": 0, "form": ["DRAWN", "LOST"] },
        ]),
        "{body}"
    );

    let as_of = app
        .graphql(
            "query($s: ID!) { standings(seasonId: $s, asOf: \"2023-08-12T00:00:00Z\") { team { name } played points } }",
            json!({ "s": season_id }),
        )
        .await;
    assert_eq!(
        as_of["data"]["standings"][0],
        json!({ "team": { "name": "Manchester City FC" }, "played": 1, "points": 3 }),
        "{as_of}"
    );
    app.stop().await;
}

#[tokio::test]
async fn standings_of_an_unknown_season_are_not_found() {
    let app = TestApp::spawn().await;
    let body = app
        .graphql(r#"{ standings(seasonId: "4242") { position } }"#, json!({}))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn head_to_head_sums_wins_draws_and_goals_for_each_side() {
    let app = TestApp::spawn().await;
    let (teams, _) = small_season(&app).await;
    let (burnley, arsenal) = (teams[0].id.to_string(), teams[2].id.to_string());
    let body = app
        .graphql(
            "query($a: ID!, $b: ID!) { headToHead(teamA: $a, teamB: $b) { teamA { name } teamB { name } played
               teamAWins teamBWins draws teamAGoals teamBGoals matches { totalCount nodes { homeTeam { name } } } } }",
            json!({ "a": arsenal, "b": burnley }),
        )
        .await;
    assert_eq!(
        body["data"]["headToHead"],
        json!({ "teamA": { "name": "Arsenal FC" }, "teamB": { "name": "Burnley FC" }, "played": 1,
                "teamAWins": 0, "teamBWins": 0, "draws": 1, "teamAGoals": 1, "teamBGoals": 1,
                "matches": { "totalCount": 1, "nodes": [{ "homeTeam": { "name": "Arsenal FC" } }] } }),
        "{body}"
    );
    let same = app
        .graphql(
            "query($a: ID!) { headToHead(teamA: $a, teamB: $a) { played } }",
            json!({ "a": arsenal }),
        )
        .await;
    assert_eq!(same["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    app.stop().await;
}

#[tokio::test]
async fn a_team_knows_its_last_match_and_has_no_next_one_after_the_season() {
    let app = TestApp::spawn().await;
    small_season(&app).await;
    let body = app
        .graphql(
            r#"{ team(slug: "burnley-fc") { lastMatch { awayTeam { name } } nextMatch { id }
                 matches(orderBy: KICKOFF_DESC, first: 1) { totalCount nodes { homeTeam { name } } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["team"],
        json!({ "lastMatch": { "awayTeam": { "name": "Burnley FC" } }, "nextMatch": null,
                "matches": { "totalCount": 2, "nodes": [{ "homeTeam": { "name": "Arsenal FC" } }] } }),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn page_sizes_outside_1_to_100_are_bad_user_input_naming_the_range() {
    let app = TestApp::spawn().await;
    for query in [
        "{ matches(first: 101) { totalCount } }",
        "{ matches(first: 0) { totalCount } }",
        "{ matches(last: -5) { totalCount } }",
        "{ teams(first: 1000) { totalCount } }",
    ] {
        let body = app.graphql(query, json!({})).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{query}: {body}"
        );
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("between 1 and 100"), "{message}");
    }
    let forged = app
        .graphql(r#"{ matches(after: "garbage") { totalCount } }"#, json!({}))
        .await;
    assert_eq!(
        forged["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{forged}"
    );
    app.stop().await;
}

/// A page of matches is read in one statement with both teams (by column
/// position, on PostgreSQL) and a single match by itself: every field, set
/// or null, reads the same either way.
#[tokio::test]
async fn a_page_of_matches_shows_every_field_as_the_match_itself_does() {
    use entity::football_match;
    use sea_orm::{ActiveModelTrait as _, ActiveValue::Set, IntoActiveModel as _};

    let app = TestApp::spawn().await;
    let season = seed::season(&app.db).await;
    let plain = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let mut full = seed::team(&app.db, "Tottenham Hotspur FC", "tottenham-hotspur-fc")
        .await
        .into_active_model();
    full.short_name = Set(Some("Spurs".to_owned()));
    full.tla = Set(Some("TOT".to_owned()));
    full.area = Set(Some("England".to_owned()));
    full.founded = Set(Some(1882));
    full.venue = Set(Some("Tottenham Hotspur Stadium".to_owned()));
    full.crest_url = Set(Some("https://crests.example/tot.png".to_owned()));
    let full = full.update(&app.db).await.unwrap();

    // One match with every optional column empty, one with all of them set.
    seed::fixture(&app.db, &season, &plain, &full, seed::at(2024, 1, 6, 15, 0)).await;
    let mut decided = seed::finished_match(
        &app.db,
        &season,
        &full,
        &plain,
        seed::at(2024, 1, 13, 17, 30),
        (2, 2),
        (1, 0),
    )
    .await
    .into_active_model();
    decided.stage = Set(Some("Final".to_owned()));
    decided.group_name = Set(Some("Group A".to_owned()));
    decided.extra_time_home = Set(Some(3));
    decided.extra_time_away = Set(Some(3));
    decided.penalties_home = Set(Some(4));
    decided.penalties_away = Set(Some(5));
    decided.minute = Set(Some(120));
    decided.last_event_seq = Set(7);
    decided.last_event_at = Set(Some(seed::at(2024, 1, 13, 19, 45)));
    decided.schedule_revision = Set(2);
    decided.kickoff_time_known = Set(false);
    let decided: football_match::Model = decided.update(&app.db).await.unwrap();

    let team = "id name shortName tla area founded venue crestUrl slug";
    let fields = format!(
        "id kickoffAt kickoffTimeKnown status round matchday stage group minute lastEventSeq \
         updatedAt lastEventAt scheduleRevision \
         score {{ home away halfTime {{ home away }} extraTime {{ home away }} penalties {{ home away }} }} \
         homeTeam {{ {team} }} awayTeam {{ {team} }}"
    );
    let page = app
        .graphql(
            &format!(
                "query($season: ID!) {{ matches(first: 10, filter: {{ seasonId: $season }}) {{ nodes {{ {fields} }} }} }}"
            ),
            json!({ "season": season.id.to_string() }),
        )
        .await;
    let nodes = page["data"]["matches"]["nodes"]
        .as_array()
        .expect("a page")
        .clone();
    assert_eq!(nodes.len(), 2, "{page}");
    for node in &nodes {
        let alone = app
            .graphql(
                &format!("query($id: ID!) {{ match(id: $id) {{ {fields} }} }}"),
                json!({ "id": node["id"] }),
            )
            .await;
        assert_eq!(*node, alone["data"]["match"], "{alone}");
    }
    let decided_id = decided.id.to_string();
    let decided_node = nodes
        .iter()
        .find(|node| node["id"].as_str() == Some(decided_id.as_str()))
        .unwrap();
    assert_eq!(decided_node["stage"], "Final");
    assert_eq!(decided_node["group"], "Group A");
    assert_eq!(
        decided_node["score"]["penalties"],
        json!({ "home": 4, "away": 5 })
    );
    assert_eq!(decided_node["homeTeam"]["founded"], 1882);
    assert_eq!(decided_node["kickoffTimeKnown"], false);
    assert_eq!(decided_node["scheduleRevision"], 2);
    app.stop().await;
}
