use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object};
use sea_orm::DatabaseConnection;
use service::live::bus::Bus;
use service::notifications::webhook_targets::WebhookTargets;

use crate::graphql::error::{GqlResultExt as _, rate_limited};
use crate::graphql::guards::{AuthGuard, ClientIp, RoleGuard, viewer};
use crate::graphql::scalars::parse_id;
use crate::graphql::types::{AuthPayload, Role, User, UserSummary};
use crate::rate_limit::RateLimits;

/// What the account mutations need beyond the database, from `Config`.
#[derive(Clone)]
pub struct AccountSettings {
    pub token_ttl: chrono::Duration,
    pub limits: Arc<RateLimits>,
    /// Which addresses a webhook URL or a push endpoint may point at.
    pub webhook_targets: WebhookTargets,
    /// The server's VAPID identity; `None`: Web Push is off.
    pub vapid: Option<Arc<service::notifications::web_push::Vapid>>,
}

impl AccountSettings {
    pub fn from_config(
        config: &service::Config,
        limits: Arc<RateLimits>,
        vapid: Option<Arc<service::notifications::web_push::Vapid>>,
    ) -> Self {
        Self {
            vapid,
            token_ttl: chrono::Duration::hours(i64::from(config.token_ttl_hours)),
            limits,
            webhook_targets: WebhookTargets::from_setting(
                config.notifications.allow_private_webhooks,
            ),
        }
    }
}

#[derive(InputObject)]
pub struct RegisterInput {
    /// Stored lower-cased; one account per address.
    pub email: String,
    /// 8 to 128 characters.
    pub password: String,
    pub display_name: String,
    /// IANA name such as `Europe/London`; `UTC` when left out.
    pub time_zone: Option<String>,
}

/// Charges a sign-in attempt to the caller's address and to `email`.
async fn check_sign_in(ctx: &Context<'_>, email: &str) -> async_graphql::Result<()> {
    let settings = ctx.data_unchecked::<AccountSettings>();
    let Some(ClientIp(ip)) = ctx.data_opt::<ClientIp>() else {
        return Ok(());
    };
    settings
        .limits
        .check_sign_in(*ip, email)
        .await
        .map_err(|retry| rate_limited(ctx, retry))
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates an account with the `USER` role and signs it in.
    async fn register(
        &self,
        ctx: &Context<'_>,
        input: RegisterInput,
    ) -> async_graphql::Result<AuthPayload> {
        check_sign_in(ctx, &input.email).await?;
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let settings = ctx.data_unchecked::<AccountSettings>();
        let registration = service::accounts::Registration {
            email: input.email,
            password: input.password,
            display_name: input.display_name,
            time_zone: input.time_zone,
        };
        let signed_in = service::accounts::register(db, registration, settings.token_ttl)
            .await
            .gql()?;
        Ok(AuthPayload {
            token: signed_in.token,
            expires_at: signed_in.expires_at,
            user: User(signed_in.user),
        })
    }

    /// Signs in with email and password and returns a new bearer token.
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
    ) -> async_graphql::Result<AuthPayload> {
        check_sign_in(ctx, &email).await?;
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let settings = ctx.data_unchecked::<AccountSettings>();
        let signed_in = service::accounts::login(db, &email, &password, settings.token_ttl)
            .await
            .gql()?;
        Ok(AuthPayload {
            token: signed_in.token,
            expires_at: signed_in.expires_at,
            user: User(signed_in.user),
        })
    }

    /// Revokes the bearer token this request was made with.
    #[graphql(guard = "AuthGuard")]
    async fn logout(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let viewer = viewer(ctx)?;
        service::accounts::logout(db, viewer.token_id).await.gql()?;
        ctx.data_unchecked::<Bus>()
            .sessions_changed(viewer.user.id)
            .await;
        Ok(true)
    }

    /// Deletes the signed-in account and everything that is its own:
    /// tokens, follows, preferences and notifications. Needs the password.
    #[graphql(guard = "AuthGuard")]
    async fn delete_account(
        &self,
        ctx: &Context<'_>,
        password: String,
    ) -> async_graphql::Result<bool> {
        let viewer = viewer(ctx)?;
        // A stolen token must not become a way to guess the password.
        check_sign_in(ctx, &viewer.user.email).await?;
        let db = ctx.data_unchecked::<DatabaseConnection>();
        service::accounts::delete_account(db, viewer.user.id, &password)
            .await
            .gql()?;
        ctx.data_unchecked::<Bus>()
            .sessions_changed(viewer.user.id)
            .await;
        Ok(true)
    }

    /// Gives an account another role. Admins only; the last admin cannot
    /// stop being one.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn set_user_role(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        role: Role,
    ) -> async_graphql::Result<UserSummary> {
        let user_id = parse_id("userId", &user_id)?;
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let user = service::accounts::set_role(db, user_id, role.into())
            .await
            .gql()?;
        ctx.data_unchecked::<Bus>().sessions_changed(user.id).await;
        Ok(user.into())
    }
}
