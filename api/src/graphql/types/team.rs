use std::sync::Arc;

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object};
use entity::team;
use sea_orm::DatabaseConnection;

use super::{Match, MatchConnection, MatchFilter, MatchOrder, match_connection};
use crate::graphql::connection::Cursor;
use crate::graphql::error::GqlResultExt as _;

/// A club or national team. Shared, not copied, by every match that
/// references it.
pub struct Team(pub Arc<team::Model>);

impl From<team::Model> for Team {
    fn from(model: team::Model) -> Self {
        Self(Arc::new(model))
    }
}

#[Object]
impl Team {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn short_name(&self) -> Option<&str> {
        self.0.short_name.as_deref()
    }
    /// Three-letter code, e.g. `ARS`.
    async fn tla(&self) -> Option<&str> {
        self.0.tla.as_deref()
    }
    /// Country or region, e.g. `ENG`.
    async fn area(&self) -> Option<&str> {
        self.0.area.as_deref()
    }
    async fn founded(&self) -> Option<i32> {
        self.0.founded
    }
    async fn venue(&self) -> Option<&str> {
        self.0.venue.as_deref()
    }
    async fn crest_url(&self) -> Option<&str> {
        self.0.crest_url.as_deref()
    }
    /// Stable, URL-friendly name, e.g. `manchester-city-fc`.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// The team's matches, home and away; `filter.teamId` is this team.
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
        filter.team_id = Some(self.0.id);
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
    /// The match being played now, or else the next one scheduled.
    async fn next_match(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Match>> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let found = service::matches::next_for_team(db, self.0.id, chrono::Utc::now())
            .await
            .gql()?;
        Ok(found.map(Match::new))
    }
    /// The most recent finished match.
    async fn last_match(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Match>> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let found = service::matches::last_for_team(db, self.0.id).await.gql()?;
        Ok(found.map(Match::new))
    }
}

/// The size of a team search, computed only when asked for.
pub struct TeamTotal {
    pub search: Option<String>,
}

#[Object]
impl TeamTotal {
    /// How many teams match, across all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        service::teams::count(db, self.search.as_deref())
            .await
            .gql()
    }
}

pub type TeamConnection = Connection<Cursor<service::teams::TeamKey>, Team, TeamTotal>;
