use async_graphql::{Context, ID, Object};
use sea_orm::DatabaseConnection;

use crate::graphql::error::GqlResultExt as _;
use crate::graphql::scalars::parse_id;
use crate::graphql::types::{Match, MatchConnection, MatchFilter, MatchOrder, match_connection};

#[derive(Default)]
pub struct MatchQuery;

#[Object]
impl MatchQuery {
    /// Matches by kick-off time (earliest first unless `orderBy: KICKOFF_DESC`),
    /// `first`/`last` 1 to 100 at a time.
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
        let filter = filter.unwrap_or_default().into_service()?;
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

    /// One match by id. Null when none matches.
    #[graphql(name = "match")]
    async fn football_match(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Match>> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let found = service::matches::by_id(db, parse_id("id", &id)?)
            .await
            .gql()?;
        Ok(found.map(Match::new))
    }
}
