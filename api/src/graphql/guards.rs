//! Who is asking, and the guards that decide what they may do. Every field
//! and mutation that needs a signed-in caller or a role names its guard in
//! its `#[graphql(guard = …)]` attribute; resolvers do not check roles.
//!
//! The HTTP handler (or the websocket's `connection_init`) resolves the
//! bearer token once and puts a [`Viewer`] into the request data; a request
//! without one is anonymous.

use std::net::IpAddr;

use async_graphql::{Context, Guard};
use entity::{UserRole, user};

use super::error::to_graphql;

/// The signed-in caller and the token they signed in with.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub user: user::Model,
    pub token_id: i64,
    /// In spoiler-free mode when they signed in (read with the token).
    pub spoiler_free: bool,
    /// Their stream delay when they signed in (read with the token).
    pub stream_delay: service::accounts::preferences::StreamDelay,
}

/// The client's address, for the sign-in rate limits.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

/// Where the client reached this server, e.g. `https://api.example.com`,
/// for links the API hands out; absent on websockets.
#[derive(Clone, Debug)]
pub struct RequestOrigin(pub String);

/// The caller, or `UNAUTHENTICATED`.
pub fn viewer<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Viewer> {
    ctx.data_opt::<Viewer>()
        .ok_or_else(|| to_graphql(service::Error::Unauthenticated))
}

/// Any signed-in account, whatever its role.
pub struct AuthGuard;

impl Guard for AuthGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        viewer(ctx).map(|_| ())
    }
}

/// A signed-in account with one of the listed roles: `UNAUTHENTICATED`
/// without a viewer, `FORBIDDEN` with another role.
pub struct RoleGuard {
    allowed: &'static [UserRole],
}

impl RoleGuard {
    pub const fn admin() -> Self {
        Self {
            allowed: &[UserRole::Admin],
        }
    }

    /// Writers of match data: feeders and admins.
    pub const fn feed() -> Self {
        Self {
            allowed: &[UserRole::Feed, UserRole::Admin],
        }
    }
}

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let viewer = viewer(ctx)?;
        if self.allowed.contains(&viewer.user.role) {
            Ok(())
        } else {
            Err(to_graphql(service::Error::Forbidden))
        }
    }
}
