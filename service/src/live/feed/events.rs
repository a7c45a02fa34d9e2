//! Match events: recording them, taking them back (VAR corrections), and
//! moving the clock between them. Each write is one transaction that bumps
//! the match's sequence number first, so concurrent writers queue.

use super::publish::publish;
use crate::live::bus::Bus;
use crate::live::rules;
use crate::outbox::{self, Message, Score};
use crate::{Error, Result};
use chrono::Utc;
use entity::{MatchEventKind, MatchStatus, football_match, match_event};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, SqlErr,
    TransactionTrait,
};

/// A match event as a feeder sends it.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub kind: MatchEventKind,
    pub minute: Option<i32>,
    pub added_time: Option<i32>,
    pub team_id: Option<i64>,
    pub player: Option<String>,
    /// Who made a goal; only a `GOAL` has one.
    pub assist: Option<String>,
    pub detail: Option<String>,
    /// The feeder's own id for the event; a repeat returns the original.
    pub external_id: Option<String>,
    /// The `lastEventSeq` the feeder last saw; a different one is a conflict.
    pub expected_seq: Option<i32>,
}

impl NewEvent {
    pub fn of(kind: MatchEventKind) -> Self {
        Self {
            kind,
            minute: None,
            added_time: None,
            team_id: None,
            player: None,
            assist: None,
            detail: None,
            external_id: None,
            expected_seq: None,
        }
    }
}

/// An event as stored, with the match after it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub event: match_event::Model,
    pub football_match: football_match::Model,
    /// True when this was a repeat of an event already recorded.
    pub duplicate: bool,
}

/// Records a match event: validates it against the match's status, gives
/// it the match's next sequence number, updates score, status and minute,
/// and writes an outbox row, all in one transaction; then publishes it.
#[tracing::instrument(skip_all, fields(match_id, kind = ?input.kind))]
pub async fn record_event(
    db: &DatabaseConnection,
    bus: &Bus,
    match_id: i64,
    input: NewEvent,
) -> Result<Recorded> {
    validate(&input)?;
    if let Some(original) = find_by_external_id(db, match_id, input.external_id.as_deref()).await? {
        return Ok(original);
    }
    let txn = db.begin().await?;
    let result = record_in(&txn, match_id, &input, None).await;
    let recorded = match result {
        Ok(recorded) => {
            txn.commit().await?;
            recorded
        }
        Err(err) => {
            txn.rollback().await?;
            // Two deliveries of one event raced; the other one won.
            if let Error::Conflict(_) = err
                && let Some(original) =
                    find_by_external_id(db, match_id, input.external_id.as_deref()).await?
            {
                return Ok(original);
            }
            return Err(err);
        }
    };
    publish(
        db,
        bus,
        &recorded.football_match,
        Some(recorded.event.clone()),
    );
    Ok(recorded)
}

/// Takes an event back (a VAR correction): marks it cancelled, recomputes
/// the score, and records a CORRECTION event that points at it.
#[tracing::instrument(skip_all, fields(event_id))]
pub async fn cancel_event(
    db: &DatabaseConnection,
    bus: &Bus,
    event_id: i64,
    reason: &str,
    expected_seq: Option<i32>,
) -> Result<Recorded> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Error::invalid("reason", "must be 1 to 500 characters"));
    }
    let target = match_event::Entity::find_by_id(event_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("match event"))?;
    if !rules::is_correctable(target.kind) {
        return Err(Error::invalid(
            "eventId",
            "only goals, penalties, cards and substitutions can be cancelled",
        ));
    }
    if target.cancelled {
        return Err(Error::invalid("eventId", "the event is already cancelled"));
    }
    let mut input = NewEvent::of(MatchEventKind::Correction);
    input.detail = Some(reason.to_owned());
    input.team_id = target.team_id;
    input.expected_seq = expected_seq;
    let txn = db.begin().await?;
    let result = record_in(&txn, target.match_id, &input, Some((&target, reason))).await;
    let recorded = match result {
        Ok(recorded) => {
            txn.commit().await?;
            recorded
        }
        Err(err) => {
            txn.rollback().await?;
            return Err(err);
        }
    };
    publish(
        db,
        bus,
        &recorded.football_match,
        Some(recorded.event.clone()),
    );
    Ok(recorded)
}

fn validate(input: &NewEvent) -> Result<()> {
    let mut errors = std::collections::BTreeMap::<String, Vec<String>>::new();
    let mut add = |field: &str, message: &str| {
        errors
            .entry(field.to_owned())
            .or_default()
            .push(message.to_owned());
    };
    if input.minute.is_some_and(|m| !(0..=130).contains(&m)) {
        add("input.minute", "must be between 0 and 130");
    }
    if input.added_time.is_some_and(|m| !(0..=30).contains(&m)) {
        add("input.addedTime", "must be between 0 and 30");
    }
    if input.kind == MatchEventKind::Lineups {
        add("input.kind", "set a line-up with setLineup");
    }
    if rules::needs_team(input.kind) && input.team_id.is_none() {
        add("input.teamId", "is required for this kind of event");
    }
    if input.assist.is_some() && input.kind != MatchEventKind::Goal {
        add(
            "input.assist",
            "only a goal has an assist (not a penalty, an own goal or another event)",
        );
    }
    for (field, value, max) in [
        ("input.player", &input.player, 100),
        ("input.assist", &input.assist, 100),
        ("input.detail", &input.detail, 500),
        ("input.externalId", &input.external_id, 128),
    ] {
        if value
            .as_deref()
            .is_some_and(|v| v.trim().is_empty() || v.chars().count() > max)
        {
            add(field, &format!("must be 1 to {max} characters"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errors))
    }
}

async fn find_by_external_id(
    db: &impl ConnectionTrait,
    match_id: i64,
    external_id: Option<&str>,
) -> Result<Option<Recorded>> {
    let Some(external_id) = external_id else {
        return Ok(None);
    };
    let Some(event) = match_event::Entity::find()
        .filter(match_event::Column::MatchId.eq(match_id))
        .filter(match_event::Column::ExternalId.eq(external_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let football_match = football_match::Entity::find_by_id(match_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("match"))?;
    Ok(Some(Recorded {
        event,
        football_match,
        duplicate: true,
    }))
}

pub(super) async fn record_in(
    txn: &DatabaseTransaction,
    match_id: i64,
    input: &NewEvent,
    correcting: Option<(&match_event::Model, &str)>,
) -> Result<Recorded> {
    // Writing first takes the write lock at once (a row lock on PostgreSQL,
    // the database lock on SQLite), so concurrent writers queue here
    // instead of failing later, and the sequence number is ours.
    let bumped = football_match::Entity::update_many()
        .col_expr(
            football_match::Column::LastEventSeq,
            Expr::col(football_match::Column::LastEventSeq).add(1),
        )
        .filter(football_match::Column::Id.eq(match_id))
        .exec(txn)
        .await?;
    if bumped.rows_affected == 0 {
        return Err(Error::not_found("match"));
    }
    let current = football_match::Entity::find_by_id(match_id)
        .one(txn)
        .await?
        .ok_or_else(|| Error::not_found("match"))?;
    let seq = current.last_event_seq;
    if let Some(expected) = input.expected_seq
        && expected != seq - 1
    {
        return Err(Error::Conflict(format!(
            "the match is at event {}, not {expected}; reload it and try again",
            seq - 1
        )));
    }
    if let Some(team_id) = input.team_id
        && team_id != current.home_team_id
        && team_id != current.away_team_id
    {
        return Err(Error::invalid(
            "input.teamId",
            "must be one of the two teams in the match",
        ));
    }
    let status = match correcting {
        Some(_) if current.status == MatchStatus::Cancelled => {
            return Err(Error::invalid("eventId", "the match was cancelled"));
        }
        Some(_) => current.status,
        None => rules::next_status(current.status, input.kind)
            .map_err(|message| Error::invalid("input.kind", message))?,
    };
    if let Some((target, reason)) = correcting {
        let mut cancelled = target.clone().into_active_model();
        cancelled.cancelled = Set(true);
        cancelled.cancelled_reason = Set(Some(reason.to_owned()));
        cancelled.update(txn).await?;
    }
    let now = Utc::now();
    let event = match_event::ActiveModel {
        match_id: Set(match_id),
        seq: Set(seq),
        kind: Set(input.kind),
        minute: Set(input.minute),
        added_time: Set(input.added_time),
        team_id: Set(input.team_id),
        player: Set(input.player.clone()),
        assist: Set(input.assist.clone()),
        detail: Set(input.detail.clone()),
        external_id: Set(input.external_id.clone()),
        cancelled: Set(false),
        corrects_event_id: Set(correcting.map(|(target, _)| target.id)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            Error::Conflict("the event was recorded by another request".into())
        }
        _ => err.into(),
    })?;

    let events = match_event::Entity::find()
        .filter(match_event::Column::MatchId.eq(match_id))
        .order_by_asc(match_event::Column::Seq)
        .all(txn)
        .await?;
    let line = rules::score(&events, current.home_team_id);
    let mut updated = current.clone().into_active_model();
    updated.status = Set(status);
    if status != MatchStatus::Scheduled {
        updated.home_score = Set(Some(line.home));
        updated.away_score = Set(Some(line.away));
    }
    updated.half_time_home = Set(line.half_time.map(|p| p.0));
    updated.half_time_away = Set(line.half_time.map(|p| p.1));
    updated.extra_time_home = Set(line.extra_time.map(|p| p.0));
    updated.extra_time_away = Set(line.extra_time.map(|p| p.1));
    updated.penalties_home = Set(line.penalties.map(|p| p.0));
    updated.penalties_away = Set(line.penalties.map(|p| p.1));
    if let Some(minute) = input.minute {
        updated.minute = Set(Some(minute));
    } else if input.kind == MatchEventKind::KickOff {
        updated.minute = Set(Some(0));
    }
    updated.updated_at = Set(now);
    updated.last_event_at = Set(Some(now));
    let football_match = updated.update(txn).await?;

    // The alert tells the score as it is now (with extra-time goals),
    // whatever follows before the worker reads the row.
    let score =
        crate::matches::final_score(&football_match).map(|(home, away)| Score { home, away });
    outbox::write(
        txn,
        &Message::MatchEvent {
            match_id,
            event_id: event.id,
            seq,
            score,
        },
    )
    .await?;
    Ok(Recorded {
        event,
        football_match,
        duplicate: false,
    })
}

/// Moves a live match's clock on without an event, as a feed does between
/// events, so that score boards tick.
pub async fn set_minute(
    db: &DatabaseConnection,
    bus: &Bus,
    match_id: i64,
    minute: i32,
) -> Result<football_match::Model> {
    if !(0..=130).contains(&minute) {
        return Err(Error::invalid("minute", "must be between 0 and 130"));
    }
    football_match::Entity::update_many()
        .col_expr(football_match::Column::Minute, Expr::value(minute))
        .col_expr(football_match::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(football_match::Column::Id.eq(match_id))
        .filter(football_match::Column::Status.is_in(crate::live::stream::IN_PLAY))
        .exec(db)
        .await?;
    let updated = football_match::Entity::find_by_id(match_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("match"))?;
    publish(db, bus, &updated, None);
    Ok(updated)
}
