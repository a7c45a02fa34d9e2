use async_graphql::{Context, Object};
use sea_orm::DatabaseConnection;

use crate::graphql::error::{GqlResultExt as _, bad_input};
use crate::graphql::types::Match;

#[derive(Default)]
pub struct MatchQuery;

#[Object]
impl MatchQuery {
    /// Matches by kick-off time, earliest first.
    async fn matches(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50, desc = "How many matches, 1 to 100.")] first: i32,
    ) -> async_graphql::Result<Vec<Match>> {
        if !(1..=100).contains(&first) {
            return Err(bad_input("first", "must be between 1 and 100"));
        }
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let matches = service::matches::list(db, first as u64).await.gql()?;
        Ok(matches.into_iter().map(Match).collect())
    }
}
