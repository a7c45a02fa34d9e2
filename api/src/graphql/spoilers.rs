//! What a viewer in spoiler-free mode may see of results (see
//! `service::accounts::spoilers`). The request carries a `SpoilerShield`:
//! resolvers that tell a result ask it whether to hold it back.

use std::borrow::Cow;

use async_graphql::{Context, ErrorExtensions as _};
use entity::football_match;
use sea_orm::DatabaseConnection;
use service::accounts::spoilers::Shown;

use super::error::{GqlResultExt as _, code};

/// How a request learns what its viewer may see.
pub enum SpoilerShield {
    /// Read once, the first time a result is asked for (an HTTP request).
    PerRequest {
        user_id: i64,
        shown: tokio::sync::OnceCell<Shown>,
    },
    /// Read on every use: a websocket of a viewer in spoiler-free mode,
    /// where a match revealed on the socket must show at once.
    Fresh { user_id: i64 },
}

impl SpoilerShield {
    pub fn per_request(user_id: i64) -> Self {
        Self::PerRequest {
            user_id,
            shown: tokio::sync::OnceCell::new(),
        }
    }
}

/// What this request's viewer may see: everything when nobody is signed
/// in or the viewer is not in spoiler-free mode.
pub async fn shown<'a>(ctx: &Context<'a>) -> async_graphql::Result<Cow<'a, Shown>> {
    let db = ctx.data_unchecked::<DatabaseConnection>();
    match ctx.data_opt::<SpoilerShield>() {
        None => Ok(Cow::Owned(Shown::Everything)),
        Some(SpoilerShield::PerRequest { user_id, shown }) => Ok(Cow::Borrowed(
            shown
                .get_or_try_init(|| Shown::for_user(db, *user_id))
                .await
                .gql()?,
        )),
        Some(SpoilerShield::Fresh { user_id }) => {
            Ok(Cow::Owned(Shown::for_user(db, *user_id).await.gql()?))
        }
    }
}

/// Whether the match's result must be held back from this viewer.
pub async fn hides(ctx: &Context<'_>, m: &football_match::Model) -> async_graphql::Result<bool> {
    if !service::accounts::spoilers::has_result(m) {
        return Ok(false);
    }
    Ok(shown(ctx).await?.hides(m))
}

/// Refuses a live feed of results to a viewer in spoiler-free mode, unless
/// it is the feed of a match they revealed.
pub async fn refuse_live_results(
    ctx: &Context<'_>,
    match_id: Option<i64>,
) -> async_graphql::Result<()> {
    let refused = match &*shown(ctx).await? {
        Shown::Everything => false,
        Shown::Revealed(ids) => match_id.is_none_or(|id| !ids.contains(&id)),
    };
    if refused {
        let message = match match_id {
            Some(_) => "spoiler-free mode is on: reveal the match (revealMatch) to follow it live",
            None => {
                "spoiler-free mode is on: this feed tells results; turn the mode off to follow it"
            }
        };
        return Err(async_graphql::Error::new(message)
            .extend_with(|_, e| e.set("code", code::SPOILER_FREE)));
    }
    Ok(())
}
