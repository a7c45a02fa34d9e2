//! The newer alert kinds over the wire: recorded by the feed when the
//! match allows them, chosen by fans, and `FINAL_RESULT` standing alone.

use chrono::{Duration, Utc};
use entity::UserRole;
use serde_json::json;

use crate::common::{TestApp, accounts, error_code, field_errors, seed};

const RECORD: &str = "mutation($m: ID!, $i: MatchEventInput!) {
    recordMatchEvent(matchId: $m, input: $i) { event { kind detail team { name } } match { status } }
}";

#[tokio::test]
async fn the_feed_records_penalties_awarded_and_var_checks_only_while_the_match_is_on() {
    let app = TestApp::spawn().await;
    let feed = accounts::create(&app.db, "feed@example.com", UserRole::Feed).await;
    let season = seed::season(&app.db).await;
    let arsenal = seed::team(&app.db, "Arsenal", "arsenal").await;
    let chelsea = seed::team(&app.db, "Chelsea", "chelsea").await;
    let game = app
        .schedule_match(
            &feed.token,
            season.id,
            (arsenal.id, chelsea.id),
            Utc::now() + Duration::hours(1),
        )
        .await;

    let early = app
        .graphql_as(
            &feed.token,
            RECORD,
            json!({ "m": game, "i": { "kind": "VAR_CHECK", "minute": 1 } }),
        )
        .await;
    assert_eq!(error_code(&early), Some("BAD_USER_INPUT"), "{early}");
    assert_eq!(
        field_errors(&early, "input.kind"),
        ["the match has not started"]
    );

    app.start_match(&feed.token, &game).await;
    let no_team = app
        .graphql_as(
            &feed.token,
            RECORD,
            json!({ "m": game, "i": { "kind": "PENALTY_AWARDED", "minute": 10 } }),
        )
        .await;
    assert_eq!(
        field_errors(&no_team, "input.teamId"),
        ["is required for this kind of event"],
        "{no_team}"
    );
    let awarded = app
        .ok(
            &feed.token,
            RECORD,
            json!({ "m": game, "i": { "kind": "PENALTY_AWARDED", "minute": 10, "teamId": arsenal.id.to_string() } }),
        )
        .await;
    assert_eq!(
        awarded["recordMatchEvent"]["event"],
        json!({ "kind": "PENALTY_AWARDED", "detail": null, "team": { "name": "Arsenal" } })
    );
    for (kind, detail) in [
        ("VAR_CHECK", "Possible penalty"),
        ("VAR_DECISION", "Penalty stands"),
    ] {
        let recorded = app
            .ok(
                &feed.token,
                RECORD,
                json!({ "m": game, "i": { "kind": kind, "minute": 11, "detail": detail } }),
            )
            .await;
        assert_eq!(recorded["recordMatchEvent"]["event"]["kind"], kind);
        assert_eq!(recorded["recordMatchEvent"]["event"]["detail"], detail);
        assert_eq!(recorded["recordMatchEvent"]["match"]["status"], "LIVE");
    }
    app.stop().await;
}

#[tokio::test]
async fn fans_choose_the_new_kinds_and_the_final_result_only_stands_alone() {
    let app = TestApp::spawn().await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    let season = seed::season(&app.db).await;
    let update = "mutation($k: [LiveAlertKind!]) {
        updateNotificationPreferences(input: { liveAlerts: { enabled: true, kinds: $k } }) {
            preferences { liveAlerts { kinds } }
        }
    }";
    let kinds = json!([
        "PENALTY_AWARDED",
        "MISSED_PENALTY",
        "VAR_CHECK",
        "VAR_DECISION",
        "SECOND_HALF",
        "EXTRA_TIME",
        "PENALTY_SHOOTOUT"
    ]);
    let chosen = app.ok(&ada.token, update, json!({ "k": kinds })).await;
    assert_eq!(
        chosen["updateNotificationPreferences"]["preferences"]["liveAlerts"]["kinds"],
        kinds
    );
    let only = app
        .ok(&ada.token, update, json!({ "k": ["FINAL_RESULT"] }))
        .await;
    assert_eq!(
        only["updateNotificationPreferences"]["preferences"]["liveAlerts"]["kinds"],
        json!(["FINAL_RESULT"])
    );

    let mixed = app
        .graphql_as(&ada.token, update, json!({ "k": ["FINAL_RESULT", "GOAL"] }))
        .await;
    assert_eq!(error_code(&mixed), Some("BAD_USER_INPUT"), "{mixed}");
    assert_eq!(
        field_errors(&mixed, "liveAlerts.kinds"),
        ["FINAL_RESULT stands alone: it asks for the final result and nothing else"]
    );
    let follow = "mutation($c: ID!, $k: [LiveAlertKind!]) {
        followCompetition(competitionId: $c, alertKinds: $k) { alertKinds }
    }";
    let competition = season.competition_id.to_string();
    let mixed = app
        .graphql_as(
            &ada.token,
            follow,
            json!({ "c": competition, "k": ["FULL_TIME", "FINAL_RESULT"] }),
        )
        .await;
    assert_eq!(error_code(&mixed), Some("BAD_USER_INPUT"), "{mixed}");
    assert_eq!(field_errors(&mixed, "alertKinds").len(), 1, "{mixed}");

    // Nothing was written by either refusal.
    let me = app
        .ok(
            &ada.token,
            "{ me { preferences { liveAlerts { kinds } } competitionFollows { alertKinds } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me["me"],
        json!({ "preferences": { "liveAlerts": { "kinds": ["FINAL_RESULT"] } }, "competitionFollows": [] })
    );
    let followed = app
        .ok(
            &ada.token,
            follow,
            json!({ "c": competition, "k": ["FINAL_RESULT"] }),
        )
        .await;
    assert_eq!(
        followed["followCompetition"]["alertKinds"],
        json!(["FINAL_RESULT"])
    );
    app.stop().await;
}
