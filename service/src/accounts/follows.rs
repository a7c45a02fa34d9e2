//! The teams a user follows. Following and unfollowing are idempotent.

use chrono::Utc;
use entity::{follow, team};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _,
    QueryOrder as _, SqlErr,
};

use crate::{Error, Result};

/// Follows `team_id`; following it again changes nothing.
#[tracing::instrument(skip_all, fields(user_id = user_id, team_id = team_id), err(level = "info"))]
pub async fn follow(
    db: &impl ConnectionTrait,
    user_id: i64,
    team_id: i64,
) -> Result<follow::Model> {
    ensure_team_exists(db, team_id).await?;
    let inserted = follow::Entity::insert(follow::ActiveModel {
        user_id: Set(user_id),
        team_id: Set(team_id),
        created_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([follow::Column::UserId, follow::Column::TeamId])
    .exec_without_returning(db)
    .await;
    if let Err(err) = inserted {
        // The team was deleted between the check and the insert.
        return Err(match err.sql_err() {
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => Error::not_found("team"),
            _ => err.into(),
        });
    }
    follow::Entity::find_by_id((user_id, team_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("team"))
}

/// Stops following `team_id`. Returns whether a follow was removed; not
/// following the team is not an error, but an unknown team is.
#[tracing::instrument(skip_all, fields(user_id = user_id, team_id = team_id), err(level = "info"))]
pub async fn unfollow(db: &impl ConnectionTrait, user_id: i64, team_id: i64) -> Result<bool> {
    ensure_team_exists(db, team_id).await?;
    let deleted = follow::Entity::delete_many()
        .filter(follow::Column::UserId.eq(user_id))
        .filter(follow::Column::TeamId.eq(team_id))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}

/// The user's follows, oldest first.
pub async fn list(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<follow::Model>> {
    Ok(follow::Entity::find()
        .filter(follow::Column::UserId.eq(user_id))
        .order_by_asc(follow::Column::CreatedAt)
        .order_by_asc(follow::Column::TeamId)
        .all(db)
        .await?)
}

async fn ensure_team_exists(db: &impl ConnectionTrait, team_id: i64) -> Result<()> {
    team::Entity::find_by_id(team_id)
        .one(db)
        .await?
        .map(|_| ())
        .ok_or_else(|| Error::not_found("team"))
}
