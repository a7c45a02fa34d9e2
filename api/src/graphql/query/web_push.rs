use async_graphql::{Context, Object};

use crate::graphql::AccountSettings;

#[derive(Default)]
pub struct WebPushQuery;

#[Object]
impl WebPushQuery {
    /// The server's VAPID public key (base64url, 65 bytes uncompressed),
    /// for a page's `pushManager.subscribe({ applicationServerKey })`.
    /// Null when Web Push is off on this server.
    async fn web_push_public_key(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.data_unchecked::<AccountSettings>()
            .vapid
            .as_ref()
            .map(|v| v.public_key().to_owned())
    }
}
