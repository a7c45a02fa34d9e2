use async_graphql::{Context, ID, Object};
use sea_orm::DatabaseConnection;

use crate::graphql::error::GqlResultExt as _;
use crate::graphql::guards::{AuthGuard, viewer};
use crate::graphql::scalars::parse_id;
use crate::graphql::types::Follow;

#[derive(Default)]
pub struct FollowMutation;

#[Object]
impl FollowMutation {
    /// Follows a team; following it again changes nothing. `NOT_FOUND` for
    /// a team that does not exist.
    #[graphql(guard = "AuthGuard")]
    async fn follow_team(&self, ctx: &Context<'_>, team_id: ID) -> async_graphql::Result<Follow> {
        let team_id = parse_id("teamId", &team_id)?;
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let follow = service::accounts::follows::follow(db, viewer(ctx)?.user.id, team_id)
            .await
            .gql()?;
        Ok(Follow(follow))
    }

    /// Shows you the match's result from now on, in spoiler-free mode
    /// (`NotificationPreferences.spoilerFree`): its score, its events, the
    /// tables it counts in, and its live feeds. Revealing it again changes
    /// nothing. `NOT_FOUND` for a match that does not exist.
    #[graphql(guard = "AuthGuard")]
    async fn reveal_match(
        &self,
        ctx: &Context<'_>,
        match_id: ID,
    ) -> async_graphql::Result<crate::graphql::types::Match> {
        let match_id = parse_id("matchId", &match_id)?;
        let db = ctx.data_unchecked::<DatabaseConnection>();
        service::accounts::spoilers::reveal(db, viewer(ctx)?.user.id, match_id)
            .await
            .gql()?;
        let revealed = service::matches::by_id(db, match_id)
            .await
            .gql()?
            .ok_or_else(|| crate::graphql::error::to_graphql(service::Error::not_found("match")))?;
        Ok(crate::graphql::types::Match::new(revealed))
    }

    /// Stops following a team. True when a follow was removed, false when
    /// there was none. `NOT_FOUND` for a team that does not exist.
    #[graphql(guard = "AuthGuard")]
    async fn unfollow_team(&self, ctx: &Context<'_>, team_id: ID) -> async_graphql::Result<bool> {
        let team_id = parse_id("teamId", &team_id)?;
        let db = ctx.data_unchecked::<DatabaseConnection>();
        service::accounts::follows::unfollow(db, viewer(ctx)?.user.id, team_id)
            .await
            .gql()
    }
}
