use async_graphql::{Context, ID, Object};
use sea_orm::DatabaseConnection;

use crate::graphql::error::GqlResultExt as _;
use crate::graphql::guards::{AuthGuard, viewer};
use crate::graphql::scalars::parse_id;
use crate::graphql::types::Notification;

#[derive(Default)]
pub struct InboxMutation;

#[Object]
impl InboxMutation {
    /// Marks notifications as read and returns them. Ids that are not the
    /// caller's notifications (someone else's, or none at all) are ignored
    /// and left out of the answer, so guessing ids reveals nothing.
    /// At most 100 ids.
    #[graphql(guard = "AuthGuard")]
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Notification>> {
        let ids = ids
            .iter()
            .map(|id| parse_id("ids", id))
            .collect::<async_graphql::Result<Vec<_>>>()?;
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let read = service::accounts::inbox::mark_read(db, viewer(ctx)?.user.id, &ids)
            .await
            .gql()?;
        Ok(read.into_iter().map(Notification).collect())
    }

    /// Marks every notification in the inbox as read; returns how many were unread.
    #[graphql(guard = "AuthGuard")]
    async fn mark_all_notifications_read(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let count = service::accounts::inbox::mark_all_read(db, viewer(ctx)?.user.id)
            .await
            .gql()?;
        Ok(i32::try_from(count).unwrap_or(i32::MAX))
    }
}
