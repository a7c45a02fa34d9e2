use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::graphql::error::{GqlResultExt as _, bad_input};
use crate::graphql::scalars::parse_id;
use crate::graphql::types::{BracketRound, HeadToHead, PlayerStats, StandingRow, TableChoice};

#[derive(Default)]
pub struct StandingsQuery;

#[Object]
impl StandingsQuery {
    /// The season's league table, with points adjustments, ranked by points,
    /// goal difference, goals scored, then name; the league phase of a cup
    /// (a table stage without groups, as the Champions League's from
    /// 2024/25) as UEFA ranks it, by away goals scored, wins and away wins
    /// after goals scored, then the opponents' points, goal difference and
    /// goals scored, then name (see `StageTable.ranking`). Only the matches
    /// of a table stage count (a league or group phase, see
    /// `Season.stages`), never a knockout match. A season with several
    /// tables (groups, or more than one table stage) needs `stage` and
    /// `group` to name one; `Season.tables` gives them all. With `asOf`, the
    /// table as it stood at that instant: results count two hours after
    /// kick-off, and adjustments from when they took effect. With
    /// `live: true`, matches in play count at their current score, and
    /// their teams' rows are `provisional` (see also
    /// `Subscription.standingsChanged`).
    async fn standings(
        &self,
        ctx: &Context<'_>,
        season_id: ID,
        as_of: Option<DateTime<Utc>>,
        #[graphql(default = false)] live: bool,
        stage: Option<String>,
        group: Option<String>,
    ) -> async_graphql::Result<Vec<StandingRow>> {
        let season_id = parse_id("seasonId", &season_id)?;
        crate::graphql::types::standings_table(
            ctx,
            season_id,
            as_of,
            live,
            TableChoice { stage, group },
        )
        .await
    }

    /// The season's knockout rounds in the order they are played (play-offs,
    /// round of 16, ... final), each with its ties; with `stage`, that
    /// knockout stage's rounds only.
    async fn bracket(
        &self,
        ctx: &Context<'_>,
        season_id: ID,
        stage: Option<String>,
    ) -> async_graphql::Result<Vec<BracketRound>> {
        let season_id = parse_id("seasonId", &season_id)?;
        let season = crate::graphql::loaders::season_matches(ctx, season_id).await?;
        crate::graphql::types::season_bracket(ctx, &season, stage).await
    }

    /// The season's scorers: goals (penalties included and counted apart,
    /// own goals apart, goals taken back by a correction not at all),
    /// assists and cards per player, by the name the feed records, with
    /// matches in play counted as their events arrive. Ranked by goals, then
    /// assists, then fewer penalties; `teamId` keeps one team's players.
    async fn scorers(
        &self,
        ctx: &Context<'_>,
        season_id: ID,
        team_id: Option<ID>,
        #[graphql(default = 20)] first: i32,
    ) -> async_graphql::Result<Vec<PlayerStats>> {
        let season_id = parse_id("seasonId", &season_id)?;
        let team_id = team_id.map(|id| parse_id("teamId", &id)).transpose()?;
        crate::graphql::types::season_scorers(ctx, season_id, team_id, first).await
    }

    /// Two teams' record against each other.
    async fn head_to_head(
        &self,
        ctx: &Context<'_>,
        team_a: ID,
        team_b: ID,
    ) -> async_graphql::Result<HeadToHead> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let a = parse_id("teamA", &team_a)?;
        let b = parse_id("teamB", &team_b)?;
        if a == b {
            return Err(bad_input("teamB", "must be a different team from teamA"));
        }
        let team_a = service::teams::by_id(db, a)
            .await
            .gql()?
            .ok_or_else(|| crate::graphql::error::to_graphql(service::Error::not_found("teamA")))?;
        let team_b = service::teams::by_id(db, b)
            .await
            .gql()?
            .ok_or_else(|| crate::graphql::error::to_graphql(service::Error::not_found("teamB")))?;
        let mut matches = service::matches::finished_between(db, a, b).await.gql()?;
        // In spoiler-free mode, only the results the viewer revealed count.
        let shown = crate::graphql::spoilers::shown(ctx).await?;
        matches.retain(|m| !shown.hides(m));
        let record = service::standings::head_to_head(a, &matches);
        Ok(HeadToHead {
            team_a,
            team_b,
            record,
        })
    }
}
