//! The mutation root, merged from one object per area. Each mutation names
//! the guard that admits its callers.

mod accounts;
mod calendar;
mod feed;
mod follows;
mod inbox;
mod operations;
mod preferences;
mod web_push;

pub use accounts::AccountSettings;

#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    accounts::AccountMutation,
    follows::FollowMutation,
    calendar::CalendarMutation,
    preferences::PreferencesMutation,
    web_push::WebPushMutation,
    inbox::InboxMutation,
    feed::FeedMutation,
    operations::OperationsMutation,
);
