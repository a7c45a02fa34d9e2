use async_graphql::{Context, Object, SimpleObject};
use sea_orm::DatabaseConnection;

use crate::graphql::error::GqlResultExt as _;
use crate::graphql::guards::{AuthGuard, RequestOrigin, viewer};

/// A user's own calendar feed: the matches of the teams they follow.
#[derive(SimpleObject)]
pub struct CalendarFeed {
    /// The URL to subscribe to in a calendar app. It holds a secret: anyone
    /// with it sees the feed, until `revokeCalendarToken`.
    pub url: String,
    /// The same, as a path on this server.
    pub path: String,
}

#[derive(Default)]
pub struct CalendarMutation;

#[Object]
impl CalendarMutation {
    /// Makes a new secret URL for the caller's calendar feed, shown this
    /// once. A URL made before stops working.
    #[graphql(guard = "AuthGuard")]
    async fn create_calendar_token(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<CalendarFeed> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let token = service::calendar::create_token(db, viewer(ctx)?.user.id)
            .await
            .gql()?;
        let path = service::calendar::user_feed_path(&token);
        let url = match ctx.data_opt::<RequestOrigin>() {
            Some(origin) => format!("{}{path}", origin.0),
            None => path.clone(),
        };
        Ok(CalendarFeed { url, path })
    }

    /// Stops the caller's calendar feed URL from working: it answers 404
    /// from now on. True when there was one.
    #[graphql(guard = "AuthGuard")]
    async fn revoke_calendar_token(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        service::calendar::revoke_token(db, viewer(ctx)?.user.id)
            .await
            .gql()
    }
}
