//! A page of matches with their teams and events costs a fixed number of
//! SQL statements, whatever its size; on PostgreSQL its teams come with the
//! page itself.

use entity::MatchEventKind;
use serde_json::json;

use crate::common::{TestApp, seed};

const QUERY: &str = "query($n: Int!) { matches(first: $n) { nodes { homeTeam { name } awayTeam { name } events { kind } } } }";

async fn statements_for(app: &TestApp, n: i32) -> u64 {
    let before = app.statements.get();
    let body = app.graphql(QUERY, json!({ "n": n })).await;
    let nodes = body["data"]["matches"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(nodes.len(), n as usize);
    assert!(
        nodes
            .iter()
            .all(|m| m["events"].as_array().unwrap().len() == 2)
    );
    app.statements.get() - before
}

/// 100 matches among 20 teams, two events each; the teams in match order.
async fn seed_matches(app: &TestApp) -> Vec<(String, String)> {
    let season = seed::season(&app.db).await;
    let mut teams = Vec::new();
    for i in 0..20 {
        teams.push(seed::team(&app.db, &format!("Team {i:02}"), &format!("team-{i:02}")).await);
    }
    let mut pairs = Vec::new();
    for i in 0..100 {
        let (home, away) = (&teams[i % 20], &teams[(i + 1 + i / 20) % 20]);
        let kickoff = seed::at(2023, 8, 1, 12, 0) + chrono::Duration::hours(i as i64);
        let m = seed::finished_match(&app.db, &season, home, away, kickoff, (1, 0), (0, 0)).await;
        seed::event(&app.db, &m, 1, MatchEventKind::KickOff, 0).await;
        seed::event(&app.db, &m, 2, MatchEventKind::Goal, 10).await;
        pairs.push((home.name.clone(), away.name.clone()));
    }
    pairs
}

/// PostgreSQL reads a page's teams with the page; SQLite, where a
/// statement is no round trip, reads them in one more.
fn team_statements(app: &TestApp) -> u64 {
    match app.db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => 0,
        _ => 1,
    }
}

#[tokio::test]
async fn the_statement_count_of_a_match_page_does_not_grow_with_its_size() {
    let app = TestApp::spawn().await;
    seed_matches(&app).await;

    let small = statements_for(&app, 10).await;
    let large = statements_for(&app, 100).await;

    assert_eq!(
        small, large,
        "10 matches took {small} statements, 100 took {large}"
    );
    // The page with its teams (on SQLite, its teams in a batch of their
    // own), then its events (one batch).
    assert_eq!(large, 1 + team_statements(&app) + 1, "{large} statements");
    app.stop().await;
}

#[tokio::test]
async fn a_page_of_matches_and_their_teams_is_one_statement_page_after_page_on_postgres() {
    let app = TestApp::spawn().await;
    let pairs = seed_matches(&app).await;
    let query = "query($after: String) { matches(first: 30, after: $after) { \
        edges { cursor node { homeTeam { name } awayTeam { name } } } \
        pageInfo { hasNextPage endCursor } } }";

    let mut after = serde_json::Value::Null;
    let mut seen = Vec::new();
    loop {
        let before = app.statements.get();
        let body = app.graphql(query, json!({ "after": after })).await;
        assert_eq!(
            app.statements.get() - before,
            1 + team_statements(&app),
            "{body}"
        );
        let page = &body["data"]["matches"];
        let edges = page["edges"].as_array().unwrap_or_else(|| panic!("{body}"));
        for edge in edges {
            assert!(
                edge["cursor"].as_str().is_some_and(|c| !c.is_empty()),
                "{edge}"
            );
            let node = &edge["node"];
            seen.push((
                node["homeTeam"]["name"].as_str().unwrap().to_owned(),
                node["awayTeam"]["name"].as_str().unwrap().to_owned(),
            ));
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, pairs);
    app.stop().await;
}
