use async_graphql::{Context, Object};

use crate::graphql::guards::{AuthGuard, viewer};
use crate::graphql::types::User;

#[derive(Default)]
pub struct MeQuery;

#[Object]
impl MeQuery {
    /// The signed-in account. `UNAUTHENTICATED` without a bearer token.
    #[graphql(guard = "AuthGuard")]
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        Ok(User(viewer(ctx)?.user.clone()))
    }
}
