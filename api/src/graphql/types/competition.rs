use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{competition, season};

use super::{
    BracketRound, MatchConnection, MatchFilter, MatchOrder, Stage, StageTable, StandingRow,
    TableChoice, match_connection, season_bracket, standings_table, standings_tables,
};
use crate::graphql::loaders::{
    Competitions, SeasonsOfCompetition, load_group, load_one, season_matches,
};

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "entity::CompetitionKind")]
pub enum CompetitionKind {
    League,
    Cup,
}

/// A league or cup, e.g. the Premier League (`PL`).
pub struct Competition(pub competition::Model);

#[Object]
impl Competition {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Short code, e.g. `PL` or `CL`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn area(&self) -> Option<&str> {
        self.0.area.as_deref()
    }
    async fn kind(&self) -> CompetitionKind {
        self.0.kind.into()
    }
    /// Newest first.
    async fn seasons(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Season>> {
        let seasons = load_group::<SeasonsOfCompetition>(ctx, self.0.id).await?;
        Ok(seasons.into_iter().map(Season).collect())
    }
}

/// One edition of a competition, e.g. `2023/24`.
pub struct Season(pub season::Model);

#[Object]
impl Season {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// E.g. `2023/24`.
    async fn label(&self) -> &str {
        &self.0.label
    }
    async fn start_date(&self) -> Option<NaiveDate> {
        self.0.start_date
    }
    async fn end_date(&self) -> Option<NaiveDate> {
        self.0.end_date
    }
    async fn competition(&self, ctx: &Context<'_>) -> async_graphql::Result<Competition> {
        load_one::<Competitions>(ctx, self.0.competition_id)
            .await
            .map(Competition)
    }
    /// The season's matches; `filter.seasonId` is this season.
    #[graphql(complexity = "crate::graphql::connection::page_size(first, last) * child_complexity")]
    async fn matches(
        &self,
        ctx: &Context<'_>,
        filter: Option<MatchFilter>,
        order_by: Option<MatchOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<MatchConnection> {
        let mut filter = filter.unwrap_or_default().into_service()?;
        filter.season_id = Some(self.0.id);
        match_connection(
            ctx,
            filter,
            order_by.unwrap_or_default(),
            first,
            after,
            last,
            before,
        )
        .await
    }
    /// The table; see `Query.standings`.
    async fn standings(
        &self,
        ctx: &Context<'_>,
        as_of: Option<DateTime<Utc>>,
        #[graphql(default = false)] live: bool,
        stage: Option<String>,
        group: Option<String>,
    ) -> async_graphql::Result<Vec<StandingRow>> {
        standings_table(ctx, self.0.id, as_of, live, TableChoice { stage, group }).await
    }
    /// The stages in the order they begin: a league's one table, or a
    /// cup's league phase, play-offs and finals.
    async fn stages(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Stage>> {
        let season = season_matches(ctx, self.0.id).await?;
        Ok(season.stages().into_iter().map(Stage).collect())
    }
    /// Every table: one per table stage, or per group of a stage with
    /// groups, in the order the stages begin. `asOf` and `live` as in
    /// `Query.standings`.
    async fn tables(
        &self,
        ctx: &Context<'_>,
        as_of: Option<DateTime<Utc>>,
        #[graphql(default = false)] live: bool,
    ) -> async_graphql::Result<Vec<StageTable>> {
        let tables = standings_tables(ctx, self.0.id, as_of, live).await?;
        Ok(tables.into_iter().map(StageTable).collect())
    }
    /// The knockout bracket; see `Query.bracket`.
    async fn bracket(
        &self,
        ctx: &Context<'_>,
        stage: Option<String>,
    ) -> async_graphql::Result<Vec<BracketRound>> {
        let season = season_matches(ctx, self.0.id).await?;
        season_bracket(ctx, &season, stage).await
    }
}
