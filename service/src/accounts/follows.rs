//! What a user follows: teams, whole competitions and single matches. Each
//! follow may ask for its own alert kinds; one that does not leaves them
//! to the user's preferences. Following again sets the follow's alert
//! kinds to those given; unfollowing what one does not follow is not an
//! error.

use chrono::Utc;
use entity::{competition, competition_follow, follow, football_match, match_follow, team};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, SqlErr,
};

use crate::notifications::alert_kinds::{self, AlertKind};
use crate::{Error, Result};

/// Most competitions, and most matches, one account may follow: what a
/// digest gathers for a user stays bounded.
pub const MAX_FOLLOWS: u64 = 500;

/// The alert kinds a follow asks for, checked: `None` leaves them to the
/// user's preferences, and an empty list asks for none (the digest only).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlertKinds(Option<Vec<AlertKind>>);

impl AlertKinds {
    /// `field` names the argument in errors.
    pub fn parse(field: &str, kinds: Option<Vec<AlertKind>>) -> Result<Self> {
        match kinds {
            None => Ok(Self(None)),
            Some(kinds) => alert_kinds::check(kinds)
                .map(|kinds| Self(Some(kinds)))
                .map_err(|message| Error::invalid(field, message)),
        }
    }

    fn stored(&self) -> Option<serde_json::Value> {
        self.0.as_deref().map(alert_kinds::stored)
    }
}

/// The kinds a follow asks for as stored; `None` for the preferences'.
pub fn kinds_of(stored: Option<&serde_json::Value>) -> Option<Vec<AlertKind>> {
    stored.map(alert_kinds::read)
}

/// Follows `team_id`, asking for `kinds`.
#[tracing::instrument(skip_all, fields(user_id = user_id, team_id = team_id), err(level = "info"))]
pub async fn follow(
    db: &impl ConnectionTrait,
    user_id: i64,
    team_id: i64,
    kinds: AlertKinds,
) -> Result<follow::Model> {
    ensure_team_exists(db, team_id).await?;
    let inserted = follow::Entity::insert(follow::ActiveModel {
        user_id: Set(user_id),
        team_id: Set(team_id),
        live_kinds: Set(kinds.stored()),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([follow::Column::UserId, follow::Column::TeamId])
            .update_column(follow::Column::LiveKinds)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await;
    gone_is_not_found(inserted, "team")?;
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

/// The user's team follows, oldest first.
pub async fn list(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<follow::Model>> {
    Ok(follow::Entity::find()
        .filter(follow::Column::UserId.eq(user_id))
        .order_by_asc(follow::Column::CreatedAt)
        .order_by_asc(follow::Column::TeamId)
        .all(db)
        .await?)
}

/// Follows every match of `competition_id`, asking for `kinds`.
#[tracing::instrument(skip_all, fields(user_id = user_id, competition_id = competition_id), err(level = "info"))]
pub async fn follow_competition(
    db: &impl ConnectionTrait,
    user_id: i64,
    competition_id: i64,
    kinds: AlertKinds,
) -> Result<competition_follow::Model> {
    competition::Entity::find_by_id(competition_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("competition"))?;
    let existing = competition_follow::Entity::find_by_id((user_id, competition_id))
        .one(db)
        .await?;
    if existing.is_none() {
        let count = competition_follow::Entity::find()
            .filter(competition_follow::Column::UserId.eq(user_id))
            .count(db)
            .await?;
        at_most(count, "competitionId", "competitions")?;
    }
    let inserted = competition_follow::Entity::insert(competition_follow::ActiveModel {
        user_id: Set(user_id),
        competition_id: Set(competition_id),
        live_kinds: Set(kinds.stored()),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            competition_follow::Column::UserId,
            competition_follow::Column::CompetitionId,
        ])
        .update_column(competition_follow::Column::LiveKinds)
        .to_owned(),
    )
    .exec_without_returning(db)
    .await;
    gone_is_not_found(inserted, "competition")?;
    competition_follow::Entity::find_by_id((user_id, competition_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("competition"))
}

/// Stops following `competition_id`; whether a follow was removed.
#[tracing::instrument(skip_all, fields(user_id = user_id, competition_id = competition_id), err(level = "info"))]
pub async fn unfollow_competition(
    db: &impl ConnectionTrait,
    user_id: i64,
    competition_id: i64,
) -> Result<bool> {
    competition::Entity::find_by_id(competition_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("competition"))?;
    let deleted = competition_follow::Entity::delete_many()
        .filter(competition_follow::Column::UserId.eq(user_id))
        .filter(competition_follow::Column::CompetitionId.eq(competition_id))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}

/// The user's competition follows, oldest first.
pub async fn competitions(
    db: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Vec<competition_follow::Model>> {
    Ok(competition_follow::Entity::find()
        .filter(competition_follow::Column::UserId.eq(user_id))
        .order_by_asc(competition_follow::Column::CreatedAt)
        .order_by_asc(competition_follow::Column::CompetitionId)
        .all(db)
        .await?)
}

/// Follows one match, asking for `kinds`.
#[tracing::instrument(skip_all, fields(user_id = user_id, match_id = match_id), err(level = "info"))]
pub async fn follow_match(
    db: &impl ConnectionTrait,
    user_id: i64,
    match_id: i64,
    kinds: AlertKinds,
) -> Result<match_follow::Model> {
    football_match::Entity::find_by_id(match_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("match"))?;
    let existing = match_follow::Entity::find_by_id((user_id, match_id))
        .one(db)
        .await?;
    if existing.is_none() {
        let count = match_follow::Entity::find()
            .filter(match_follow::Column::UserId.eq(user_id))
            .count(db)
            .await?;
        at_most(count, "matchId", "matches")?;
    }
    let inserted = match_follow::Entity::insert(match_follow::ActiveModel {
        user_id: Set(user_id),
        match_id: Set(match_id),
        live_kinds: Set(kinds.stored()),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([match_follow::Column::UserId, match_follow::Column::MatchId])
            .update_column(match_follow::Column::LiveKinds)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await;
    gone_is_not_found(inserted, "match")?;
    match_follow::Entity::find_by_id((user_id, match_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("match"))
}

/// Stops following one match; whether a follow was removed.
#[tracing::instrument(skip_all, fields(user_id = user_id, match_id = match_id), err(level = "info"))]
pub async fn unfollow_match(
    db: &impl ConnectionTrait,
    user_id: i64,
    match_id: i64,
) -> Result<bool> {
    football_match::Entity::find_by_id(match_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("match"))?;
    let deleted = match_follow::Entity::delete_many()
        .filter(match_follow::Column::UserId.eq(user_id))
        .filter(match_follow::Column::MatchId.eq(match_id))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}

/// The user's match follows, oldest first.
pub async fn matches(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<match_follow::Model>> {
    Ok(match_follow::Entity::find()
        .filter(match_follow::Column::UserId.eq(user_id))
        .order_by_asc(match_follow::Column::CreatedAt)
        .order_by_asc(match_follow::Column::MatchId)
        .all(db)
        .await?)
}

fn at_most(count: u64, field: &str, what: &str) -> Result<()> {
    if count >= MAX_FOLLOWS {
        return Err(Error::invalid(
            field,
            format!("an account follows at most {MAX_FOLLOWS} {what}; unfollow one first"),
        ));
    }
    Ok(())
}

/// The followed thing was deleted between the check and the insert.
fn gone_is_not_found<T>(inserted: Result<T, sea_orm::DbErr>, what: &str) -> Result<()> {
    match inserted {
        Ok(_) => Ok(()),
        Err(err) => Err(match err.sql_err() {
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => Error::not_found(what),
            _ => err.into(),
        }),
    }
}

async fn ensure_team_exists(db: &impl ConnectionTrait, team_id: i64) -> Result<()> {
    team::Entity::find_by_id(team_id)
        .one(db)
        .await?
        .map(|_| ())
        .ok_or_else(|| Error::not_found("team"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::MatchEventKind;

    #[test]
    fn kinds_left_out_leave_the_alerts_to_the_preferences() {
        assert_eq!(
            AlertKinds::parse("alertKinds", None).unwrap().stored(),
            None
        );
    }

    #[test]
    fn kinds_given_twice_are_kept_once_and_an_empty_list_asks_for_none() {
        let kinds = vec![AlertKind::Event(MatchEventKind::Goal); 2];
        let parsed = AlertKinds::parse("alertKinds", Some(kinds)).unwrap();
        assert_eq!(parsed.stored(), Some(serde_json::json!(["GOAL"])));
        let none = AlertKinds::parse("alertKinds", Some(Vec::new())).unwrap();
        assert_eq!(none.stored(), Some(serde_json::json!([])));
    }

    #[test]
    fn a_kind_no_alert_is_for_is_refused_by_name_on_the_field() {
        let substitution = AlertKind::Event(MatchEventKind::Substitution);
        let err = AlertKinds::parse("alertKinds", Some(vec![substitution])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid input: alertKinds: SUBSTITUTION is not a kind of live alert"
        );
    }
}
