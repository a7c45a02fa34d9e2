//! The in-app inbox: a user's notifications, newest first.
//!
//! Every query is filtered by the owner's id, so an id or cursor that
//! belongs to someone else selects nothing. Marking someone else's
//! notification as read is silently a no-op: the answer is the same as for
//! an id that does not exist, so it tells nothing about other accounts.
//!
//! Notifications `held` back during quiet hours are folded into the next
//! digest rather than released one by one, so the inbox does not list them.
//! Nor does it list those written while the user had the in-app channel
//! off: they exist only as the record behind an email or webhook. A
//! notification joins the inbox at its `shown_at`: when it was written,
//! or for a live alert held back by the user's stream delay, at its
//! release (`notifications::alerts::delay`).

use chrono::{DateTime, Utc};
use entity::notification;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, EntityTrait as _, PaginatorTrait as _, QueryFilter as _,
    QueryOrder as _, Select,
};

use crate::{Error, Result};

/// The most a page or a `markRead` call may ask for.
pub use crate::pagination::MAX_PAGE;

/// One page of the inbox, newest first.
pub type Page = crate::pagination::NewestFirst<notification::Model>;

/// In the inbox by `now`: shown, and not a stream delay's still held.
pub fn shown_by(now: DateTime<Utc>) -> sea_orm::Condition {
    sea_orm::Condition::all().add(notification::Column::ShownAt.lte(now))
}

/// For the inbox but still held back by a stream delay at `now`.
pub fn held_back_at(now: DateTime<Utc>) -> sea_orm::Condition {
    sea_orm::Condition::all().add(notification::Column::ShownAt.gt(now))
}

fn visible(user_id: i64, unread_only: bool) -> Select<notification::Entity> {
    let mut select = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(shown_by(Utc::now()));
    if unread_only {
        select = select.filter(notification::Column::ReadAt.is_null());
    }
    select
}

/// Up to `first` notifications after the one with id `after`, newest first.
/// Ids only grow, so keyset pagination on the id is stable while new
/// notifications arrive.
pub async fn page(
    db: &impl ConnectionTrait,
    user_id: i64,
    unread_only: bool,
    first: u64,
    after: Option<i64>,
) -> Result<Page> {
    crate::pagination::newest_first(
        db,
        visible(user_id, unread_only),
        notification::Column::Id,
        first,
        after,
    )
    .await
}

pub async fn unread_count(db: &impl ConnectionTrait, user_id: i64) -> Result<u64> {
    Ok(visible(user_id, true).count(db).await?)
}

/// Marks the caller's notifications among `ids` as read and returns them.
/// Ids of other users' notifications, or of none, are left alone and left
/// out of the answer.
#[tracing::instrument(skip_all, fields(user_id = user_id, count = ids.len()), err(level = "info"))]
pub async fn mark_read(
    db: &impl ConnectionTrait,
    user_id: i64,
    ids: &[i64],
) -> Result<Vec<notification::Model>> {
    if ids.len() as u64 > MAX_PAGE {
        return Err(Error::invalid(
            "ids",
            format!("at most {MAX_PAGE} ids at once"),
        ));
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::Id.is_in(ids.iter().copied()))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(visible(user_id, false)
        .filter(notification::Column::Id.is_in(ids.iter().copied()))
        .order_by_desc(notification::Column::Id)
        .all(db)
        .await?)
}

/// Marks every unread notification of the caller as read; returns how many.
#[tracing::instrument(skip_all, fields(user_id = user_id), err(level = "info"))]
pub async fn mark_all_read(db: &impl ConnectionTrait, user_id: i64) -> Result<u64> {
    let result = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(shown_by(Utc::now()))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
