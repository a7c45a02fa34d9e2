use async_graphql::{Context, ID, Object};
use sea_orm::DatabaseConnection;

use crate::graphql::error::{GqlResultExt as _, bad_input};
use crate::graphql::scalars::parse_id;
use crate::graphql::types::{Competition, Season};

#[derive(Default)]
pub struct CompetitionQuery;

#[Object]
impl CompetitionQuery {
    /// Every competition, by name.
    async fn competitions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Competition>> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let all = service::competitions::list(db).await.gql()?;
        Ok(all.into_iter().map(Competition).collect())
    }

    /// One competition, by `id` or by `code` (give exactly one). Null when none matches.
    async fn competition(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        code: Option<String>,
    ) -> async_graphql::Result<Option<Competition>> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let found = match (id, code) {
            (Some(id), None) => service::competitions::by_id(db, parse_id("id", &id)?).await,
            (None, Some(code)) => service::competitions::by_code(db, &code).await,
            _ => return Err(bad_input("id", "give exactly one of id or code")),
        };
        Ok(found.gql()?.map(Competition))
    }

    /// One season by id. Null when none matches.
    async fn season(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Season>> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let found = service::competitions::season_by_id(db, parse_id("id", &id)?)
            .await
            .gql()?;
        Ok(found.map(Season))
    }
}
