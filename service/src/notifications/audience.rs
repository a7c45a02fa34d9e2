//! Who hears of a match: the one place that turns a match into the users
//! an alert about it may go to. Each alert kind then keeps those of them
//! who asked for it (`alerts`).
//!
//! A popular club has hundreds of thousands of followers, so nothing here
//! binds one parameter per follower: the audience is read as ids with a
//! statement over the match's teams, and the followers' preferences are
//! loaded a bounded batch at a time.

use entity::{follow, football_match, notification_preference as prefs, user};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _,
};

use crate::Result;

/// A follower, with what decides whether and how they are told.
pub type Member = (prefs::Model, user::Model);

/// The ids of everyone who follows either team of `game`, ascending, each once.
pub async fn of_match(db: &impl ConnectionTrait, game: &football_match::Model) -> Result<Vec<i64>> {
    let teams = [game.home_team_id, game.away_team_id];
    Ok(follow::Entity::find()
        .select_only()
        .column(follow::Column::UserId)
        .distinct()
        .filter(follow::Column::TeamId.is_in(teams))
        .order_by_asc(follow::Column::UserId)
        .into_tuple()
        .all(db)
        .await?)
}

/// The members among `user_ids` (a batch of at most `WRITE_BATCH`, taken
/// from `of_match`), in id order.
pub async fn load(db: &impl ConnectionTrait, user_ids: &[i64]) -> Result<Vec<Member>> {
    debug_assert!(user_ids.len() <= super::WRITE_BATCH);
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(prefs::Entity::find()
        .find_also_related(user::Entity)
        .filter(prefs::Column::UserId.is_in(user_ids.iter().copied()))
        .order_by_asc(prefs::Column::UserId)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(p, u)| Some((p, u?)))
        .collect())
}
