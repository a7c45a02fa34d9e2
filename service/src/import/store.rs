//! Writing a checked plan: find or create the competition, season and
//! teams, then create, update or leave each match.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{MatchStatus, competition, football_match, season, team};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter,
};

use super::openfootball::{MatchPlan, Plan};
use super::{ImportReport, OPENFOOTBALL, Skipped};

/// Rows per multi-row INSERT or `IN (...)` list: far below SQLite's and
/// PostgreSQL's limits on bound parameters.
const CHUNK: usize = 100;

pub(super) async fn apply(
    db: &impl ConnectionTrait,
    plan: Plan,
    report: &mut ImportReport,
) -> Result<(), DbErr> {
    let now = Utc::now();
    report.skipped = plan.skipped;
    report.warnings = plan.warnings;
    report.matches.skipped = report.skipped.len();

    let competition = competition(db, &plan.competition, report, now).await?;
    let season = season(db, competition.id, &plan.season, report, now).await?;
    let team_ids = teams(db, &plan.teams, report, now).await?;
    matches(db, season.id, &team_ids, plan.matches, report, now).await
}

async fn competition(
    db: &impl ConnectionTrait,
    plan: &super::openfootball::CompetitionPlan,
    report: &mut ImportReport,
    now: DateTime<Utc>,
) -> Result<competition::Model, DbErr> {
    let existing = competition::Entity::find()
        .filter(competition::Column::Code.eq(&plan.code))
        .one(db)
        .await?;
    let Some(existing) = existing else {
        report.competitions.created += 1;
        return competition::ActiveModel {
            code: Set(plan.code.clone()),
            name: Set(plan.name.clone()),
            area: Set(None),
            kind: Set(plan.kind),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await;
    };
    // Only what the operator said overrides a stored competition; a name or
    // kind inferred from one season's file must not rename it.
    let name = if plan.name_given {
        plan.name.clone()
    } else {
        existing.name.clone()
    };
    let kind = if plan.kind_given {
        plan.kind
    } else {
        existing.kind
    };
    if name == existing.name && kind == existing.kind {
        report.competitions.unchanged += 1;
        return Ok(existing);
    }
    report.competitions.updated += 1;
    let mut row = existing.into_active_model();
    row.name = Set(name);
    row.kind = Set(kind);
    row.update(db).await
}

async fn season(
    db: &impl ConnectionTrait,
    competition_id: i64,
    plan: &super::openfootball::SeasonPlan,
    report: &mut ImportReport,
    now: DateTime<Utc>,
) -> Result<season::Model, DbErr> {
    let existing = season::Entity::find()
        .filter(season::Column::CompetitionId.eq(competition_id))
        .filter(season::Column::Label.eq(&plan.label))
        .one(db)
        .await?;
    let Some(existing) = existing else {
        report.seasons.created += 1;
        return season::ActiveModel {
            competition_id: Set(competition_id),
            label: Set(plan.label.clone()),
            start_date: Set(Some(plan.start)),
            end_date: Set(Some(plan.end)),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await;
    };
    if existing.start_date == Some(plan.start) && existing.end_date == Some(plan.end) {
        report.seasons.unchanged += 1;
        return Ok(existing);
    }
    report.seasons.updated += 1;
    let mut row = existing.into_active_model();
    row.start_date = Set(Some(plan.start));
    row.end_date = Set(Some(plan.end));
    row.update(db).await
}

/// Team ids by slug.
async fn teams(
    db: &impl ConnectionTrait,
    plan: &[super::openfootball::TeamPlan],
    report: &mut ImportReport,
    now: DateTime<Utc>,
) -> Result<HashMap<String, i64>, DbErr> {
    let mut existing = HashMap::new();
    for chunk in plan.chunks(CHUNK) {
        let found = team::Entity::find()
            .filter(team::Column::Slug.is_in(chunk.iter().map(|t| t.slug.as_str())))
            .all(db)
            .await?;
        existing.extend(found.into_iter().map(|t| (t.slug.clone(), t)));
    }
    let mut ids = HashMap::with_capacity(plan.len());
    for wanted in plan {
        let id = match existing.remove(&wanted.slug) {
            // A team first met in a domestic file has no area; the country
            // an international file gives is worth keeping. A name already
            // stored stays, whatever spelling this file uses.
            Some(found) if found.area.is_none() && wanted.area.is_some() => {
                report.teams.updated += 1;
                let mut row = found.into_active_model();
                row.area = Set(wanted.area.clone());
                row.updated_at = Set(now);
                row.update(db).await?.id
            }
            Some(found) => {
                report.teams.unchanged += 1;
                found.id
            }
            None => {
                report.teams.created += 1;
                team::ActiveModel {
                    name: Set(wanted.name.clone()),
                    area: Set(wanted.area.clone()),
                    slug: Set(wanted.slug.clone()),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(db)
                .await?
                .id
            }
        };
        ids.insert(wanted.slug.clone(), id);
    }
    Ok(ids)
}

async fn matches(
    db: &impl ConnectionTrait,
    season_id: i64,
    team_ids: &HashMap<String, i64>,
    plan: Vec<MatchPlan>,
    report: &mut ImportReport,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut existing = HashMap::new();
    for chunk in plan.chunks(CHUNK) {
        let found = football_match::Entity::find()
            .filter(football_match::Column::ExternalSource.eq(OPENFOOTBALL))
            .filter(
                football_match::Column::ExternalRef
                    .is_in(chunk.iter().map(|m| m.external_ref.as_str())),
            )
            .all(db)
            .await?;
        existing.extend(
            found
                .into_iter()
                .filter_map(|m| Some((m.external_ref.clone()?, m))),
        );
    }

    let mut new_rows = Vec::new();
    for planned in plan {
        let team = |slug: &str| {
            team_ids
                .get(slug)
                .copied()
                .ok_or_else(|| DbErr::Custom(format!("team {slug} was planned but not stored")))
        };
        let values = MatchValues {
            season_id,
            round: Some(planned.round.round.clone()),
            matchday: planned.round.matchday,
            stage: planned.round.stage.clone(),
            group_name: planned.group.clone(),
            home_team_id: team(&planned.home_slug)?,
            away_team_id: team(&planned.away_slug)?,
            kickoff_at: planned.kickoff_at,
            kickoff_time_known: planned.kickoff_time_known,
            status: planned.status,
            home_score: planned.score.ft.map(|s| s.0),
            away_score: planned.score.ft.map(|s| s.1),
            half_time_home: planned.score.ht.map(|s| s.0),
            half_time_away: planned.score.ht.map(|s| s.1),
            extra_time_home: planned.score.et.map(|s| s.0),
            extra_time_away: planned.score.et.map(|s| s.1),
            penalties_home: planned.score.p.map(|s| s.0),
            penalties_away: planned.score.p.map(|s| s.1),
        };
        match existing.remove(&planned.external_ref) {
            None => {
                report.matches.created += 1;
                let mut row = football_match::ActiveModel {
                    minute: Set(None),
                    last_event_seq: Set(0),
                    schedule_revision: Set(0),
                    external_source: Set(Some(OPENFOOTBALL.to_owned())),
                    external_ref: Set(Some(planned.external_ref)),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                };
                values.write(&mut row);
                new_rows.push(row);
            }
            Some(found) if is_live(found.status) => {
                // The live feed owns a match in progress; a season file is
                // older news.
                report.matches.skipped += 1;
                report.skipped.push(Skipped {
                    at: planned.at,
                    reason: "the match is live in the database; left to the live feed".to_owned(),
                });
            }
            Some(found) if MatchValues::of(&found) == values => {
                report.matches.unchanged += 1;
            }
            Some(found) => {
                report.matches.updated += 1;
                let moved = moves_schedule(&found, &values);
                if moved && let Some(message) = schedule_change(&found, &values, now) {
                    crate::outbox::write(db, &message)
                        .await
                        .map_err(|e| DbErr::Custom(format!("writing an outbox row: {e}")))?;
                }
                let revision = found.schedule_revision + i32::from(moved);
                let mut row = found.into_active_model();
                row.schedule_revision = Set(revision);
                values.write(&mut row);
                row.updated_at = Set(now);
                row.update(db).await?;
            }
        }
    }
    for chunk in new_rows.chunks(CHUNK) {
        football_match::Entity::insert_many(chunk.iter().cloned())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// A new kick-off, or a match postponed, cancelled or back from either:
/// what a calendar must show as a new version of the match.
fn moves_schedule(stored: &football_match::Model, file: &MatchValues) -> bool {
    let off = |status| matches!(status, MatchStatus::Postponed | MatchStatus::Cancelled);
    stored.kickoff_at != file.kickoff_at
        || stored.kickoff_time_known != file.kickoff_time_known
        || (stored.status != file.status && (off(stored.status) || off(file.status)))
}

/// What a season file's change to a match's schedule tells its followers,
/// as the feed's own `rescheduleMatch`, `postponeMatch` and `cancelMatch`
/// would: nothing for a match whose kick-off was and is in the past (a
/// correction of history is not news).
fn schedule_change(
    stored: &football_match::Model,
    file: &MatchValues,
    now: DateTime<Utc>,
) -> Option<crate::outbox::Message> {
    use crate::outbox::Message;
    if stored.kickoff_at <= now && file.kickoff_at <= now {
        return None;
    }
    let match_id = stored.id;
    let was = Some(stored.kickoff_at);
    Some(match file.status {
        MatchStatus::Cancelled if stored.status != MatchStatus::Cancelled => {
            Message::MatchCancelled {
                match_id,
                kickoff_at: was,
            }
        }
        MatchStatus::Postponed if stored.status != MatchStatus::Postponed => {
            Message::MatchPostponed {
                match_id,
                kickoff_at: was,
            }
        }
        MatchStatus::Cancelled | MatchStatus::Postponed => return None,
        _ => Message::MatchRescheduled {
            match_id,
            previous_kickoff_at: was,
            kickoff_at: Some(file.kickoff_at),
        },
    })
}

fn is_live(status: MatchStatus) -> bool {
    matches!(
        status,
        MatchStatus::Live | MatchStatus::HalfTime | MatchStatus::ExtraTime | MatchStatus::Penalties
    )
}

/// The columns a season file decides, so a stored match can be compared
/// with the file's version of it.
#[derive(Debug, PartialEq, Eq)]
struct MatchValues {
    season_id: i64,
    round: Option<String>,
    matchday: Option<i32>,
    stage: Option<String>,
    group_name: Option<String>,
    home_team_id: i64,
    away_team_id: i64,
    kickoff_at: DateTime<Utc>,
    kickoff_time_known: bool,
    status: MatchStatus,
    home_score: Option<i32>,
    away_score: Option<i32>,
    half_time_home: Option<i32>,
    half_time_away: Option<i32>,
    extra_time_home: Option<i32>,
    extra_time_away: Option<i32>,
    penalties_home: Option<i32>,
    penalties_away: Option<i32>,
}

impl MatchValues {
    fn of(m: &football_match::Model) -> Self {
        Self {
            season_id: m.season_id,
            round: m.round.clone(),
            matchday: m.matchday,
            stage: m.stage.clone(),
            group_name: m.group_name.clone(),
            home_team_id: m.home_team_id,
            away_team_id: m.away_team_id,
            kickoff_at: m.kickoff_at,
            kickoff_time_known: m.kickoff_time_known,
            status: m.status,
            home_score: m.home_score,
            away_score: m.away_score,
            half_time_home: m.half_time_home,
            half_time_away: m.half_time_away,
            extra_time_home: m.extra_time_home,
            extra_time_away: m.extra_time_away,
            penalties_home: m.penalties_home,
            penalties_away: m.penalties_away,
        }
    }

    fn write(self, row: &mut football_match::ActiveModel) {
        row.season_id = Set(self.season_id);
        row.round = Set(self.round);
        row.matchday = Set(self.matchday);
        row.stage = Set(self.stage);
        row.group_name = Set(self.group_name);
        row.home_team_id = Set(self.home_team_id);
        row.away_team_id = Set(self.away_team_id);
        row.kickoff_at = Set(self.kickoff_at);
        row.kickoff_time_known = Set(self.kickoff_time_known);
        row.status = Set(self.status);
        row.home_score = Set(self.home_score);
        row.away_score = Set(self.away_score);
        row.half_time_home = Set(self.half_time_home);
        row.half_time_away = Set(self.half_time_away);
        row.extra_time_home = Set(self.extra_time_home);
        row.extra_time_away = Set(self.extra_time_away);
        row.penalties_home = Set(self.penalties_home);
        row.penalties_away = Set(self.penalties_away);
    }
}
