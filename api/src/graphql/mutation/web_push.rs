use async_graphql::{Context, InputObject, Object};
use sea_orm::DatabaseConnection;
use service::notifications::web_push::{self, NewSubscription};

use crate::graphql::AccountSettings;
use crate::graphql::error::GqlResultExt as _;
use crate::graphql::guards::{AuthGuard, viewer};
use crate::graphql::types::WebPushSubscription;

/// The keys of a browser's push subscription, as
/// `PushSubscription.toJSON().keys` gives them.
#[derive(InputObject)]
pub struct WebPushKeysInput {
    /// The browser's P-256 public key, base64url (65 bytes).
    #[graphql(name = "p256dh")]
    pub p256dh: String,
    /// The browser's authentication secret, base64url (16 bytes).
    pub auth: String,
}

#[derive(Default)]
pub struct WebPushMutation;

#[Object]
impl WebPushMutation {
    /// Subscribes this browser to the signed-in account's notifications by
    /// Web Push (with `channels.webPush` on, the default). Subscribing the
    /// same endpoint again renews its keys; an endpoint another account
    /// had moves to this one. `BAD_USER_INPUT` on `endpoint` (not an https
    /// URL, a private network address, too many browsers) or on
    /// `keys.p256dh` / `keys.auth` (not base64url of the right key).
    #[graphql(guard = "AuthGuard")]
    async fn subscribe_web_push(
        &self,
        ctx: &Context<'_>,
        endpoint: String,
        keys: WebPushKeysInput,
    ) -> async_graphql::Result<WebPushSubscription> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let settings = ctx.data_unchecked::<AccountSettings>();
        if settings.vapid.is_none() {
            return Err(service::Error::invalid(
                "endpoint",
                "Web Push is off on this server (no VAPID key)",
            ))
            .gql();
        }
        let input = NewSubscription {
            endpoint,
            p256dh: keys.p256dh,
            auth: keys.auth,
        };
        let stored = web_push::subscribe(
            db,
            viewer(ctx)?.user.id,
            input,
            settings.webhook_targets,
            chrono::Utc::now(),
        )
        .await
        .gql()?;
        Ok(WebPushSubscription(stored))
    }

    /// Stops Web Push to this browser. `false` when the account had no
    /// subscription with this endpoint.
    #[graphql(guard = "AuthGuard")]
    async fn unsubscribe_web_push(
        &self,
        ctx: &Context<'_>,
        endpoint: String,
    ) -> async_graphql::Result<bool> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        web_push::unsubscribe(db, viewer(ctx)?.user.id, &endpoint)
            .await
            .gql()
    }
}
