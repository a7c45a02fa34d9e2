//! Fixtures: scheduling a match, and moving, postponing or cancelling it.
//! Each change writes an outbox row, from which the worker queues the
//! kick-off reminder and tells the followers of a change.

use super::publish::publish;
use crate::live::bus::Bus;
use crate::outbox::{self, Message};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use entity::{MatchStatus, football_match, season, team};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, TransactionTrait,
};

/// A fixture to schedule.
#[derive(Clone, Debug)]
pub struct NewMatch {
    pub season_id: i64,
    pub home_team_id: i64,
    pub away_team_id: i64,
    pub kickoff_at: DateTime<Utc>,
    pub round: Option<String>,
    pub matchday: Option<i32>,
    pub stage: Option<String>,
    /// The group within a group stage, e.g. "Group A".
    pub group: Option<String>,
}

pub async fn schedule_match(
    db: &DatabaseConnection,
    bus: &Bus,
    input: NewMatch,
) -> Result<football_match::Model> {
    if input.home_team_id == input.away_team_id {
        return Err(Error::invalid(
            "input.awayTeamId",
            "must differ from the home team",
        ));
    }
    if input.matchday.is_some_and(|m| !(1..=99).contains(&m)) {
        return Err(Error::invalid("input.matchday", "must be between 1 and 99"));
    }
    for (field, value) in [
        ("input.round", &input.round),
        ("input.stage", &input.stage),
        ("input.group", &input.group),
    ] {
        if value.as_deref().is_some_and(|v| v.chars().count() > 100) {
            return Err(Error::invalid(field, "must be at most 100 characters"));
        }
    }
    season::Entity::find_by_id(input.season_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("season"))?;
    for (field, id) in [
        ("input.homeTeamId", input.home_team_id),
        ("input.awayTeamId", input.away_team_id),
    ] {
        if team::Entity::find_by_id(id).one(db).await?.is_none() {
            return Err(Error::NotFound(format!("team ({field})")));
        }
    }
    let now = Utc::now();
    let txn = db.begin().await?;
    let created = football_match::ActiveModel {
        season_id: Set(input.season_id),
        round: Set(input.round.filter(|r| !r.trim().is_empty())),
        matchday: Set(input.matchday),
        stage: Set(input.stage.filter(|s| !s.trim().is_empty())),
        group_name: Set(input.group.filter(|g| !g.trim().is_empty())),
        home_team_id: Set(input.home_team_id),
        away_team_id: Set(input.away_team_id),
        kickoff_at: Set(input.kickoff_at),
        kickoff_time_known: Set(true),
        status: Set(MatchStatus::Scheduled),
        last_event_seq: Set(0),
        schedule_revision: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    outbox::write(
        &txn,
        &Message::MatchScheduled {
            match_id: created.id,
        },
    )
    .await?;
    txn.commit().await?;
    publish(db, bus, &created, None);
    Ok(created)
}

/// Moves a scheduled or postponed match to a new kick-off.
pub async fn reschedule_match(
    db: &DatabaseConnection,
    bus: &Bus,
    match_id: i64,
    kickoff_at: DateTime<Utc>,
) -> Result<football_match::Model> {
    let announce =
        |before: &football_match::Model, after: &football_match::Model| Message::MatchRescheduled {
            match_id,
            previous_kickoff_at: Some(before.kickoff_at),
            kickoff_at: Some(after.kickoff_at),
        };
    change_schedule(db, bus, match_id, announce, |m| match m.status {
        MatchStatus::Scheduled | MatchStatus::Postponed => {
            m.kickoff_at = kickoff_at;
            m.status = MatchStatus::Scheduled;
            Ok(())
        }
        _ => Err("only a scheduled or postponed match can be rescheduled".into()),
    })
    .await
}

pub async fn postpone_match(
    db: &DatabaseConnection,
    bus: &Bus,
    match_id: i64,
) -> Result<football_match::Model> {
    let announce =
        |before: &football_match::Model, _: &football_match::Model| Message::MatchPostponed {
            match_id,
            kickoff_at: Some(before.kickoff_at),
        };
    change_schedule(db, bus, match_id, announce, |m| match m.status {
        MatchStatus::Scheduled => {
            m.status = MatchStatus::Postponed;
            Ok(())
        }
        _ => Err("only a scheduled match can be postponed".into()),
    })
    .await
}

pub async fn cancel_match(
    db: &DatabaseConnection,
    bus: &Bus,
    match_id: i64,
) -> Result<football_match::Model> {
    let announce =
        |before: &football_match::Model, _: &football_match::Model| Message::MatchCancelled {
            match_id,
            kickoff_at: Some(before.kickoff_at),
        };
    change_schedule(db, bus, match_id, announce, |m| match m.status {
        MatchStatus::Finished => Err("a finished match cannot be cancelled".into()),
        MatchStatus::Cancelled => Err("the match is already cancelled".into()),
        _ => {
            m.status = MatchStatus::Cancelled;
            Ok(())
        }
    })
    .await
}

async fn change_schedule(
    db: &DatabaseConnection,
    bus: &Bus,
    match_id: i64,
    announce: impl FnOnce(&football_match::Model, &football_match::Model) -> Message,
    change: impl FnOnce(&mut football_match::Model) -> std::result::Result<(), String>,
) -> Result<football_match::Model> {
    let txn = db.begin().await?;
    // Touch first, to hold the write lock while we read and decide.
    football_match::Entity::update_many()
        .col_expr(football_match::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(football_match::Column::Id.eq(match_id))
        .exec(&txn)
        .await?;
    let before = football_match::Entity::find_by_id(match_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("match"))?;
    let mut current = before.clone();
    if let Err(message) = change(&mut current) {
        txn.rollback().await?;
        return Err(Error::invalid("matchId", message));
    }
    let mut active = current.clone().into_active_model();
    active.kickoff_at = Set(current.kickoff_at);
    active.status = Set(current.status);
    active.schedule_revision = Set(current.schedule_revision + 1);
    active.updated_at = Set(Utc::now());
    let updated = active.update(&txn).await?;
    outbox::write(&txn, &announce(&before, &updated)).await?;
    txn.commit().await?;
    publish(db, bus, &updated, None);
    Ok(updated)
}
