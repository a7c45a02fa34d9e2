//! What a feeder does, through the API, and what a fan sees of it: typed,
//! so tests say what they do instead of indexing responses.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::TestApp;

/// A notification as the inbox shows it.
#[derive(Clone, Debug, Deserialize)]
pub struct InboxItem {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub payload: Value,
}

impl TestApp {
    /// Runs a GraphQL request as `token`, fails the test on any error, and
    /// returns `data`.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.graphql_as(token, query, variables).await;
        assert!(body["errors"].is_null(), "{query}: {body}");
        body["data"].clone()
    }

    /// Schedules a match through `scheduleMatch`; returns its id.
    pub async fn schedule_match(
        &self,
        token: &str,
        season_id: i64,
        (home_team_id, away_team_id): (i64, i64),
        kickoff_at: DateTime<Utc>,
    ) -> String {
        let data = self
            .ok(
                token,
                "mutation($s: ID!, $h: ID!, $a: ID!, $k: DateTime!) {
                   scheduleMatch(input: { seasonId: $s, homeTeamId: $h, awayTeamId: $a, kickoffAt: $k }) { id }
                 }",
                json!({
                    "s": season_id.to_string(),
                    "h": home_team_id.to_string(),
                    "a": away_team_id.to_string(),
                    "k": kickoff_at.to_rfc3339(),
                }),
            )
            .await;
        id(&data["scheduleMatch"])
    }

    /// Kicks a match off through `startMatch`.
    pub async fn start_match(&self, token: &str, match_id: &str) {
        self.ok(
            token,
            "mutation($m: ID!) { startMatch(matchId: $m) { event { id } } }",
            json!({ "m": match_id }),
        )
        .await;
    }

    /// Records a goal for `team_id` through `recordMatchEvent`; returns the
    /// event's id.
    pub async fn record_goal(
        &self,
        token: &str,
        match_id: &str,
        team_id: i64,
        minute: i32,
        player: &str,
    ) -> String {
        let input = json!({ "kind": "GOAL", "minute": minute, "teamId": team_id.to_string(), "player": player });
        let data = self
            .ok(
                token,
                "mutation($m: ID!, $i: MatchEventInput!) { recordMatchEvent(matchId: $m, input: $i) { event { id } } }",
                json!({ "m": match_id, "i": input }),
            )
            .await;
        id(&data["recordMatchEvent"]["event"])
    }

    /// The user's inbox as the API shows it, newest first.
    pub async fn inbox(&self, token: &str) -> Vec<InboxItem> {
        let data = self
            .ok(
                token,
                "{ me { notifications(first: 100) { nodes { id kind title body payload } } } }",
                json!({}),
            )
            .await;
        serde_json::from_value(data["me"]["notifications"]["nodes"].clone()).expect("inbox nodes")
    }
}

fn id(object: &Value) -> String {
    object["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {object}"))
        .to_owned()
}
