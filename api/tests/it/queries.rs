use serde_json::json;

use crate::common::{TestApp, seed};

#[tokio::test]
async fn teams_lists_every_team_in_the_database_by_name() {
    let app = TestApp::spawn().await;
    seed::team(
        &app.db,
        "Wolverhampton Wanderers FC",
        "wolverhampton-wanderers-fc",
    )
    .await;
    seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;

    let body = app.graphql("{ teams { name slug } }", json!({})).await;

    assert_eq!(
        body,
        json!({ "data": { "teams": [
            { "name": "Arsenal FC", "slug": "arsenal-fc" },
            { "name": "Wolverhampton Wanderers FC", "slug": "wolverhampton-wanderers-fc" },
        ] } })
    );
    app.stop().await;
}

#[tokio::test]
async fn matches_come_with_their_teams_and_score_in_kickoff_order() {
    let app = TestApp::spawn().await;
    let season = seed::season(&app.db).await;
    let burnley = seed::team(&app.db, "Burnley FC", "burnley-fc").await;
    let city = seed::team(&app.db, "Manchester City FC", "manchester-city-fc").await;
    let arsenal = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let later = seed::at(2023, 8, 12, 12, 0);
    let earlier = seed::at(2023, 8, 11, 19, 0);
    seed::finished_match(&app.db, &season, &arsenal, &city, later, (2, 1), (1, 1)).await;
    seed::finished_match(&app.db, &season, &burnley, &city, earlier, (0, 3), (0, 2)).await;

    let body = app
        .graphql(
            "query($n: Int!) { matches(first: $n) { kickoffAt status round homeTeam { name } awayTeam { name }
               score { home away halfTime { home away } extraTime { home away } } } }",
            json!({ "n": 10 }),
        )
        .await;

    assert_eq!(
        body["data"]["matches"],
        json!([
            { "kickoffAt": "2023-08-11T19:00:00+00:00", "status": "FINISHED", "round": "Matchday 1",
              "homeTeam": { "name": "Burnley FC" }, "awayTeam": { "name": "Manchester City FC" },
              "score": { "home": 0, "away": 3, "halfTime": { "home": 0, "away": 2 }, "extraTime": null } },
            { "kickoffAt": "2023-08-12T12:00:00+00:00", "status": "FINISHED", "round": "Matchday 1",
              "homeTeam": { "name": "Arsenal FC" }, "awayTeam": { "name": "Manchester City FC" },
              "score": { "home": 2, "away": 1, "halfTime": { "home": 1, "away": 1 }, "extraTime": null } },
        ]),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn asking_for_more_than_a_hundred_matches_is_a_bad_user_input_error() {
    let app = TestApp::spawn().await;
    let body = app
        .graphql("{ matches(first: 101) { status } }", json!({}))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("between 1 and 100"),
        "{body}"
    );
    app.stop().await;
}
