//! Following a whole competition or a single match, each follow with its
//! own alert kinds, as a fan does it over the wire.

use chrono::Utc;
use serde_json::{Value, json};

use crate::common::{TestApp, accounts, error_code, field_errors, seed};

const FOLLOWS: &str = "{ me {
    follows { team { name } alertKinds }
    competitionFollows { competition { code } alertKinds followedAt }
    matchFollows { match { id homeTeam { name } } alertKinds }
} }";

const FOLLOW_COMPETITION: &str = "mutation($c: ID!, $k: [LiveAlertKind!]) {
    followCompetition(competitionId: $c, alertKinds: $k) { competition { code } alertKinds followedAt }
}";

const FOLLOW_MATCH: &str = "mutation($m: ID!, $k: [LiveAlertKind!]) {
    followMatch(matchId: $m, alertKinds: $k) { match { id } alertKinds }
}";

#[tokio::test]
async fn a_fan_follows_a_competition_and_a_match_each_with_its_own_alert_kinds_and_sees_them_listed()
 {
    let app = TestApp::spawn().await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    let season = seed::season(&app.db).await;
    let arsenal = seed::team(&app.db, "Arsenal", "arsenal").await;
    let chelsea = seed::team(&app.db, "Chelsea", "chelsea").await;
    let game = seed::fixture(&app.db, &season, &arsenal, &chelsea, Utc::now()).await;
    let (competition, game_id) = (season.competition_id.to_string(), game.id.to_string());

    let followed = app
        .ok(
            &ada.token,
            FOLLOW_COMPETITION,
            json!({ "c": competition, "k": ["FULL_TIME"] }),
        )
        .await;
    assert_eq!(
        followed["followCompetition"]["alertKinds"],
        json!(["FULL_TIME"])
    );
    let followed_at = followed["followCompetition"]["followedAt"].clone();
    app.ok(&ada.token, FOLLOW_MATCH, json!({ "m": game_id }))
        .await;
    app.ok(
        &ada.token,
        "mutation($t: ID!) { followTeam(teamId: $t, alertKinds: [GOAL, GOAL, RED_CARD]) { team { id } } }",
        json!({ "t": arsenal.id.to_string() }),
    )
    .await;

    let me = app.ok(&ada.token, FOLLOWS, json!({})).await;
    assert_eq!(
        me["me"],
        json!({
            "follows": [{ "team": { "name": "Arsenal" }, "alertKinds": ["GOAL", "RED_CARD"] }],
            "competitionFollows": [
                { "competition": { "code": "PL" }, "alertKinds": ["FULL_TIME"], "followedAt": followed_at }
            ],
            // No kinds of its own: the preferences decide.
            "matchFollows": [
                { "match": { "id": game_id, "homeTeam": { "name": "Arsenal" } }, "alertKinds": null }
            ],
        })
    );

    // Following again sets the kinds anew and keeps the follow.
    let again = app
        .ok(
            &ada.token,
            FOLLOW_COMPETITION,
            json!({ "c": competition, "k": [] }),
        )
        .await;
    assert_eq!(again["followCompetition"]["alertKinds"], json!([]));
    assert_eq!(again["followCompetition"]["followedAt"], followed_at);
    let again = app
        .ok(
            &ada.token,
            FOLLOW_MATCH,
            json!({ "m": game_id, "k": ["GOAL"] }),
        )
        .await;
    assert_eq!(again["followMatch"]["alertKinds"], json!(["GOAL"]));

    for (mutation, variables, field) in [
        (
            "mutation($c: ID!) { unfollowCompetition(competitionId: $c) }",
            json!({ "c": competition }),
            "unfollowCompetition",
        ),
        (
            "mutation($m: ID!) { unfollowMatch(matchId: $m) }",
            json!({ "m": game_id }),
            "unfollowMatch",
        ),
    ] {
        let removed = app.ok(&ada.token, mutation, variables.clone()).await;
        assert_eq!(removed[field], true);
        let again = app.ok(&ada.token, mutation, variables).await;
        assert_eq!(again[field], false, "not following is no error");
    }
    let me = app.ok(&ada.token, FOLLOWS, json!({})).await;
    assert_eq!(me["me"]["competitionFollows"], json!([]));
    assert_eq!(me["me"]["matchFollows"], json!([]));
    app.stop().await;
}

#[tokio::test]
async fn following_what_does_not_exist_or_a_malformed_id_is_refused_with_a_code_and_writes_nothing()
{
    let app = TestApp::spawn().await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    seed::season(&app.db).await;

    let unknown = app
        .graphql_as(&ada.token, FOLLOW_COMPETITION, json!({ "c": "999999" }))
        .await;
    assert_eq!(error_code(&unknown), Some("NOT_FOUND"), "{unknown}");
    assert_eq!(unknown["errors"][0]["message"], "competition not found");
    let unknown = app
        .graphql_as(&ada.token, FOLLOW_MATCH, json!({ "m": "999999" }))
        .await;
    assert_eq!(error_code(&unknown), Some("NOT_FOUND"), "{unknown}");
    assert_eq!(unknown["errors"][0]["message"], "match not found");
    let unknown = app
        .graphql_as(
            &ada.token,
            "mutation { unfollowMatch(matchId: \"999999\") }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&unknown), Some("NOT_FOUND"), "{unknown}");

    for (query, variables, field) in [
        (FOLLOW_COMPETITION, json!({ "c": "abc" }), "competitionId"),
        (FOLLOW_MATCH, json!({ "m": "-3" }), "matchId"),
        (
            "mutation($c: ID!) { unfollowCompetition(competitionId: $c) }",
            json!({ "c": "0" }),
            "competitionId",
        ),
    ] {
        let body = app.graphql_as(&ada.token, query, variables).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        assert_eq!(field_errors(&body, field).len(), 1, "{body}");
    }

    let anonymous: Value = app
        .post_as(None, FOLLOW_COMPETITION, json!({ "c": "1" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        error_code(&anonymous),
        Some("UNAUTHENTICATED"),
        "{anonymous}"
    );

    let me = app.ok(&ada.token, FOLLOWS, json!({})).await;
    assert_eq!(me["me"]["competitionFollows"], json!([]));
    assert_eq!(me["me"]["matchFollows"], json!([]));
    app.stop().await;
}
