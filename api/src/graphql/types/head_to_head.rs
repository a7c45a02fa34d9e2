use async_graphql::{Context, Object};

use super::{MatchConnection, MatchOrder, Team, match_connection};

/// Two teams' record against each other, over finished matches. A match
/// decided on penalties counts as a draw.
pub struct HeadToHead {
    pub team_a: entity::team::Model,
    pub team_b: entity::team::Model,
    pub record: service::standings::HeadToHead,
}

#[Object]
impl HeadToHead {
    async fn team_a(&self) -> Team {
        Team::from(self.team_a.clone())
    }
    async fn team_b(&self) -> Team {
        Team::from(self.team_b.clone())
    }
    async fn played(&self) -> u32 {
        self.record.played
    }
    async fn team_a_wins(&self) -> u32 {
        self.record.team_a_wins
    }
    async fn team_b_wins(&self) -> u32 {
        self.record.team_b_wins
    }
    async fn draws(&self) -> u32 {
        self.record.draws
    }
    async fn team_a_goals(&self) -> i32 {
        self.record.team_a_goals
    }
    async fn team_b_goals(&self) -> i32 {
        self.record.team_b_goals
    }
    /// Every match between the two, in any status; latest first by default.
    #[graphql(complexity = "crate::graphql::connection::page_size(first, last) * child_complexity")]
    async fn matches(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Latest first unless given.")] order_by: Option<MatchOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<MatchConnection> {
        let filter = service::matches::MatchFilter {
            between: Some((self.team_a.id, self.team_b.id)),
            ..Default::default()
        };
        match_connection(
            ctx,
            filter,
            order_by.unwrap_or(MatchOrder::KickoffDesc),
            first,
            after,
            last,
            before,
        )
        .await
    }
}
