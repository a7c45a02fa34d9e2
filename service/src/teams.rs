//! Reading teams.

use entity::team;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::Result;

/// Every team, ordered by name.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<team::Model>> {
    Ok(team::Entity::find()
        .order_by_asc(team::Column::Name)
        .order_by_asc(team::Column::Id)
        .all(db)
        .await?)
}

/// The teams with these ids, in no particular order; unknown ids are skipped.
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<team::Model>> {
    Ok(team::Entity::find()
        .filter(team::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}
