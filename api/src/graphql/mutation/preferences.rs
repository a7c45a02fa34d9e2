use async_graphql::{Context, Object};
use sea_orm::DatabaseConnection;
use service::live::bus::Bus;

use crate::graphql::AccountSettings;
use crate::graphql::error::GqlResultExt as _;
use crate::graphql::guards::{AuthGuard, viewer};
use crate::graphql::types::{
    NotificationPreferences, NotificationPreferencesInput, RotateWebhookSecretPayload,
    UpdateNotificationPreferencesPayload,
};

#[derive(Default)]
pub struct PreferencesMutation;

#[Object]
impl PreferencesMutation {
    /// Changes the fields given and keeps the rest. Every field is checked
    /// first; with any error nothing is written.
    #[graphql(guard = "AuthGuard")]
    async fn update_notification_preferences(
        &self,
        ctx: &Context<'_>,
        input: NotificationPreferencesInput,
    ) -> async_graphql::Result<UpdateNotificationPreferencesPayload> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let targets = ctx.data_unchecked::<AccountSettings>().webhook_targets;
        let user_id = viewer(ctx)?.user.id;
        let updated = service::accounts::preferences::update(db, user_id, input.into(), targets)
            .await
            .gql()?;
        // What a token stands for includes the spoiler-free mode, the
        // stream delay and the time zone: every replica reads it again.
        ctx.data_unchecked::<Bus>().sessions_changed(user_id).await;
        Ok(UpdateNotificationPreferencesPayload {
            preferences: NotificationPreferences(updated.preferences),
            webhook_secret: updated.new_webhook_secret,
        })
    }

    /// Replaces the webhook signing secret and shows the new one, once.
    #[graphql(guard = "AuthGuard")]
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<RotateWebhookSecretPayload> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let secret =
            service::accounts::preferences::rotate_webhook_secret(db, viewer(ctx)?.user.id)
                .await
                .gql()?;
        Ok(RotateWebhookSecretPayload {
            webhook_secret: secret,
        })
    }
}
