//! Daily and weekly digests: the followed teams' fixtures and results for
//! the period, league positions in the weekly one, and whatever quiet
//! hours held back since the last digest.
//!
//! A digest run is one transaction. It first claims `(user, kind, period)`
//! in `digest_runs` (a unique index), then writes the digest, folds the held
//! notifications into it, and commits. A crash before the commit leaves
//! nothing behind, so the run can simply happen again. A second run of the
//! same period, by a retry, a second worker or a back-fill, finds the claim
//! and writes nothing.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Days, Utc};
use chrono_tz::Tz;
use entity::{
    CompetitionKind, MatchStatus, competition, digest_run, follow, football_match, notification,
    notification_preference as prefs, season, team, user,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, ConnectionTrait, DatabaseConnection,
    EntityTrait as _, QueryFilter, QueryOrder as _, TransactionTrait as _,
};
use serde_json::json;

use super::period::{self, DigestKind, Occurrence};
use super::schedule::Schedule;
use super::{Draft, Written};
use crate::accounts::spoilers::Shown;
use crate::{Error, Result};

/// What a digest run did.
#[derive(Debug)]
pub enum Outcome {
    /// The digest was written; its email and webhook deliveries are pending.
    Sent(Box<Written>),
    /// The period was handled, but there was nothing to tell.
    NothingToReport,
    /// Another run already handled this period.
    AlreadyDone,
}

/// A digest run: what it did, for which period.
#[derive(Debug)]
pub struct Run {
    pub outcome: Outcome,
    /// The user's local date (`2026-03-29`) or ISO week (`2026-W13`).
    pub period: String,
}

/// Runs the user's digest of `kind` for the period that `as_of` falls in.
pub async fn run(
    db: &DatabaseConnection,
    user_id: i64,
    kind: DigestKind,
    as_of: DateTime<Utc>,
) -> Result<Run> {
    let user = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("user"))?;
    let preferences = prefs::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("notification preferences"))?;
    let schedule = Schedule::read(&user, &preferences)?;
    let tz = schedule.tz;
    let occurrence = occurrence(kind, &schedule, as_of);
    // The claim is the transaction's first statement: on SQLite a write
    // first takes the write lock (waiting for it), where a read first
    // would fail against a writer that committed in between.
    let txn = db.begin().await?;
    let claim = digest_run::ActiveModel {
        user_id: Set(user_id),
        kind: Set(kind.notification_kind()),
        period: Set(occurrence.period.clone()),
        notification_id: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    let claimed = digest_run::Entity::insert(claim)
        .on_conflict_do_nothing_on([
            digest_run::Column::UserId,
            digest_run::Column::Kind,
            digest_run::Column::Period,
        ])
        .exec_without_returning(&txn)
        .await?;
    if !super::inserted(claimed) {
        txn.rollback().await?;
        return Ok(Run {
            outcome: Outcome::AlreadyDone,
            period: occurrence.period,
        });
    };

    let run = digest_run::Entity::find()
        .filter(digest_run::Column::UserId.eq(user_id))
        .filter(digest_run::Column::Kind.eq(kind.notification_kind()))
        .filter(digest_run::Column::Period.eq(occurrence.period.clone()))
        .one(&txn)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("a claimed digest run vanished")))?;
    let content = gather(&txn, user_id, kind, tz, &occurrence).await?;
    if content.is_empty() {
        txn.commit().await?;
        return Ok(Run {
            outcome: Outcome::NothingToReport,
            period: occurrence.period,
        });
    }
    let draft = render(kind, tz, &occurrence, &content);
    let Some(written) = super::write(&txn, &preferences, draft, false, Utc::now()).await? else {
        // The digest exists though its run did not: written by an older
        // release or by hand. Either way it went out already.
        txn.commit().await?;
        return Ok(Run {
            outcome: Outcome::AlreadyDone,
            period: occurrence.period,
        });
    };
    let held_ids: Vec<i64> = content.held.iter().map(|n| n.id).collect();
    if !held_ids.is_empty() {
        notification::Entity::update_many()
            .col_expr(
                notification::Column::FoldedIntoId,
                Expr::value(written.notification.id),
            )
            .filter(notification::Column::Id.is_in(held_ids))
            .exec(&txn)
            .await?;
    }
    digest_run::Entity::update_many()
        .col_expr(
            digest_run::Column::NotificationId,
            Expr::value(written.notification.id),
        )
        .filter(digest_run::Column::Id.eq(run.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Run {
        outcome: Outcome::Sent(Box::new(written)),
        period: occurrence.period,
    })
}

/// The period `as_of` falls in for this user's digest of `kind`.
pub fn occurrence(kind: DigestKind, schedule: &Schedule, as_of: DateTime<Utc>) -> Occurrence {
    let tz = schedule.tz;
    match kind {
        DigestKind::Daily => period::latest_daily(tz, schedule.daily_time, as_of),
        DigestKind::Weekly => {
            period::latest_weekly(tz, schedule.weekly_day, schedule.weekly_time, as_of)
        }
    }
}

/// The users whose digest of `kind` is due at `now`: turned on, and whose
/// latest digest time passed no longer ago than `catch_up`, with no run
/// for that period yet.
pub async fn due(
    db: &impl ConnectionTrait,
    kind: DigestKind,
    now: DateTime<Utc>,
    catch_up: chrono::Duration,
    only_user: Option<i64>,
) -> Result<Vec<(i64, Occurrence)>> {
    let enabled = match kind {
        DigestKind::Daily => prefs::Column::DailyEnabled,
        DigestKind::Weekly => prefs::Column::WeeklyEnabled,
    };
    let mut query = prefs::Entity::find()
        .find_also_related(user::Entity)
        .filter(enabled.eq(true));
    if let Some(user_id) = only_user {
        query = query.filter(prefs::Column::UserId.eq(user_id));
    }
    let rows = query.all(db).await?;
    let mut candidates = Vec::new();
    for (preferences, user) in rows {
        let Some(user) = user else { continue };
        let Some(schedule) = Schedule::read_or_skip(&user, &preferences, "digest") else {
            continue;
        };
        let occurrence = occurrence(kind, &schedule, now);
        if now - occurrence.at <= catch_up {
            candidates.push((user.id, occurrence));
        }
    }
    if candidates.is_empty() {
        return Ok(candidates);
    }
    // Candidates' periods are a handful of dates (or weeks) around `now`;
    // only those periods' runs matter, however long the history grows.
    let periods: HashSet<&str> = candidates.iter().map(|(_, o)| o.period.as_str()).collect();
    let done: HashSet<(i64, String)> = digest_run::Entity::find()
        .filter(digest_run::Column::Kind.eq(kind.notification_kind()))
        .filter(digest_run::Column::Period.is_in(periods))
        .all(db)
        .await?
        .into_iter()
        .map(|run| (run.user_id, run.period))
        .collect();
    candidates
        .retain(|(user_id, occurrence)| !done.contains(&(*user_id, occurrence.period.clone())));
    Ok(candidates)
}

/// Why `due` finds no digest of `kind` for this user at `now`, in words
/// for an operator who asked for that one user.
pub async fn why_not_due(
    db: &impl ConnectionTrait,
    kind: DigestKind,
    now: DateTime<Utc>,
    catch_up: chrono::Duration,
    user_id: i64,
) -> Result<String> {
    let (Some(preferences), Some(user)) = (
        prefs::Entity::find_by_id(user_id).one(db).await?,
        user::Entity::find_by_id(user_id).one(db).await?,
    ) else {
        return Err(Error::not_found("notification preferences"));
    };
    let enabled = match kind {
        DigestKind::Daily => preferences.daily_enabled,
        DigestKind::Weekly => preferences.weekly_enabled,
    };
    let kind_name = kind.as_str();
    if !enabled {
        return Ok(format!(
            "their {kind_name} digest is off; updateNotificationPreferences turns it on"
        ));
    }
    let schedule = Schedule::read(&user, &preferences)?;
    let tz = schedule.tz;
    let occurrence = occurrence(kind, &schedule, now);
    if now - occurrence.at > catch_up {
        return Ok(format!(
            "their last {kind_name} digest time before then, {} ({tz}), was more than \
             DIGEST_CATCH_UP_HOURS ({} h) earlier",
            occurrence.at.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
            catch_up.num_hours(),
        ));
    }
    Ok(format!(
        "their {kind_name} digest for {} was already handled",
        occurrence.period
    ))
}

/// Whether the user follows any team; without one a digest has nothing
/// to report.
pub async fn follows_a_team(db: &impl ConnectionTrait, user_id: i64) -> Result<bool> {
    Ok(follow::Entity::find()
        .filter(follow::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .is_some())
}

/// What one digest tells.
#[derive(Debug, Default)]
struct Content {
    fixtures: Vec<football_match::Model>,
    results: Vec<football_match::Model>,
    positions: Vec<crate::standings::Row>,
    held: Vec<notification::Model>,
    teams: HashMap<i64, team::Model>,
    /// What of the results the user may see (spoiler-free mode).
    shown: Shown,
}

impl Content {
    /// League positions alone are not news.
    fn is_empty(&self) -> bool {
        self.fixtures.is_empty() && self.results.is_empty() && self.held.is_empty()
    }

    fn name(&self, team_id: i64) -> &str {
        self.teams
            .get(&team_id)
            .map(|t| t.short_name.as_deref().unwrap_or(&t.name))
            .unwrap_or("?")
    }
}

async fn gather(
    db: &impl ConnectionTrait,
    user_id: i64,
    kind: DigestKind,
    tz: Tz,
    occurrence: &Occurrence,
) -> Result<Content> {
    let followed: Vec<i64> = follow::Entity::find()
        .filter(follow::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|f| f.team_id)
        .collect();
    // Daily: today's fixtures and yesterday's results, in local days.
    // Weekly: the next seven days' fixtures and the last seven days' results.
    let (fixtures_from, fixtures_to, results_from, results_to) = match kind {
        DigestKind::Daily => {
            let today = period::start_of_day(tz, occurrence.local_date);
            let tomorrow = period::start_of_day(tz, occurrence.local_date + Days::new(1));
            let yesterday = period::start_of_day(tz, occurrence.local_date - Days::new(1));
            (today, tomorrow, yesterday, today)
        }
        DigestKind::Weekly => {
            let week = chrono::Duration::days(7);
            (
                occurrence.at,
                occurrence.at + week,
                occurrence.at - week,
                occurrence.at,
            )
        }
    };
    let mut content = Content {
        shown: Shown::for_user(db, user_id).await?,
        ..Content::default()
    };
    if !followed.is_empty() {
        content.fixtures = matches_of(db, &followed, fixtures_from, fixtures_to)
            .await?
            .into_iter()
            .filter(|m| {
                !matches!(
                    m.status,
                    MatchStatus::Postponed | MatchStatus::Cancelled | MatchStatus::Finished
                )
            })
            .collect();
        content.results = matches_of(db, &followed, results_from, results_to)
            .await?
            .into_iter()
            .filter(|m| m.status == MatchStatus::Finished)
            .collect();
    }
    content.held = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::Held.eq(true))
        .filter(notification::Column::FoldedIntoId.is_null())
        .order_by_asc(notification::Column::Id)
        .all(db)
        .await?;
    // A table tells results: none for a user keeping them away.
    if kind == DigestKind::Weekly && !content.is_empty() && content.shown == Shown::Everything {
        content.positions = positions(db, &followed, occurrence.at).await?;
    }
    let team_ids: HashSet<i64> = content
        .fixtures
        .iter()
        .chain(&content.results)
        .flat_map(|m| [m.home_team_id, m.away_team_id])
        .collect();
    content.teams = team::Entity::find()
        .filter(team::Column::Id.is_in(team_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    Ok(content)
}

async fn matches_of(
    db: &impl ConnectionTrait,
    teams: &[i64],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<football_match::Model>> {
    use football_match::Column as M;
    Ok(football_match::Entity::find()
        .filter(
            Condition::any()
                .add(M::HomeTeamId.is_in(teams.iter().copied()))
                .add(M::AwayTeamId.is_in(teams.iter().copied())),
        )
        .filter(M::KickoffAt.gte(from))
        .filter(M::KickoffAt.lt(to))
        .order_by_asc(M::KickoffAt)
        .order_by_asc(M::Id)
        .all(db)
        .await?)
}

/// Each followed team's place in the league season it plays in now (its
/// latest league match up to a week ahead), as the table stood at `as_of`.
async fn positions(
    db: &impl ConnectionTrait,
    teams: &[i64],
    as_of: DateTime<Utc>,
) -> Result<Vec<crate::standings::Row>> {
    use football_match::Column as M;
    let leagues: Vec<i64> = competition::Entity::find()
        .filter(competition::Column::Kind.eq(CompetitionKind::League))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let mut tables: HashMap<i64, Vec<crate::standings::Row>> = HashMap::new();
    let mut positions = Vec::new();
    for &team_id in teams {
        let latest = football_match::Entity::find()
            .find_also_related(season::Entity)
            .filter(
                Condition::any()
                    .add(M::HomeTeamId.eq(team_id))
                    .add(M::AwayTeamId.eq(team_id)),
            )
            .filter(M::KickoffAt.lte(as_of + chrono::Duration::days(7)))
            .filter(season::Column::CompetitionId.is_in(leagues.iter().copied()))
            .order_by_desc(M::KickoffAt)
            .one(db)
            .await?;
        let Some((_, Some(season))) = latest else {
            continue;
        };
        let table = match tables.entry(season.id) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => entry.insert(
                crate::standings::table(db, season.id, crate::standings::Counting::AsOf(as_of))
                    .await?,
            ),
        };
        if let Some(row) = table.iter().find(|r| r.team.id == team_id) {
            positions.push(row.clone());
        }
    }
    Ok(positions)
}

fn render(kind: DigestKind, tz: Tz, occurrence: &Occurrence, content: &Content) -> Draft {
    let local = |at: DateTime<Utc>| at.with_timezone(&tz);
    let mut lines = Vec::new();
    let (fixtures_heading, results_heading) = match kind {
        DigestKind::Daily => ("Today", "Yesterday"),
        DigestKind::Weekly => ("The next seven days", "The last seven days"),
    };
    let fixture_line = |m: &football_match::Model| {
        let when = match kind {
            DigestKind::Daily => local(m.kickoff_at).format("%H:%M"),
            DigestKind::Weekly => local(m.kickoff_at).format("%a %e %b %H:%M"),
        };
        format!(
            "{when}  {} v {}",
            content.name(m.home_team_id),
            content.name(m.away_team_id)
        )
    };
    let result_line = |m: &football_match::Model| {
        let (home, away) = (content.name(m.home_team_id), content.name(m.away_team_id));
        if content.shown.hides(m) {
            return format!("{home} v {away} (result hidden)");
        }
        let (home_goals, away_goals) = crate::matches::final_score(m).unwrap_or_default();
        format!("{home} {home_goals}-{away_goals} {away}")
    };
    if !content.fixtures.is_empty() {
        lines.push(format!("{fixtures_heading} ({})", tz.name()));
        lines.extend(
            content
                .fixtures
                .iter()
                .map(|m| format!("  {}", fixture_line(m))),
        );
    }
    if !content.results.is_empty() {
        lines.push(results_heading.to_owned());
        lines.extend(
            content
                .results
                .iter()
                .map(|m| format!("  {}", result_line(m))),
        );
    }
    if !content.positions.is_empty() {
        lines.push("League positions".to_owned());
        lines.extend(content.positions.iter().map(|row| {
            format!(
                "  {}. {} ({} pts from {})",
                row.position, row.team.name, row.points, row.played
            )
        }));
    }
    if !content.held.is_empty() {
        lines.push("During your quiet hours".to_owned());
        lines.extend(
            content
                .held
                .iter()
                .map(|n| format!("  {}: {}", n.title, n.body)),
        );
    }
    let day = occurrence.local_date.format("%A %-d %B %Y");
    let title = match kind {
        DigestKind::Daily => format!("Your daily digest for {day}"),
        DigestKind::Weekly => format!("Your weekly digest, week of {day}"),
    };
    let fixture_json = |m: &football_match::Model| {
        json!({
            "matchId": m.id,
            "homeTeam": content.name(m.home_team_id),
            "awayTeam": content.name(m.away_team_id),
            "kickoffAt": m.kickoff_at.to_rfc3339(),
            "localKickoff": local(m.kickoff_at).to_rfc3339(),
        })
    };
    let result_json = |m: &football_match::Model| {
        let hidden = content.shown.hides(m);
        let score = (!hidden).then(|| crate::matches::final_score(m)).flatten();
        json!({
            "matchId": m.id,
            "homeTeam": content.name(m.home_team_id),
            "awayTeam": content.name(m.away_team_id),
            "homeScore": score.map(|s| s.0),
            "awayScore": score.map(|s| s.1),
            "hidden": hidden,
        })
    };
    let payload = json!({
        "kind": kind.as_str(),
        "period": occurrence.period,
        "timeZone": tz.name(),
        "fixtures": content.fixtures.iter().map(fixture_json).collect::<Vec<_>>(),
        "results": content.results.iter().map(result_json).collect::<Vec<_>>(),
        "positions": content.positions.iter().map(|row| json!({
            "teamId": row.team.id,
            "team": row.team.name,
            "position": row.position,
            "points": row.points,
            "played": row.played,
        })).collect::<Vec<_>>(),
        "heldBack": content.held.iter().map(|n| json!({
            "notificationId": n.id,
            "kind": n.kind,
            "title": n.title,
            "body": n.body,
            "payload": n.payload,
        })).collect::<Vec<_>>(),
    });
    Draft {
        kind: kind.notification_kind(),
        dedupe_key: format!("digest:{}:{}", kind.as_str(), occurrence.period),
        title,
        body: lines.join("\n"),
        payload,
    }
}
