//! Reading matches.

use entity::football_match;
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, QuerySelect};

use crate::Result;

/// The first `limit` matches by kick-off time.
pub async fn list(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<football_match::Model>> {
    Ok(football_match::Entity::find()
        .order_by_asc(football_match::Column::KickoffAt)
        .order_by_asc(football_match::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}
