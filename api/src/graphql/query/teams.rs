use async_graphql::{Context, ID, Object};
use sea_orm::DatabaseConnection;
use service::pagination::PageRequest;
use service::teams::TeamKey;

use crate::graphql::connection::from_page;
use crate::graphql::error::{GqlResultExt as _, bad_input};
use crate::graphql::scalars::parse_id;
use crate::graphql::types::{Team, TeamConnection, TeamTotal};

#[derive(Default)]
pub struct TeamQuery;

#[Object]
impl TeamQuery {
    /// Teams by name, optionally only those whose name, short name or slug
    /// contains `search` (any case).
    #[graphql(complexity = "crate::graphql::connection::page_size(first, last) * child_complexity")]
    async fn teams(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<TeamConnection> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let request =
            PageRequest::<TeamKey>::parse(first, after.as_deref(), last, before.as_deref())
                .gql()?;
        let page = service::teams::page(db, search.as_deref(), &request)
            .await
            .gql()?;
        Ok(from_page(
            page,
            service::teams::key,
            Team::from,
            TeamTotal { search },
        ))
    }

    /// One team, by `id` or by `slug` (give exactly one). Null when none matches.
    async fn team(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        slug: Option<String>,
    ) -> async_graphql::Result<Option<Team>> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let found = match (id, slug) {
            (Some(id), None) => service::teams::by_id(db, parse_id("id", &id)?).await,
            (None, Some(slug)) => service::teams::by_slug(db, &slug).await,
            _ => return Err(bad_input("id", "give exactly one of id or slug")),
        };
        Ok(found.gql()?.map(Team::from))
    }
}
