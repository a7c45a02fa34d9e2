use async_graphql::{Context, ID, Object};
use sea_orm::DatabaseConnection;
use service::accounts::follows::{self, AlertKinds};

use crate::graphql::error::GqlResultExt as _;
use crate::graphql::guards::{AuthGuard, viewer};
use crate::graphql::scalars::parse_id;
use crate::graphql::types::{CompetitionFollow, Follow, LiveAlertKind, MatchFollow, match_follows};

#[derive(Default)]
pub struct FollowMutation;

/// The `alertKinds` argument, checked.
fn alert_kinds(kinds: Option<Vec<LiveAlertKind>>) -> async_graphql::Result<AlertKinds> {
    let kinds = kinds.map(|kinds| kinds.into_iter().map(Into::into).collect());
    AlertKinds::parse("alertKinds", kinds).gql()
}

#[Object]
impl FollowMutation {
    /// Follows a team. `alertKinds` are the live alerts this follow asks
    /// for (an empty list: none, the digest only); left out or null, your
    /// preferences (`liveAlerts.kinds`) decide. Following again sets them
    /// anew. `NOT_FOUND` for a team that does not exist.
    #[graphql(guard = "AuthGuard")]
    async fn follow_team(
        &self,
        ctx: &Context<'_>,
        team_id: ID,
        alert_kinds: Option<Vec<LiveAlertKind>>,
    ) -> async_graphql::Result<Follow> {
        let team_id = parse_id("teamId", &team_id)?;
        let kinds = self::alert_kinds(alert_kinds)?;
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let follow = follows::follow(db, viewer(ctx)?.user.id, team_id, kinds)
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
        follows::unfollow(db, viewer(ctx)?.user.id, team_id)
            .await
            .gql()
    }

    /// Follows every match of a competition, in every season: its live
    /// alerts (those `alertKinds` asks for, as in `followTeam`) and its
    /// fixtures and results in your digests. Kick-off reminders and
    /// schedule changes stay with the teams and matches you follow. An
    /// account follows at most 500 competitions. `NOT_FOUND` for a
    /// competition that does not exist.
    #[graphql(guard = "AuthGuard")]
    async fn follow_competition(
        &self,
        ctx: &Context<'_>,
        competition_id: ID,
        alert_kinds: Option<Vec<LiveAlertKind>>,
    ) -> async_graphql::Result<CompetitionFollow> {
        let competition_id = parse_id("competitionId", &competition_id)?;
        let kinds = self::alert_kinds(alert_kinds)?;
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let follow = follows::follow_competition(db, viewer(ctx)?.user.id, competition_id, kinds)
            .await
            .gql()?;
        Ok(CompetitionFollow(follow))
    }

    /// Stops following a competition. True when a follow was removed,
    /// false when there was none. `NOT_FOUND` for a competition that does
    /// not exist.
    #[graphql(guard = "AuthGuard")]
    async fn unfollow_competition(
        &self,
        ctx: &Context<'_>,
        competition_id: ID,
    ) -> async_graphql::Result<bool> {
        let competition_id = parse_id("competitionId", &competition_id)?;
        let db = ctx.data_unchecked::<DatabaseConnection>();
        follows::unfollow_competition(db, viewer(ctx)?.user.id, competition_id)
            .await
            .gql()
    }

    /// Follows one match: its live alerts (those `alertKinds` asks for, as
    /// in `followTeam`), its kick-off reminder and schedule changes, and
    /// the match in your digests. An account follows at most 500 matches.
    /// `NOT_FOUND` for a match that does not exist.
    #[graphql(guard = "AuthGuard")]
    async fn follow_match(
        &self,
        ctx: &Context<'_>,
        match_id: ID,
        alert_kinds: Option<Vec<LiveAlertKind>>,
    ) -> async_graphql::Result<MatchFollow> {
        let match_id = parse_id("matchId", &match_id)?;
        let kinds = self::alert_kinds(alert_kinds)?;
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let follow = follows::follow_match(db, viewer(ctx)?.user.id, match_id, kinds)
            .await
            .gql()?;
        let mut listed = match_follows(db, vec![follow]).await?;
        listed
            .pop()
            .ok_or_else(|| crate::graphql::error::to_graphql(service::Error::not_found("match")))
    }

    /// Stops following a match. True when a follow was removed, false when
    /// there was none. `NOT_FOUND` for a match that does not exist.
    #[graphql(guard = "AuthGuard")]
    async fn unfollow_match(&self, ctx: &Context<'_>, match_id: ID) -> async_graphql::Result<bool> {
        let match_id = parse_id("matchId", &match_id)?;
        let db = ctx.data_unchecked::<DatabaseConnection>();
        follows::unfollow_match(db, viewer(ctx)?.user.id, match_id)
            .await
            .gql()
    }
}
