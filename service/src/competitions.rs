//! Reading competitions and their seasons.

use entity::{competition, season};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::Result;

/// Every competition, by name.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<competition::Model>> {
    Ok(competition::Entity::find()
        .order_by_asc(competition::Column::Name)
        .order_by_asc(competition::Column::Id)
        .all(db)
        .await?)
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<competition::Model>> {
    Ok(competition::Entity::find_by_id(id).one(db).await?)
}

/// Codes are matched case-insensitively: `pl` finds `PL`.
pub async fn by_code(db: &impl ConnectionTrait, code: &str) -> Result<Option<competition::Model>> {
    Ok(competition::Entity::find()
        .filter(competition::Column::Code.eq(code.trim().to_uppercase()))
        .one(db)
        .await?)
}

pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<competition::Model>> {
    Ok(competition::Entity::find()
        .filter(competition::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn season_by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<season::Model>> {
    Ok(season::Entity::find_by_id(id).one(db).await?)
}

pub async fn seasons_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<season::Model>> {
    Ok(season::Entity::find()
        .filter(season::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The seasons of these competitions, newest first within each.
pub async fn seasons_of(
    db: &impl ConnectionTrait,
    competition_ids: &[i64],
) -> Result<Vec<season::Model>> {
    Ok(season::Entity::find()
        .filter(season::Column::CompetitionId.is_in(competition_ids.iter().copied()))
        .order_by_desc(season::Column::Label)
        .all(db)
        .await?)
}
