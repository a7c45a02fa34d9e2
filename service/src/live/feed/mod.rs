//! The feed's writes: fixtures, match events and corrections. Each write is
//! one transaction that also writes an outbox row for the worker, and is
//! published on the bus only after it commits.

use chrono::{DateTime, Utc};
use entity::{
    MatchEventKind, MatchStatus, competition, football_match, match_event, outbox, season, team,
};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, SqlErr,
    TransactionTrait,
};
use serde_json::json;

use super::bus::{Bus, BusMessage};
use super::rules;
use crate::{Error, Result};

/// A match event as a feeder sends it.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub kind: MatchEventKind,
    pub minute: Option<i32>,
    pub added_time: Option<i32>,
    pub team_id: Option<i64>,
    pub player: Option<String>,
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
    if rules::needs_team(input.kind) && input.team_id.is_none() {
        add("input.teamId", "is required for this kind of event");
    }
    for (field, value, max) in [
        ("input.player", &input.player, 100),
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

async fn record_in(
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
    let football_match = updated.update(txn).await?;

    enqueue(
        txn,
        "match_event",
        json!({ "match_id": match_id, "event_id": event.id, "seq": seq }),
    )
    .await?;
    Ok(Recorded {
        event,
        football_match,
        duplicate: false,
    })
}

/// Writes an outbox row in the caller's transaction, for the worker.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    topic: &str,
    payload: serde_json::Value,
) -> Result<()> {
    outbox::ActiveModel {
        topic: Set(topic.to_owned()),
        payload: Set(payload),
        created_at: Set(Utc::now()),
        attempts: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Publishes a committed change to a match, in the background: the
/// caller answers from its commit whatever the bus does.
pub fn publish(
    db: &DatabaseConnection,
    bus: &Bus,
    football_match: &football_match::Model,
    event: Option<match_event::Model>,
) {
    let db = db.clone();
    let football_match = football_match.clone();
    bus.publish_with(async move {
        let competition_id = match season::Entity::find_by_id(football_match.season_id)
            .one(&db)
            .await
        {
            Ok(Some(season)) => season.competition_id,
            _ => 0,
        };
        Some(BusMessage::Match {
            football_match: Box::new(football_match),
            competition_id,
            event,
        })
    });
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
        .filter(football_match::Column::Status.is_in(super::stream::IN_PLAY))
        .exec(db)
        .await?;
    let updated = football_match::Entity::find_by_id(match_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("match"))?;
    publish(db, bus, &updated, None);
    Ok(updated)
}

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
        home_team_id: Set(input.home_team_id),
        away_team_id: Set(input.away_team_id),
        kickoff_at: Set(input.kickoff_at),
        kickoff_time_known: Set(true),
        status: Set(MatchStatus::Scheduled),
        last_event_seq: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    enqueue(&txn, "match_scheduled", json!({ "match_id": created.id })).await?;
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
    change_schedule(db, bus, match_id, "match_rescheduled", |m| match m.status {
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
    change_schedule(db, bus, match_id, "match_postponed", |m| match m.status {
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
    change_schedule(db, bus, match_id, "match_cancelled", |m| match m.status {
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
    topic: &str,
    change: impl FnOnce(&mut football_match::Model) -> std::result::Result<(), String>,
) -> Result<football_match::Model> {
    let txn = db.begin().await?;
    // Touch first, to hold the write lock while we read and decide.
    football_match::Entity::update_many()
        .col_expr(football_match::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(football_match::Column::Id.eq(match_id))
        .exec(&txn)
        .await?;
    let mut current = football_match::Entity::find_by_id(match_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("match"))?;
    if let Err(message) = change(&mut current) {
        txn.rollback().await?;
        return Err(Error::invalid("matchId", message));
    }
    let mut active = current.clone().into_active_model();
    active.kickoff_at = Set(current.kickoff_at);
    active.status = Set(current.status);
    active.updated_at = Set(Utc::now());
    let updated = active.update(&txn).await?;
    enqueue(&txn, topic, json!({ "match_id": match_id })).await?;
    txn.commit().await?;
    publish(db, bus, &updated, None);
    Ok(updated)
}

/// The code of a competition: 2 to 10 letters or digits, stored upper case.
pub async fn create_competition(
    db: &impl ConnectionTrait,
    code: &str,
    name: &str,
    area: Option<&str>,
    kind: entity::CompetitionKind,
) -> Result<competition::Model> {
    let code = code.trim().to_uppercase();
    if !(2..=10).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::invalid(
            "input.code",
            "must be 2 to 10 letters or digits",
        ));
    }
    let name = required_text("input.name", name, 100)?;
    competition::ActiveModel {
        code: Set(code),
        name: Set(name),
        area: Set(area
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)),
        kind: Set(kind),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|err| crate::accounts::on_unique_violation(err, "input.code", "is already taken"))
}

pub async fn create_season(
    db: &impl ConnectionTrait,
    competition_id: i64,
    label: &str,
    start_date: Option<chrono::NaiveDate>,
    end_date: Option<chrono::NaiveDate>,
) -> Result<season::Model> {
    let label =
        crate::import::SeasonLabel::parse(label).map_err(|m| Error::invalid("input.label", m))?;
    if let (Some(start), Some(end)) = (start_date, end_date)
        && end < start
    {
        return Err(Error::invalid(
            "input.endDate",
            "must not be before startDate",
        ));
    }
    competition::Entity::find_by_id(competition_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("competition"))?;
    season::ActiveModel {
        competition_id: Set(competition_id),
        label: Set(label.as_str().to_owned()),
        start_date: Set(start_date),
        end_date: Set(end_date),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|err| {
        crate::accounts::on_unique_violation(
            err,
            "input.label",
            "the competition already has this season",
        )
    })
}

/// A team's editable details; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct TeamDetails {
    pub name: Option<String>,
    pub short_name: Option<String>,
    pub tla: Option<String>,
    pub area: Option<String>,
    pub founded: Option<i32>,
    pub venue: Option<String>,
    pub crest_url: Option<String>,
}

pub async fn create_team(db: &impl ConnectionTrait, details: TeamDetails) -> Result<team::Model> {
    let name = required_text(
        "input.name",
        details.name.as_deref().unwrap_or_default(),
        100,
    )?;
    let slug = crate::import::rules::slug(&name);
    if slug.is_empty() {
        return Err(Error::invalid(
            "input.name",
            "must contain letters or digits",
        ));
    }
    let now = Utc::now();
    let mut active = team::ActiveModel {
        name: Set(name),
        slug: Set(slug),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    apply_details(&mut active, &details)?;
    active.insert(db).await.map_err(|err| {
        crate::accounts::on_unique_violation(
            err,
            "input.name",
            "a team with this name already exists",
        )
    })
}

pub async fn update_team(
    db: &impl ConnectionTrait,
    team_id: i64,
    details: TeamDetails,
) -> Result<team::Model> {
    let current = team::Entity::find_by_id(team_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("team"))?;
    let mut active = current.into_active_model();
    if let Some(name) = &details.name {
        active.name = Set(required_text("input.name", name, 100)?);
    }
    apply_details(&mut active, &details)?;
    active.updated_at = Set(Utc::now());
    Ok(active.update(db).await?)
}

fn apply_details(active: &mut team::ActiveModel, details: &TeamDetails) -> Result<()> {
    if let Some(tla) = &details.tla {
        let tla = tla.trim().to_uppercase();
        if tla.len() != 3 || !tla.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(Error::invalid(
                "input.tla",
                "must be three letters, e.g. ARS",
            ));
        }
        active.tla = Set(Some(tla));
    }
    if let Some(founded) = details.founded {
        if !(1800..=2100).contains(&founded) {
            return Err(Error::invalid(
                "input.founded",
                "must be a year between 1800 and 2100",
            ));
        }
        active.founded = Set(Some(founded));
    }
    if let Some(url) = &details.crest_url {
        match url::Url::parse(url.trim()) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {
                active.crest_url = Set(Some(parsed.to_string()))
            }
            _ => {
                return Err(Error::invalid(
                    "input.crestUrl",
                    "must be an http or https URL",
                ));
            }
        }
    }
    for (field, value, column) in [
        (
            "input.shortName",
            &details.short_name,
            &mut active.short_name,
        ),
        ("input.area", &details.area, &mut active.area),
        ("input.venue", &details.venue, &mut active.venue),
    ] {
        if let Some(value) = value {
            *column = Set(Some(required_text(field, value, 100)?));
        }
    }
    Ok(())
}

pub async fn adjust_points(
    db: &impl ConnectionTrait,
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
    Ok(entity::points_adjustment::ActiveModel {
        season_id: Set(season_id),
        team_id: Set(team_id),
        points: Set(points),
        reason: Set(reason),
        effective_at: Set(effective_at.unwrap_or(now)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

fn required_text(field: &str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    Ok(value.to_owned())
}
