//! Points adjustments: deductions and awards that correct a season's table.

use chrono::{DateTime, Utc};
use entity::{season, team};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait};

use super::catalog::announced;
use super::required_text;
use crate::live::bus::Bus;
use crate::{Error, Result};

pub async fn adjust_points(
    db: &impl ConnectionTrait,
    bus: &Bus,
    season_id: i64,
    team_id: i64,
    points: i32,
    reason: &str,
    effective_at: Option<DateTime<Utc>>,
) -> Result<entity::points_adjustment::Model> {
    if points == 0 || !(-100..=100).contains(&points) {
        return Err(Error::invalid(
            "points",
            "must be between -100 and 100 and not 0",
        ));
    }
    let reason = required_text("reason", reason, 500)?;
    season::Entity::find_by_id(season_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("season"))?;
    team::Entity::find_by_id(team_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("team"))?;
    let now = Utc::now();
    let adjusted = entity::points_adjustment::ActiveModel {
        season_id: Set(season_id),
        team_id: Set(team_id),
        points: Set(points),
        reason: Set(reason),
        effective_at: Set(effective_at.unwrap_or(now)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(Into::into);
    announced(bus, adjusted)
}
