use async_graphql::{Context, Object};
use sea_orm::DatabaseConnection;

use crate::graphql::error::GqlResultExt as _;
use crate::graphql::types::Team;

#[derive(Default)]
pub struct TeamQuery;

#[Object]
impl TeamQuery {
    /// Every team, by name.
    async fn teams(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Team>> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let teams = service::teams::list(db).await.gql()?;
        Ok(teams.into_iter().map(Team).collect())
    }
}
