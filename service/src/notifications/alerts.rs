//! Live alerts, kick-off reminders and schedule changes: one notification
//! per follower of the match (see `audience`) who asked for it, held back
//! during their quiet hours.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use entity::{MatchEventKind, MatchStatus, NotificationKind, football_match, match_event, team};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, EntityTrait as _, QueryFilter,
    TransactionTrait as _,
};
use serde_json::json;
use tracing::Instrument as _;

pub mod delay;

use super::audience::{self, Follower};
use super::schedule::Schedule;
use super::{Draft, Written};
use crate::Result;
use crate::outbox::Score;

/// Where alerts go as they are written: each batch of followers, once
/// committed, so the caller can announce them while the next batch is
/// written (and gather their deliveries to queue once all are).
pub type Told = tokio::sync::mpsc::Sender<Vec<Written>>;

/// The alerts for one recorded match event, telling `score`, the score
/// just after it (or, without one, the match's score now). A correction (a
/// goal taken back) goes to those who asked for the kind of event it
/// corrects. Returns how many were written.
pub async fn for_event(
    db: &DatabaseConnection,
    event_id: i64,
    score: Option<Score>,
    now: DateTime<Utc>,
    told: &Told,
) -> Result<usize> {
    let Some(event) = match_event::Entity::find_by_id(event_id).one(db).await? else {
        return Ok(0);
    };
    let Some(game) = football_match::Entity::find_by_id(event.match_id)
        .one(db)
        .await?
    else {
        return Ok(0);
    };
    let corrected = match event.corrects_event_id {
        Some(id) => match_event::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    // The kind a follower must have asked for to hear of this event: for
    // a correction, that of the event it takes back (or CORRECTION itself).
    let wanted = corrected.as_ref().map_or(event.kind, |c| c.kind);
    let names = team_names(db, &game).await?;
    let score = score.unwrap_or(Score {
        home: game.home_score.unwrap_or(0),
        away: game.away_score.unwrap_or(0),
    });
    let draft = event_draft(&event, corrected.as_ref(), &game, score, &names);
    // A line-up or a kick-off tells no result; anything later does, and
    // spoiler-free followers hear of it only for a match they revealed.
    let tells_result = !matches!(
        event.kind,
        MatchEventKind::Lineups | MatchEventKind::KickOff
    );
    let revealed = if tells_result {
        crate::accounts::spoilers::revealed_by(db, game.id).await?
    } else {
        Default::default()
    };
    // The full-time event that ends a shoot-out tells its result, to those
    // who asked for the shoot-out too.
    let shootout_result = event.kind == MatchEventKind::FullTime && game.penalties_home.is_some();
    let corrects = corrected.is_some();
    let asked = move |f: &Follower| {
        let p = &f.preferences;
        p.live_enabled
            && (f.asked.hears(wanted)
                || (shootout_result && f.asked.hears(MatchEventKind::PenaltyShootout))
                || (corrects && f.asked.hears(MatchEventKind::Correction)))
            && (!tells_result || !p.spoiler_free || revealed.contains(&p.user_id))
    };
    // Each follower with a stream delay hears of it that long after it
    // was recorded, when their broadcast shows it.
    let held_from = Some(event.created_at);
    write_all(
        db,
        &game,
        asked,
        move |_| draft.clone(),
        held_from,
        now,
        told,
    )
    .await
}

/// The reminders for a match that kicks off at `kickoff_at`, unless it was
/// moved, postponed or cancelled since the reminder was scheduled.
pub async fn for_kickoff(
    db: &DatabaseConnection,
    match_id: i64,
    kickoff_at: DateTime<Utc>,
    now: DateTime<Utc>,
    told: &Told,
) -> Result<Option<usize>> {
    let Some(game) = football_match::Entity::find_by_id(match_id).one(db).await? else {
        return Ok(None);
    };
    if game.status != MatchStatus::Scheduled || game.kickoff_at != kickoff_at {
        return Ok(None);
    }
    let names = team_names(db, &game).await?;
    let (home, away) = (
        name(&names, game.home_team_id),
        name(&names, game.away_team_id),
    );
    let minutes = (kickoff_at - now).num_minutes().max(0);
    let draft = Draft {
        kind: NotificationKind::KickoffReminder,
        dedupe_key: format!("kickoff:{}:{}", game.id, kickoff_at.timestamp()),
        title: format!("{home} v {away} kicks off soon"),
        body: format!("Kick-off in {minutes} minutes."),
        payload: json!({
            "matchId": game.id,
            "homeTeam": home,
            "awayTeam": away,
            "kickoffAt": kickoff_at.to_rfc3339(),
        }),
    };
    let asked = |f: &Follower| f.preferences.live_enabled && f.follows_closely;
    Ok(Some(
        write_all(db, &game, asked, move |_| draft.clone(), None, now, told).await?,
    ))
}

/// What happened to a match's kick-off, as its outbox row tells it. A
/// time is `None` in rows written before it was kept; the match's kick-off
/// as it stands stands in for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScheduleChange {
    Moved {
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    },
    Postponed {
        was: Option<DateTime<Utc>>,
    },
    Cancelled {
        was: Option<DateTime<Utc>>,
    },
}

/// The alerts for one change to a match's schedule, to the followers of
/// either team who kept schedule-change alerts on, each with the kick-offs
/// in their own zone. `change_id` (the outbox row's) names the change, so
/// the same change read twice alerts once, and each later one alerts again.
pub async fn for_schedule_change(
    db: &DatabaseConnection,
    change_id: i64,
    match_id: i64,
    change: ScheduleChange,
    now: DateTime<Utc>,
    told: &Told,
) -> Result<usize> {
    let Some(game) = football_match::Entity::find_by_id(match_id).one(db).await? else {
        return Ok(0);
    };
    let names = team_names(db, &game).await?;
    let asked = |f: &Follower| f.preferences.schedule_change_enabled && f.follows_closely;
    let changed = game.clone();
    let draft = move |schedule: &Schedule| {
        schedule_change_draft(change_id, &changed, &names, change, schedule.tz)
    };
    write_all(db, &game, asked, draft, None, now, told).await
}

fn schedule_change_draft(
    change_id: i64,
    game: &football_match::Model,
    names: &HashMap<i64, String>,
    change: ScheduleChange,
    tz: Tz,
) -> Draft {
    let fixture = format!(
        "{} v {}",
        name(names, game.home_team_id),
        name(names, game.away_team_id)
    );
    let local = |at: DateTime<Utc>| at.with_timezone(&tz).format("%a %-d %b %H:%M");
    let zone = tz.name();
    let (what, previous, next, body) = match change {
        ScheduleChange::Moved { from, to } => {
            let to = to.unwrap_or(game.kickoff_at);
            let body = match from {
                Some(from) => format!(
                    "{fixture} moved from {} to {} ({zone}).",
                    local(from),
                    local(to)
                ),
                None => format!("{fixture} moved to {} ({zone}).", local(to)),
            };
            ("RESCHEDULED", from, Some(to), body)
        }
        ScheduleChange::Postponed { was } => {
            let was = was.unwrap_or(game.kickoff_at);
            let body = format!("{fixture} on {} ({zone}) is postponed.", local(was));
            ("POSTPONED", Some(was), None, body)
        }
        ScheduleChange::Cancelled { was } => {
            let was = was.unwrap_or(game.kickoff_at);
            let body = format!("{fixture} on {} ({zone}) is cancelled.", local(was));
            ("CANCELLED", Some(was), None, body)
        }
    };
    let title = match change {
        ScheduleChange::Moved { .. } => format!("{fixture} moved"),
        ScheduleChange::Postponed { .. } => format!("{fixture} postponed"),
        ScheduleChange::Cancelled { .. } => format!("{fixture} cancelled"),
    };
    Draft {
        kind: NotificationKind::ScheduleChange,
        dedupe_key: format!("schedule:{change_id}"),
        title,
        body,
        payload: json!({
            "matchId": game.id,
            "change": what,
            "homeTeam": name(names, game.home_team_id),
            "awayTeam": name(names, game.away_team_id),
            "previousKickoffAt": previous.map(|t| t.to_rfc3339()),
            "kickoffAt": next.map(|t| t.to_rfc3339()),
            "timeZone": zone,
        }),
    }
}

/// Writes the draft of each follower of `game` (through any follow that
/// covers it, each once) who `asked` for it, a
/// batch of followers per transaction, and hands each batch to `told` once
/// committed: the first fans hear of it while the last are written. A
/// crash leaves whole batches; a replay skips the followers already
/// written (their dedupe key) and writes the rest. With `held_from` (when
/// a match event happened), followers with a stream delay are held back
/// until that long after it (`delay`).
async fn write_all(
    db: &DatabaseConnection,
    game: &football_match::Model,
    asked: impl Fn(&Follower) -> bool + Send + Sync + 'static,
    draft: impl Fn(&Schedule) -> Draft + Send + Sync + 'static,
    held_from: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    told: &Told,
) -> Result<usize> {
    let coverage = Arc::new(audience::Coverage::of(db, game).await?);
    let ids = audience::of_match(db, &coverage).await?;
    let (asked, draft) = (Arc::new(asked), Arc::new(draft));
    // Batches side by side, each a task of its own: one batch's round
    // trips and commit leave the database idle that another batch's
    // inserts can use, and the worker's share of a batch (reading the
    // followers, building the rows) runs on every core rather than one.
    // A batch that fails ends the others (the set aborts them, and each
    // open transaction rolls back); a replay skips whoever was written.
    let mut batches = ids.chunks(super::WRITE_BATCH);
    let mut writers = tokio::task::JoinSet::new();
    let mut count = 0;
    loop {
        while writers.len() < WRITERS {
            let Some(batch) = batches.next() else { break };
            let batch = batch.to_vec();
            let (db, coverage, told) = (db.clone(), coverage.clone(), told.clone());
            let (asked, draft) = (asked.clone(), draft.clone());
            writers.spawn(
                async move {
                    write_batch(
                        &db, &coverage, &batch, &*asked, &*draft, held_from, now, &told,
                    )
                    .await
                }
                .in_current_span(),
            );
        }
        let Some(done) = writers.join_next().await else {
            return Ok(count);
        };
        count += done.map_err(|err| crate::Error::Internal(err.into()))??;
    }
}

/// One batch of `write_all`, in a transaction of its own.
async fn write_batch(
    db: &DatabaseConnection,
    coverage: &audience::Coverage,
    batch: &[i64],
    asked: &(impl Fn(&Follower) -> bool + Sync),
    draft: &(impl Fn(&Schedule) -> Draft + Sync),
    held_from: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    told: &Told,
) -> Result<usize> {
    let followers = audience::load_followers(db, coverage, batch).await?;
    let items: Vec<_> = followers
        .iter()
        .filter(|follower| asked(follower))
        .filter_map(
            |Follower {
                 preferences, user, ..
             }| {
                let schedule = Schedule::read_or_skip(user, preferences, "alert")?;
                Some((preferences, draft(&schedule), schedule.is_quiet(now)))
            },
        )
        .collect();
    if items.is_empty() {
        return Ok(0);
    }
    // The fans of this batch with a stream delay, whose deliveries are
    // written held back: usually none, and then the batch costs what it
    // always did.
    let releases = match held_from {
        Some(occurred_at) => delay::releases(items.iter().map(|(p, _, _)| *p), occurred_at, now),
        None => HashMap::new(),
    };
    let txn = db.begin().await?;
    let written = super::write_many(&txn, items, &releases, now).await?;
    txn.commit().await?;
    let count = written.len();
    if !written.is_empty() && told.send(written).await.is_err() {
        tracing::warn!(
            "alerts were written but nobody is telling them; the sweep will queue their deliveries"
        );
    }
    Ok(count)
}

/// Batches of one alert written at once, each in its own transaction and
/// task.
const WRITERS: usize = 4;

async fn team_names(
    db: &impl ConnectionTrait,
    game: &football_match::Model,
) -> Result<HashMap<i64, String>> {
    Ok(team::Entity::find()
        .filter(team::Column::Id.is_in([game.home_team_id, game.away_team_id]))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.short_name.unwrap_or(t.name)))
        .collect())
}

fn name(names: &HashMap<i64, String>, team_id: i64) -> String {
    names.get(&team_id).cloned().unwrap_or_else(|| "?".into())
}

fn event_draft(
    event: &match_event::Model,
    corrected: Option<&match_event::Model>,
    game: &football_match::Model,
    score: Score,
    names: &HashMap<i64, String>,
) -> Draft {
    let (home, away) = (
        name(names, game.home_team_id),
        name(names, game.away_team_id),
    );
    let line = format!("{home} {}-{} {away}", score.home, score.away);
    let minute = event
        .minute
        .map(|m| match event.added_time {
            Some(added) if added > 0 => format!("{m}+{added}'"),
            _ => format!("{m}'"),
        })
        .unwrap_or_default();
    let who = event
        .player
        .as_deref()
        .map(|p| format!(" ({p})"))
        .unwrap_or_default();
    if event.kind == MatchEventKind::Lineups {
        return lineups_draft(event, game, names);
    }
    let detail = event
        .detail
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    let headline = |what: &str| {
        [what, minute.as_str(), who.trim()]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    use MatchEventKind as K;
    let (kind, title, body) = match corrected {
        Some(original) => (
            NotificationKind::Correction,
            format!(
                "Correction: {} taken back",
                describe(original.kind).to_lowercase()
            ),
            format!(
                "{line}.{}",
                detail
                    .map(|d| format!(" {}", full_stop(d)))
                    .unwrap_or_default()
            ),
        ),
        None => {
            let (title, body) = match event.kind {
                K::PenaltyAwarded => {
                    let team = event.team_id.map(|id| name(names, id)).unwrap_or_default();
                    let title = format!("Penalty to {team} {minute}").trim().to_owned();
                    let why = detail
                        .map(|d| format!(" {}", full_stop(d)))
                        .unwrap_or_default();
                    (title, format!("{line}.{why}"))
                }
                K::VarCheck => {
                    let what = detail.map_or_else(|| "an incident.".to_owned(), full_stop);
                    (
                        headline("VAR check"),
                        format!("{line}. VAR is checking {what}"),
                    )
                }
                K::VarDecision => {
                    let what = detail.map_or_else(|| "the check is over.".to_owned(), full_stop);
                    (headline("VAR decision"), format!("{line}. VAR: {what}"))
                }
                K::HalfTime => ("Half-time".to_owned(), format!("{line} at half-time.")),
                K::SecondHalf => (
                    "Second half".to_owned(),
                    format!("{line}: the second half is under way."),
                ),
                K::ExtraTime => (
                    "Extra time".to_owned(),
                    format!("{line} after 90 minutes: extra time begins."),
                ),
                K::PenaltyShootout => (
                    "Penalty shoot-out".to_owned(),
                    format!("{line}: a penalty shoot-out decides it."),
                ),
                K::FullTime => full_time_words(game, &line, &home, &away),
                other => (headline(describe(other)), format!("{line}.")),
            };
            (NotificationKind::LiveEvent, title, body)
        }
    };
    Draft {
        kind,
        dedupe_key: format!("event:{}", event.id),
        title,
        body,
        payload: json!({
            "matchId": game.id,
            "eventId": event.id,
            "eventKind": event.kind,
            "correctsEventId": event.corrects_event_id,
            "minute": event.minute,
            "detail": event.detail,
            "homeTeam": home,
            "awayTeam": away,
            "homeScore": score.home,
            "awayScore": score.away,
            "homePenalties": game.penalties_home,
            "awayPenalties": game.penalties_away,
        }),
    }
}

/// The final whistle in words: after extra time, and who won a shoot-out
/// and by how much.
fn full_time_words(
    game: &football_match::Model,
    line: &str,
    home: &str,
    away: &str,
) -> (String, String) {
    let title = match shootout_winner(game, home, away) {
        Some(winner) => format!("Full-time: {winner} win on penalties"),
        None => "Full-time".to_owned(),
    };
    (title, format!("{line}{}.", how_it_ended(game, home, away)))
}

/// Who won the match's shoot-out, when it had one with a winner.
fn shootout_winner<'a>(
    game: &football_match::Model,
    home: &'a str,
    away: &'a str,
) -> Option<&'a str> {
    let (h, a) = game.penalties_home.zip(game.penalties_away)?;
    (h != a).then_some(if h > a { home } else { away })
}

/// What follows a finished match's score line when it went beyond 90
/// minutes: " after extra time", "; Inter win 4-2 on penalties". Empty
/// otherwise.
pub(super) fn how_it_ended(game: &football_match::Model, home: &str, away: &str) -> String {
    let mut words = String::new();
    if game.extra_time_home.is_some() {
        words.push_str(" after extra time");
    }
    if let Some((h, a)) = game.penalties_home.zip(game.penalties_away) {
        match shootout_winner(game, home, away) {
            Some(winner) => words.push_str(&format!(
                "; {winner} win {}-{} on penalties",
                h.max(a),
                h.min(a)
            )),
            None => words.push_str(&format!("; penalties {h}-{a}")),
        }
    }
    words
}

/// `text` as a sentence: with a full stop unless it ends in one already.
fn full_stop(text: &str) -> String {
    if text.ends_with(['.', '!', '?']) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

/// "Line-ups announced": before kick-off, so no score line.
fn lineups_draft(
    event: &match_event::Model,
    game: &football_match::Model,
    names: &HashMap<i64, String>,
) -> Draft {
    let (home, away) = (
        name(names, game.home_team_id),
        name(names, game.away_team_id),
    );
    let team = event.team_id.map(|id| name(names, id)).unwrap_or_default();
    let formation = event
        .detail
        .as_deref()
        .map(|f| format!(" ({f})"))
        .unwrap_or_default();
    Draft {
        kind: NotificationKind::LiveEvent,
        dedupe_key: format!("event:{}", event.id),
        title: format!("Line-up: {team}"),
        body: format!("{home} v {away}: {team}'s line-up is in{formation}."),
        payload: json!({
            "matchId": game.id,
            "eventId": event.id,
            "eventKind": event.kind,
            "teamId": event.team_id,
            "formation": event.detail,
            "homeTeam": home,
            "awayTeam": away,
            "kickoffAt": game.kickoff_at.to_rfc3339(),
        }),
    }
}

fn describe(kind: MatchEventKind) -> &'static str {
    use MatchEventKind as K;
    match kind {
        K::Lineups => "Line-ups",
        K::KickOff => "Kick-off",
        K::Goal => "Goal",
        K::OwnGoal => "Own goal",
        K::PenaltyGoal => "Penalty goal",
        K::MissedPenalty => "Missed penalty",
        K::PenaltyAwarded => "Penalty awarded",
        K::VarCheck => "VAR check",
        K::VarDecision => "VAR decision",
        K::YellowCard => "Yellow card",
        K::SecondYellow => "Second yellow",
        K::RedCard => "Red card",
        K::Substitution => "Substitution",
        K::HalfTime => "Half-time",
        K::SecondHalf => "Second half",
        K::ExtraTime => "Extra time",
        K::PenaltyShootout => "Penalty shoot-out",
        K::FullTime => "Full-time",
        K::Correction => "Correction",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        rfc3339.parse().unwrap()
    }

    fn game(kickoff_at: DateTime<Utc>) -> football_match::Model {
        football_match::Model {
            id: 7,
            season_id: 1,
            round: None,
            matchday: None,
            stage: None,
            group_name: None,
            home_team_id: 1,
            away_team_id: 2,
            kickoff_at,
            kickoff_time_known: true,
            status: MatchStatus::Scheduled,
            home_score: None,
            away_score: None,
            half_time_home: None,
            half_time_away: None,
            extra_time_home: None,
            extra_time_away: None,
            penalties_home: None,
            penalties_away: None,
            minute: None,
            last_event_seq: 0,
            external_source: None,
            external_ref: None,
            created_at: kickoff_at,
            updated_at: kickoff_at,
            last_event_at: None,
            schedule_revision: 1,
        }
    }

    fn names() -> HashMap<i64, String> {
        HashMap::from([(1, "Arsenal".to_owned()), (2, "Chelsea".to_owned())])
    }

    #[test]
    fn a_move_over_the_clock_change_tells_each_kick_off_at_its_own_offset() {
        // British Summer Time starts on Sunday 30 March 2031.
        let (from, to) = (at("2031-03-29T15:00:00Z"), at("2031-03-30T15:00:00Z"));
        let change = ScheduleChange::Moved {
            from: Some(from),
            to: Some(to),
        };
        let draft =
            schedule_change_draft(3, &game(to), &names(), change, chrono_tz::Europe::London);
        assert_eq!(draft.kind, NotificationKind::ScheduleChange);
        assert_eq!(draft.dedupe_key, "schedule:3");
        assert_eq!(
            draft.body,
            "Arsenal v Chelsea moved from Sat 29 Mar 15:00 to Sun 30 Mar 16:00 (Europe/London)."
        );
    }

    #[test]
    fn a_row_written_before_the_kick_offs_were_kept_tells_the_kick_off_as_it_stands() {
        let now_at = at("2031-12-07T21:30:00Z");
        let moved = ScheduleChange::Moved {
            from: None,
            to: None,
        };
        let draft = schedule_change_draft(4, &game(now_at), &names(), moved, chrono_tz::UTC);
        assert_eq!(
            draft.body,
            "Arsenal v Chelsea moved to Sun 7 Dec 21:30 (UTC)."
        );
        let cancelled = ScheduleChange::Cancelled { was: None };
        let draft = schedule_change_draft(5, &game(now_at), &names(), cancelled, chrono_tz::UTC);
        assert_eq!(
            draft.body,
            "Arsenal v Chelsea on Sun 7 Dec 21:30 (UTC) is cancelled."
        );
        assert_eq!(
            draft.payload["previousKickoffAt"],
            "2031-12-07T21:30:00+00:00"
        );
        assert!(draft.payload["kickoffAt"].is_null());
    }
}
